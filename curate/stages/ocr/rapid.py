"""RapidOCR: PaddleOCR's PP-OCR models under ONNX Runtime, shipped in the `rapidocr` wheel.

The default engine: no network, no GPU. Measured choices (benchmarks/ocr.py, docs/ocr.md):
no per-line angle classifier (it hurt upright text), detection with the long side capped at
`det_limit_side_len`, ONNX Runtime's memory arena on.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from curate.core.config import OcrOptions
from curate.schemas import TextBlock
from curate.stages.ocr.base import OcrUnavailable
from curate.stages.ocr.rotation import rotate_clockwise

# The bundled PP-OCR model reads Chinese and Latin script; other scripts need other models.
LANGUAGES = frozenset(
    {
        "en",
        "zh",
        "ch",
        "fr",
        "de",
        "es",
        "it",
        "pt",
        "nl",
        "da",
        "sv",
        "no",
        "fi",
        "pl",
        "id",
        "ms",
        "tr",
        "ro",
        "cs",
    }
)
_ORIENTATION_SAMPLES = 8
UNSURE_BELOW = 0.8  # a character scored lower makes its word unsure (no answer is taken from it)


def unsure_words(text: str, scores: list[float]) -> list[str]:
    """The words of a line with a character the recognizer scored below UNSURE_BELOW; the
    scores are those of the line's characters in order, spaces left out. Lines whose scores
    do not line up with their characters are all unsure."""
    letters = [ch for ch in text if not ch.isspace()]
    if len(scores) != len(letters):
        return text.split()
    unsure, at = [], 0
    for word in text.split():
        if min(scores[at : at + len(word)], default=1.0) < UNSURE_BELOW:
            unsure.append(word)
        at += len(word)
    return unsure


class RapidOcrEngine:
    name = "rapidocr"

    @staticmethod
    def check(options: OcrOptions) -> None:
        """The languages are ones the bundled model reads and the package is installed."""
        unsupported = sorted(set(options.languages) - LANGUAGES)
        if unsupported:
            raise OcrUnavailable(
                f"rapidocr's bundled model reads Chinese and Latin script, not {unsupported}; "
                "use --ocr-engine tesseract with the language pack installed "
                "(Debian: tesseract-ocr-<lang>)"
            )
        if importlib.util.find_spec("rapidocr") is None:
            raise OcrUnavailable("rapidocr is not installed: pip install rapidocr")

    def __init__(self, options: OcrOptions):
        self.check(options)
        from rapidocr import RapidOCR

        threads = options.threads or -1
        self._engine = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.log_level": "error",
                "Det.limit_type": "max",
                "Det.limit_side_len": options.engine.det_limit_side_len,
                "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def recognize(self, image: np.ndarray) -> list[TextBlock]:
        # rapidocr remembers these flags between calls, so every call sets all of them.
        result = self._engine(
            image,
            use_det=True,
            use_cls=False,
            use_rec=True,
            return_word_box=True,
            return_single_char_box=True,
        )
        if result.boxes is None or result.txts is None:
            return []
        characters = result.word_results or [()] * len(result.txts)
        blocks = []
        for polygon, text, score, chars in zip(
            result.boxes, result.txts, result.scores, characters, strict=True
        ):
            xs, ys = polygon[:, 0], polygon[:, 1]
            blocks.append(
                TextBlock(
                    text=" ".join(text.split()),
                    bbox=(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                    source="ocr",
                    confidence=float(score),
                    unsure=unsure_words(text, [c[1] for c in chars]),
                )
            )
        return [b for b in blocks if b.text]

    def _line_boxes(self, image: np.ndarray) -> np.ndarray:
        found = self._engine(image, use_det=True, use_cls=False, use_rec=False)
        return found.boxes if found.boxes is not None else np.zeros((0, 4, 2))

    def detect_rotation(self, image: np.ndarray) -> int:
        """Text lines run along the page: mostly tall boxes mean a 90/270 turn; the PP-OCR
        angle classifier on a few of the longest lines then tells upright from upside down."""
        boxes = self._line_boxes(image)
        if len(boxes) == 0:
            return 0
        widths = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
        heights = np.linalg.norm(boxes[:, 2] - boxes[:, 1], axis=1)
        # the detector returns axis-aligned quads; on a sideways page, lines are tall
        tall = int(np.sum(heights > 1.5 * widths))
        wide = int(np.sum(widths > 1.5 * heights))
        base = 90 if tall > wide else 0
        upright = rotate_clockwise(image, base)
        if base:
            boxes = self._line_boxes(upright)
            widths = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1) if len(boxes) else widths[:0]
        votes = 0
        for index in np.argsort(-widths)[:_ORIENTATION_SAMPLES]:
            xs, ys = boxes[index][:, 0], boxes[index][:, 1]
            crop = upright[int(ys.min()) : int(ys.max()) + 1, int(xs.min()) : int(xs.max()) + 1]
            if crop.size == 0:
                continue
            label = self._engine(crop, use_det=False, use_cls=True, use_rec=False).cls_res[0][0]
            votes += 1 if label == "180" else -1
        return (base + (180 if votes > 0 else 0)) % 360
