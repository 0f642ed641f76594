"""The commands that make data: `run` (the whole job), and its steps on their own: `render`,
`ocr` and `generate`, each reading and writing Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli.app import app
from curate.cli.job import run_command
from curate.cli.options import (
    PASS_THROUGH,
    AgainstOpt,
    AllowPrivateOpt,
    ConfigOpt,
    CrawlDepthOpt,
    GeneratorOpt,
    LLMConcurrencyOpt,
    LLMJudgeOpt,
    LLMJudgeUrlOpt,
    LLMKeyOpt,
    LLMModelOpt,
    LLMRefreshOpt,
    LLMUrlOpt,
    LLMVerifyOpt,
    LLMVisionOpt,
    LocalOpt,
    ModelOpt,
    OcrEngineOpt,
    OcrModeOpt,
    OutputOpt,
    OverwriteOpt,
    ProgressOpt,
    UnanswerableOpt,
    WorkersOpt,
    config_of,
    console,
    dataset_at,
    llm_overrides,
    metrics_of,
    split_beam_args,
)
from curate.io import storage


def _inputs(tokens: list[str] | None):
    from curate.plan import Inputs  # stage modules load only when a job runs: --help stays quick

    uris, beam_args = split_beam_args(tokens or [])
    return Inputs(tuple(uris)), beam_args


@app.command(context_settings=PASS_THROUGH)
def run(
    inputs: list[str] = typer.Argument(
        None, help="PDFs, decks, images, folders, globs, URLs or .urls files; then Beam options."
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    dpi: float | None = typer.Option(None, help="Render DPI [144]."),
    min_images: int | None = typer.Option(None, help="Fewest images per sample [1]."),
    max_images: int | None = typer.Option(None, help="Most images per sample [4]."),
    qa_per_image: int | None = typer.Option(None, help="Extractive questions per image [2]."),
    unanswerable: float | None = UnanswerableOpt,
    shard_mb: float | None = typer.Option(None, help="Target Parquet shard size in MB [256]."),
    ocr: str | None = OcrModeOpt,
    ocr_engine: str | None = OcrEngineOpt,
    allow_private_hosts: bool | None = AllowPrivateOpt,
    crawl_depth: int | None = CrawlDepthOpt,
    generator: str | None = GeneratorOpt,
    llm_base_url: str | None = LLMUrlOpt,
    llm_model: str | None = LLMModelOpt,
    llm_api_key: str | None = LLMKeyOpt,
    llm_concurrency: int | None = LLMConcurrencyOpt,
    llm_vision: bool | None = LLMVisionOpt,
    llm_verify: bool | None = LLMVerifyOpt,
    llm_judge: str | None = LLMJudgeOpt,
    llm_judge_url: str | None = LLMJudgeUrlOpt,
    refresh_cache: bool = LLMRefreshOpt,
    score_metrics: str | None = typer.Option(
        None, "--score", help="Also score: ifd, vfd, mifd, ffd, a comma list, or all."
    ),
    filter_metric: str | None = typer.Option(
        None,
        "--filter",
        help="Also filter on this metric, or on judge (settings: filter: in the config).",
    ),
    model: str | None = ModelOpt,
    against: list[str] | None = AgainstOpt,
    workers: int = WorkersOpt,
    progress: bool = ProgressOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
    max_failure_rate: float | None = typer.Option(
        None,
        "--max-failure-rate",
        min=0,
        max=1,
        help="Exit 1 (after writing everything) when a larger fraction of items failed [0.5].",
    ),
) -> None:
    """The whole job: documents -> pages (+OCR) -> samples -> QA (-> scores, filter) -> Parquet."""
    source, beam_args = _inputs(inputs)
    cfg = config_of(
        config,
        {
            "render.dpi": dpi,
            "samples.min_images": min_images,
            "samples.max_images": max_images,
            "generator.max_qa_per_image": qa_per_image,
            "generator.unanswerable": unanswerable,
            "writer.target_shard_mb": shard_mb,
            "ocr.mode": ocr,
            "ocr.engine": ocr_engine,
            "web.allow_private_hosts": allow_private_hosts,
            "web.max_depth": crawl_depth,
            **llm_overrides(
                generator,
                llm_base_url,
                llm_model,
                llm_api_key,
                llm_concurrency,
                llm_vision,
                llm_verify,
                refresh_cache,
            ),
            "scoring.metrics": metrics_of(score_metrics),
            "scoring.model": model,
            "filter.metric": filter_metric,
            "generator.judge.model": llm_judge,
            "generator.judge.base_url": llm_judge_url,
            "decontaminate.against": against or None,
            "run.max_failure_rate": max_failure_rate,
        },
    )
    console.print(f"curate run: {' '.join(source.uris)} -> {storage.normalize_uri(output)}")
    run_command("run", source, output, cfg, beam_args, workers, progress, local, overwrite)


@app.command(context_settings=PASS_THROUGH)
def render(
    inputs: list[str] = typer.Argument(
        None, help="PDFs, images, folders or globs; then Beam options."
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    dpi: float | None = typer.Option(None, help="Render DPI [144]."),
    ocr: str | None = OcrModeOpt,
    ocr_engine: str | None = OcrEngineOpt,
    allow_private_hosts: bool | None = AllowPrivateOpt,
    crawl_depth: int | None = CrawlDepthOpt,
    workers: int = WorkersOpt,
    progress: bool = ProgressOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
) -> None:
    """Render documents into page records (+OCR): OUTPUT/pages/*.parquet (image, text, boxes)."""
    source, beam_args = _inputs(inputs)
    cfg = config_of(
        config,
        {
            "render.dpi": dpi,
            "ocr.mode": ocr,
            "ocr.engine": ocr_engine,
            "web.allow_private_hosts": allow_private_hosts,
            "web.max_depth": crawl_depth,
        },
    )
    run_command("render", source, output, cfg, beam_args, workers, progress, local, overwrite)


@app.command(name="ocr", context_settings=PASS_THROUGH)
def ocr_command(
    tokens: list[str] = typer.Argument(
        None, metavar="PAGES [BEAM_OPTIONS]...", help="Output of `curate render`."
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    ocr: str | None = OcrModeOpt,
    mode: str | None = typer.Option(None, "--mode", hidden=True),  # the old name of --ocr
    engine: str | None = OcrEngineOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
) -> None:
    """OCR existing page records: pages without usable text get OCR text lines with boxes."""
    paths, beam_args = split_beam_args(tokens or [])
    source = dataset_at(paths, ("pages",))
    cfg = config_of(config, {"ocr.mode": ocr or mode, "ocr.engine": engine})
    run_command("ocr", source, output, cfg, beam_args, workers, False, local, overwrite)


@app.command(context_settings=PASS_THROUGH)
def generate(
    tokens: list[str] = typer.Argument(
        None, metavar="DATASET [BEAM_OPTIONS]...", help="Output of `curate render` or `curate run`."
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    min_images: int | None = typer.Option(None, help="Fewest images per sample [1]."),
    max_images: int | None = typer.Option(None, help="Most images per sample [4]."),
    qa_per_image: int | None = typer.Option(None, help="Extractive questions per image [2]."),
    unanswerable: float | None = UnanswerableOpt,
    generator: str | None = GeneratorOpt,
    llm_base_url: str | None = LLMUrlOpt,
    llm_model: str | None = LLMModelOpt,
    llm_api_key: str | None = LLMKeyOpt,
    llm_concurrency: int | None = LLMConcurrencyOpt,
    llm_vision: bool | None = LLMVisionOpt,
    llm_verify: bool | None = LLMVerifyOpt,
    llm_judge: str | None = LLMJudgeOpt,
    llm_judge_url: str | None = LLMJudgeUrlOpt,
    refresh_cache: bool = LLMRefreshOpt,
    against: list[str] | None = AgainstOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
    progress: bool = ProgressOpt,
) -> None:
    """Write QA for an existing dataset: pages are grouped into samples first."""
    paths, beam_args = split_beam_args(tokens or [])
    source = dataset_at(paths, ("pages", "samples"))
    cfg = config_of(
        config,
        {
            "samples.min_images": min_images,
            "samples.max_images": max_images,
            "generator.max_qa_per_image": qa_per_image,
            "generator.unanswerable": unanswerable,
            **llm_overrides(
                generator,
                llm_base_url,
                llm_model,
                llm_api_key,
                llm_concurrency,
                llm_vision,
                llm_verify,
                refresh_cache,
            ),
            "generator.judge.model": llm_judge,
            "generator.judge.base_url": llm_judge_url,
            "decontaminate.against": against or None,
        },
    )
    console.print(
        f"curate generate: {source.kind} from {source.pattern} -> {storage.normalize_uri(output)}"
    )
    run_command("generate", source, output, cfg, beam_args, workers, progress, local, overwrite)
