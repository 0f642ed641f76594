"""Running a job from the command line: plan it, run it with a progress bar, print what it
counted, and exit 1 with one line per problem when the job judged itself failed."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from curate.cli.options import console, fail, user_errors
from curate.core.config import PipelineConfig
from curate.io import storage
from curate.outputs.writers.claim import discard_staging


def run_command(
    command: str,
    source,
    output: str,
    config: PipelineConfig,
    beam_args: list[str],
    workers: int,
    show_progress: bool,
    local: bool,
    overwrite: bool = False,
) -> None:
    """Plan the job, run it (Beam, or in this process with --local), print its counters."""
    from curate.jobs import plan_job, run_job
    from curate.plan import names_runner, progress_of

    show_curate_log()
    _check_beam_args(beam_args, local)
    with user_errors(), _stopped_by_ctrl_c(output):
        job = plan_job(command, source, output, config, workers, remote=names_runner(beam_args))
        runner = "local" if local else "beam"
        spec = progress_of(job) if show_progress else None
        if spec is None or spec.stage is None:
            result = run_job(job, runner, beam_args, overwrite=overwrite)
        else:
            done = f"{{task.completed}}/{spec.total}" if spec.total else "{task.completed}"
            columns = (
                TextColumn(f"{done} {spec.unit}"),
                BarColumn(),
                TimeElapsedColumn(),
                *([TextColumn("ETA"), TimeRemainingColumn()] if spec.total else []),
            )
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task(spec.unit, total=spec.total)
                result = run_job(
                    job,
                    runner,
                    beam_args,
                    lambda done: bar.update(task, completed=done),
                    overwrite=overwrite,
                )
    print_report(job.output, result.report)
    resumed = result.counters.get("documents.resumed", 0)
    if resumed:
        console.print(
            f"resumed: {resumed} documents an interrupted run had rendered were not rendered again"
        )
    for problem in result.problems:
        console.print(f"[red]{escape(problem)}[/red]")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@contextmanager
def _stopped_by_ctrl_c(output: str) -> Iterator[None]:
    """Ctrl-C: the job's `finally` blocks have stopped its workers and services and removed
    its staging folder; say what was kept and exit 130 at once, before Beam's threads can
    print their own tracebacks or abort the interpreter as it shuts down."""
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        yield
    except BaseException as err:
        if not _caused_by_ctrl_c(err):
            raise
        discard_staging(output)
        console.print(
            f"[red]interrupted[/red]: {escape(storage.normalize_uri(output))} holds what it held "
            "before this run (a run's results land only when it finishes). Documents rendered "
            "so far are checkpointed and LLM replies cached there: the same command again "
            "resumes without rendering or paying for them twice."
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)


def _on_ctrl_c(signum, frame) -> None:
    """Raise KeyboardInterrupt in the main thread, and silence the runner's threads, which
    die with the job and would each print a traceback while it stops."""
    threading.excepthook = lambda args: None
    logging.disable(logging.CRITICAL)
    signal.default_int_handler(signum, frame)


def _caused_by_ctrl_c(err: BaseException | None) -> bool:
    """KeyboardInterrupt, or an error raised while cleaning up after one."""
    seen = 0
    while err is not None and seen < 20:
        if isinstance(err, KeyboardInterrupt):
            return True
        err, seen = err.__context__, seen + 1
    return False


def _check_beam_args(beam_args: list[str], local: bool) -> None:
    """What follows the inputs goes to Beam: a typo there (or a curate option placed after
    the inputs, or any option with --local) would be ignored; it is an error instead."""
    if not beam_args:
        return
    if local:
        raise fail(
            f"--local runs without Beam, so {' '.join(beam_args)} would be ignored; check the "
            "spelling (curate's options: --help), or drop --local to pass them to Beam"
        )
    from curate.runners.beam.launch import unknown_options  # Beam loads only when needed

    unknown = unknown_options(beam_args)
    if unknown:
        raise fail(
            f"unknown option {', '.join(unknown)}: neither curate's (see --help) nor Beam's. "
            "Options for Beam come after the inputs, curate's anywhere"
        )


class _ConsoleHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        console.print(escape(self.format(record)), highlight=False)  # `[aws]` is no style


def show_curate_log() -> None:
    """curate's own INFO messages (a local LLM started, ...) on the console; others' warnings."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("curate")
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        log.addHandler(_ConsoleHandler())
        log.setLevel(logging.INFO)
        log.propagate = False


def _dollars(counters: dict[str, int], name: str) -> str:
    if counters.get(f"llm.{name}_unknown"):
        return "unknown (no price for the model: add it under generator.llm.prices)"
    return f"${counters.get(f'llm.{name}_micro_usd', 0) / 1e6:.4f}"


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
            f"estimated cost {_dollars(counters, 'cost')} this run"
            + (f", {_dollars(counters, 'cached_cost')} for the cached replies" if hits else "")
        )
    console.print(f"output: {output}  (inspect it with: curate inspect {output})")
