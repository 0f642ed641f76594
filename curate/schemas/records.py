"""The records that flow between stages: plain dataclasses, cheap to pickle for Beam workers.

Each field is defined once, here, with its Arrow type (`curate/schemas/columns.py` derives the
Parquet schema and the row converters from these definitions). Coordinates are pixels of the
rendered image (origin top-left), so native, OCR and DOM text boxes line up with the image a
model sees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

import pyarrow as pa

from curate.io import storage
from curate.schemas.columns import column, derived

IMAGE_PLACEHOLDER = "<image>"


def stable_id(*parts: str, length: int = 16) -> str:
    """A short, deterministic id: re-running a job gives every record the same id."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


class Metric(StrEnum):
    """The difficulty scores (docs/scoring.md); each is a field of `Scores`."""

    IFD = "ifd"
    VFD = "vfd"
    MIFD = "mifd"
    FFD = "ffd"


METRICS: tuple[str, ...] = tuple(m.value for m in Metric)
JUDGE = "judge"  # a score an LLM judge gives at generation, not a difficulty the scorer computes
FILTER_METRICS: tuple[str, ...] = (*METRICS, JUDGE)  # what `curate filter --metric` keeps by
IMAGE_METRICS = frozenset(
    {Metric.VFD.value, Metric.MIFD.value, Metric.FFD.value}
)  # need an image model


@dataclass
class ImageData:
    """An encoded image and its file name: the `{bytes, path}` struct `datasets` reads as Image.

    An image can also travel by reference: after `by_reference(folder)` its bytes sit in a file
    named by their digest, pickling sends only that file's URI, and the bytes are read again on
    first use. Beam pipelines do this once after rendering, so pages cross workers and shuffles
    without their pixels, and only the stages that need pixels read them (issue 22).
    """

    bytes: bytes
    path: str
    ref: ClassVar[str | None] = None  # set per image by by_reference(); not a column

    @property
    def format(self) -> str:
        return self.path.rsplit(".", 1)[-1] if "." in self.path else "png"

    def by_reference(self, folder: str) -> ImageData:
        """Write the bytes once under `folder` (any fsspec URI) and pickle only their URI."""
        if self.ref is None:
            data = self.bytes
            digest = hashlib.sha256(data).hexdigest()[:32]
            uri = storage.join(folder, f"{digest}.{self.format}")
            if not storage.exists(uri):  # one file per content, whoever wrote it first
                try:
                    storage.write_bytes_atomic(uri, data)
                except FileNotFoundError:  # the first image in a local folder
                    storage.makedirs(folder)
                    storage.write_bytes_atomic(uri, data)
            self.ref, self._nbytes = uri, len(data)
        return self

    @property
    def nbytes(self) -> int:
        """The encoded size, without reading an image that travels by reference."""
        data = self.__dict__.get("bytes")
        return len(data) if data is not None else self.__dict__.get("_nbytes", 0)

    def release(self) -> None:
        """Let go of bytes read back from the reference; the next use reads them again."""
        if self.__dict__.get("ref"):
            self.__dict__.pop("bytes", None)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if state.get("ref"):
            state.pop("bytes", None)
        return state

    def __getattr__(self, name: str):  # only called for attributes not set: unread bytes
        if name == "bytes" and self.__dict__.get("ref"):
            with storage.open_file(self.__dict__["ref"]) as handle:
                data = handle.read()
            self.__dict__["bytes"] = data
            return data
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class BlockRole(StrEnum):
    """What a line is on its page, set by the source (fonts, table detection, the DOM, the
    deck) or by OCR layout. Questions are asked about content roles only."""

    TITLE = "title"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE_CELL = "table_cell"
    CAPTION = "caption"
    CODE = "code"
    TOC = "toc"  # a table-of-contents entry
    HEADER_FOOTER = "header_footer"  # running headers, footers, page numbers
    WATERMARK = "watermark"  # rotated or faint overlay text ("DRAFT"), margin stamps
    FIGURE = "figure"  # text inside a chart or drawing (axis ticks, legends)


@dataclass
class TextBlock:
    """One line of text with its box (x0, y0, x1, y1) in image pixels and its layout role.

    `cell` is (table, row, column) for a table cell: tables numbered from 0 on the page, row 0
    the header row. `unsure` are the words of an OCR line one of whose characters the
    recognizer scored low: no answer is taken from them."""

    text: str
    bbox: tuple[float, float, float, float] = column(pa.list_(pa.float32(), 4))
    source: str = "native"
    confidence: float = column(pa.float32(), default=1.0)
    role: str = BlockRole.PARAGRAPH
    # a variable list: pyarrow cannot read back a null fixed-size list nested in a list
    cell: tuple[int, int, int] | None = column(pa.list_(pa.int32()), default=None)
    unsure: list[str] = field(default_factory=list)


@dataclass
class ContextItem:
    """Human-written context (title, speaker notes, alt text, caption, a slide's list of points)
    attached to a page."""

    kind: str
    text: str
    image_index: int = -1  # which image of a sample it belongs to; -1 on a page record


@dataclass
class PageRecord:
    """One rendered page, slide or viewport tile, with its text and where it came from."""

    page_id: str
    doc_id: str
    source_uri: str
    source_sha256: str
    source_type: str
    page_index: int
    page_count: int
    render_dpi: float = column(pa.float32())
    width: int
    height: int
    image: ImageData
    text_blocks: list[TextBlock] = field(default_factory=list)
    text_source: str = "none"  # native | ocr | dom | none
    needs_ocr: bool = False
    context: list[ContextItem] = field(default_factory=list)
    phash: str | None = None
    phash_method: str | None = None  # which hash `phash` is (fingerprints.hash_name): "phash/v2"
    drop_reason: str | None = None
    duplicate_of: str | None = None  # the page kept in place of this near/exact duplicate
    linked_from: str | None = None  # the webpage that linked this document (crawl discovery)
    # the first pages of the document's sections (headings, slide titles), the same on every
    # page of a document: sample windows follow them; empty when the source knows none
    sections: list[int] = field(default_factory=list)

    @derived(after="image")
    def text(self) -> str:
        return "\n".join(block.text for block in self.text_blocks)


@dataclass
class Scores:
    """Difficulty scores (see docs/schema.md); None until a scorer has run."""

    ifd: float | None = None
    vfd: float | None = None
    mifd: float | None = None
    ffd: float | None = None
    note: str | None = None  # why a score is missing (a ScoreNote)
    # an LLM judge's marks, 0-5 (generator.judge, docs/generation.md): `judge` is the mean of
    # the four; on a sample, the mean over its judged items
    judge: float | None = None
    judge_correctness: float | None = None
    judge_usefulness: float | None = None
    judge_question: float | None = None
    judge_grounding: float | None = None

    def judged(self) -> dict[str, float | None]:
        """The judge's marks, which a scorer computing difficulties again keeps."""
        return {f: getattr(self, f) for f in JUDGE_FIELDS}


JUDGE_FIELDS = (
    "judge",
    "judge_correctness",
    "judge_usefulness",
    "judge_question",
    "judge_grounding",
)


@dataclass
class BenchmarkMatch:
    """Where a sample overlaps an evaluation benchmark (docs/decontaminate.md).

    `kind` is image_exact, image_near, qa_ngram or text_ngram; `image_index` the sample's
    image that matched (-1 for QA); `detail` the distances or the shared words.
    """

    benchmark: str
    item_id: str
    kind: str
    image_index: int = -1
    detail: str = ""


@dataclass
class QAItem:
    """One question-answer pair and how it was made.

    `image_index` is the 0-based image the answer is grounded in, or -1 when it needs several.
    `evidence` is the text line the answer was taken from.
    """

    kind: str  # extractive | self_explain | cross_image | caption | turn
    question: str
    answer: str
    image_index: int = -1
    evidence: str = ""
    generator: str = ""
    prompt_version: str = ""
    scores: Scores = field(default_factory=Scores)
    reject_reason: str | None = None  # set on items kept in SampleRecord.rejected_qa


@dataclass
class LLMUsage:
    """What the LLM calls for one sample cost. Every attempt sent counts (retries included), with
    the tokens the endpoint reported. A cache hit costs this run nothing; what its reply cost
    when it was made is kept in the `cached_` fields, so a re-run still shows what the data cost
    in all. `images` is the number of images sent (their tokens are inside `prompt_tokens`, as
    reported). A cost is None when the model has no price (unknown, not free)."""

    requests: int = column(pa.int64(), default=0)
    cache_hits: int = column(pa.int64(), default=0)
    prompt_tokens: int = column(pa.int64(), default=0)
    completion_tokens: int = column(pa.int64(), default=0)
    cost_usd: float | None = 0.0
    images: int = column(pa.int64(), default=0)
    cached_prompt_tokens: int = column(pa.int64(), default=0)
    cached_completion_tokens: int = column(pa.int64(), default=0)
    cached_cost_usd: float | None = 0.0

    def add(self, other: LLMUsage) -> None:
        for name in (
            "requests",
            "cache_hits",
            "prompt_tokens",
            "completion_tokens",
            "images",
            "cached_prompt_tokens",
            "cached_completion_tokens",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("cost_usd", "cached_cost_usd"):  # an unknown cost makes the sum unknown
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, None if mine is None or theirs is None else mine + theirs)

    @property
    def total_cost_usd(self) -> float | None:
        """What the replies cost in all: this run's calls and the cached ones' when made."""
        if self.cost_usd is None or self.cached_cost_usd is None:
            return None
        return self.cost_usd + self.cached_cost_usd


@dataclass
class Turn:
    role: str  # user | assistant
    content: str


@dataclass
class SampleRecord:
    """A multi-image sample: consecutive pages of one document plus their conversation."""

    sample_id: str
    doc_id: str
    source_uri: str
    source_sha256: str
    source_type: str
    page_ids: list[str]
    page_indices: list[int]
    images: list[ImageData]
    image_sizes: list[tuple[int, int]]
    image_blocks: list[list[TextBlock]]
    context: list[ContextItem] = field(default_factory=list)
    conversations: list[Turn] = field(default_factory=list)
    qa: list[QAItem] = field(default_factory=list)
    scores: Scores = field(default_factory=Scores)
    generator: str = ""
    rejected_qa: list[QAItem] = field(default_factory=list)
    llm_usage: LLMUsage | None = None
    drop_reason: str | None = None
    drop_detail: str | None = None
    linked_from: str | None = None  # the webpage that linked the source document, if crawled
    benchmark_matches: list[BenchmarkMatch] = field(default_factory=list)  # decontamination

    @derived(after="image_sizes")
    def image_texts(self) -> list[str]:
        return ["\n".join(block.text for block in blocks) for blocks in self.image_blocks]

    @derived(after="llm_usage")
    def num_images(self) -> int:
        return len(self.images)


@dataclass
class LinkedDocument:
    """A PDF or deck a crawl found linked from a page, downloaded once to a staging location."""

    url: str
    linked_from: str
    staged_uri: str  # content-addressed: <staging>/<sha256><extension>
    sha256: str
    size: int
    content_type: str = ""


@dataclass
class Failure:
    """An input or item that a stage could not process; written to the dead-letter output."""

    item_id: str
    source_uri: str
    stage: str
    reason: str
    detail: str = ""
    llm_usage: LLMUsage | None = None  # what LLM calls for the item cost before it failed
