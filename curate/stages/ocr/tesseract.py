"""Tesseract through pytesseract and the Debian package `tesseract-ocr` (+ language packs)."""

from __future__ import annotations

import os

import numpy as np

from curate.core.config import OcrOptions
from curate.schemas import TextBlock
from curate.stages.ocr.base import OcrUnavailable

# ISO 639-1 -> Tesseract's traineddata names, for the common cases; others pass through.
_CODES = {
    "en": "eng",
    "fr": "fra",
    "de": "deu",
    "es": "spa",
    "it": "ita",
    "pt": "por",
    "nl": "nld",
    "zh": "chi_sim",
    "ja": "jpn",
    "ko": "kor",
    "ru": "rus",
    "ar": "ara",
}


class TesseractEngine:
    name = "tesseract"

    def __init__(self, options: OcrOptions):
        try:
            import pytesseract
        except ImportError as err:
            raise OcrUnavailable(
                "pytesseract is not installed: pip install 'curate[tesseract]'"
            ) from err
        try:
            installed = set(pytesseract.get_languages())
        except (pytesseract.TesseractNotFoundError, OSError) as err:
            raise OcrUnavailable(
                "the tesseract binary is not installed (Debian: apt-get install tesseract-ocr)"
            ) from err
        wanted = [_CODES.get(code, code) for code in options.languages]
        missing = [code for code in wanted if code not in installed]
        if missing:
            raise OcrUnavailable(
                f"tesseract language data missing for {missing}; "
                f"install tesseract-ocr-{missing[0].replace('_', '-')} (installed: "
                f"{sorted(installed)})"
            )
        self._tesseract = pytesseract
        self._lang = "+".join(wanted)
        if options.threads:
            os.environ["OMP_THREAD_LIMIT"] = str(options.threads)

    def recognize(self, image: np.ndarray) -> list[TextBlock]:
        data = self._tesseract.image_to_data(
            image, lang=self._lang, output_type=self._tesseract.Output.DICT
        )
        lines: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if word.strip() and float(data["conf"][i]) >= 0:
                key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                lines.setdefault(key, []).append(i)
        blocks = []
        for indexes in lines.values():
            x0 = min(data["left"][i] for i in indexes)
            y0 = min(data["top"][i] for i in indexes)
            x1 = max(data["left"][i] + data["width"][i] for i in indexes)
            y1 = max(data["top"][i] + data["height"][i] for i in indexes)
            confidence = sum(float(data["conf"][i]) for i in indexes) / len(indexes) / 100
            text = " ".join(data["text"][i].strip() for i in indexes)
            unsure = [data["text"][i].strip() for i in indexes if float(data["conf"][i]) < 80]
            blocks.append(TextBlock(text, (x0, y0, x1, y1), "ocr", confidence, unsure=unsure))
        return blocks

    def detect_rotation(self, image: np.ndarray) -> int:
        try:
            osd = self._tesseract.image_to_osd(image, output_type=self._tesseract.Output.DICT)
        except self._tesseract.TesseractError:  # too little text to tell
            return 0
        return int(osd.get("rotate", 0)) % 360
