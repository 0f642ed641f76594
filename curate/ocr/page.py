"""OCR one page record: decide, decode, turn upright, recognise, map boxes back; and the stage."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
from PIL import Image

from curate.config import OcrOptions
from curate.ocr.base import OcrEngine, OcrInputError, load_engine
from curate.ocr.rotation import box_to_original, rotate_clockwise
from curate.schemas import PageRecord, TextBlock
from curate.schemas.reasons import FailureReason
from curate.stage import Keep, Outcome, Stage


def needs_ocr(page: PageRecord, mode: str) -> bool:
    """`always`: every page; `never`: none; `auto`: pages without usable native text."""
    return mode == "always" or (mode == "auto" and page.needs_ocr)


def decode_rgb(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode image bytes to an RGB array, refusing decompression-bomb sizes before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise OcrInputError(
                    FailureReason.IMAGE_TOO_LARGE,
                    f"{width}x{height} exceeds ocr.max_pixels={max_pixels}",
                )
            if width == 0 or height == 0:
                raise OcrInputError(FailureReason.CORRUPT_IMAGE, "the image has zero size")
            return np.asarray(image.convert("RGB"))
    except OcrInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise OcrInputError(FailureReason.IMAGE_TOO_LARGE, str(err)) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise OcrInputError(FailureReason.CORRUPT_IMAGE, f"cannot decode the image: {err}") from err


def ocr_page(page: PageRecord, engine: OcrEngine, options: OcrOptions) -> PageRecord:
    """The page with OCR text lines in place of its text; rotation checked on scans only.

    Rendered pages with a text layer are upright by construction, so only pages that came
    without usable text (scans, photos) pay for orientation detection.
    """
    image = decode_rgb(page.image.bytes, options.max_pixels)
    height, width = image.shape[:2]
    degrees = 0
    if options.rotation == "auto" and page.needs_ocr:
        degrees = engine.detect_rotation(image)
    blocks = [
        b
        for b in engine.recognize(rotate_clockwise(image, degrees))
        if b.confidence >= options.min_confidence
    ]
    # Reading order comes from the upright image; boxes are then stored on the original.
    blocks.sort(key=lambda b: (round(b.bbox[1] / 8), b.bbox[0]))
    mapped = [
        TextBlock(b.text, box_to_original(b.bbox, degrees, width, height), "ocr", b.confidence)
        for b in blocks
    ]
    return replace(page, text_blocks=mapped, text_source="ocr" if mapped else "none")


class OcrPages(Stage):
    """Pages without usable text (or all, with mode=always) -> pages with OCR text lines.

    The engine is loaded once per worker in setup(); its threads default to the machine's
    cores divided by the local worker processes, so workers do not oversubscribe the CPU.
    """

    name = "ocr"
    accepts = (PageRecord,)
    emits = frozenset(
        {FailureReason.OCR_ERROR, FailureReason.CORRUPT_IMAGE, FailureReason.IMAGE_TOO_LARGE}
    )
    error_reason = FailureReason.OCR_ERROR  # an engine error on one page must not stop the job

    def __init__(self, options: OcrOptions, local_workers: int = 1):
        super().__init__(options)
        self.local_workers = local_workers
        self.engine = None

    def setup(self) -> None:
        options = self.options
        if options.threads is None:
            cores = (
                len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            )
            options = options.model_copy(
                update={"threads": max(1, (cores or 1) // self.local_workers)}
            )
        self.engine = load_engine(options)

    def process(self, page: PageRecord) -> Iterable[Outcome]:
        if needs_ocr(page, self.options.mode):
            page = ocr_page(page, self.engine, self.options)
            self.count("pages.ocr")
        yield Keep(page)
