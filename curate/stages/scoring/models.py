"""Which reference model scores a job: the one asked for, or the offline defaults.

The defaults live in a user cache, `$CURATE_HOME/models` (default `~/.cache/curate/models`),
built by `scripts/setup.sh` (scripts/make_scoring_models.py), so they are found from any working
directory. A `.models/` folder in the working directory (older set-ups) is looked at too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from curate.schemas import IMAGE_METRICS
from curate.stages.scoring.model import TEXT_MODEL_ALIAS

DEFAULTS = {
    "smollm2": "SmolLM2-135M-Instruct (text): IFD",
    "tiny-idefics3": "SmolLM2 text + an UNTRAINED small vision tower: image metrics as a code "
    "path test, no visual meaning",
}


def models_home() -> Path:
    """Where default models live: $CURATE_HOME/models, else ~/.cache/curate/models."""
    home = os.environ.get("CURATE_HOME")
    return Path(home) / "models" if home else Path.home() / ".cache" / "curate" / "models"


def model_folders() -> list[Path]:
    """The folders searched for default models, in order."""
    return [models_home(), Path(".models")]


def find_default(name: str) -> Path | None:
    for folder in model_folders():
        if (folder / name / "config.json").is_file():
            return (folder / name).resolve()
    return None


def resolve_model(model: str | None, metrics: Sequence[str]) -> str:
    """The model to score with: the one asked for, else the offline defaults (SmolLM2 for IFD;
    the tiny Idefics3 for image scores)."""
    if model:
        return model
    wanted = set(metrics) | ({"ifd", "vfd"} if "mifd" in metrics else set())
    name = "tiny-idefics3" if wanted & IMAGE_METRICS else "smollm2"
    found = find_default(name)
    if found is not None:
        return str(found)
    if name == "smollm2":
        return TEXT_MODEL_ALIAS  # straight from the GGUF: slower to load, same weights
    raise ValueError(
        f"no model for {sorted(wanted & IMAGE_METRICS)}: pass --model (an image-text model such as "
        f"HuggingFaceTB/SmolVLM-256M-Instruct, or a local folder) or build the offline test model "
        f"into {models_home()} with `python scripts/make_scoring_models.py` (see `curate models`)"
    )
