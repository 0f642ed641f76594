"""PDF pages to images plus their native text lines, with boxes, via PyMuPDF.

A bad document raises ItemFailed with the reason; a page that fails to render yields one for
that page while the rest of the document goes on. The render stage makes both into dead-letter
rows (core/stage.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from curate.core.config import RenderOptions
from curate.core.fingerprints import hash_name
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas import ContextItem, ImageData, PageRecord, TextBlock, stable_id
from curate.schemas.reasons import FailureReason
from curate.stages.sources.checks import check_input_file
from curate.stages.sources.encode import PageEncoder, pixels
from curate.stages.sources.mupdf import pymupdf
from curate.stages.sources.pdf.lines import invisible_share
from curate.stages.sources.pdf.roles import DocumentProfile, PageHints, page_blocks, read_profile

PDF_EXTENSIONS = frozenset({".pdf"})
# A text layer where more than this share of characters is U+FFFD (broken font maps) is unusable.
MAX_REPLACEMENT_SHARE = 0.3

pymupdf.TOOLS.mupdf_display_errors(False)  # errors are reported as failure rows instead


_TRUNCATED = (
    "the PDF ends early (no %%EOF trailer): the download or copy was cut off; fetch it again"
)


def is_truncated(uri: str) -> bool:
    """A PDF cut off in transfer: no end-of-file marker in its last kilobyte, though what is
    there looks like PDF (objects), not garbage."""
    try:
        with storage.open_file(uri, "rb") as handle:
            head = handle.read(4096)
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 1024))
            tail = handle.read()
    except OSError:
        return False
    return b"%%EOF" not in tail and b" obj" in head


def render_pdf_pages(
    uri: str, options: RenderOptions, hash_method: str | None = None, name: str | None = None
) -> Iterator[PageRecord | ItemFailed]:
    """One PageRecord per page of the PDF at `uri`. With `hash_method` ("phash" or "dhash"),
    each page's `phash` is computed from its pixels."""
    check_input_file(uri, options)
    sha256 = storage.sha256_of(uri)
    try:
        doc = _open(uri)
    except Exception as err:  # PyMuPDF raises several types for damaged files
        if is_truncated(uri):
            raise ItemFailed(FailureReason.TRUNCATED_DOCUMENT, _TRUNCATED) from None
        raise ItemFailed(FailureReason.CORRUPT_DOCUMENT, f"cannot open as PDF: {err}") from None
    yield from render_open_document(doc, uri, sha256, options, hash_method=hash_method, name=name)


def render_open_document(
    doc: pymupdf.Document,
    uri: str,
    sha256: str,
    options: RenderOptions,
    source_type: str = "pdf",
    context: dict[int, list[ContextItem]] | None = None,
    hints: dict[int, PageHints] | None = None,
    hash_method: str | None = None,
    name: str | None = None,
) -> Iterator[PageRecord | ItemFailed]:
    """Pages of an opened PDF, with the provenance of the original input (a PDF, or a deck
    converted to PDF), optional human-written context and layout hints per page index.

    A quick text-only pass reads the whole document first: its body font size, the lines that
    repeat as running headers and footers, and the pages that open a section. Then each page
    is rendered with its lines' roles. With `hash_method`, its perceptual hash is taken from
    the rendered pixels, which saves dedup decoding the PNG again. PNG and hash are made on
    helper threads while the next pages render (sources/encode.py), so pages come out a few
    pages behind.
    """
    with doc, PageEncoder() as encoder:
        if doc.needs_pass and not doc.authenticate(""):
            raise ItemFailed(
                FailureReason.ENCRYPTED_DOCUMENT, "password-protected; decrypt it first"
            )
        if doc.page_count == 0:
            if is_truncated(uri):
                raise ItemFailed(FailureReason.TRUNCATED_DOCUMENT, _TRUNCATED)
            raise ItemFailed(FailureReason.EMPTY_DOCUMENT, "the PDF has no pages")
        doc_id = stable_id(name or uri, sha256)
        to_render = min(doc.page_count, options.max_pages_per_document)
        if doc.page_count > to_render:
            yield ItemFailed(  # and the first pages go on
                FailureReason.TOO_MANY_PAGES,
                f"rendered the first {to_render} of {doc.page_count} pages "
                f"(render.max_pages_per_document)",
            )
        hints = hints or {}
        try:
            profile = read_profile(doc, to_render, hints)
        except Exception as err:  # a text layer PyMuPDF cannot read: render without roles
            profile = DocumentProfile(detail=f"no layout: {err}")
        started = time.monotonic()

        def finished(everything: bool = False) -> Iterator[PageRecord | ItemFailed]:
            """Pages whose PNG and hash the helpers made, in order (sources/encode.py)."""
            for page, result in encoder.finished(everything):
                if isinstance(result, Exception):
                    detail = f"page {page.page_index}: {result}"
                    yield ItemFailed(FailureReason.PAGE_RENDER_ERROR, detail, page.page_id)
                else:
                    data, page.phash = result
                    page.phash_method = page.phash and hash_name(hash_method)
                    page.image = ImageData(data, page.image.path)
                    yield page

        for index in range(to_render):
            elapsed = time.monotonic() - started
            if elapsed > options.document_timeout_s:
                yield from finished(everything=True)
                raise ItemFailed(
                    FailureReason.DOCUMENT_TIMEOUT,
                    f"stopped after {elapsed:.0f} s at page {index} of {to_render} "
                    f"(render.document_timeout_s); pages {index}..{to_render - 1} not rendered",
                )
            page_id = f"{doc_id}-{index:05d}"
            try:
                page, image = _render_page(
                    doc,
                    index,
                    options,
                    uri,
                    sha256,
                    doc_id,
                    page_id,
                    profile,
                    hints.get(index),
                )
                page.source_type = source_type
                page.context = list((context or {}).get(index, []))
                encoder.add(page, image, hash_method)
            except Exception as err:
                yield from finished(everything=True)
                yield ItemFailed(FailureReason.PAGE_RENDER_ERROR, f"page {index}: {err}", page_id)
            yield from finished()
        yield from finished(everything=True)


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
    profile: DocumentProfile,
    hints: PageHints | None,
) -> tuple[PageRecord, np.ndarray]:
    """The page's record, its image and hash still to make, and the pixels to make them of."""
    page = doc.load_page(index)
    rect = page.rect
    zoom = render_zoom(rect.width, rect.height, options)
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    blocks = page_blocks(page, profile, hints, zoom)
    usable = _usable_text(blocks)
    source = "native" if blocks else "none"
    if blocks and page.get_images() and invisible_share(page) >= 0.8:
        source = "ocr_layer"  # a scan with someone else's OCR behind it: checked by the OCR stage
    record = PageRecord(
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
        image=ImageData(b"", f"{page_id}.png"),  # the PNG and hash come from a helper thread
        text_blocks=blocks,
        text_source=source,
        needs_ocr=len(usable) < options.min_text_chars,
        sections=list(profile.sections),
    )
    return record, pixels(pixmap.samples_mv, pixmap.width, pixmap.height, pixmap.n, pixmap.stride)


def _usable_text(blocks: list[TextBlock]) -> str:
    text = "".join("".join(b.text.split()) for b in blocks)
    if text and text.count("\ufffd") / len(text) > MAX_REPLACEMENT_SHARE:
        return ""
    return text.replace("\ufffd", "")
