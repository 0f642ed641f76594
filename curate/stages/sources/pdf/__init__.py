"""PDFs: pages rendered to images (`render.py`), their text read as the page shows it
(`lines.py`), and each line's role in the document (`roles.py`)."""

from curate.stages.sources.pdf.render import (
    PDF_EXTENSIONS,
    PageHints,
    render_open_document,
    render_pdf_pages,
)

__all__ = ["PDF_EXTENSIONS", "PageHints", "render_open_document", "render_pdf_pages"]
