"""OCR for pages without usable native text. Engines are plugins behind one small interface.

engine = load_engine(options)          # once per worker (DoFn.setup)
page = ocr_page(page, engine, options) # text_blocks from OCR, text_source="ocr"
"""

from curate.stages.ocr.base import (
    OcrEngine,
    OcrInputError,
    OcrUnavailable,
    check_engine,
    load_engine,
)
from curate.stages.ocr.page import OcrPages, needs_ocr, ocr_page

__all__ = [
    "OcrEngine",
    "OcrInputError",
    "OcrPages",
    "OcrUnavailable",
    "check_engine",
    "load_engine",
    "needs_ocr",
    "ocr_page",
]
