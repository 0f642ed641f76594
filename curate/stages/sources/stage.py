"""The render stages: input URIs -> page records, and crawled documents -> their pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from curate import __version__
from curate.core.checkpoint import Checkpoint, local_file_identity
from curate.core.config import RenderOptions, WebOptions
from curate.core.stage import GroupStage, ItemFailed, Keep, Outcome, Stage, records
from curate.schemas import SCHEMA_VERSION, LinkedDocument, PageRecord
from curate.schemas.reasons import FailureReason
from curate.stages.sources.dispatch import read_document, read_linked_document
from curate.stages.sources.inputs import document_name

# what sources report: every failure a PDF, deck, image or webpage can have
SOURCE_FAILURES = frozenset(
    {
        FailureReason.UNSUPPORTED_FORMAT,
        FailureReason.FILE_NOT_FOUND,
        FailureReason.UNREADABLE,
        FailureReason.WRONG_FILE_TYPE,
        FailureReason.TRUNCATED_DOCUMENT,
        FailureReason.FILE_TOO_LARGE,
        FailureReason.CORRUPT_DOCUMENT,
        FailureReason.ENCRYPTED_DOCUMENT,
        FailureReason.EMPTY_DOCUMENT,
        FailureReason.TOO_MANY_PAGES,
        FailureReason.PAGE_RENDER_ERROR,
        FailureReason.DOCUMENT_TIMEOUT,
        FailureReason.CORRUPT_IMAGE,
        FailureReason.IMAGE_TOO_LARGE,
        FailureReason.CONVERSION_FAILED,
        FailureReason.CONVERSION_TIMEOUT,
        FailureReason.SSRF_REFUSED,
        FailureReason.ROBOTS_DISALLOWED,
        FailureReason.FETCH_TIMEOUT,
        FailureReason.FETCH_ERROR,
        FailureReason.DOWNLOAD_TOO_LARGE,
    }
)


def _counted(
    items: Iterable[PageRecord | LinkedDocument | ItemFailed], stage: Stage
) -> Iterable[Outcome | ItemFailed]:
    for item in items:
        if isinstance(item, ItemFailed):
            yield item  # the contract makes its failure row
        else:
            if isinstance(item, PageRecord):
                stage.count("pages")
                if item.needs_ocr:
                    stage.count("pages.needs_ocr")
            else:
                stage.count("documents.linked")
            yield Keep(item)


class RenderDocuments(Stage):
    """Input URI -> page records (and, for crawls, the documents the pages link to).

    When the job has webpages, each worker starts one headless Chromium in setup(). With
    `hash_method` (the job's dedup hash), PDF and slide pages carry their perceptual hash,
    taken from the pixels the renderer already holds.
    """

    name = "render"
    accepts = (str,)
    emits = SOURCE_FAILURES

    def __init__(
        self,
        options: RenderOptions,
        web: WebOptions | None = None,
        staging: str | None = None,
        hash_method: str | None = None,
        checkpoint: str | None = None,
        roots: tuple[str, ...] = (),
    ):
        super().__init__(options)
        self.web, self.staging, self.hash_method = web, staging, hash_method
        self.roots = roots  # the input folders: a document's ids use its path below them
        self.renderer = None
        # a local file's pages are kept as rendered, so a killed run resumes without redoing it
        version = f"{__version__}|{SCHEMA_VERSION}|{options.model_dump_json()}|{hash_method}"
        self.checkpoint = Checkpoint(checkpoint, version)

    def setup(self) -> None:
        if self.web is not None:
            from curate.stages.sources.web import WebRenderer

            self.renderer = WebRenderer(self.web, self.options).__enter__()

    def teardown(self) -> None:
        if self.renderer is not None:
            self.renderer.__exit__(None, None, None)
            self.renderer = None

    def process(self, uri: str) -> Iterable[Outcome]:
        self.count("documents")
        name = document_name(uri, self.roots)  # what the ids are made of, with the content
        key = self.checkpoint.key(local_file_identity(uri), name)
        kept = self.checkpoint.replay(key)
        if kept is not None:
            self.count("documents.resumed")
            yield from _counted(kept, self)
            return
        pages = read_document(
            uri, self.options, self.renderer, self.staging, self.hash_method, name
        )
        yield from _counted(self.checkpoint.record(key, pages), self)


class OnePerContent(GroupStage):
    """Documents a crawl downloaded -> one per content hash (the smallest URL wins), so a deck
    linked from ten pages, or under two URLs, is rendered once."""

    name = "one_per_content"
    accepts = (LinkedDocument,)

    def key(self, doc: LinkedDocument) -> str:
        return doc.sha256

    def process_group(self, key: str, docs: list[LinkedDocument]) -> Iterable[Outcome]:
        yield Keep(min(docs, key=lambda d: (d.url, d.linked_from)))


class RenderLinkedDocuments(Stage):
    """A downloaded document -> its pages, with the linking page as provenance."""

    name = "render_linked"
    accepts = (LinkedDocument,)
    emits = SOURCE_FAILURES

    def __init__(self, options: RenderOptions, hash_method: str | None = None):
        super().__init__(options)
        self.hash_method = hash_method

    def process(self, doc: LinkedDocument) -> Iterable[Outcome]:
        yield from _counted(read_linked_document(doc, self.options, self.hash_method), self)


def render_document(
    uri: str,
    options: RenderOptions,
    web: WebOptions | None = None,
    hash_method: str | None = None,
) -> Iterator[Any]:
    """The render stage on one input, for notebooks, tests and scripts: its page records (and,
    for a crawl, linked documents) and a Failure row for whatever could not be rendered."""
    yield from records(RenderDocuments(options, web, hash_method=hash_method), uri)
