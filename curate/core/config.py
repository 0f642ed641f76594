"""Typed, validated options for every stage; read from YAML/TOML, overridden by CLI flags."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from curate.io.errors import CurateError
from curate.schemas.records import Metric


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RenderOptions(_Options):
    """How documents become page images and text."""

    dpi: float = Field(144, gt=0, le=1200, description="Render resolution.")
    max_pixels_per_page: int = Field(
        40_000_000, gt=0, description="Pages larger than this are rendered at a lower DPI."
    )
    max_pages_per_document: int = Field(
        2000, gt=0, description="Pages past this are not rendered; a failure row says so."
    )
    max_file_mb: float = Field(512, gt=0, description="Larger files go to the dead-letter output.")
    document_timeout_s: float = Field(
        600, gt=0, description="Stop rendering a document after this long; the rest is recorded."
    )
    max_image_pixels: int = Field(
        200_000_000, gt=0, description="Image inputs larger than this are refused (bombs)."
    )
    min_text_chars: int = Field(
        16, ge=0, description="Pages with fewer usable native characters are flagged for OCR."
    )
    conversion_timeout_s: float = Field(
        180, gt=0, description="Slide decks: LibreOffice conversion to PDF gives up after this."
    )


class WebOptions(_Options):
    """Webpages: crawl limits, politeness, timeouts, the SSRF guard, and how pages are tiled."""

    viewport_width: int = Field(1280, ge=200, le=8000)
    tile_height: int = Field(1600, ge=200, le=20000, description="One image per tile.")
    tile_overlap: int = Field(64, ge=0, description="Pixels repeated between tiles.")
    max_page_height: int = Field(
        20000, ge=200, description="Screenshots stop here (infinite scroll)."
    )
    max_depth: int = Field(0, ge=0, le=10, description="Links followed from each seed.")
    max_pages: int = Field(50, ge=1, description="Pages rendered per seed.")
    politeness_delay_s: float = Field(
        1.0, ge=0, description="Between page navigations on one host (not a page's own images)."
    )
    navigation_timeout_s: float = Field(15, gt=0, description="Per HTTP request.")
    page_timeout_s: float = Field(
        60, gt=0, description="Per page in total: the page and everything it loads, rendered."
    )
    max_bytes: int = Field(20_000_000, gt=0, description="Largest response read.")
    follow_documents: bool = Field(
        True, description="Download PDFs and decks that crawled pages link to, and process them."
    )
    max_document_bytes: int = Field(
        100_000_000, gt=0, description="Largest linked document downloaded."
    )
    max_documents: int = Field(50, ge=0, description="Linked documents downloaded per seed.")
    staging_dir: str | None = Field(
        None, description="Where linked documents are downloaded; null: OUTPUT/_staging/documents."
    )
    respect_robots: bool = True
    allow_private_hosts: bool = Field(
        False, description="Fetch from private, loopback and link-local addresses (local servers)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Private hosts or addresses allowed one by one: `127.0.0.1:8000` allows that "
        "port only, `127.0.0.1` every port. The way to crawl a local server.",
    )
    user_agent: str = "curate/0.1 (dataset builder; +https://github.com/curate)"
    chromium: str = "/usr/bin/chromium"


class OcrOptions(_Options):
    """Which pages get OCR, and with which engine.

    `auto` OCRs a page only when its native text is unusable: fewer than
    `render.min_text_chars` non-space characters, or mostly U+FFFD (broken font maps).
    Image inputs and scanned pages have no native text, so they are always OCR'd in `auto`.
    """

    mode: Literal["auto", "always", "never"] = "auto"
    engine: Literal["rapidocr", "tesseract", "paddleocr"] = "rapidocr"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    det_limit_side_len: int = Field(
        960, ge=64, le=4096, description="Text detection runs with the long side scaled to this."
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="Threads per engine; default: cores / local workers."
    )
    rotation: Literal["auto", "never"] = Field(
        "auto", description="Detect 90/180/270-degree scans (pages without native text)."
    )
    min_confidence: float = Field(0.5, ge=0, le=1, description="Drop recognised lines below this.")
    layer_agreement: float = Field(
        0.85,
        ge=0,
        le=1,
        description="auto: a PDF's embedded OCR layer is re-read when a sample of its lines "
        "agrees less than this with a fresh OCR (character similarity).",
    )
    max_pixels: int = Field(
        60_000_000, gt=0, description="Larger images go to the dead-letter output."
    )


class DedupOptions(_Options):
    """Exact and near-duplicate pages across the whole corpus (docs/filters.md)."""

    enabled: bool = True
    hash: Literal["phash", "dhash"] = "phash"
    threshold: int = Field(
        24,
        ge=0,
        le=64,
        description="Pages with text: the most their 256-bit layout hashes may differ "
        "(their texts must also be the same content).",
    )
    threshold_without_text: int = Field(
        10, ge=0, le=64, description="The stricter distance for pages without text (scans, photos)."
    )
    min_jaccard: float = Field(
        0.95,
        gt=0,
        le=1,
        description="Pages with text: word 3-shingle Jaccard similarity they need (and every "
        "number equal) to count as the same content.",
    )
    window: int = Field(
        16, ge=1, description="In a bucket of similar pages, each is compared with this many next."
    )


class QualityOptions(_Options):
    """Cheap filters; each one has its own drop reason and can be switched off (null/false)."""

    blank_pages: bool = Field(True, description="Drop near-uniform pages with (almost) no text.")
    blank_max_std: float = Field(4.0, ge=0, description="Pixel std-dev at or below: blank.")
    min_chars_per_megapixel: float | None = Field(
        None, ge=0, description="Text-rich threshold on pages, e.g. 200; null: off."
    )
    min_question_chars: int | None = Field(8, ge=0)
    max_question_chars: int | None = Field(600, ge=1)
    min_answer_chars: int | None = Field(1, ge=0)
    max_answer_chars: int | None = Field(2000, ge=1)
    languages: list[str] | None = Field(
        None, description="Allow-list of ISO 639-1 codes (langdetect, offline); null: off."
    )


class SampleOptions(_Options):
    """How consecutive pages of a document are grouped into samples: windows follow the
    document's sections (headings, slide titles) where it has them."""

    min_images: int = Field(
        1,
        ge=1,
        le=64,
        description="1: a single image or a one-page document is a sample (LLaVAR-2's shape).",
    )
    max_images: int = Field(4, ge=1, le=64)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> SampleOptions:
        if self.min_images > self.max_images:
            raise ValueError(
                f"min_images ({self.min_images}) must not exceed max_images ({self.max_images})"
            )
        return self


class Price(_Options):
    """USD per million tokens."""

    input: float = Field(0, ge=0)
    output: float = Field(0, ge=0)


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

    base_url: str | None = None
    model: str | None = Field(None, description="Model name; the embedded server's by default.")
    api_key: SecretStr | None = None
    api_key_env: str = "OPENAI_API_KEY"
    structured_output: Literal[
        "auto", "json_schema", "json_object_schema", "json_object", "none"
    ] = Field(
        "auto",
        description="json_schema: OpenAI/vLLM style; json_object_schema: llama.cpp style; "
        "json_object; none: prompt only. auto starts at json_schema and steps down the list when "
        "the endpoint rejects a response_format, remembering what works.",
    )
    temperature: float = Field(0.2, ge=0, le=2)
    seed: int | None = Field(
        0,
        description="Sent to endpoints that honour it (llama.cpp, vLLM, OpenAI): same replies.",
    )
    max_tokens: int = Field(512, gt=0)
    timeout_s: float = Field(
        120,
        gt=0,
        description="Total time for one attempt, from connecting to the reply's last byte (a "
        "server that trickles its reply is cut off too).",
    )
    max_retries: int = Field(4, ge=0, le=20, description="On 429, 5xx and timeouts.")
    breaker_failures: int = Field(
        5,
        ge=1,
        description="After this many calls in a row fail to reach an answer (unreachable, HTTP "
        "errors, timeouts), the endpoint is not called again in this job: the remaining "
        "samples fail at once as llm_unavailable.",
    )
    refresh_cache: bool = Field(
        False, description="Ask the endpoint again instead of reading the request cache."
    )
    invalid_output_retries: int = Field(1, ge=0, le=5, description="Re-asks on unparsable JSON.")
    concurrency: int = Field(4, ge=1, le=256, description="Requests in flight per worker.")
    cache_dir: str | None = Field(None, description="Request cache; default <output>/llm_cache.")
    max_text_chars: int = Field(3000, gt=0, description="Image text shown to the LLM per image.")
    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    tasks: list[Literal["caption", "extractive", "multi_image"]] = Field(
        default_factory=lambda: ["caption", "extractive", "multi_image"],
        description="Extractive QA is always followed by its self-explain turn.",
    )
    vision: bool = Field(
        False,
        description="Send each image (as an image_url data URI) beside its text: for "
        "vision-capable endpoints (GPT-4o class, VLMs served by vLLM).",
    )
    vision_max_pixels: int = Field(
        1_600_000, ge=10_000, description="Larger images are scaled down to this many pixels."
    )
    verify: bool = Field(
        False,
        description="Ask the endpoint to answer each extractive question from the page text "
        "alone, and reject the item when the answers disagree.",
    )
    cache_endpoint: str | None = Field(
        None,
        description="Set by curate: the name replies are cached under instead of base_url "
        "(the embedded server gets a new port every run).",
    )
    server_status: str | None = Field(
        None, description="Set by curate: the embedded server's status file (crash reports)."
    )


class GeneratorOptions(_Options):
    """Which generator writes the conversations, and how many questions it asks."""

    backend: Literal["template", "llm"] = "template"
    max_qa_per_image: int = Field(2, ge=0, le=50)
    cross_image_questions: int = Field(1, ge=0, le=20)
    seed: int = 0
    fuzzy_threshold: float = Field(
        90, ge=50, le=100, description="Grounding: partial-match score (0-100) an answer needs."
    )
    llm: LLMOptions = LLMOptions()


class ScoringOptions(_Options):
    """Difficulty scoring with a reference model (docs/scoring.md); off when metrics is empty."""

    metrics: list[Metric] = Field(default_factory=list)
    model: str | None = Field(
        None,
        description="Local folder or hub id; default: smollm2 for ifd, tiny-idefics3 when an "
        "image metric is asked for, from $CURATE_HOME/models (`curate models` lists them).",
    )
    batch_size: int = Field(16, ge=1, le=4096, description="Samples per RunInference batch.")
    batch_tokens: int = Field(8192, ge=64, description="Padded tokens per forward.")
    max_length: int | None = Field(
        None,
        ge=16,
        description="Longest sequence; context is cut first. Default: the model's context length.",
    )
    max_image_tokens: int | None = Field(
        None,
        ge=16,
        description="Image tokens per sample at most: tiling processors (Idefics3, SmolVLM) use "
        "fewer tiles per image so a multi-image sample fits. Default: the processor's settings.",
    )
    device: str | None = Field(None, description="cpu, cuda, cuda:1; default: cuda if available.")
    accelerator: str | None = Field(
        None,
        description="Beam resource hint for the scoring step, e.g. "
        "'type:nvidia-l4;count:1;install-nvidia-driver' on Dataflow.",
    )
    share_model_across_processes: bool = Field(
        False, description="One model per VM instead of per process (GPU workers)."
    )


class FilterOptions(_Options):
    """Cherry_LLM-style selection: drop scores above `max`, then keep the top fraction."""

    metric: Metric | None = None
    max: float | None = Field(1.0, description="Drop rows scoring above this (ratio > 1: no help).")
    min: float | None = None
    keep_top: float | None = Field(
        0.3, gt=0, le=1, description="Then keep this top fraction by score; null keeps all."
    )


class WriterOptions(_Options):
    """How Parquet output is sharded."""

    target_shard_mb: float = Field(256, gt=0, description="Approximate size of one shard.")
    row_group_size: int = Field(64, gt=0, description="Rows per Parquet row group.")
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"


class RunOptions(_Options):
    """How a job judges itself."""

    max_failure_rate: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Exit non-zero (after writing everything) when more than this fraction of "
        "the documents, or of the samples, failed (refusals by robots.txt, the SSRF guard or "
        "size caps do not count).",
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
    filter: FilterOptions = FilterOptions()
    writer: WriterOptions = WriterOptions()
    run: RunOptions = RunOptions()

    def fingerprint(self) -> str:
        """A hash of the options that shape the output, recorded in the manifest."""
        # threads and concurrency change speed only; secrets never enter the manifest
        shaping = self.model_dump(
            mode="json",
            exclude={
                "run": True,
                "ocr": {"threads"},
                "web": {
                    "allow_private_hosts",
                    "allowed_hosts",
                    "politeness_delay_s",
                    "chromium",
                    "staging_dir",
                },
                "scoring": {
                    "device",
                    "batch_size",
                    "batch_tokens",
                    "accelerator",
                    "share_model_across_processes",
                },
                "generator": {
                    "llm": {
                        "api_key",
                        "concurrency",
                        "cache_dir",
                        "refresh_cache",
                        "breaker_failures",
                        "timeout_s",
                        "base_url",
                        "server_status",
                    }
                },
            },
        )
        canonical = json.dumps(shaping, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class ConfigError(CurateError, ValueError):
    """A config file or flag value was rejected; the message says which and why."""


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"config file must end in .yaml, .yml or .toml: {path}")
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
        where = ".".join(str(part) for part in problem["loc"]) or "config"
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
