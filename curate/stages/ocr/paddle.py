"""PaddleOCR, for GPU workers that can reach its model hosts: `pip install 'curate[paddle]'`.

Imported lazily. PaddleOCR fetches its models on first use; where that is impossible it
fails, and we say which engine to use instead. Start-up runs under a deadline so a model
download that hangs cannot hang the worker.
"""

from __future__ import annotations

import threading

import numpy as np

from curate.core.config import OcrOptions
from curate.schemas import TextBlock
from curate.stages.ocr.base import OcrUnavailable

STARTUP_TIMEOUT_S = 300


class PaddleOcrEngine:
    name = "paddleocr"

    def __init__(self, options: OcrOptions, startup_timeout_s: float = STARTUP_TIMEOUT_S):
        try:
            from paddleocr import PaddleOCR
        except ImportError as err:
            raise OcrUnavailable(
                "paddleocr is not installed: pip install 'curate[paddle]' "
                "(or use --ocr-engine rapidocr, which runs the same PP-OCR models on CPU)"
            ) from err
        outcome: dict = {}

        def start():
            try:
                outcome["engine"] = PaddleOCR(lang=options.languages[0], use_angle_cls=False)
            except Exception as err:
                outcome["error"] = err

        thread = threading.Thread(target=start, daemon=True)
        thread.start()
        thread.join(startup_timeout_s)
        if "engine" not in outcome:
            why = outcome.get("error", f"no answer within {startup_timeout_s:.0f} s")
            raise OcrUnavailable(
                f"PaddleOCR could not load its models ({why}); it downloads them on first use. "
                "Use --ocr-engine rapidocr (PP-OCR models bundled, works offline)."
            )
        self._engine = outcome["engine"]

    def recognize(self, image: np.ndarray) -> list[TextBlock]:
        blocks = []
        for page in self._engine.ocr(image) or []:
            for polygon, text, score in zip(
                page["rec_polys"], page["rec_texts"], page["rec_scores"], strict=True
            ):
                xs, ys = np.asarray(polygon)[:, 0], np.asarray(polygon)[:, 1]
                blocks.append(
                    TextBlock(
                        text,
                        (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                        "ocr",
                        float(score),
                    )
                )
        return blocks

    def detect_rotation(self, image: np.ndarray) -> int:
        return 0
