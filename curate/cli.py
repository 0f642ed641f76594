"""The `curate` command line: one subcommand per stage, plus `run` for the whole job."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate.core.config import PipelineConfig, load_config
from curate.io import storage
from curate.io.errors import CurateError
from curate.outputs.dataset import iter_rows, locate, shard_files
from curate.outputs.writers.manifest import read_manifest
from curate.outputs.writers.parquet import DATA, DEAD_LETTER, DROPPED
from curate.schemas import METRICS

app = typer.Typer(
    help="Turn documents into text-rich multi-image instruction data (Parquet).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}

ConfigOpt = typer.Option(None, "--config", "-c", help="YAML or TOML config; flags override it.")
OutputOpt = typer.Option(..., "--output", "-o", help="Output folder (local, gs:// or s3://).")
WorkersOpt = typer.Option(
    1,
    "--workers",
    "-w",
    min=1,
    help="Local worker processes. A worker writes PNGs on helper threads, so it already uses "
    "more than one core while it renders.",
)
ProgressOpt = typer.Option(True, "--progress/--no-progress", help="Show a progress bar locally.")
OcrModeOpt = typer.Option(
    None, "--ocr", help="auto: only pages without usable text (the default); always; never."
)
OcrEngineOpt = typer.Option(
    None, "--ocr-engine", help="rapidocr (the default), tesseract, paddleocr."
)
GeneratorOpt = typer.Option(
    None, "--generator", "-g", help="template (the default, offline) or llm (OpenAI-compatible)."
)
LLMUrlOpt = typer.Option(
    None, "--llm-base-url", help="OpenAI-compatible endpoint; unset: curate starts SmolLM2 locally."
)
LLMModelOpt = typer.Option(None, "--llm-model", help="Model name at the endpoint.")
LLMKeyOpt = typer.Option(
    None, "--llm-api-key", help="API key (default: $OPENAI_API_KEY). Never logged or stored."
)
LLMConcurrencyOpt = typer.Option(
    None, "--llm-concurrency", help="Requests in flight per worker [4]."
)
LLMVisionOpt = typer.Option(
    None,
    "--llm-vision/--no-llm-vision",
    help="Send each image to the endpoint with its text (GPT-4o class, vLLM-served VLMs).",
)
LLMVerifyOpt = typer.Option(
    None,
    "--llm-verify/--no-llm-verify",
    help="Re-answer each extractive question from the page text; reject disagreements.",
)
LLMRefreshOpt = typer.Option(
    False,
    "--refresh-cache",
    help="Ask the LLM endpoint again instead of reusing cached replies (new prompts, new model).",
)
AllowPrivateOpt = typer.Option(
    None,
    "--allow-private-hosts/--no-allow-private-hosts",
    help="Webpages: allow private, loopback and link-local addresses (local test servers).",
)
CrawlDepthOpt = typer.Option(
    None, "--crawl-depth", help="Webpages: links followed from each URL [0]."
)
ImageFolderOpt = typer.Option(None, "--image-folder", help="Images of a LLaVA-format JSON input.")
DuoLayoutOpt = typer.Option(
    "auto",
    "--duo-layout",
    help="LLaVA JSON: blocks4 reads turns as LLaVAR-2's 4-turn blocks (extractive Q/A, then its "
    "self-explain Q/A: what FFD needs), none as plain turns, auto detects blocks.",
)
LocalOpt = typer.Option(
    False, "--local", help="Run in this process without Beam (small jobs; same output)."
)
ModelOpt = typer.Option(
    None,
    "--model",
    "-m",
    help="Reference model: local folder or hub id (default: the offline models, `curate models`).",
)


def _llm_overrides(
    generator, base_url, model, api_key, concurrency, vision, verify, refresh_cache=False
) -> dict[str, Any]:
    settings = {
        "base_url": base_url,
        "model": model,
        "api_key": api_key,
        "concurrency": concurrency,
        "vision": vision,
        "verify": verify,
        "refresh_cache": refresh_cache or None,
    }
    return {
        "generator.backend": generator,
        "generator.llm": {k: v for k, v in settings.items() if v is not None} or None,
    }


def _split_beam_args(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Inputs come first; from the first `--option` on, everything is passed to Beam."""
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return tokens[:i], tokens[i:]
    return tokens, []


@contextmanager
def _user_errors():
    """An error the user can act on is one red line and exit status 2, not a traceback."""
    try:
        yield
    except CurateError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None


def _config(path: Path | None, overrides: dict[str, Any]) -> PipelineConfig:
    with _user_errors():
        return load_config(path, overrides)


def _run(
    command: str,
    source,
    output: str,
    cfg: PipelineConfig,
    beam_args: list[str],
    workers: int,
    show_progress: bool,
    local: bool,
) -> None:
    """Plan the job, run it (Beam, or in this process with --local), print its counters."""
    from curate.jobs import plan_job, run_job
    from curate.plan import names_runner

    _show_curate_log()
    with _user_errors():
        job = plan_job(command, source, output, cfg, workers, remote=names_runner(beam_args))
        runner = "local" if local else "beam"
        if not show_progress:
            report = run_job(job, runner, beam_args)
        else:
            columns = (
                TextColumn("{task.completed} documents done"),
                BarColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("documents", total=None)
                report = run_job(
                    job, runner, beam_args, lambda done: bar.update(task, completed=done)
                )
    _report(job.output, report)
    _check_failure_rate(job.output, cfg.run.max_failure_rate)
    if job.scoring_model:
        _check_scored(report.counters, cfg.scoring.metrics)


def _note_text(note: str) -> str:
    from curate.schemas.reasons import ScoreNote

    known = {str(member): member.description for member in ScoreNote}
    return f"{note}: {known[note]}" if note in known else note


def _check_scored(counters: dict[str, int], metrics: list[str]) -> None:
    """Exit 1 when a metric asked for could not be computed for any sample, saying why."""
    for metric in metrics:
        scored = counters.get(f"samples.scored.{metric}", 0)
        unscored = counters.get(f"samples.unscored.{metric}", 0)
        if unscored and not scored:
            notes = {
                k.removeprefix("samples.note."): v
                for k, v in counters.items()
                if k.startswith("samples.note.")
            }
            why = "; ".join(f"{_note_text(note)} ({n} samples)" for note, n in notes.items())
            console.print(
                f"[red]{metric} could not be computed for any of the {unscored} samples.[/red] "
                f"{why or 'See the scores.note column.'}"
            )
            raise typer.Exit(1)


def _check_failure_rate(output: str, most: float) -> None:
    """Exit 1, with everything already written, when too much of the job failed."""
    from curate.outputs.writers.manifest import read_manifest

    try:
        manifest = read_manifest(output)
    except FileNotFoundError:
        return
    rate = manifest.get("failure_rate", 0.0)
    if rate > most:
        reasons = ", ".join(f"{k}: {v}" for k, v in manifest.get("failures_by_reason", {}).items())
        console.print(
            f"[red]{rate:.0%} of the job's items failed ({reasons}), more than "
            f"--max-failure-rate {most:g}.[/red] Everything was written to {output}; see its "
            f"dead_letter/ for each reason, fix the cause and run again (finished LLM calls are "
            f"cached)."
        )
        raise typer.Exit(1)


class _ConsoleHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        console.print(self.format(record), highlight=False)


def _show_curate_log() -> None:
    """curate's own INFO messages (a local LLM started, ...) on the console; others' warnings."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("curate")
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        log.addHandler(_ConsoleHandler())
        log.setLevel(logging.INFO)
        log.propagate = False


def _report(output: str, report) -> None:
    table = Table(title=f"curate counters ({report.runner}, {report.seconds:.1f} s)")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for name, value in report.counters.items():
        table.add_row(name, str(value))
    console.print(table)
    counters = report.counters
    if "llm.requests" in counters or "llm.cache_hits" in counters:
        requests, hits = counters.get("llm.requests", 0), counters.get("llm.cache_hits", 0)
        rate = hits / (requests + hits) if requests + hits else 0.0
        console.print(
            f"LLM: {requests} requests, {hits} cache hits ({rate:.0%} hit rate), "
            f"{counters.get('llm.prompt_tokens', 0)} prompt + "
            f"{counters.get('llm.completion_tokens', 0)} completion tokens, "
            f"estimated cost ${counters.get('llm.cost_micro_usd', 0) / 1e6:.4f}"
        )
    console.print(f"output: {output}  (inspect it with: curate inspect {output})")


def _inputs(tokens: list[str] | None):
    from curate.plan import Inputs  # stage modules load only when a job runs: --help stays quick

    uris, beam_args = _split_beam_args(tokens or [])
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
    refresh_cache: bool = LLMRefreshOpt,
    score_metrics: str | None = typer.Option(
        None, "--score", help="Also score: ifd, vfd, mifd, ffd, a comma list, or all."
    ),
    filter_metric: str | None = typer.Option(
        None, "--filter", help="Also filter on this metric (settings: filter: in the config)."
    ),
    model: str | None = ModelOpt,
    workers: int = WorkersOpt,
    progress: bool = ProgressOpt,
    local: bool = LocalOpt,
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
    cfg = _config(
        config,
        {
            "render.dpi": dpi,
            "samples.min_images": min_images,
            "samples.max_images": max_images,
            "generator.max_qa_per_image": qa_per_image,
            "writer.target_shard_mb": shard_mb,
            "ocr.mode": ocr,
            "ocr.engine": ocr_engine,
            "web.allow_private_hosts": allow_private_hosts,
            "web.max_depth": crawl_depth,
            **_llm_overrides(
                generator,
                llm_base_url,
                llm_model,
                llm_api_key,
                llm_concurrency,
                llm_vision,
                llm_verify,
                refresh_cache,
            ),
            "scoring.metrics": _metrics(score_metrics),
            "scoring.model": model,
            "filter.metric": filter_metric,
            "run.max_failure_rate": max_failure_rate,
        },
    )
    console.print(f"curate run: {' '.join(source.uris)} -> {storage.normalize_uri(output)}")
    _run("run", source, output, cfg, beam_args, workers, progress, local)


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
) -> None:
    """Render documents into page records (+OCR): OUTPUT/pages/*.parquet (image, text, boxes)."""
    source, beam_args = _inputs(inputs)
    cfg = _config(
        config,
        {
            "render.dpi": dpi,
            "ocr.mode": ocr,
            "ocr.engine": ocr_engine,
            "web.allow_private_hosts": allow_private_hosts,
            "web.max_depth": crawl_depth,
        },
    )
    _run("render", source, output, cfg, beam_args, workers, progress, local)


def _locate(path_tokens: list[str], kinds: tuple[str, ...]):
    from curate.plan import Dataset

    if len(path_tokens) != 1:
        console.print("[red]error:[/red] give exactly one dataset path")
        raise typer.Exit(2)
    with _user_errors():
        pattern, kind = locate(path_tokens[0])
    if kind not in kinds:
        console.print(
            f"[red]error:[/red] {path_tokens[0]} holds {kind}; this command reads "
            f"{' or '.join(kinds)}"
        )
        raise typer.Exit(2)
    return Dataset(pattern, kind)


@app.command(name="ocr", context_settings=PASS_THROUGH)
def ocr_command(
    tokens: list[str] = typer.Argument(
        None, metavar="PAGES [BEAM_OPTIONS]...", help="Output of `curate render`."
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    mode: str | None = typer.Option(None, "--mode", help="auto (the default), always, never."),
    engine: str | None = OcrEngineOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
) -> None:
    """OCR existing page records: pages without usable text get OCR text lines with boxes."""
    paths, beam_args = _split_beam_args(tokens or [])
    source = _locate(paths, ("pages",))
    cfg = _config(config, {"ocr.mode": mode, "ocr.engine": engine})
    _run("ocr", source, output, cfg, beam_args, workers, False, local)


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
    generator: str | None = GeneratorOpt,
    llm_base_url: str | None = LLMUrlOpt,
    llm_model: str | None = LLMModelOpt,
    llm_api_key: str | None = LLMKeyOpt,
    llm_concurrency: int | None = LLMConcurrencyOpt,
    llm_vision: bool | None = LLMVisionOpt,
    llm_verify: bool | None = LLMVerifyOpt,
    refresh_cache: bool = LLMRefreshOpt,
    workers: int = WorkersOpt,
    local: bool = LocalOpt,
) -> None:
    """Write QA for an existing dataset: pages are grouped into samples first."""
    paths, beam_args = _split_beam_args(tokens or [])
    source = _locate(paths, ("pages", "samples"))
    cfg = _config(
        config,
        {
            "samples.min_images": min_images,
            "samples.max_images": max_images,
            "generator.max_qa_per_image": qa_per_image,
            **_llm_overrides(
                generator,
                llm_base_url,
                llm_model,
                llm_api_key,
                llm_concurrency,
                llm_vision,
                llm_verify,
                refresh_cache,
            ),
        },
    )
    console.print(
        f"curate generate: {source.kind} from {source.pattern} -> {storage.normalize_uri(output)}"
    )
    _run("generate", source, output, cfg, beam_args, workers, False, local)


def _metrics(value: str | None) -> list[str] | None:
    if value is None:
        return None
    metrics = (
        list(METRICS) if value == "all" else [m.strip() for m in value.split(",") if m.strip()]
    )
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        console.print(
            f"[red]error:[/red] unknown metric {unknown}; choose from {', '.join(METRICS)} or all"
        )
        raise typer.Exit(2)
    return metrics


def _dataset_source(paths: list[str], image_folder: str | None, duo_layout: str = "auto"):
    """A LLaVA JSON with its images, or our samples Parquet."""
    from curate.plan import LlavaJson

    if len(paths) != 1:
        console.print("[red]error:[/red] give exactly one dataset path")
        raise typer.Exit(2)
    path = paths[0]
    if path.endswith((".json", ".jsonl")):
        if not image_folder:
            console.print("[red]error:[/red] a LLaVA JSON dataset needs --image-folder")
            raise typer.Exit(2)
        if duo_layout not in ("auto", "blocks4", "none"):
            console.print("[red]error:[/red] --duo-layout is auto, blocks4 or none")
            raise typer.Exit(2)
        return LlavaJson(
            storage.normalize_uri(path), storage.normalize_uri(image_folder), duo_layout
        )
    return _locate([path], ("samples",))


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
) -> None:
    """Add difficulty scores (IFD, VFD, mIFD, FFD) per turn and per sample."""
    paths, beam_args = _split_beam_args(tokens or [])
    source = _dataset_source(paths, image_folder, duo_layout)
    cfg = _config(config, {"scoring.metrics": _metrics(metric), "scoring.model": model})
    console.print(
        f"curate score: {', '.join(cfg.scoring.metrics)} -> {storage.normalize_uri(output)}"
    )
    _run("score", source, output, cfg, beam_args, workers, False, local)


@app.command(name="filter", context_settings=PASS_THROUGH)
def filter_command(
    tokens: list[str] = typer.Argument(
        None,
        metavar="DATASET [BEAM_OPTIONS]...",
        help="Scored curate samples, or a LLaVA-format .json.",
    ),
    output: str = OutputOpt,
    config: Path | None = ConfigOpt,
    metric: str = typer.Option(..., "--metric", help="ifd, vfd, mifd or ffd."),
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
) -> None:
    """Keep samples by a difficulty score (Cherry-style: drop > 1, then keep the top 30%).

    Our Parquet is filtered on its existing scores; with --model, or for a LLaVA JSON input,
    the metric is computed first. Dropped rows go to OUTPUT/dropped/ with their reason.
    """
    paths, beam_args = _split_beam_args(tokens or [])
    (chosen,) = _metrics(metric) or [None]
    source = _dataset_source(paths, image_folder, duo_layout)
    cfg = _config(
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
    f = cfg.filter
    console.print(
        f"curate filter: {f.metric} (max={f.max}, min={f.min}, keep_top={f.keep_top}) -> "
        f"{storage.normalize_uri(output)}"
    )
    _run("filter", source, output, cfg, beam_args, workers, False, local)


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


@app.command()
def inspect(
    output: str = typer.Argument(..., help="An output folder of `curate run` or `curate render`."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show counts, schema version, drop and failure reasons, and one sample, readably."""
    out = Console()
    output = storage.normalize_uri(output)
    try:
        manifest = read_manifest(output)
    except FileNotFoundError:
        console.print(f"[red]error:[/red] no manifest.json in {output}; is it a curate output?")
        raise typer.Exit(2) from None
    if as_json:
        out.print_json(json.dumps(manifest))
        return
    out.print(
        f"[bold]{output}[/bold]  kind={manifest['kind']}  schema={manifest['schema_version']}  "
        f"curate={manifest['curate_version']}  config={manifest['config_hash']}"
    )
    table = Table(title="counts")
    table.add_column("what")
    table.add_column("n", justify="right")
    for name, value in manifest["counts"].items():
        table.add_row(name, str(value))
    for section in ("dropped_by_reason", "failures_by_reason"):
        for reason, value in manifest.get(section, {}).items():
            table.add_row(f"{section.split('_by_')[0]}: {reason}", str(value))
    out.print(table)
    for folder, shards in manifest["shards"].items():
        size = sum(s["bytes"] for s in shards) / 2**20
        out.print(
            f"{folder}/: {len(shards)} shard(s), {sum(s['rows'] for s in shards)} rows, {size:.1f} "
            "MB"
        )
    _print_first_sample(out, output)
    _print_first_failures(out, output)


@app.command(name="export")
def export_command(
    dataset: str = typer.Argument(
        ..., help="An output folder of `curate run` (or a samples *.parquet glob)."
    ),
    fmt: str = typer.Option(
        ...,
        "--format",
        "-f",
        help="hf, llava, sharegpt, messages; seed projects: cauldron, leopard, llavar2, "
        "llava-interleave, llamafactory, demon (docs/export.md).",
    ),
    output: str = OutputOpt,
    tiles: bool = typer.Option(
        False, "--tiles", help="Add Leopard adaptive-resolution tile columns."
    ),
    tile_size: int = typer.Option(364, "--tile-size", min=16, help="Tile side v in pixels."),
    max_tiles: int = typer.Option(50, "--max-tiles", min=1, help="Tile budget M per sample."),
    to_hub: str | None = typer.Option(
        None, "--to-hub", help="Also upload to this Hub dataset repo (user/name)."
    ),
    private: bool = typer.Option(
        False, "--private", help="With --to-hub: create the repo private."
    ),
    revision: str | None = typer.Option(
        None, "--revision", help="With --to-hub: branch to commit to (default main)."
    ),
) -> None:
    """Write a dataset in a training format with a dataset card, validate it, maybe upload it."""
    from curate.outputs.export import ExportOptions, export_dataset
    from curate.outputs.export.hub import upload_folder

    options = ExportOptions(tiles=tiles, tile_size=tile_size, max_tiles=max_tiles)
    with _user_errors(), console.status(f"exporting {dataset} as {fmt} ..."):
        report = export_dataset(dataset, output, fmt, options, repo_id=to_hub)
    result = report.result
    console.print(f"{fmt}: {result.samples} samples, {result.images} images -> {result.output}")
    for reason, count in sorted(result.skipped.items()):
        console.print(f"  not expressible in {fmt}, left out: {count} x {reason} (docs/export.md)")
    if report.errors:
        for error in report.errors[:20]:
            console.print(f"[red]invalid:[/red] {error}")
        console.print(
            f"[red]error:[/red] the export breaks {len(report.errors)} rule(s) of the {fmt} format"
        )
        raise typer.Exit(1)
    console.print(f"validated against the {fmt} format's rules")
    if to_hub:
        with _user_errors(), console.status(f"uploading to {to_hub} ..."):
            uploaded = upload_folder(result.output, to_hub, private=private, revision=revision)
        console.print(f"uploaded {len(uploaded.files)} files in one commit: {uploaded.commit_url}")


@app.command(name="report")
def report_command(
    output: str = typer.Argument(..., help="An output folder of `curate run`."),
    to: str | None = typer.Option(
        None, "--to", help="Where to write the HTML [OUTPUT/report.html]."
    ),
    samples: int = typer.Option(24, "--samples", min=0, help="Samples shown in the gallery."),
) -> None:
    """Write a static HTML report (counts, drop reasons, score charts, a gallery); no server."""
    from curate.outputs.report import write_report

    try:
        with console.status("building the report ..."):
            path = write_report(output, to, samples)
    except FileNotFoundError:
        console.print(
            f"[red]error:[/red] no manifest.json in {output}; pass the output folder of `curate "
            "run`"
        )
        raise typer.Exit(2) from None
    console.print(f"report: {path}  (open it in a browser)")


def _print_first_sample(out: Console, output: str) -> None:
    for file in shard_files(output, DATA.folder):
        for row in iter_rows(file):
            out.rule(f"sample {row['sample_id']}")
            out.print(f"source: {row['source_uri']}  pages: {[i + 1 for i in row['page_indices']]}")
            sizes = ", ".join(f"{w}x{h}" for w, h in row["image_sizes"])
            out.print(f"images: {row['num_images']} ({sizes})  generator: {row['generator']}")
            for turn in row["conversations"]:
                style = "cyan" if turn["role"] == "user" else "green"
                out.print(
                    f"[{style}]{turn['role']:>9}[/{style}]: {turn['content']}", highlight=False
                )
            return


def _print_first_failures(out: Console, output: str, limit: int = 5) -> None:
    shown = 0
    for folder in (DEAD_LETTER.folder, DROPPED.folder):
        for file in shard_files(output, folder):
            for row in iter_rows(file, columns=None):
                if shown == 0:
                    out.rule("first dead-letter and dropped rows")
                if shown >= limit:
                    return
                reason = row.get("reason") or row.get("drop_reason")
                detail = row.get("detail") or row.get("drop_detail") or ""
                out.print(
                    f"{folder}: {reason}: {row.get('source_uri')}: "
                    f"{detail.splitlines()[0] if detail else ''}"
                )
                shown += 1


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
