"""PyMuPDF, imported without the layout model that recent releases load on import.

pymupdf imports `pymupdf.layout` whenever it is installed (a dependency of pymupdf 2), and that
loads an ONNX model at once: about 0.45 s and 55 MB in every process, the launcher and each
worker alike. Only `Page.get_layout()` uses it, and curate never calls it. The model is
skipped during this import only: `import pymupdf.layout` still works afterwards.
"""

from __future__ import annotations

from curate.io.imports import without

with without("pymupdf.layout"):
    import pymupdf

__all__ = ["pymupdf"]
