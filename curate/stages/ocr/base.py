"""The engine interface, and loading the engine a config names (`core/registry.py`'s
OCR_ENGINES; its options are `ocr.engine`, one options class per engine)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from curate.core.config import OcrOptions
from curate.core.registry import OCR_ENGINES
from curate.core.stage import ItemFailed
from curate.io.errors import CurateError
from curate.schemas import TextBlock


class OcrUnavailable(CurateError, RuntimeError):
    """The engine cannot run here; the message says what to install or which engine to use."""


class OcrInputError(ItemFailed):
    """The image cannot be OCR'd (corrupt, too large); `reason` is a dead-letter reason."""


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: np.ndarray) -> list[TextBlock]:
        """Text lines of an RGB uint8 image (H, W, 3), boxes in that image's pixels."""

    def detect_rotation(self, image: np.ndarray) -> int:
        """Clockwise degrees (0, 90, 180, 270) that turn the image upright."""


def _engine_class(options: OcrOptions) -> type:
    return OCR_ENGINES.load(options.engine.kind)


def load_engine(options: OcrOptions) -> OcrEngine:
    return _engine_class(options)(options)


def check_engine(options: OcrOptions) -> None:
    """Raise OcrUnavailable if the engine cannot run here. An engine with a cheap `check`
    (its package and models are present) is not loaded: the launcher needs no models."""
    engine = _engine_class(options)
    if hasattr(engine, "check"):
        engine.check(options)
    else:
        engine(options)
