"""Route an input to the source that understands it, by file extension."""

from __future__ import annotations

import os
from collections.abc import Iterator

from curate.config import RenderOptions
from curate.schemas import Failure, PageRecord, reasons
from curate.sources.image import IMAGE_EXTENSIONS, read_image_pages
from curate.sources.pdf import PDF_EXTENSIONS, render_pdf_pages
from curate.sources.slides import SLIDE_EXTENSIONS, render_slide_pages
from curate.sources.web import WebRenderer, is_url

SUPPORTED_EXTENSIONS = PDF_EXTENSIONS | IMAGE_EXTENSIONS | SLIDE_EXTENSIONS


def render_document(
    uri: str, options: RenderOptions, web: WebRenderer | None = None
) -> Iterator[PageRecord | Failure]:
    """Pages of one input; URLs need a running WebRenderer (one per worker)."""
    if is_url(uri):
        if web is None:
            raise ValueError("webpages need a WebRenderer; use curate.sources.web.WebRenderer")
        yield from web.crawl(uri)
        return
    extension = os.path.splitext(uri)[1].lower()
    if extension in PDF_EXTENSIONS:
        yield from render_pdf_pages(uri, options)
        return
    if extension in SLIDE_EXTENSIONS:
        yield from render_slide_pages(uri, options)
        return
    if extension in IMAGE_EXTENSIONS:
        yield from read_image_pages(uri, options)
        return
    supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    yield Failure(
        item_id=uri,
        source_uri=uri,
        stage="render",
        reason=reasons.UNSUPPORTED_FORMAT,
        detail=f"no source handles {extension or 'files without an extension'}; "
        f"supported: {supported}",
    )
