"""Which reference model scores a job: the one asked for, or the offline defaults."""

from __future__ import annotations

import os
from collections.abc import Sequence

from curate.schemas import IMAGE_METRICS
from curate.scoring.model import TEXT_MODEL_ALIAS


def resolve_model(model: str | None, metrics: Sequence[str], models_dir: str = ".models") -> str:
    """The model to score with: the one asked for, else the offline defaults built by
    scripts/make_scoring_models.py (SmolLM2 for IFD; the tiny Idefics3 for image scores)."""
    if model:
        return model
    wanted = set(metrics) | ({"ifd", "vfd"} if "mifd" in metrics else set())
    name = "tiny-idefics3" if wanted & IMAGE_METRICS else "smollm2"
    path = os.path.join(models_dir, name)
    if os.path.isdir(path):
        return path
    if name == "smollm2":
        return TEXT_MODEL_ALIAS  # straight from the GGUF: slower to load, same weights
    raise ValueError(
        f"no model for {sorted(wanted & IMAGE_METRICS)}: pass --model (an image-text model such as "
        "HuggingFaceTB/SmolVLM-256M-Instruct) or build the offline test model with "
        "`python scripts/make_scoring_models.py`"
    )
