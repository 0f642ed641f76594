"""Route an input to the source that understands it, by file extension."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

from curate.config import RenderOptions
from curate.schemas import Failure, LinkedDocument, PageRecord, stable_id
from curate.schemas.reasons import FailureReason
from curate.sources.image import IMAGE_EXTENSIONS, read_image_pages
from curate.sources.pdf import PDF_EXTENSIONS, render_pdf_pages
from curate.sources.slides import SLIDE_EXTENSIONS, render_slide_pages
from curate.sources.web import WebRenderer, is_url

SUPPORTED_EXTENSIONS = PDF_EXTENSIONS | IMAGE_EXTENSIONS | SLIDE_EXTENSIONS


def render_document(
    uri: str, options: RenderOptions, web: WebRenderer | None = None, staging: str | None = None
) -> Iterator[PageRecord | Failure | LinkedDocument]:
    """Pages of one input; URLs need a running WebRenderer (one per worker).

    A crawl also yields the documents its pages link to (LinkedDocument, downloaded into
    `staging`); `render_linked_document` turns each into pages.
    """
    if is_url(uri):
        if web is None:
            raise ValueError("webpages need a WebRenderer; use curate.sources.web.WebRenderer")
        yield from web.crawl(uri, staging)
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
        reason=FailureReason.UNSUPPORTED_FORMAT,
        detail=f"no source handles {extension or 'files without an extension'}; "
        f"supported: {supported}",
    )


def render_linked_document(
    doc: LinkedDocument, options: RenderOptions
) -> Iterator[PageRecord | Failure]:
    """Pages of a downloaded document, with its URL as source and the linking page as provenance.

    Ids come from the URL and the content hash, not the staging path, so they do not depend on
    where the job stages its downloads.
    """
    doc_id = stable_id(doc.url, doc.sha256)
    via = f" (linked from {doc.linked_from})" if doc.linked_from else ""
    for item in render_document(doc.staged_uri, options):
        if isinstance(item, Failure):
            yield replace(
                item,
                item_id=doc.url if item.item_id == doc.staged_uri else item.item_id,
                source_uri=doc.url,
                detail=f"{item.detail}{via}",
            )
        else:
            page_id = f"{doc_id}-{item.page_index:05d}"
            yield replace(
                item,
                doc_id=doc_id,
                page_id=page_id,
                source_uri=doc.url,
                linked_from=doc.linked_from or None,
                image=replace(item.image, path=f"{page_id}.{item.image.format}"),
            )
