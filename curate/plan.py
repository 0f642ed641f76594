"""A job's plan: where its records come from, its stages in order, and what it writes.

Every command is a plan, and every policy that turns a configuration into stages lives here,
so the CLI, a notebook and a library call build the same job from the same config:

    run        documents -> pages -> samples -> QA (-> scores -> filter)
    render     documents -> pages
    ocr        pages -> pages with OCR text
    generate   pages or samples -> samples with QA (-> scores -> filter)
    score      samples (or LLaVA JSON) -> samples with scores
    filter     samples (or LLaVA JSON) -> (scores ->) kept and dropped samples

Runners (`curate/runners/local.py`, `curate/runners/beam/`) execute `job.stages()`;
`serve(job)` keeps what the job needs beside it running (the embedded LLM) while they do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal

from curate.core.config import ConfigError, PipelineConfig
from curate.core.stage import Spread, Stage, Tally
from curate.io import storage
from curate.schemas import LinkedDocument, PageRecord
from curate.schemas.reasons import PageDropReason
from curate.stages.filters.dedup import DeduplicatePages, HashPages
from curate.stages.filters.quality import ScreenBlankPages, ScreenLanguage, ScreenTextDensity
from curate.stages.filters.select import FilterSamples
from curate.stages.generators.base import generator_class
from curate.stages.generators.stage import GenerateQA
from curate.stages.ocr import OcrPages, OcrUnavailable, check_engine
from curate.stages.samples import AssembleSamples
from curate.stages.scoring.models import resolve_model
from curate.stages.scoring.stage import ScoreSamples
from curate.stages.sources.stage import OnePerContent, RenderDocuments, RenderLinkedDocuments

Command = Literal["run", "render", "ocr", "generate", "score", "filter"]
Step = Stage | Tally | Spread


@dataclass(frozen=True)
class Inputs:
    """Documents to render: files, folders, globs, URLs and `.urls` files (local, gs://, s3://)."""

    uris: tuple[str, ...]

    @property
    def has_web(self) -> bool:
        return any(
            uri.startswith(("http://", "https://")) or uri.endswith(".urls") for uri in self.uris
        )


@dataclass(frozen=True)
class Dataset:
    """An existing curate dataset: a glob of Parquet files holding `pages` or `samples`."""

    pattern: str
    kind: str


@dataclass(frozen=True)
class LlavaJson:
    """A LLaVA-format JSON (or JSON lines) dataset someone already has, and its image folder."""

    path: str
    image_folder: str
    duo_layout: str = "auto"  # auto | blocks4 | none: how turns pair into duos (FFD)


Source = Inputs | Dataset | LlavaJson


@dataclass(frozen=True)
class Job:
    command: Command
    source: Source
    output: str
    config: PipelineConfig
    scoring_model: str | None = None
    workers: int = 1

    @property
    def output_kind(self) -> str:
        """`pages` (pages/ shards) or `samples` (data/ and dropped/ shards)."""
        return "pages" if self.command in ("render", "ocr") else "samples"

    @property
    def writes_dropped_pages(self) -> bool:
        """Jobs that render pages keep their dropped pages (and any job whose stages drop some)."""
        return self.command in ("run", "render") or any(
            isinstance(r, PageDropReason)
            for s in self.stages()
            if isinstance(s, Stage)
            for r in s.emits
        )

    def stages(self) -> list[Step]:
        """The steps in order; stages are built fresh each time (they hold worker state)."""
        config = self.config
        if self.command in ("run", "render"):
            steps = [
                *self._render_steps(),
                Tally("pages", PageRecord),
                *self._page_steps(),
                Tally("pages_kept", PageRecord),
            ]
            if self.command == "render":
                return steps
            return [*steps, AssembleSamples(config.samples), *self._sample_steps()]
        if self.command == "ocr":
            return [Spread(), *self._ocr_steps(), Tally("pages", PageRecord)]
        if self.command == "generate":
            if self.source.kind == "pages":
                return [
                    Tally("pages", PageRecord),
                    AssembleSamples(config.samples),
                    *self._sample_steps(),
                ]
            return self._sample_steps()
        return self._score_steps()  # score, filter

    def _render_steps(self) -> list[Step]:
        config = self.config
        web = config.web if isinstance(self.source, Inputs) and self.source.has_web else None
        hashed = config.dedup.hash if config.dedup.enabled else None  # saves dedup a PNG decode
        steps: list[Step] = [
            Tally("documents", str),
            RenderDocuments(config.render, web, staging_dir(self.output, config), hashed),
        ]
        if web is not None:  # documents the crawl found: once per content, then rendered
            steps += [
                OnePerContent(),
                Tally("linked_documents", LinkedDocument),
                RenderLinkedDocuments(config.render, hashed),
            ]
        else:
            steps += [Tally("linked_documents", LinkedDocument)]
        return [*steps, Spread()]  # a document fans out into many pages: spread them over workers

    def _ocr_steps(self) -> list[Step]:
        return [OcrPages(self.config.ocr, self.workers)] if self.config.ocr.mode != "never" else []

    def _page_steps(self) -> list[Step]:
        """Blank pages and duplicates out before OCR (so they cost none); thin text out after it."""
        config = self.config
        steps: list[Step] = []
        if config.quality.blank_pages:
            steps.append(ScreenBlankPages(config.quality))
        if config.dedup.enabled:
            steps += [HashPages(config.dedup), DeduplicatePages(config.dedup)]
        steps += self._ocr_steps()
        if config.quality.min_chars_per_megapixel is not None:
            steps.append(ScreenTextDensity(config.quality))
        return steps

    def _sample_steps(self) -> list[Step]:
        config = self.config
        steps: list[Step] = []
        if config.quality.languages:
            steps.append(ScreenLanguage(config.quality))
        steps.append(GenerateQA(config.generator, config.quality))
        return [*steps, *self._score_steps()]

    def _score_steps(self) -> list[Step]:
        config = self.config
        steps: list[Step] = []
        if config.scoring.metrics:
            steps.append(ScoreSamples(config.scoring, self.scoring_model))
        if config.filter.metric:
            steps.append(FilterSamples(config.filter))
        return steps


def names_runner(beam_args) -> bool:
    """Whether Beam arguments name a runner; curate then treats the workers as remote."""
    return any(arg == "--runner" or arg.startswith("--runner=") for arg in beam_args)


def image_staging_dir(output: str) -> str:
    """Where Beam jobs keep images by reference between stages: OUTPUT/_staging/images."""
    return storage.join(output, "_staging", "images")


def staging_dir(output: str, config: PipelineConfig) -> str:
    """Where crawls download linked documents: web.staging_dir, or OUTPUT/_staging/documents."""
    return config.web.staging_dir or storage.join(output, "_staging", "documents")


def plan_job(
    command: Command,
    source: Source,
    output: str,
    config: PipelineConfig,
    workers: int = 1,
    remote: bool = False,
) -> Job:
    """The job for a command, with the policy applied; raises ConfigError when it cannot run.

    - `run` and `generate` score whatever the filter needs.
    - `score` only scores: a filter in the config is for `curate filter`.
    - `filter` filters on the scores a dataset has; it scores first when given a model
      (`scoring.model`) or a LLaVA JSON, which has none.
    `remote`: the workers run elsewhere (Dataflow), so nothing is checked on this machine.
    """
    output = storage.normalize_uri(output)
    if (
        command in ("run", "generate")
        and config.filter.metric
        and config.filter.metric not in config.scoring.metrics
    ):
        config = _with(config, "scoring", metrics=[*config.scoring.metrics, config.filter.metric])
    elif command == "score":
        config = _with(config, "filter", metric=None)
    elif command == "filter":
        if not config.filter.metric:
            raise ConfigError("curate filter needs a metric: --metric ifd|vfd|mifd|ffd")
        rescore = isinstance(source, LlavaJson) or config.scoring.model is not None
        config = _with(config, "scoring", metrics=[config.filter.metric] if rescore else [])
    scoring_model = _scoring_model(config)
    if isinstance(source, Inputs):
        _check_inputs(source)
    if not remote and command in ("run", "render", "ocr"):
        _check_ocr(config)
    return Job(command, source, output, config, scoring_model, workers)


def _with(config: PipelineConfig, section: str, **changes) -> PipelineConfig:
    return config.model_copy(update={section: getattr(config, section).model_copy(update=changes)})


def _scoring_model(config: PipelineConfig) -> str | None:
    if not config.scoring.metrics:
        return None
    try:
        return resolve_model(config.scoring.model, config.scoring.metrics)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def _check_inputs(inputs: Inputs) -> None:
    """Check the input arguments without listing them: folders and globs are listed by the
    job itself, so a million-file bucket never becomes a list here (only its first match is
    looked for)."""
    if not inputs.uris:
        raise ConfigError("give at least one input file, folder, glob, URL or .urls file")
    for raw in inputs.uris:
        kind, uri = storage.route_input(raw)
        if kind in ("file", "url_list") and not storage.exists(uri):
            raise ConfigError(f"no such file or folder: {raw}")
        if kind in ("pattern", "folder") and not storage.matches_anything(uri):
            what = "the folder is empty" if kind == "folder" else "the pattern matches no file"
            raise ConfigError(
                f"no documents in {raw}: {what}; check the path (quote a glob so the shell "
                "keeps it)"
            )


def _check_ocr(config: PipelineConfig) -> None:
    """Check the OCR engine up front, so a missing engine is one clear line, not a failure on
    every page."""
    if config.ocr.mode == "never":
        return
    try:
        check_engine(config.ocr.model_copy(update={"threads": 1}))
    except OcrUnavailable as err:
        raise ConfigError(str(err)) from None


@contextmanager
def serve(job: Job, remote: bool = False, cache_root: str | None = None) -> Iterator[Job]:
    """The job with its services running (the embedded LLM, when generation needs one); they
    stop, and the staged images and a crawl's default staging folder are removed, when the job
    is done. Caches that outlive the run (the LLM's) go under `cache_root`, by default the
    output."""
    if job.command not in ("run", "generate"):
        yield job
    else:
        generator = job.config.generator
        root = cache_root or job.output
        with generator_class(generator.backend).serve(generator, root, remote) as ready:
            yield replace(job, config=job.config.model_copy(update={"generator": ready}))
    if job.config.web.staging_dir is None and isinstance(job.source, Inputs):
        storage.remove(storage.join(job.output, "_staging"))
    else:
        storage.remove(image_staging_dir(job.output))
