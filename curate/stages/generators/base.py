"""The generator interface. Backends are chosen by name (`core/registry.py`'s GENERATORS).

A backend is one module with one class. Everything backend-specific (an LLM client, the
embedded server, request concurrency) stays inside it; the stage and the plan only see this.
What a backend starts for a job (`serve`: the embedded LLM) is run state, handed to every
worker's instance as `service`, never written into the user's config.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

from curate.core.config import GeneratorOptions
from curate.core.registry import GENERATORS
from curate.schemas import SampleRecord


class Generator(Protocol):
    name: ClassVar[str]

    def __init__(self, options: GeneratorOptions, service: Any = None): ...

    def setup(self) -> None:
        """Build clients once per worker."""

    def teardown(self) -> None: ...

    def generate(self, sample: SampleRecord) -> SampleRecord:
        """The sample with `qa`, `conversations` and `rejected_qa` filled in."""

    def why_no_qa(self, sample: SampleRecord) -> str:
        """What to tell the user when a sample got no extractive QA."""

    @property
    def concurrency(self) -> int:
        """Samples worked on at once in one worker (threads)."""

    @classmethod
    def serve(cls, options: GeneratorOptions, output: str, remote: bool) -> Iterator[Any]:
        """A context manager for the whole job: starts what the backend needs and yields it
        (the `service` workers get). `remote`: the workers run elsewhere (Dataflow)."""


def generator_class(backend: str) -> type[Generator]:
    return GENERATORS.load(backend)


def load_generator(options: GeneratorOptions, service: Any = None) -> Generator:
    return generator_class(options.backend)(options, service)


@contextmanager
def no_service(options: GeneratorOptions, output: str, remote: bool) -> Iterator[None]:
    """For backends that need nothing running beside the job."""
    yield None
