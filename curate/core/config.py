"""Typed, validated options for every stage; read from YAML/TOML, overridden by CLI flags.

Every field says whether its value can change what curate writes (`option(..., shapes=...)`).
The manifest's `config_hash` covers exactly the fields that do, so two runs with the same hash
made the same data; speed, places, secrets and limits of this machine stay out of it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from curate.core.registry import GENERATORS, OCR_ENGINES, Registry, UnknownName
from curate.io.errors import CurateError
from curate.schemas.records import Metric

SHAPES_OUTPUT = "shapes_output"


def option(*args: Any, shapes: bool, **kwargs: Any) -> Any:
    """A config field (pydantic's `Field`) that says whether its value shapes the output."""
    return Field(*args, json_schema_extra={SHAPES_OUTPUT: shapes}, **kwargs)


def shapes_output(field: Any) -> bool | None:
    """Whether a field shapes the output; None for a field that did not say (a bug)."""
    return (field.json_schema_extra or {}).get(SHAPES_OUTPUT)


def _registered(registry: Registry, name: str) -> str:
    """For validators: the name, if the registry holds it (a ValueError names the choices)."""
    try:
        return registry.check(name)
    except UnknownName as err:
        raise ValueError(str(err)) from None


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RenderOptions(_Options):
    """How documents become page images and text."""

    dpi: float = option(144, gt=0, le=1200, description="Render resolution.", shapes=True)
    max_pixels_per_page: int = option(
        40_000_000,
        gt=0,
        description="Pages larger than this are rendered at a lower DPI.",
        shapes=True,
    )
    max_pages_per_document: int = option(
        2000,
        gt=0,
        description="Pages past this are not rendered; a failure row says so.",
        shapes=True,
    )
    max_file_mb: float = option(
        512, gt=0, description="Larger files go to the dead-letter output.", shapes=True
    )
    document_timeout_s: float = option(
        600,
        gt=0,
        description="Stop rendering a document after this long; the rest is recorded.",
        shapes=True,
    )
    max_image_pixels: int = option(
        200_000_000,
        gt=0,
        description="Image inputs larger than this are refused (bombs).",
        shapes=True,
    )
    min_text_chars: int = option(
        16,
        ge=0,
        description="Pages with fewer usable native characters are flagged for OCR.",
        shapes=True,
    )
    conversion_timeout_s: float = option(
        180,
        gt=0,
        description="Slide decks: LibreOffice conversion to PDF gives up after this.",
        shapes=True,
    )


class WebOptions(_Options):
    """Webpages: crawl limits, politeness, timeouts, the SSRF guard, and how pages are tiled."""

    viewport_width: int = option(1280, ge=200, le=8000, shapes=True)
    tile_height: int = option(
        1600, ge=200, le=20000, description="One image per tile.", shapes=True
    )
    tile_overlap: int = option(64, ge=0, description="Pixels repeated between tiles.", shapes=True)
    max_page_height: int = option(
        20000, ge=200, description="Screenshots stop here (infinite scroll).", shapes=True
    )
    max_depth: int = option(
        0, ge=0, le=10, description="Links followed from each seed.", shapes=True
    )
    max_pages: int = option(50, ge=1, description="Pages rendered per seed.", shapes=True)
    politeness_delay_s: float = option(
        1.0,
        ge=0,
        description="Between page navigations on one host (not a page's own images).",
        shapes=False,
    )
    navigation_timeout_s: float = option(15, gt=0, description="Per HTTP request.", shapes=True)
    page_timeout_s: float = option(
        60,
        gt=0,
        description="Per page in total: the page and everything it loads, rendered.",
        shapes=True,
    )
    max_bytes: int = option(20_000_000, gt=0, description="Largest response read.", shapes=True)
    follow_documents: bool = option(
        True,
        description="Download PDFs and decks that crawled pages link to, and process them.",
        shapes=True,
    )
    max_document_bytes: int = option(
        100_000_000, gt=0, description="Largest linked document downloaded.", shapes=True
    )
    max_documents: int = option(
        50, ge=0, description="Linked documents downloaded per seed.", shapes=True
    )
    staging_dir: str | None = option(
        None,
        description="Where linked documents are downloaded; null: OUTPUT/_staging/documents.",
        shapes=False,
    )
    respect_robots: bool = option(True, shapes=True)
    allow_private_hosts: bool = option(
        False,
        description="Fetch from private, loopback and link-local addresses (local servers).",
        shapes=False,
    )
    allowed_hosts: list[str] = option(
        default_factory=list,
        description="Private hosts or addresses allowed one by one: `127.0.0.1:8000` allows that "
        "port only, `127.0.0.1` every port. The way to crawl a local server.",
        shapes=False,
    )
    user_agent: str = option(
        "curate/0.1 (dataset builder; +https://github.com/curate)", shapes=True
    )
    chromium: str = option("/usr/bin/chromium", shapes=False)


class OcrEngineOptions(_Options):
    """An OCR engine, by its name in `OCR_ENGINES` (core/registry.py). An engine with settings
    of its own has a subclass here, a member of `EngineOptions`; the others need none."""

    kind: str = option("rapidocr", description="The engine's name.", shapes=True)

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        return _registered(OCR_ENGINES, kind)


class RapidOcrOptions(OcrEngineOptions):
    """RapidOCR: PP-OCR models under ONNX Runtime, in the wheel (the default engine)."""

    kind: Literal["rapidocr"] = option("rapidocr", shapes=True)
    det_limit_side_len: int = option(
        960,
        ge=64,
        le=4096,
        description="Text detection runs with the long side scaled to this.",
        shapes=True,
    )


_TAGS = ("rapidocr", "other")  # which member of EngineOptions validates an engine's options


def _engine_tag(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in _TAGS else "other"


# The options of whichever engine `kind` names: its own class where it has settings.
EngineOptions = Annotated[
    Annotated[RapidOcrOptions, Tag("rapidocr")] | Annotated[OcrEngineOptions, Tag("other")],
    Discriminator(_engine_tag),
]


class OcrOptions(_Options):
    """Which pages get OCR, and with which engine.

    `auto` OCRs a page only when its native text is unusable: fewer than
    `render.min_text_chars` non-space characters, or mostly U+FFFD (broken font maps).
    Image inputs and scanned pages have no native text, so they are always OCR'd in `auto`.
    """

    mode: Literal["auto", "always", "never"] = option("auto", shapes=True)
    engine: EngineOptions = option(
        default_factory=RapidOcrOptions,
        description="`rapidocr`, `tesseract`, `paddleocr`, or {kind: rapidocr, ...settings}.",
        shapes=True,
    )
    languages: list[str] = option(default_factory=lambda: ["en"], min_length=1, shapes=True)
    threads: int | None = option(
        None,
        ge=1,
        le=256,
        description="Threads per engine; default: cores / local workers.",
        shapes=False,
    )
    rotation: Literal["auto", "never"] = option(
        "auto",
        description="Detect 90/180/270-degree scans (pages without native text).",
        shapes=True,
    )
    min_confidence: float = option(
        0.5, ge=0, le=1, description="Drop recognised lines below this.", shapes=True
    )
    layer_agreement: float = option(
        0.85,
        ge=0,
        le=1,
        description="auto: a PDF's embedded OCR layer is re-read when a sample of its lines "
        "agrees less than this with a fresh OCR (character similarity).",
        shapes=True,
    )
    max_pixels: int = option(
        60_000_000, gt=0, description="Larger images go to the dead-letter output.", shapes=True
    )

    @model_validator(mode="before")
    @classmethod
    def _engine_by_name(cls, data: Any) -> Any:
        """`engine: tesseract` names an engine with its default options; the RapidOCR knob
        `det_limit_side_len` is still read where configs before 0.2 had it (next to engine)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        engine = data.get("engine", "rapidocr")
        if isinstance(engine, str):
            engine = {"kind": engine}
        if "det_limit_side_len" in data and isinstance(engine, dict):
            engine = {"det_limit_side_len": data.pop("det_limit_side_len"), **engine}
        data["engine"] = engine
        return data


class DedupOptions(_Options):
    """Exact and near-duplicate pages across the whole corpus (docs/filters.md)."""

    enabled: bool = option(True, shapes=True)
    hash: Literal["phash", "dhash"] = option("phash", shapes=True)
    threshold: int = option(
        24,
        ge=0,
        le=64,
        description="Pages with text: the most their 256-bit layout hashes may differ "
        "(their texts must also be the same content).",
        shapes=True,
    )
    threshold_without_text: int = option(
        10,
        ge=0,
        le=64,
        description="The stricter distance for pages without text (scans, photos).",
        shapes=True,
    )
    min_jaccard: float = option(
        0.95,
        gt=0,
        le=1,
        description="Pages with text: word 3-shingle Jaccard similarity they need (and every "
        "number equal) to count as the same content.",
        shapes=True,
    )
    window: int = option(
        16,
        ge=1,
        description="In a bucket of similar pages, each is compared with this many next.",
        shapes=True,
    )


class QualityOptions(_Options):
    """Cheap filters; each one has its own drop reason and can be switched off (null/false)."""

    blank_pages: bool = option(
        True, description="Drop near-uniform pages with (almost) no text.", shapes=True
    )
    blank_max_std: float = option(
        4.0, ge=0, description="Pixel std-dev at or below: blank.", shapes=True
    )
    min_chars_per_megapixel: float | None = option(
        None, ge=0, description="Text-rich threshold on pages, e.g. 200; null: off.", shapes=True
    )
    min_question_chars: int | None = option(8, ge=0, shapes=True)
    max_question_chars: int | None = option(600, ge=1, shapes=True)
    min_answer_chars: int | None = option(1, ge=0, shapes=True)
    max_answer_chars: int | None = option(2000, ge=1, shapes=True)
    languages: list[str] | None = option(
        None,
        description="Allow-list of ISO 639-1 codes (langdetect, offline); null: off.",
        shapes=True,
    )


class SampleOptions(_Options):
    """How consecutive pages of a document are grouped into samples: windows follow the
    document's sections (headings, slide titles) where it has them."""

    min_images: int = option(
        1,
        ge=1,
        le=64,
        description="1: a single image or a one-page document is a sample (LLaVAR-2's shape).",
        shapes=True,
    )
    max_images: int = option(4, ge=1, le=64, shapes=True)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> SampleOptions:
        if self.min_images > self.max_images:
            raise ValueError(
                f"min_images ({self.min_images}) must not exceed max_images ({self.max_images})"
            )
        return self


class Price(_Options):
    """USD per million tokens."""

    input: float = option(0, ge=0, shapes=True)
    output: float = option(0, ge=0, shapes=True)


DEFAULT_PRICES = {
    "SmolLM2-135M-Instruct": Price(input=0, output=0),
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4o": Price(input=2.50, output=10.00),
}


class LLMOptions(_Options):
    """An OpenAI-compatible endpoint; with no base_url, curate starts SmolLM2 locally.

    The API key comes from `api_key` (flag or config) or the environment variable named by
    `api_key_env`; it is never logged, hashed into the manifest, or written to output.
    """

    base_url: str | None = option(None, shapes=False)
    model: str | None = option(
        None, description="Model name; the embedded server's by default.", shapes=True
    )
    api_key: SecretStr | None = option(None, shapes=False)
    api_key_env: str = option("OPENAI_API_KEY", shapes=False)
    structured_output: Literal[
        "auto", "json_schema", "json_object_schema", "json_object", "none"
    ] = option(
        "auto",
        description="json_schema: OpenAI/vLLM style; json_object_schema: llama.cpp style; "
        "json_object; none: prompt only. auto starts at json_schema and steps down the list when "
        "the endpoint rejects a response_format, remembering what works.",
        shapes=True,
    )
    temperature: float = option(0.2, ge=0, le=2, shapes=True)
    seed: int | None = option(
        0,
        description="Sent to endpoints that honour it (llama.cpp, vLLM, OpenAI): same replies.",
        shapes=True,
    )
    max_tokens: int = option(512, gt=0, shapes=True)
    stream: bool = option(
        True,
        description="Stream replies (server-sent events): tokens arrive as they are made, so a "
        "silent endpoint is told from a slow one within first_byte_timeout_s. Turn off for an "
        "endpoint that cannot stream; the embedded server never streams.",
        shapes=False,
    )
    first_byte_timeout_s: float = option(
        30,
        gt=0,
        description="Longest silence of a streamed reply: no first byte (or no next one) for "
        "this long and the attempt times out. A server that accepts requests and never answers "
        "is given up on in this time, not in timeout_s.",
        shapes=False,
    )
    timeout_s: float = option(
        120,
        gt=0,
        description="Total time for one attempt, from connecting to the reply's last byte (a "
        "server that trickles its reply is cut off too). Without streaming, the whole reply "
        "must come within this time, so it is also the wait for the first byte.",
        shapes=False,
    )
    max_retries: int = option(
        4, ge=0, le=20, description="Attempts again on 429, 5xx and connection errors.", shapes=True
    )
    timeout_retries: int = option(
        1,
        ge=0,
        le=20,
        description="Attempts again after a timed-out attempt (a silent endpoint is rarely "
        "cured by waiting twice as long again).",
        shapes=False,
    )
    breaker_failures: int = option(
        5,
        ge=1,
        description="After this many failures in a row, the endpoint is not called again in "
        "this job and the remaining samples fail at once as llm_unavailable: each timed-out or "
        "unreachable attempt counts, and each call that ended in HTTP errors. Requests in flight "
        "are abandoned.",
        shapes=False,
    )
    refresh_cache: bool = option(
        False,
        description="Ask the endpoint again instead of reading the request cache.",
        shapes=False,
    )
    invalid_output_retries: int = option(
        1, ge=0, le=5, description="Re-asks on unparsable JSON.", shapes=True
    )
    concurrency: int | None = option(
        None,
        ge=1,
        le=512,
        description="Most requests in flight per worker (cut when the endpoint answers 429 or "
        "5xx, grown back on success); default 64 for an endpoint of yours, 4 for the embedded "
        "server, which answers one at a time.",
        shapes=False,
    )
    cache_dir: str | None = option(
        None, description="Request cache; default <output>/llm_cache.", shapes=False
    )
    max_text_chars: int = option(
        3000, gt=0, description="Image text shown to the LLM per image.", shapes=True
    )
    prices: dict[str, Price] = option(default_factory=lambda: dict(DEFAULT_PRICES), shapes=True)
    tasks: list[Literal["caption", "extractive", "multi_image"]] = option(
        default_factory=lambda: ["caption", "extractive", "multi_image"],
        description="Extractive QA is always followed by its self-explain turn.",
        shapes=True,
    )
    vision: bool = option(
        False,
        description="Send each image (as an image_url data URI) beside its text: for "
        "vision-capable endpoints (GPT-4o class, VLMs served by vLLM).",
        shapes=True,
    )
    vision_max_pixels: int = option(
        1_600_000,
        ge=10_000,
        description="Larger images are scaled down to this many pixels.",
        shapes=True,
    )
    verify: bool = option(
        False,
        description="A second reading by the endpoint: it answers each extractive question "
        "from the page text alone (an item whose answers disagree is rejected), and reads the "
        "accepted captions, follow-ups and cross-image answers against the pages (an item with "
        "a false or unsupported statement is rejected).",
        shapes=True,
    )

    @property
    def most_in_flight(self) -> int:
        """`concurrency`, or its default: 64 for an endpoint of yours (a vLLM server wants
        many), 4 for the embedded SmolLM2, which answers one request at a time."""
        return self.concurrency or (64 if self.base_url else 4)


class JudgeOptions(_Options):
    """An optional LLM judge (docs/generation.md): it marks each accepted item 0-5 on
    correctness, usefulness for training, question quality and visual grounding, stored as
    scores (`scores.judge`, the mean) to filter on, never a drop. Off without a model."""

    model: str | None = option(None, description="The judge's model; none: no judge.", shapes=True)
    base_url: str | None = option(
        None,
        description="Its OpenAI-compatible endpoint; default: generator.llm.base_url.",
        shapes=False,
    )
    api_key_env: str | None = option(
        None,
        description="Environment variable with its key; default: the generator's.",
        shapes=False,
    )


class GeneratorOptions(_Options):
    """Which generator writes the conversations, and how many questions it asks."""

    backend: str = option("template", description="A name in GENERATORS.", shapes=True)
    max_qa_per_image: int = option(2, ge=0, le=50, shapes=True)
    cross_image_questions: int = option(1, ge=0, le=20, shapes=True)
    seed: int = option(0, shapes=True)
    unanswerable: float = option(
        0.0,
        ge=0,
        le=1,
        description="Template backend: share of a multi-image sample's images also asked for "
        "a labelled value or table row that another image gives and they do not, answered "
        "as not given (QA kind 'unanswerable'). 0: off.",
        shapes=True,
    )
    fuzzy_threshold: float = option(
        90,
        ge=50,
        le=100,
        description="Grounding: partial-match score (0-100) an answer needs.",
        shapes=True,
    )
    llm: LLMOptions = LLMOptions()
    judge: JudgeOptions = JudgeOptions()

    @model_validator(mode="after")
    def _judge_has_an_endpoint(self) -> GeneratorOptions:
        if self.judge.model and not (self.judge.base_url or self.llm.base_url):
            raise ValueError(
                "generator.judge needs an endpoint: give judge.base_url (--llm-judge-url) or "
                "llm.base_url; the embedded SmolLM2 is too small to judge"
            )
        return self

    def judge_llm(self) -> LLMOptions | None:
        """The judge's endpoint settings: the generator's, with its model, endpoint and key."""
        if not self.judge.model:
            return None
        update = {"model": self.judge.model, "base_url": self.judge.base_url or self.llm.base_url}
        if self.judge.api_key_env:
            update["api_key_env"] = self.judge.api_key_env
        return self.llm.model_copy(update=update)

    @field_validator("backend")
    @classmethod
    def _registered(cls, backend: str) -> str:
        return _registered(GENERATORS, backend)


class ScoringOptions(_Options):
    """Difficulty scoring with a reference model (docs/scoring.md); off when metrics is empty."""

    metrics: list[Metric] = option(default_factory=list, shapes=True)
    model: str | None = option(
        None,
        description="Local folder or hub id; default: smollm2 for ifd, tiny-idefics3 when an "
        "image metric is asked for, from $CURATE_HOME/models (`curate models` lists them).",
        shapes=True,
    )
    batch_size: int = option(
        16, ge=1, le=4096, description="Samples per RunInference batch.", shapes=False
    )
    batch_tokens: int = option(8192, ge=64, description="Padded tokens per forward.", shapes=False)
    max_length: int | None = option(
        None,
        ge=16,
        description="Longest sequence; context is cut first. Default: the model's context length.",
        shapes=True,
    )
    max_image_tokens: int | None = option(
        None,
        ge=16,
        description="Image tokens per sample at most: tiling processors (Idefics3, SmolVLM) use "
        "fewer tiles per image so a multi-image sample fits. Default: the processor's settings.",
        shapes=True,
    )
    device: str | None = option(
        None, description="cpu, cuda, cuda:1; default: cuda if available.", shapes=False
    )
    accelerator: str | None = option(
        None,
        description="Beam resource hint for the scoring step, e.g. "
        "'type:nvidia-l4;count:1;install-nvidia-driver' on Dataflow.",
        shapes=False,
    )
    share_model_across_processes: bool = option(
        False, description="One model per VM instead of per process (GPU workers).", shapes=False
    )


class FilterOptions(_Options):
    """Cherry_LLM-style selection: drop scores above `max`, then keep the top fraction."""

    metric: Metric | Literal["judge"] | None = option(None, shapes=True)
    max: float | None = option(
        1.0,
        description="Drop rows scoring above this (ratio > 1: no help; not applied to judge, "
        "whose marks run 0-5, unless given).",
        shapes=True,
    )
    min: float | None = option(None, shapes=True)
    keep_top: float | None = option(
        0.3,
        gt=0,
        le=1,
        description="Then keep this top fraction by score; null keeps all.",
        shapes=True,
    )


_BENCHMARK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def benchmark_spec(spec: str) -> tuple[str, str]:
    """(name, path) of a `decontaminate.against` entry: NAME=PATH, or a PATH, named by its file
    or folder without extension ("bench/docvqa.json" is "docvqa")."""
    name, sep, path = spec.partition("=")
    if sep and "/" not in name and ":" not in name:
        if not _BENCHMARK_NAME.fullmatch(name) or not path:
            raise ValueError(
                f"{spec!r}: give NAME=PATH, the name of letters, digits, '.', '_' or '-' "
                "(docvqa=bench/docvqa/)"
            )
        return name, path
    stem = spec.rstrip("/").rsplit("/", 1)[-1]
    return stem.split(".", 1)[0] or spec, spec


class DecontaminateOptions(_Options):
    """Samples that overlap an evaluation benchmark's images or QA (docs/decontaminate.md)."""

    against: list[str] = option(
        default_factory=list,
        description="Benchmarks on disk, each NAME=PATH (or PATH, named by its file or folder): "
        "a LLaVA JSON with its images, Parquet with an image column, a `datasets` folder saved "
        "with save_to_disk, or a folder of images. Empty: no decontamination.",
        shapes=True,
    )
    mark_only: bool = option(
        False,
        description="Keep matched samples and write their matches in `benchmark_matches` "
        "instead of dropping them (reason benchmark_overlap).",
        shapes=True,
    )
    threshold: int = option(
        24,
        ge=0,
        le=64,
        description="Images: the most two 256-bit perceptual hashes (the one dedup uses) may "
        "differ, at any quarter turn and a crop of up to 4% of a side.",
        shapes=True,
    )
    fine_threshold: int = option(
        48,
        ge=0,
        le=128,
        description="Images: the most their second hash (256-bit dHash) may differ for a near "
        "match to count.",
        shapes=True,
    )
    qa_ngram: int = option(
        8,
        ge=3,
        le=50,
        description="Words a sample's question and answer must share, in a row, with a "
        "benchmark's question and answer (with some of the answer's words).",
        shapes=True,
    )
    text_ngram: int = option(
        13,
        ge=3,
        le=50,
        description="Words a sample's page text must share, in a row, with a benchmark's "
        "question or answer (GPT-3's 13-grams).",
        shapes=True,
    )
    index_dir: str | None = option(
        None,
        description="Where benchmark indexes are kept and reused; default OUTPUT/benchmark_index.",
        shapes=False,
    )

    @field_validator("against")
    @classmethod
    def _named_once(cls, against: list[str]) -> list[str]:
        names = [benchmark_spec(spec)[0] for spec in against]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"benchmark names must differ: {', '.join(twice)} given twice")
        return against


class WriterOptions(_Options):
    """How Parquet output is sharded."""

    target_shard_mb: float = option(
        256, gt=0, description="Approximate size of one shard.", shapes=True
    )
    row_group_size: int = option(64, gt=0, description="Rows per Parquet row group.", shapes=True)
    compression: Literal["zstd", "snappy", "gzip", "none"] = option("zstd", shapes=True)


class RunOptions(_Options):
    """How a job judges itself."""

    max_failure_rate: float = option(
        0.5,
        ge=0,
        le=1,
        description="Exit non-zero (after writing everything) when more than this fraction of "
        "the documents, or of the samples, failed (refusals by robots.txt, the SSRF guard or "
        "size caps do not count).",
        shapes=False,
    )


class PipelineConfig(_Options):
    """Everything that decides what `curate run` produces."""

    render: RenderOptions = RenderOptions()
    web: WebOptions = WebOptions()
    ocr: OcrOptions = OcrOptions()
    dedup: DedupOptions = DedupOptions()
    quality: QualityOptions = QualityOptions()
    samples: SampleOptions = SampleOptions()
    generator: GeneratorOptions = GeneratorOptions()
    scoring: ScoringOptions = ScoringOptions()
    decontaminate: DecontaminateOptions = DecontaminateOptions()
    filter: FilterOptions = FilterOptions()
    writer: WriterOptions = WriterOptions()
    run: RunOptions = RunOptions()

    def fingerprint(self) -> str:
        """A hash of the options that shape the output, recorded in the manifest."""
        canonical = json.dumps(shaping_values(self), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def shaping_values(options: BaseModel) -> dict[str, Any]:
    """The values of the fields that shape the output, section by section (sections are the
    fields that hold options of their own)."""
    values: dict[str, Any] = {}
    dumped = options.model_dump(mode="json")
    for name, field in type(options).model_fields.items():
        value = getattr(options, name)
        if isinstance(value, BaseModel):
            values[name] = shaping_values(value)
        elif shapes_output(field):
            values[name] = dumped[name]
    return values


class ConfigError(CurateError, ValueError):
    """A config file or flag value was rejected; the message says which and why."""


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    if path.is_dir():
        raise ConfigError(f"--config {path} is a folder; name a .yaml or .toml file")
    if path.suffix not in (".toml", ".yaml", ".yml"):
        raise ConfigError(f"config file must end in .yaml, .yml or .toml: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not text; --config takes a .yaml or .toml file") from None
    except OSError as err:
        raise ConfigError(f"cannot read the config file {path}: {err.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else (yaml.safe_load(text) or {})
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot parse {path}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (render:, samples:, ...)")
    return data


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `section.key[.subkey]`; a dict value is merged into what the file already set."""
    *path, key = dotted.split(".")
    for part in path:
        data = data.setdefault(part, {})
    if isinstance(value, dict) and isinstance(data.get(key), dict):
        data[key] = {**data[key], **value}
    else:
        data[key] = value


def _describe(err: ValidationError) -> str:
    lines = []
    for problem in err.errors():
        loc = problem["loc"]
        parts = [p for i, p in enumerate(loc) if not (i and loc[i - 1] == "engine" and p in _TAGS)]
        where = ".".join(str(part) for part in parts) or "config"
        got = problem.get("input")
        suffix = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  {where}: {problem['msg']}{suffix}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> PipelineConfig:
    """Config file (optional) with dotted `section.key` overrides from flags on top."""
    data = _read_file(Path(path)) if path else {}
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, dotted, value)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None
