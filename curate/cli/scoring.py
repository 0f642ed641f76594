"""The commands that score and select: `score` (IFD, VFD, mIFD, FFD), `filter` (Cherry-style
selection by a score), `decontaminate` (no evaluation benchmark in the data) and `models` (the
reference models they use)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from curate.cli.app import app
from curate.cli.job import run_command
from curate.cli.options import (
    PASS_THROUGH,
    AgainstOpt,
    ConfigOpt,
    DuoLayoutOpt,
    ImageFolderOpt,
    LocalOpt,
    ModelOpt,
    OutputOpt,
    OverwriteOpt,
    ProgressOpt,
    WorkersOpt,
    config_of,
    console,
    dataset_at,
    fail,
    metrics_of,
    split_beam_args,
)
from curate.io import storage
from curate.schemas import FILTER_METRICS, JUDGE


def _dataset_source(paths: list[str], image_folder: str | None, duo_layout: str = "auto"):
    """A LLaVA JSON with its images, or our samples Parquet."""
    from curate.stages.sources.datasets import LlavaJson

    if len(paths) != 1:
        raise fail("give exactly one dataset path")
    path = paths[0]
    if duo_layout not in ("auto", "blocks4", "none"):
        raise fail(f"--duo-layout is auto, blocks4 or none, not {duo_layout!r}")
    if path.endswith((".json", ".jsonl")):
        if not image_folder:
            raise fail("a LLaVA JSON dataset needs --image-folder")
        return LlavaJson(
            storage.normalize_uri(path), storage.normalize_uri(image_folder), duo_layout
        )
    return dataset_at([path], ("samples",))


@app.command(context_settings=PASS_THROUGH)
def score(
    tokens: list[str] = typer.Argument(
        None, metavar="DATASET [BEAM_OPTIONS]...", help="curate samples, or a LLaVA-format .json."
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    metric: str = typer.Option(
        "all", "--metric", help="ifd, vfd, mifd, ffd, a comma list, or all."
    ),
    model: str | None = ModelOpt,
    image_folder: str | None = ImageFolderOpt,
    duo_layout: str = DuoLayoutOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
    progress: bool = ProgressOpt,
) -> None:
    """Add difficulty scores (IFD, VFD, mIFD, FFD) per turn and per sample."""
    paths, beam_args = split_beam_args(tokens or [])
    source = _dataset_source(paths, image_folder, duo_layout)
    cfg = config_of(config, {"scoring.metrics": metrics_of(metric), "scoring.model": model})
    console.print(
        f"curate score: {', '.join(cfg.scoring.metrics)} -> {storage.normalize_uri(output)}"
    )
    run_command("score", source, output, cfg, beam_args, workers, progress, local, overwrite)


@app.command(name="filter", context_settings=PASS_THROUGH)
def filter_command(
    tokens: list[str] = typer.Argument(
        None,
        metavar="DATASET [BEAM_OPTIONS]...",
        help="Scored curate samples, or a LLaVA-format .json.",
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    metric: str = typer.Option(
        ..., "--metric", help="ifd, vfd, mifd, ffd, or judge (marks given at generation)."
    ),
    max_score: float | None = typer.Option(None, "--max", help="Drop scores above this [1.0]."),
    min_score: float | None = typer.Option(None, "--min", help="Drop scores below this."),
    keep_top: float | None = typer.Option(
        None, "--keep-top", help="Then keep this top fraction [0.3]."
    ),
    keep_all: bool = typer.Option(False, "--keep-all", help="No top fraction: keep all in range."),
    model: str | None = typer.Option(None, "--model", "-m", help="Score with this model first."),
    image_folder: str | None = ImageFolderOpt,
    duo_layout: str = DuoLayoutOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
    progress: bool = ProgressOpt,
) -> None:
    """Keep samples by a difficulty score (Cherry-style: drop > 1, then keep the top 30%).

    Our Parquet is filtered on its existing scores; with --model, or for a LLaVA JSON input,
    the metric is computed first. Dropped rows go to OUTPUT/dropped/ with their reason.
    """
    paths, beam_args = split_beam_args(tokens or [])
    metrics = [JUDGE] if metric == JUDGE else metrics_of(metric) or []
    if len(metrics) != 1:
        raise fail(f"filter keeps samples by one metric; give one of {', '.join(FILTER_METRICS)}")
    (chosen,) = metrics
    source = _dataset_source(paths, image_folder, duo_layout)
    cfg = config_of(
        config,
        {
            "filter.metric": chosen,
            "filter.max": max_score,
            "filter.min": min_score,
            "filter.keep_top": keep_top,
            "scoring.model": model,
        },
    )
    if keep_all:
        cfg = cfg.model_copy(update={"filter": cfg.filter.model_copy(update={"keep_top": None})})
    if chosen == JUDGE and max_score is None and "max" not in cfg.filter.model_fields_set:
        # a judge's marks run 0-5: the difficulty ratio's bound of 1.0 is no bound for them
        cfg = cfg.model_copy(update={"filter": cfg.filter.model_copy(update={"max": None})})
    f = cfg.filter
    console.print(
        f"curate filter: {f.metric} (max={f.max}, min={f.min}, keep_top={f.keep_top}) -> "
        f"{storage.normalize_uri(output)}"
    )
    run_command("filter", source, output, cfg, beam_args, workers, progress, local, overwrite)


@app.command(context_settings=PASS_THROUGH)
def decontaminate(
    tokens: list[str] = typer.Argument(
        None, metavar="DATASET [BEAM_OPTIONS]...", help="curate samples, or a LLaVA-format .json."
    ),
    output: str = OutputOpt,
    against: list[str] = AgainstOpt,
    mark_only: bool = typer.Option(
        False,
        "--mark-only",
        help="Keep matched samples, with their matches in the benchmark_matches column.",
    ),
    config: Path | None = ConfigOpt,
    image_folder: str | None = ImageFolderOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
    overwrite: bool = OverwriteOpt,
    progress: bool = ProgressOpt,
) -> None:
    """Drop samples that hold an evaluation benchmark's images or QA.

    Images match by bytes or as near copies (re-rendered, re-compressed, resized, cropped a
    little, turned); text by 8 words in a row of a QA pair, or 13 of page text. Each
    benchmark is indexed once, into OUTPUT/benchmark_index, and reused. Dropped samples go to
    OUTPUT/dropped/ with reason benchmark_overlap and their matches; see docs/decontaminate.md.

        curate decontaminate out/ --against docvqa=bench/docvqa_val.json -o clean/ --local
    """
    paths, beam_args = split_beam_args(tokens or [])
    source = _dataset_source(paths, image_folder)
    cfg = config_of(
        config,
        {
            "decontaminate.against": against or None,
            "decontaminate.mark_only": mark_only or None,
        },
    )
    names = ", ".join(cfg.decontaminate.against) or "no benchmark"
    console.print(f"curate decontaminate: against {names} -> {storage.normalize_uri(output)}")
    run_command(
        "decontaminate", source, output, cfg, beam_args, workers, progress, local, overwrite
    )


@app.command()
def models() -> None:
    """List the reference models `score` and `filter` use by default, and how to use others."""
    from curate.stages.scoring.models import DEFAULTS, find_default, model_folders

    table = Table(title="default scoring models")
    for column in ("name", "used for", "where"):
        table.add_column(column)
    for name, what in DEFAULTS.items():
        found = find_default(name)
        table.add_row(name, what, str(found) if found else "[red]not built[/red]")
    console.print(table)
    console.print(
        "Searched: " + ", ".join(str(f) for f in model_folders()) + " ($CURATE_HOME/models, "
        "else ~/.cache/curate/models; then ./.models). Build them with "
        "`python scripts/make_scoring_models.py` (scripts/setup.sh does).\n"
        "For real image scores pass a vision-language model: `--model "
        "HuggingFaceTB/SmolVLM-256M-Instruct` (a hub id, downloaded once by transformers) or "
        "`--model /path/to/folder` (a local copy); any text causal LM works for IFD."
    )
