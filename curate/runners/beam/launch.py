"""Run a job on Beam, on a named runner, with local progress and counters at the end.

Local runs use Beam's FnApiRunner, named explicitly: Beam's default runner would first try to
download the Prism binary. `--runner ...` among the Beam arguments overrides this.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    _BeamArgumentParser,
)
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.environments import SubprocessSDKEnvironment

from curate.outputs.writers.manifest import RunReport
from curate.plan import Plan, names_runner
from curate.runners.beam.progress import count_done
from curate.runners.beam.stages import NAMESPACE
from curate.runners.beam.worker import COMMAND


def unknown_options(beam_args: list[str]) -> list[str]:
    """The flags among `beam_args` that no Beam pipeline option defines: typos, or curate
    options given where Beam's go. Beam itself would only log them and run on."""
    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(cls): cls for cls in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(beam_args)
    return [arg.split("=", 1)[0] for arg in unknown if arg.startswith("-")]


def pipeline_options(beam_args: list[str], workers: int) -> PipelineOptions:
    # Local workers are chatty: only their errors, unless the Beam arguments say otherwise.
    # A keyword, not a flag: Beam parses the flags again each time a transform reads its
    # options (over a thousand times for one graph: about 0.1 s more with one flag).
    quiet = {"default_sdk_harness_log_level": "ERROR"}
    if any(arg.startswith("--default_sdk_harness_log_level") for arg in beam_args):
        quiet = {}
    options = PipelineOptions(beam_args, save_main_session=False, **quiet)
    if not names_runner(beam_args):
        direct = options.view_as(DirectOptions)
        direct.direct_num_workers = workers
        # One worker runs in this process. More are processes that `local_runner` names; no
        # running mode, or FnApiRunner would put Beam's own worker command in their place.
        direct.direct_running_mode = "in_memory" if workers == 1 else None
    return options


def local_runner(workers: int) -> FnApiRunner:
    """Beam's FnApiRunner; with more than one worker, they run `curate.runners.beam.worker`."""
    if workers == 1:
        return FnApiRunner()
    return FnApiRunner(default_environment=SubprocessSDKEnvironment.from_command_string(COMMAND))


def run_graph(
    build: Callable[[beam.Pipeline, str | None], None],
    beam_args: list[str] | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Build the graph with `build(pipeline, progress_dir)`, run it, and gather counters.

    `progress(done)` is called about twice a second on local runs with the number of finished
    documents.
    """
    beam_args = list(beam_args or [])
    local = not names_runner(beam_args)
    options = pipeline_options(beam_args, workers)
    progress_dir = tempfile.mkdtemp(prefix="curate-progress-") if local and progress else None
    started = time.monotonic()
    try:
        pipeline = (
            beam.Pipeline(runner=local_runner(workers), options=options)
            if local
            else beam.Pipeline(options=options)
        )
        build(pipeline, progress_dir)
        result = _run_with_progress(pipeline, progress, progress_dir)
    except KeyboardInterrupt:
        if local:
            stop_local_workers()
        raise
    finally:
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
    report = RunReport(seconds=time.monotonic() - started, runner=type(pipeline.runner).__name__)
    report.counters = collect_counters(result)
    return report


def stop_local_workers(grace_s: float = 5.0) -> None:
    """Stop the worker processes FnApiRunner started (after Ctrl-C), so that none writes into
    the output while the job cleans up, and none outlives it."""
    import psutil

    workers = [
        child
        for child in psutil.Process().children(recursive=True)
        if "curate.runners.beam.worker" in " ".join(_cmdline(child))
    ]
    for worker in workers:
        worker.terminate()
    _, alive = psutil.wait_procs(workers, timeout=grace_s)
    for worker in alive:
        worker.kill()


def _cmdline(process) -> list[str]:
    try:
        return process.cmdline()
    except Exception:  # gone, or not ours to read
        return []


def run_beam(
    plan: Plan,
    beam_args: list[str] | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Run the plan's graph on Beam (FnApiRunner with `workers` local processes unless the
    Beam arguments name a runner)."""
    from curate.runners.beam.graph import build

    return run_graph(
        lambda p, progress_dir: build(p, plan, progress_dir), beam_args, workers, progress
    )


def _run_with_progress(pipeline, progress, progress_dir):
    if not progress_dir:
        result = pipeline.run()
        result.wait_until_finish()
        return result
    outcome: dict = {}

    def target():
        try:
            outcome["result"] = pipeline.run()
            outcome["result"].wait_until_finish()
        except BaseException as err:  # re-raised in the caller's thread
            outcome["error"] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    while worker.is_alive():
        progress(count_done(progress_dir))
        worker.join(0.5)
    progress(count_done(progress_dir))
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def collect_counters(result) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    try:
        counters = result.metrics().query()["counters"]
    except Exception:  # some runners report no metrics
        return {}
    for counter in counters:
        if counter.key.metric.namespace != NAMESPACE:  # Beam's own (RunInference) counters
            continue
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] += int(value or 0)
    return dict(sorted(totals.items()))
