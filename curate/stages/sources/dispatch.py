"""Route an input to the source that reads it: by extension (`DOCUMENT_FORMATS`), checked
against the file's first bytes. Webpages go to the crawler.

A reader takes `(uri, options, hash_method, name)` and yields page records (`name`, the
document's path below its input folder, and its content make its ids); it raises ItemFailed
when the document cannot be read, or yields one for a part of it that cannot (a page), and
goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

from curate.core.config import RenderOptions
from curate.core.registry import Registry
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas import LinkedDocument, PageRecord, stable_id
from curate.schemas.reasons import FailureReason
from curate.stages.sources.image import IMAGE_EXTENSIONS
from curate.stages.sources.pdf import PDF_EXTENSIONS
from curate.stages.sources.slides import SLIDE_EXTENSIONS
from curate.stages.sources.web import HTML_EXTENSIONS, WebRenderer, is_url

DOCUMENT_FORMATS = Registry(
    "document format",
    {
        **dict.fromkeys(PDF_EXTENSIONS, "curate.stages.sources.pdf:render_pdf_pages"),
        **dict.fromkeys(SLIDE_EXTENSIONS, "curate.stages.sources.slides:render_slide_pages"),
        **dict.fromkeys(IMAGE_EXTENSIONS, "curate.stages.sources.image:read_image_pages"),
    },
)
# saved webpages are rendered by the job's browser (sources/web.py), not by a reader
SUPPORTED_EXTENSIONS = frozenset(DOCUMENT_FORMATS.names()) | HTML_EXTENSIONS


def read_document(
    uri: str,
    options: RenderOptions,
    web: WebRenderer | None = None,
    staging: str | None = None,
    hash_method: str | None = None,
    name: str | None = None,
) -> Iterator[PageRecord | LinkedDocument | ItemFailed]:
    """Pages of one input; URLs need a running WebRenderer (one per worker).

    With `hash_method` ("phash" or "dhash"), PDF and slide pages come with their perceptual
    hash, taken from the rendered pixels; dedup hashes the other pages itself.

    A crawl also yields the documents its pages link to (LinkedDocument, downloaded into
    `staging`); `read_linked_document` turns each into pages.
    """
    if is_url(uri):
        if web is None:
            raise ValueError("webpages need a WebRenderer (curate.stages.sources.web)")
        yield from web.crawl(uri, staging)
        return
    extension = os.path.splitext(uri)[1].lower()
    if extension in HTML_EXTENSIONS and storage.is_local(uri):
        if web is None:
            raise ValueError("saved webpages need a WebRenderer (curate.stages.sources.web)")
        yield from web.render_file(uri, name)
        return
    problem = check_content(uri, extension)
    if problem is not None:
        raise ItemFailed(*problem)
    if extension not in DOCUMENT_FORMATS:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise ItemFailed(
            FailureReason.UNSUPPORTED_FORMAT,
            f"no source handles {extension or 'files without an extension'}; "
            f"supported: {supported}",
        )
    yield from DOCUMENT_FORMATS.load(extension)(uri, options, hash_method, name)


_SIGNATURES = {  # what a file of each kind starts with
    "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04",),  # .pptx, .odp, .otp: zip packages
    "ole": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),  # .ppt
}
_EXPECTED = {ext: "pdf" for ext in PDF_EXTENSIONS} | {
    ext: "ole" if ext in (".ppt", ".pps", ".pot") else "zip" for ext in SLIDE_EXTENSIONS
}


def sniff(head: bytes) -> str:
    """What the first bytes of a file look like: pdf, zip, ole, html, text or binary."""
    if b"%PDF-" in head[:1024]:  # a PDF may start with junk before its header
        return "pdf"
    for kind, starts in _SIGNATURES.items():
        if head.startswith(starts):
            return kind
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return "html"
    return "text" if head and all(b >= 9 for b in head[:512]) else "binary"


def check_content(uri: str, extension: str) -> tuple[FailureReason, str] | None:
    """None when the file can be read and its first bytes match its extension; else why not.

    Types come from content, not names: an HTML error page saved as `report.pdf` is reported
    as such rather than rendered as a one-page PDF."""
    try:
        with storage.open_file(uri, "rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        return None  # the source reports it
    except IsADirectoryError:
        return (
            FailureReason.UNREADABLE,
            "a folder whose files cannot be listed, or a folder named like a document; check "
            "permissions",
        )
    except OSError as err:
        return (
            FailureReason.UNREADABLE,
            f"cannot read it ({err.strerror or err}); check permissions",
        )
    expected = _EXPECTED.get(extension)
    if expected is None:
        return None
    found = sniff(head)
    if found != expected:
        start = head[:40].decode("latin-1").strip()
        return (
            FailureReason.WRONG_FILE_TYPE,
            f"named {extension} but its content is {found} (it starts with {start!r}); "
            "fix the download or rename the file",
        )
    return None


def read_linked_document(
    doc: LinkedDocument, options: RenderOptions, hash_method: str | None = None
) -> Iterator[PageRecord | ItemFailed]:
    """Pages of a downloaded document, with its URL as source and the linking page as provenance.

    Ids come from the URL and the content hash, not the staging path, so they do not depend on
    where the job stages its downloads.
    """
    doc_id = stable_id(doc.url, doc.sha256)
    via = f" (linked from {doc.linked_from})" if doc.linked_from else ""

    def relabel(failure: ItemFailed) -> ItemFailed:
        item_id = None if failure.item_id in (None, doc.staged_uri) else failure.item_id
        return ItemFailed(failure.reason, f"{failure.detail}{via}", item_id, doc.url)

    try:
        for item in read_document(doc.staged_uri, options, hash_method=hash_method):
            if isinstance(item, ItemFailed):
                yield relabel(item)
                continue
            page_id = f"{doc_id}-{item.page_index:05d}"
            yield replace(
                item,
                doc_id=doc_id,
                page_id=page_id,
                source_uri=doc.url,
                linked_from=doc.linked_from or None,
                image=replace(item.image, path=f"{page_id}.{item.image.format}"),
            )
    except ItemFailed as failure:
        raise relabel(failure) from None
