"""The generator interface, and choosing a backend by name.

A backend is one module with one class. Everything backend-specific (an LLM client, the
embedded server, request concurrency) stays inside it; the stage and the plan only see this.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar, Protocol

from curate.core.config import GeneratorOptions
from curate.schemas import SampleRecord

GENERATORS = {
    "template": "curate.stages.generators.template:TemplateGenerator",
    "llm": "curate.stages.generators.llm:LLMGenerator",
}


class Generator(Protocol):
    name: ClassVar[str]

    def __init__(self, options: GeneratorOptions): ...

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
    def serve(
        cls, options: GeneratorOptions, output: str, remote: bool
    ) -> Iterator[GeneratorOptions]:
        """A context manager for the whole job: services the backend needs (yields the options
        workers should use). `remote`: the workers run elsewhere (Dataflow)."""


def generator_class(backend: str) -> type[Generator]:
    module_name, _, class_name = GENERATORS[backend].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_generator(options: GeneratorOptions) -> Generator:
    return generator_class(options.backend)(options)


@contextmanager
def no_service(options: GeneratorOptions, output: str, remote: bool) -> Iterator[GeneratorOptions]:
    """For backends that need nothing running beside the job."""
    yield options
