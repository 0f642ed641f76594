"""A job and its plan: where its records come from, its stages in order, and where every
outcome goes. Every policy that turns a configuration into stages lives here, so the CLI, a
notebook and a library call build the same job from the same config:

    run        documents -> pages -> samples -> QA (-> scores -> filter)
    render     documents -> pages
    ocr        pages -> pages with OCR text
    generate   pages or samples -> samples with QA (-> scores -> filter)
    score      samples (or LLaVA JSON) -> samples with scores
    filter     samples (or LLaVA JSON) -> (scores ->) kept and dropped samples
    decontaminate  samples (or LLaVA JSON) -> samples without a benchmark's images or QA

The config goes one way: flags -> config -> `plan_job` (the one place that derives the
effective config: a `Job`) -> `serve` (what the job needs running beside it: a `Runtime`,
never written into the config) -> `build_plan` (the stages, built once per run) -> a runner
(`curate/runners/`), which only executes the `Plan`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from curate import __version__
from curate.core.checkpoint import CHECKPOINT_FOLDER
from curate.core.config import ConfigError, PipelineConfig, benchmark_spec
from curate.core.stage import DROPPED, DROPPED_PAGES, FAILURES, Spread, Stage, Tally
from curate.io import storage
from curate.outputs.writers.manifest import ManifestSpec, now
from curate.schemas import IMAGE_METRICS, JUDGE, LinkedDocument, PageRecord
from curate.schemas.folders import SHARDS, ShardSpec
from curate.schemas.reasons import PageDropReason
from curate.stages.filters.contamination import index_summary, prepare_indexes
from curate.stages.filters.decontaminate import Decontaminate
from curate.stages.filters.dedup import DeduplicatePages, HashPages
from curate.stages.filters.quality import ScreenBlankPages, ScreenLanguage, ScreenTextDensity
from curate.stages.filters.select import FilterSamples
from curate.stages.generators.base import generator_class
from curate.stages.generators.llm_client import LLMEndpoint
from curate.stages.generators.stage import GenerateQA
from curate.stages.ocr import OcrPages, OcrUnavailable, check_engine
from curate.stages.samples import AssembleSamples
from curate.stages.scoring.models import check_available, describe, resolve_model, untrained_vision
from curate.stages.scoring.stage import ScoreSamples
from curate.stages.sources.datasets import (
    Dataset,
    LlavaJson,
    LlavaToSample,
    ParquetShard,
    ReadLlavaJson,
    ReadParquet,
    row_count,
)
from curate.stages.sources.inputs import (
    InputArgument,
    ListInputs,
    has_saved_pages,
    list_inputs,
    listing_roots,
)
from curate.stages.sources.stage import OnePerContent, RenderDocuments, RenderLinkedDocuments

Command = Literal["run", "render", "ocr", "generate", "score", "filter", "decontaminate"]
Step = Stage | Tally | Spread
DECONTAMINATED = ("run", "generate", "decontaminate")  # commands that apply decontaminate.against

__all__ = [
    "Command",
    "Dataset",
    "Inputs",
    "Job",
    "LlavaJson",
    "Plan",
    "Runtime",
    "build_plan",
    "plan_job",
    "serve",
]


log = logging.getLogger("curate.plan")


@dataclass(frozen=True)
class Inputs:
    """Documents to render: files, folders, globs, URLs and `.urls` files (local, gs://, s3://)."""

    uris: tuple[str, ...]

    @cached_property  # a folder is walked once to find saved pages
    def has_web(self) -> bool:
        """Whether the job needs a browser: webpages, or saved ones (`.html`) on disk."""
        return any(
            uri.startswith(("http://", "https://")) or uri.endswith(".urls") for uri in self.uris
        ) or any(has_saved_pages(uri) for uri in self.uris)


Source = Inputs | Dataset | LlavaJson


@dataclass(frozen=True)
class Job:
    """A command with its effective configuration, as `plan_job` derived it: the only config
    anything after planning reads."""

    command: Command
    source: Source
    output: str
    config: PipelineConfig
    scoring_model: str | None = None
    workers: int = 1
    remote: bool = False  # the workers run elsewhere (Dataflow): nothing is checked here

    @property
    def output_kind(self) -> str:
        """`pages` (pages/ shards) or `samples` (data/ and dropped/ shards)."""
        return "pages" if self.command in ("render", "ocr") else "samples"

    @property
    def inputs(self) -> list[str]:
        """The inputs as the user named them, for the manifest."""
        if isinstance(self.source, Inputs):
            return list(self.source.uris)
        if isinstance(self.source, Dataset):
            return [self.source.pattern]
        return [self.source.path]


@dataclass(frozen=True)
class Runtime:
    """What runs beside a job while it runs, started by `serve`: the generator backend's
    service (the embedded LLM's endpoint, say), and the benchmarks' indexes (name -> folder)
    that decontamination reads. Run state, not configuration."""

    generator: Any = None
    benchmarks: dict[str, str] = field(default_factory=dict)
    judge: Any = None  # the judge's endpoint (generator.judge), its replies cached with the run


@dataclass
class Plan:
    """A job ready to run: what the source starts from, every step in order, and where each
    outcome goes. Built once per run (its stages hold worker state); runners execute it and
    decide nothing."""

    output: str  # where this run writes (a staging folder inside the job's output)
    seeds: list[Any]  # what the first step reads: input arguments, shard files, a LLaVA JSON
    steps: list[Step]
    sinks: dict[str, ShardSpec]  # output name -> its shards
    kept_as: str  # the output kept items go to: data or pages
    manifest: ManifestSpec
    progress_stage: str | None = None  # each item this stage finishes is a document done
    scratch: list[str] = field(default_factory=list)  # folders removed when the run is over

    @property
    def stages(self) -> list[Stage]:
        return [step for step in self.steps if isinstance(step, Stage)]

    @property
    def tallies(self) -> list[str]:
        return [step.name for step in self.steps if isinstance(step, Tally)]


# ------------------------------------------------------------------------------ planning


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
    - `decontaminate` needs at least one benchmark (`decontaminate.against`).
    `remote`: the workers run elsewhere (Dataflow), so nothing is checked on this machine.
    """
    output = storage.normalize_uri(output)
    if command == "decontaminate" and not config.decontaminate.against:
        raise ConfigError("curate decontaminate needs a benchmark: --against NAME=PATH")
    for spec in config.decontaminate.against if command in DECONTAMINATED else ():
        path = benchmark_spec(spec)[1]
        if not storage.exists(path) and not storage.is_pattern(path):
            raise ConfigError(
                f"decontaminate.against: no benchmark at {path} (each entry is NAME=PATH or PATH)"
            )
    judge = config.filter.metric == JUDGE  # marked at generation: nothing to score for it
    if judge and "max" not in config.filter.model_fields_set:
        config = _with(config, "filter", max=None)  # 1.0 is a difficulty's bound, not a mark's
    if judge and command in ("run", "generate") and not config.generator.judge.model:
        raise ConfigError("filter.metric judge needs a judge: --llm-judge MODEL")
    if (
        command in ("run", "generate")
        and config.filter.metric
        and not judge
        and config.filter.metric not in config.scoring.metrics
    ):
        config = _with(config, "scoring", metrics=[*config.scoring.metrics, config.filter.metric])
    elif command == "score":
        config = _with(config, "filter", metric=None)
    elif command == "filter":
        if not config.filter.metric:
            raise ConfigError("curate filter needs a metric: --metric ifd|vfd|mifd|ffd|judge")
        rescore = isinstance(source, LlavaJson) or config.scoring.model is not None
        if judge and isinstance(source, LlavaJson):
            raise ConfigError(
                "a LLaVA JSON has no judge marks; they are given at generation "
                "(curate generate --llm-judge MODEL)"
            )
        rescore = rescore and not judge
        config = _with(config, "scoring", metrics=[config.filter.metric] if rescore else [])
    scoring_model = _scoring_model(config, check=not remote)
    _warn_unpriced(config, command)
    if isinstance(source, Inputs):
        _check_inputs(source)
    if not remote and command in ("run", "render", "ocr"):
        _check_ocr(config)
    return Job(command, source, output, config, scoring_model, workers, remote)


def _warn_unpriced(config: PipelineConfig, command: str) -> None:
    """An endpoint's model with no price: its spend is recorded as unknown, and said so once."""
    llm = config.generator.llm
    if command not in ("run", "generate") or config.generator.backend != "llm":
        return
    if llm.base_url and llm.model not in llm.prices:
        log.warning(
            "no price for the model %r in generator.llm.prices: its cost is recorded as "
            "unknown (null), not $0. Add it, e.g. prices: {%s: {input: 2.5, output: 10}} "
            "(dollars per million tokens)",
            llm.model,
            llm.model or "MODEL",
        )


def _with(config: PipelineConfig, section: str, **changes) -> PipelineConfig:
    return config.model_copy(update={section: getattr(config, section).model_copy(update=changes)})


def _scoring_model(config: PipelineConfig, check: bool) -> str | None:
    if not config.scoring.metrics:
        return None
    try:
        model = resolve_model(config.scoring.model, config.scoring.metrics)
        if check:
            check_available(model)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    image_metrics = sorted(set(config.scoring.metrics) & IMAGE_METRICS)
    if image_metrics and untrained_vision(model):
        log.warning(
            "%s are scored with the offline test model %s, whose vision tower is untrained: "
            "the scores test the code path and say nothing about the images. Pass --model "
            "with an image-text model (HuggingFaceTB/SmolVLM-256M-Instruct, say) for real scores",
            ", ".join(image_metrics),
            model,
        )
    return model


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


# ------------------------------------------------------------------------------- running


@contextmanager
def serve(job: Job, cache_root: str) -> Iterator[Runtime]:
    """The job's services, running until the block ends: the generator backend's (the
    embedded LLM) for jobs that generate, and the benchmarks' indexes (built once, reused by
    later runs). Caches that outlive the run (the LLM's, the indexes) go under `cache_root`."""
    benchmarks: dict[str, str] = {}
    if job.command in DECONTAMINATED and job.config.decontaminate.against:
        benchmarks = prepare_indexes(job.config.decontaminate, cache_root)
    if job.command not in ("run", "generate"):
        yield Runtime(benchmarks=benchmarks)
        return
    generator = job.config.generator
    judge_llm = generator.judge_llm()
    judge = (
        LLMEndpoint.configured(judge_llm, storage.join(cache_root, "llm_cache"))
        if judge_llm
        else None
    )
    with generator_class(generator.backend).serve(generator, cache_root, job.remote) as service:
        yield Runtime(generator=service, benchmarks=benchmarks, judge=judge)


def build_plan(job: Job, output: str, runtime: Runtime, runner: str) -> Plan:
    """The plan of one run of `job`, writing into `output` (the run's staging folder)."""
    steps = [*_reading_steps(job), *_job_steps(job, output, runtime)]
    emits = {reason for step in steps if isinstance(step, Stage) for reason in step.emits}
    dropped_pages = job.command in ("run", "render") or any(
        isinstance(reason, PageDropReason) for reason in emits
    )
    kept_as = "pages" if job.output_kind == "pages" else "data"
    names = [FAILURES, kept_as]
    if job.output_kind == "samples":
        names.append(DROPPED)
    if dropped_pages:
        names.append(DROPPED_PAGES)
    run = {
        "command": job.command,
        "inputs": job.inputs,
        "output": job.output,
        "runner": runner,
        "started_at": now(),
        "curate_version": __version__,
    }
    if job.scoring_model:
        run["scoring_model"] = describe(job.scoring_model)
    if runtime.benchmarks:  # what the data was checked against, matched or not
        run["benchmarks"] = {
            name: index_summary(folder) for name, folder in runtime.benchmarks.items()
        }
    tallies = tuple(step.name for step in steps if isinstance(step, Tally))
    return Plan(
        output=output,
        seeds=_seeds(job),
        steps=steps,
        sinks={name: SHARDS[name] for name in names},
        kept_as=kept_as,
        manifest=ManifestSpec(job.output_kind, job.config, tallies, dropped_pages, run),
        progress_stage=progress_of(job, count=False).stage,
        scratch=_scratch(job, output),
    )


def _seeds(job: Job) -> list[Any]:
    source = job.source
    if isinstance(source, Inputs):
        return [InputArgument(uri) for uri in source.uris]
    if isinstance(source, Dataset):
        return [ParquetShard(path, source.kind) for path in storage.glob(source.pattern)]
    return [source]


def _reading_steps(job: Job) -> list[Step]:
    """From the seeds to the records the job's stages take, spread over the workers."""
    source = job.source
    if isinstance(source, Inputs):
        return [ListInputs(), Spread()]
    if isinstance(source, Dataset):
        return [ReadParquet(), Spread()]
    return [ReadLlavaJson(), Spread(), LlavaToSample(), Spread()]


def _job_steps(job: Job, output: str, runtime: Runtime) -> list[Step]:
    config = job.config
    if job.command in ("run", "render"):
        steps = [
            *_render_steps(job, output),
            Tally("pages", PageRecord),
            *_page_steps(job),
            Tally("pages_kept", PageRecord),
        ]
        if job.command == "render":
            return steps
        return [*steps, AssembleSamples(config.samples), *_sample_steps(job, runtime)]
    if job.command == "ocr":
        return [*_ocr_steps(job), Tally("pages", PageRecord)]
    if job.command == "generate":
        if job.source.kind == "pages":
            return [
                Tally("pages", PageRecord),
                AssembleSamples(config.samples),
                *_sample_steps(job, runtime),
            ]
        return _sample_steps(job, runtime)
    if job.command == "decontaminate":
        return [Decontaminate(config.decontaminate, runtime.benchmarks)]
    return _score_steps(job)  # score, filter


def _render_steps(job: Job, output: str) -> list[Step]:
    config = job.config
    web = config.web if job.source.has_web else None
    hashed = config.dedup.hash if config.dedup.enabled else None  # saves dedup a PNG decode
    steps: list[Step] = [
        Tally("documents", str),
        RenderDocuments(
            config.render,
            web,
            staging_dir(output, config),
            hashed,
            checkpoint=storage.join(job.output, CHECKPOINT_FOLDER, RenderDocuments.name),
            roots=listing_roots(job.source.uris),
        ),
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


def _ocr_steps(job: Job) -> list[Step]:
    ocr = job.config.ocr
    return [OcrPages(ocr, job.workers)] if ocr.mode != "never" else []


def _page_steps(job: Job) -> list[Step]:
    """Blank pages and duplicates out before OCR (so they cost none); thin text out after it."""
    config = job.config
    steps: list[Step] = []
    if config.quality.blank_pages:
        steps.append(ScreenBlankPages(config.quality))
    if config.dedup.enabled:
        steps += [HashPages(config.dedup), DeduplicatePages(config.dedup)]
    steps += _ocr_steps(job)
    if config.quality.min_chars_per_megapixel is not None:
        steps.append(ScreenTextDensity(config.quality))
    return steps


def _sample_steps(job: Job, runtime: Runtime) -> list[Step]:
    config = job.config
    steps: list[Step] = []
    if config.quality.languages:
        steps.append(ScreenLanguage(config.quality))
    steps.append(GenerateQA(config.generator, config.quality, runtime.generator, runtime.judge))
    if runtime.benchmarks:  # before scoring: a contaminated sample is not worth its score
        steps.append(Decontaminate(config.decontaminate, runtime.benchmarks))
    return [*steps, *_score_steps(job)]


def _score_steps(job: Job) -> list[Step]:
    config = job.config
    steps: list[Step] = []
    if config.scoring.metrics:
        steps.append(ScoreSamples(config.scoring, job.scoring_model))
    if config.filter.metric:
        steps.append(FilterSamples(config.filter))
    return steps


def image_staging_dir(output: str) -> str:
    """Where Beam jobs keep images by reference between stages: OUTPUT/_staging/images."""
    return storage.join(output, "_staging", "images")


def staging_dir(output: str, config: PipelineConfig) -> str:
    """Where crawls download linked documents: web.staging_dir, or OUTPUT/_staging/documents."""
    return config.web.staging_dir or storage.join(output, "_staging", "documents")


def _scratch(job: Job, output: str) -> list[str]:
    """What a run leaves that is not output: its `_staging` folder (images kept by reference,
    a crawl's downloads), unless the user chose to keep the downloads inside it."""
    scratch = storage.join(output, "_staging")
    chosen = job.config.web.staging_dir
    if chosen and isinstance(job.source, Inputs) and chosen.startswith(scratch):
        return [image_staging_dir(output)]
    return [scratch]


@dataclass(frozen=True)
class ProgressSpec:
    """What a job's progress counts: the items one stage finishes (documents rendered,
    samples scored, samples given QA), and how many there will be when that is known."""

    stage: str | None
    unit: str = "documents"
    total: int | None = None


def progress_of(job: Job, count: bool = True) -> ProgressSpec:
    """Documents for jobs that read documents (counted up front when all inputs are local
    files and folders); samples for `score` and `filter`, counted from the shards' metadata;
    samples given QA for `generate`. `count=False`: the stage only, nothing is listed."""
    source = job.source
    if isinstance(source, Inputs):
        return ProgressSpec(
            RenderDocuments.name, "documents", _documents(source) if count else None
        )
    if job.config.scoring.metrics and job.command in ("score", "filter"):
        total = row_count(source.pattern) if count and isinstance(source, Dataset) else None
        return ProgressSpec(ScoreSamples.name, "samples scored", total)
    if job.command == "generate":
        return ProgressSpec(GenerateQA.name, "samples given QA")
    return ProgressSpec(None)


def _documents(inputs: Inputs) -> int | None:
    """How many documents the inputs name, when all are local (a crawl or a bucket: None)."""
    for uri in inputs.uris:
        if uri.startswith(("http://", "https://")) or uri.endswith(".urls"):
            return None
        if not storage.is_local(uri):
            return None
    return sum(1 for _ in list_inputs(inputs.uris))


def names_runner(beam_args) -> bool:
    """Whether Beam arguments name a runner; curate then treats the workers as remote."""
    return any(arg == "--runner" or arg.startswith("--runner=") for arg in beam_args)
