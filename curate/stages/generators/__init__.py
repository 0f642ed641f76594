"""Generators write conversations for samples. Each backend is one module, chosen by name
(`curate/stages/generators/base.py`); `stage.py` runs the chosen one as the generation stage."""

from __future__ import annotations

from curate.core.config import GeneratorOptions, QualityOptions
from curate.core.stage import Drop, Fail, dropped, run_item
from curate.schemas import SampleRecord
from curate.stages.generators.stage import GenerateQA


def generate_qa(
    sample: SampleRecord, options: GeneratorOptions, quality: QualityOptions | None = None
) -> SampleRecord:
    """Run the generation stage on one sample, without Beam: the sample with its QA, or with
    `drop_reason` set when it got none. For backends that need no service (template)."""
    stage = GenerateQA(options, quality)
    stage.setup()
    try:
        (outcome,) = run_item(stage, sample)
    finally:
        stage.teardown()
    if isinstance(outcome, Fail):
        raise RuntimeError(f"{outcome.failure.reason}: {outcome.failure.detail}")
    return dropped(outcome) if isinstance(outcome, Drop) else outcome.item


__all__ = ["GenerateQA", "generate_qa"]
