"""PDF pages to images plus their native text lines, with boxes, via PyMuPDF.

A bad document never raises: it yields a Failure with the reason, and a page that fails to
render yields a Failure for that page while the rest of the document goes on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pymupdf

from curate import storage
from curate.config import RenderOptions
from curate.schemas import ContextItem, Failure, ImageData, PageRecord, TextBlock, stable_id
from curate.schemas.reasons import FailureReason
from curate.sources.checks import check_input_file

PDF_EXTENSIONS = frozenset({".pdf"})
STAGE = "render"
# A text layer where more than this share of characters is U+FFFD (broken font maps) is unusable.
MAX_REPLACEMENT_SHARE = 0.3

pymupdf.TOOLS.mupdf_display_errors(False)  # errors are reported as Failure rows instead


def render_pdf_pages(uri: str, options: RenderOptions) -> Iterator[PageRecord | Failure]:
    """Yield one PageRecord per page of the PDF at `uri`, or Failures explaining what went wrong."""

    def failure(reason: str, detail: str, item_id: str = uri) -> Failure:
        return Failure(item_id=item_id, source_uri=uri, stage=STAGE, reason=reason, detail=detail)

    problem = check_input_file(uri, options, STAGE)
    if problem:
        yield problem
        return

    sha256 = storage.sha256_of(uri)
    try:
        doc = _open(uri)
    except Exception as err:  # PyMuPDF raises several types for damaged files
        yield failure(FailureReason.CORRUPT_DOCUMENT, f"cannot open as PDF: {err}")
        return
    yield from render_open_document(doc, uri, sha256, options)


def render_open_document(
    doc: pymupdf.Document,
    uri: str,
    sha256: str,
    options: RenderOptions,
    source_type: str = "pdf",
    context: dict[int, list[ContextItem]] | None = None,
) -> Iterator[PageRecord | Failure]:
    """Pages of an opened PDF, with the provenance of the original input (a PDF, or a deck
    converted to PDF) and optional human-written context per page index."""

    def failure(reason: str, detail: str, item_id: str = uri) -> Failure:
        return Failure(item_id=item_id, source_uri=uri, stage=STAGE, reason=reason, detail=detail)

    with doc:
        if doc.needs_pass and not doc.authenticate(""):
            yield failure(FailureReason.ENCRYPTED_DOCUMENT, "password-protected; decrypt it first")
            return
        if doc.page_count == 0:
            yield failure(FailureReason.EMPTY_DOCUMENT, "the PDF has no pages")
            return
        doc_id = stable_id(uri, sha256)
        to_render = min(doc.page_count, options.max_pages_per_document)
        if doc.page_count > to_render:
            yield failure(
                FailureReason.TOO_MANY_PAGES,
                f"rendered the first {to_render} of {doc.page_count} pages "
                f"(render.max_pages_per_document)",
            )
        started = time.monotonic()
        for index in range(to_render):
            elapsed = time.monotonic() - started
            if elapsed > options.document_timeout_s:
                yield failure(
                    FailureReason.DOCUMENT_TIMEOUT,
                    f"stopped after {elapsed:.0f} s at page {index} of {to_render} "
                    f"(render.document_timeout_s); pages {index}..{to_render - 1} not rendered",
                )
                return
            page_id = f"{doc_id}-{index:05d}"
            try:
                page = _render_page(doc, index, options, uri, sha256, doc_id, page_id)
                page.source_type = source_type
                page.context = list((context or {}).get(index, []))
                yield page
            except Exception as err:
                yield failure(
                    FailureReason.PAGE_RENDER_ERROR, f"page {index}: {err}", item_id=page_id
                )


def _open(uri: str) -> pymupdf.Document:
    if storage.is_local(uri):
        return pymupdf.open(storage.normalize_uri(uri), filetype="pdf")
    with storage.open_file(uri) as handle:
        return pymupdf.open(stream=handle.read(), filetype="pdf")


def render_zoom(width_pt: float, height_pt: float, options: RenderOptions) -> float:
    """Scale factor from PDF points to pixels: the requested DPI, lowered to fit the pixel cap."""
    zoom = options.dpi / 72.0
    pixels = width_pt * height_pt * zoom * zoom
    if pixels > options.max_pixels_per_page:
        zoom *= math.sqrt(options.max_pixels_per_page / pixels)
    return zoom


def _render_page(
    doc: pymupdf.Document,
    index: int,
    options: RenderOptions,
    uri: str,
    sha256: str,
    doc_id: str,
    page_id: str,
) -> PageRecord:
    page = doc.load_page(index)
    rect = page.rect
    zoom = render_zoom(rect.width, rect.height, options)
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    blocks = extract_text_lines(page, zoom)
    usable = _usable_text(blocks)
    return PageRecord(
        page_id=page_id,
        doc_id=doc_id,
        source_uri=uri,
        source_sha256=sha256,
        source_type="pdf",
        page_index=index,
        page_count=doc.page_count,
        render_dpi=round(zoom * 72.0, 3),
        width=pixmap.width,
        height=pixmap.height,
        image=ImageData(pixmap.tobytes("png"), f"{page_id}.png"),
        text_blocks=blocks,
        text_source="native" if blocks else "none",
        needs_ocr=len(usable) < options.min_text_chars,
    )


def extract_text_lines(page: pymupdf.Page, zoom: float) -> list[TextBlock]:
    """Native text, one block per line, boxes in rendered-image pixels, in reading order."""
    to_pixels = page.rotation_matrix * pymupdf.Matrix(zoom, zoom)
    lines: list[TextBlock] = []
    content = page.get_text("dict", flags=pymupdf.TEXTFLAGS_TEXT, sort=True)
    for block in content["blocks"]:
        for line in block.get("lines", []):
            text = " ".join("".join(span["text"] for span in line["spans"]).split())
            if not text:
                continue
            box = pymupdf.Rect(line["bbox"]) * to_pixels
            lines.append(
                TextBlock(text=text, bbox=(box.x0, box.y0, box.x1, box.y1), source="native")
            )
    return lines


def _usable_text(blocks: list[TextBlock]) -> str:
    text = "".join("".join(b.text.split()) for b in blocks)
    if text and text.count("\ufffd") / len(text) > MAX_REPLACEMENT_SHARE:
        return ""
    return text.replace("\ufffd", "")
