"""Generators write conversations for samples. Each backend is one module, chosen by name
(`core/registry.py`'s GENERATORS, interface in `base.py`); `stage.py` runs the chosen one as the
generation stage."""

from __future__ import annotations

from curate.core.config import GeneratorOptions, QualityOptions
from curate.core.stage import records
from curate.schemas import Failure, SampleRecord
from curate.stages.generators.stage import GenerateQA


def generate_qa(
    sample: SampleRecord, options: GeneratorOptions, quality: QualityOptions | None = None
) -> SampleRecord:
    """Run the generation stage on one sample, without Beam: the sample with its QA, or with
    `drop_reason` set when it got none. For backends that need no service (template)."""
    (record,) = records(GenerateQA(options, quality), sample)
    if isinstance(record, Failure):
        raise RuntimeError(f"{record.reason}: {record.detail}")
    return record


__all__ = ["GenerateQA", "generate_qa"]
