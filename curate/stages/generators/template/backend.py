"""The offline backend: the template generator behind the generator interface."""

from __future__ import annotations

from curate.core.config import GeneratorOptions
from curate.schemas import SampleRecord
from curate.stages.generators.base import no_service
from curate.stages.generators.template.generate import generate_template_qa, why_no_qa
from curate.stages.generators.template.version import NAME


class TemplateGenerator:
    """The offline backend: no model, no network, deterministic per seed."""

    name = NAME
    concurrency = 1
    serve = staticmethod(no_service)

    def __init__(self, options: GeneratorOptions, service: None = None):
        self.options = options

    def setup(self) -> None:
        pass

    def teardown(self) -> None:
        pass

    def generate(self, sample: SampleRecord) -> SampleRecord:
        return generate_template_qa(sample, self.options)

    def why_no_qa(self, sample: SampleRecord) -> str:
        return why_no_qa(sample)
