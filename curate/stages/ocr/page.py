"""OCR one page record: decide, decode, turn upright, recognise, map boxes back; and the stage."""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
from PIL import Image

from curate.core.config import OcrOptions
from curate.core.stage import Keep, Outcome, Stage
from curate.core.text import normalize
from curate.document.layout import geometric_roles, reading_order
from curate.schemas import PageRecord, TextBlock
from curate.schemas.reasons import FailureReason
from curate.stages.ocr.base import OcrEngine, OcrInputError, load_engine
from curate.stages.ocr.rotation import box_to_original, rotate_clockwise


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


_DIGITS = re.compile(r"\d+")
ROTATION_MARGIN = 1.25  # a rotated reading must hold this much more confident text to win
OCR_LAYER = "ocr_layer"  # text_source of a PDF page whose text is an embedded (invisible) OCR layer


def _read(engine: OcrEngine, image: np.ndarray, options: OcrOptions) -> list[TextBlock]:
    blocks = [b for b in engine.recognize(image) if b.confidence >= options.min_confidence]
    return reading_order(blocks)


def _quality(blocks: list[TextBlock]) -> float:
    """Confident characters read: what a right orientation gives more of."""
    return sum(b.confidence * len(b.text) for b in blocks)


def ocr_page(page: PageRecord, engine: OcrEngine, options: OcrOptions) -> PageRecord:
    """The page with OCR text lines (and their layout roles) in place of its text.

    Only pages that came without usable text (scans, photos) are checked for orientation. A
    detected upside-down page is turned only when reading it turned gives clearly more confident
    text than reading it as it is: a low-resolution upright scan is not flipped into garbage. A
    sideways page (tall line boxes) is turned unless that reads worse.
    """
    image = decode_rgb(page.image.bytes, options.max_pixels)
    height, width = image.shape[:2]
    blocks, degrees = _read(engine, image, options), 0
    if options.rotation == "auto" and page.needs_ocr:
        guess = engine.detect_rotation(image)
        if guess:
            turned = _read(engine, rotate_clockwise(image, guess), options)
            # 90/270 comes from the line boxes' shape (reliable): the turned reading must be no
            # worse; 180 comes from the angle classifier, which can be fooled: it must be clearly
            # better, or the page stays as it is
            needed = ROTATION_MARGIN if guess == 180 else 0.9
            if _quality(turned) >= needed * max(_quality(blocks), 1e-9):
                blocks, degrees = turned, guess
    # Roles and reading order come from the upright image; boxes are then stored on the original.
    upright_height = width if degrees in (90, 270) else height
    blocks = geometric_roles(blocks, upright_height)
    mapped = [
        replace(b, bbox=box_to_original(b.bbox, degrees, width, height), source="ocr")
        for b in blocks
    ]
    return replace(page, text_blocks=mapped, text_source="ocr" if mapped else "none")


def layer_agreement(
    page: PageRecord, engine: OcrEngine, options: OcrOptions, samples: int = 6
) -> float:
    """How far a page's embedded OCR layer agrees with a fresh reading of a few of its lines
    (0..1: character similarity, and 0 for a line whose numbers differ). A bad layer ("2" where
    the image says "28") scores low."""
    from rapidfuzz import fuzz

    image = decode_rgb(page.image.bytes, options.max_pixels)
    lines = [b for b in page.text_blocks if len(b.text.strip()) >= 4]
    if not lines:
        return 0.0
    step = max(1, len(lines) // samples)
    scores = []
    for block in lines[::step][:samples]:
        x0, y0, x1, y1 = (int(v) for v in block.bbox)
        pad = max(2, (y1 - y0) // 3)
        crop = image[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
        if crop.size == 0:
            continue
        read = normalize(" ".join(b.text for b in engine.recognize(np.ascontiguousarray(crop))))
        layer = normalize(block.text)
        same_numbers = _DIGITS.findall(read) == _DIGITS.findall(layer)  # "2" for "28" is wrong
        scores.append(fuzz.ratio(read, layer) / 100 if same_numbers else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


class OcrPages(Stage):
    """Pages without usable text (or all, with mode=always) -> pages with OCR text lines.

    The engine loads once per worker, on the first page that needs it, so a job of born-digital
    pages never pays its start-up (about 1 s and its memory, per worker). Its threads default
    to the machine's cores divided by the local worker processes, so workers do not
    oversubscribe the CPU.
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
        self.engine: OcrEngine | None = None

    def setup(self) -> None:
        if self.options.mode == "always":  # every page needs it: fail early if it cannot load
            self.load()

    def load(self) -> OcrEngine:
        """The worker's engine, loaded on first use."""
        if self.engine is None:
            options = self.options
            if options.threads is None:
                cores = (
                    len(os.sched_getaffinity(0))
                    if hasattr(os, "sched_getaffinity")
                    else os.cpu_count()
                )
                options = options.model_copy(
                    update={"threads": max(1, (cores or 1) // self.local_workers)}
                )
            self.engine = load_engine(options)
        return self.engine

    def process(self, page: PageRecord) -> Iterable[Outcome]:
        if needs_ocr(page, self.options.mode):
            page = ocr_page(page, self.load(), self.options)
            self.count("pages.ocr")
        elif self.options.mode == "auto" and page.text_source == OCR_LAYER:
            # an embedded OCR layer is someone else's OCR: check a few lines, re-read if it is off
            engine = self.load()
            if layer_agreement(page, engine, self.options) < self.options.layer_agreement:
                page = ocr_page(page, engine, self.options)
                self.count("pages.ocr_layer_replaced")
            else:
                self.count("pages.ocr_layer_kept")
        yield Keep(page)
