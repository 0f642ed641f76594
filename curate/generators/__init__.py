"""Generators write conversations for samples. Each backend is one module."""

from __future__ import annotations

from curate.config import GeneratorOptions
from curate.generators.template import generate_template_qa
from curate.schemas import SampleRecord


def generate_qa(sample: SampleRecord, options: GeneratorOptions) -> SampleRecord:
    """Run the configured backend on one sample."""
    if options.backend == "template":
        return generate_template_qa(sample, options)
    raise ValueError(f"unknown generator backend {options.backend!r}")


__all__ = ["generate_qa"]
