"""Running a job from the command line: plan it, run it with a progress bar, print what it
counted, and exit 1 with one line per problem when the job judged itself failed."""

from __future__ import annotations

import logging

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate.cli.options import console, user_errors
from curate.core.config import PipelineConfig


def run_command(
    command: str,
    source,
    output: str,
    config: PipelineConfig,
    beam_args: list[str],
    workers: int,
    show_progress: bool,
    local: bool,
) -> None:
    """Plan the job, run it (Beam, or in this process with --local), print its counters."""
    from curate.jobs import plan_job, run_job
    from curate.plan import names_runner

    show_curate_log()
    with user_errors():
        job = plan_job(command, source, output, config, workers, remote=names_runner(beam_args))
        runner = "local" if local else "beam"
        if not show_progress:
            result = run_job(job, runner, beam_args)
        else:
            columns = (
                TextColumn("{task.completed} documents done"),
                BarColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("documents", total=None)
                result = run_job(
                    job, runner, beam_args, lambda done: bar.update(task, completed=done)
                )
    print_report(job.output, result.report)
    for problem in result.problems:
        console.print(f"[red]{escape(problem)}[/red]")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


class _ConsoleHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        console.print(self.format(record), highlight=False)


def show_curate_log() -> None:
    """curate's own INFO messages (a local LLM started, ...) on the console; others' warnings."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("curate")
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        log.addHandler(_ConsoleHandler())
        log.setLevel(logging.INFO)
        log.propagate = False


def print_report(output: str, report) -> None:
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
