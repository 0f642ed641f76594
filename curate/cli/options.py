"""What every command shares: the console, the flags several commands take, turning flags into
a config, and one red line (exit 2) for an error the user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from curate.core.config import PipelineConfig, load_config
from curate.core.registry import GENERATORS, OCR_ENGINES
from curate.io.errors import CurateError
from curate.schemas import METRICS

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
    None,
    "--ocr-engine",
    help=f"{OCR_ENGINES.listed()} ({OCR_ENGINES.names()[0]} is the default).",
)
GeneratorOpt = typer.Option(
    None,
    "--generator",
    "-g",
    help=f"{GENERATORS.listed(' or ')}: template (the default) works offline; llm calls an "
    "OpenAI-compatible endpoint.",
)
LLMUrlOpt = typer.Option(
    None, "--llm-base-url", help="OpenAI-compatible endpoint; unset: curate starts SmolLM2 locally."
)
LLMModelOpt = typer.Option(None, "--llm-model", help="Model name at the endpoint.")
LLMKeyOpt = typer.Option(
    None, "--llm-api-key", help="API key (default: $OPENAI_API_KEY). Never logged or stored."
)
LLMConcurrencyOpt = typer.Option(
    None,
    "--llm-concurrency",
    help="Most requests in flight per worker, cut on 429/5xx [64; 4 for the embedded LLM].",
)
LLMVisionOpt = typer.Option(
    None,
    "--llm-vision/--no-llm-vision",
    help="Send each image to the endpoint with its text (GPT-4o class, vLLM-served VLMs).",
)
LLMVerifyOpt = typer.Option(
    None,
    "--llm-verify/--no-llm-verify",
    help="Re-answer each extractive question from the page text, and read captions, follow-ups "
    "and cross-image answers again for false statements; reject what fails (one more call "
    "per image, and one per sample).",
)
LLMJudgeOpt = typer.Option(
    None,
    "--llm-judge",
    metavar="MODEL",
    help="Also mark each accepted item 0-5 with this model (scores.judge; filter on it with "
    "--filter judge or curate filter --metric judge).",
)
LLMJudgeUrlOpt = typer.Option(
    None, "--llm-judge-url", help="The judge's OpenAI-compatible endpoint [--llm-base-url]."
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
OverwriteOpt = typer.Option(
    False,
    "--overwrite",
    help="Replace curate's output of another kind in --output (a render's pages, say). "
    "An output of the same kind is always replaced; a folder curate did not write never is.",
)
AgainstOpt = typer.Option(
    None,
    "--against",
    help="A benchmark to decontaminate against, NAME=PATH (repeat for more): a LLaVA JSON, "
    "Parquet, a datasets save_to_disk folder or a folder of images (docs/decontaminate.md).",
)
UnanswerableOpt = typer.Option(
    None,
    "--unanswerable",
    min=0,
    max=1,
    help="Template QA: share of a multi-image sample's images also asked for a value another "
    "image gives and they do not, answered as not given [0: off].",
)
ModelOpt = typer.Option(
    None,
    "--model",
    "-m",
    help="Reference model: local folder or hub id (default: the offline models, `curate models`).",
)


def llm_overrides(
    generator, base_url, model, api_key, concurrency, vision, verify, refresh_cache=False
) -> dict[str, Any]:
    """The generator flags, as dotted config keys."""
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


def split_beam_args(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Inputs come first; from the first `--option` on, everything is passed to Beam."""
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return tokens[:i], tokens[i:]
    return tokens, []


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one red `error:` line; raise what this returns."""
    console.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """An error the user can act on is one red line and exit status 2, not a traceback."""
    try:
        yield
    except CurateError as err:
        raise fail(str(err)) from None


def config_of(path: Path | None, overrides: dict[str, Any]) -> PipelineConfig:
    """The config file, with the flags that were given on top."""
    with user_errors():
        return load_config(path, overrides)


def metrics_of(value: str | None) -> list[str] | None:
    """`ifd`, `ifd,ffd` or `all` -> the metrics; an unknown one is an error."""
    if value is None:
        return None
    metrics = (
        list(METRICS) if value == "all" else [m.strip() for m in value.split(",") if m.strip()]
    )
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise fail(f"unknown metric {unknown}; choose from {', '.join(METRICS)} or all")
    return metrics


def dataset_at(path_tokens: list[str], kinds: tuple[str, ...]):
    """The curate dataset one path names (an output folder, shards, a glob), of a kind the
    command reads."""
    from curate.stages.sources.datasets import locate  # sources load only when a job runs

    if len(path_tokens) != 1:
        raise fail("give exactly one dataset path")
    with user_errors():
        dataset = locate(path_tokens[0])
    if dataset.kind not in kinds:
        reads = " or ".join(kinds)
        raise fail(f"{path_tokens[0]} holds {dataset.kind}; this command reads {reads}")
    return dataset
