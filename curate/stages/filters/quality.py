"""Cheap quality filters: one small check per reason, each can be switched off.

Page checks return a drop reason or None. The stages at the end run the page and language
checks in a job. (The QA length bounds are applied by the generation stage: generators/lengths.py.)
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
from PIL import Image

from curate.core.config import QualityOptions
from curate.core.stage import Drop, Keep, Outcome, Stage
from curate.schemas import PageRecord, SampleRecord
from curate.schemas.reasons import PageDropReason, SampleDropReason

BLANK_MAX_CHARS = 5


def is_blank(page: PageRecord, options: QualityOptions) -> bool:
    """Near-uniform pixels and (almost) no text: an empty page, a separator slide, a footer tile."""
    if len("".join(page.text.split())) > BLANK_MAX_CHARS:
        return False
    with Image.open(io.BytesIO(page.image.bytes)) as image:
        image.draft("L", (512, 512))
        pixels = np.asarray(image.convert("L").resize((256, 256)), dtype=np.float32)
    return float(pixels.std()) <= options.blank_max_std


def text_density(page: PageRecord) -> float:
    """Non-space characters of text per megapixel of image."""
    chars = len("".join(page.text.split()))
    return chars / max(page.width * page.height / 1e6, 1e-9)


def page_before_ocr(page: PageRecord, options: QualityOptions) -> str | None:
    """Checked before OCR, so a blank scan costs no OCR."""
    if options.blank_pages and is_blank(page, options):
        return PageDropReason.BLANK_PAGE
    return None


def page_after_ocr(page: PageRecord, options: QualityOptions) -> str | None:
    if (
        options.min_chars_per_megapixel is not None
        and text_density(page) < options.min_chars_per_megapixel
    ):
        return PageDropReason.LOW_TEXT_DENSITY
    return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text (langdetect, offline, seeded), or None when too short."""
    if len(text.strip()) < 20:
        return None
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    try:
        return detect(text)
    except LangDetectException:
        return None


def language_allowed(sample: SampleRecord, options: QualityOptions) -> bool:
    if not options.languages:
        return True
    language = detect_language("\n".join(sample.image_texts)[:5000])
    allowed = {code.lower() for code in options.languages}
    return language is None or language.split("-")[0] in allowed or language in allowed


class ScreenBlankPages(Stage):
    """Blank pages out before anything expensive (hashing, OCR) is spent on them."""

    name = "blank_pages"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.BLANK_PAGE})

    def process(self, page: PageRecord) -> Iterable[Outcome]:
        reason = page_before_ocr(page, self.options)
        yield Drop(page, reason) if reason else Keep(page)


class ScreenTextDensity(Stage):
    """Pages whose text is too thin for text-rich data out (after OCR has had its turn)."""

    name = "text_density"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.LOW_TEXT_DENSITY})

    def process(self, page: PageRecord) -> Iterable[Outcome]:
        reason = page_after_ocr(page, self.options)
        yield Drop(page, reason) if reason else Keep(page)


class ScreenLanguage(Stage):
    """Samples outside the language allow-list out, before any LLM call is paid for."""

    name = "language"
    accepts = (SampleRecord,)
    emits = frozenset({SampleDropReason.LANGUAGE_NOT_ALLOWED})

    def process(self, sample: SampleRecord) -> Iterable[Outcome]:
        if language_allowed(sample, self.options):
            yield Keep(sample)
            return
        detected = detect_language("\n".join(sample.image_texts)[:5000])
        yield Drop(sample, SampleDropReason.LANGUAGE_NOT_ALLOWED, f"detected {detected}")
