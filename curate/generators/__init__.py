"""Generators write conversations for samples. Each backend is one module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.config import GeneratorOptions
from curate.generators.template import generate_template_qa
from curate.schemas import SampleRecord

if TYPE_CHECKING:
    from curate.generators.llm_client import LLMClient


def generate_qa(
    sample: SampleRecord, options: GeneratorOptions, client: LLMClient | None = None
) -> SampleRecord:
    """Run the configured backend on one sample (`client` is required for `llm`)."""
    if options.backend == "template":
        return generate_template_qa(sample, options)
    from curate.generators.llm import generate_llm_qa

    if client is None:
        raise ValueError("the llm backend needs an LLMClient")
    return generate_llm_qa(sample, client, options)


__all__ = ["generate_qa"]
