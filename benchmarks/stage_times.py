"""Where a Beam job's wall clock goes: seconds per fused stage, with 1 and 2 workers.

    .venv/bin/python benchmarks/stage_times.py [--command render] [--copies 40]

Runs the job in this process on the FnApiRunner (as `curate render`/`curate run` do) over
copies of examples/, and times each bundle the runner executes. Prints, per worker count, the
total, the time inside bundles, and the slowest fused stages, named by their first and last
transforms. With 2 workers, the first bundles include starting the worker processes.

This wraps a private method of Beam's FnApiRunner (`_execute_bundle`), so it is a diagnostic,
not a figure to compare across Beam versions.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from apache_beam.runners.portability.fn_api_runner import fn_runner
from render import corpus

from curate.core.config import PipelineConfig
from curate.jobs import Inputs, plan_job, run_job

_BUNDLES: list[tuple[float, str]] = []
_execute_bundle = fn_runner.FnApiRunner._execute_bundle


def _timed_bundle(self, context, bundle_manager, *args, **kwargs):
    started = time.perf_counter()
    try:
        return _execute_bundle(self, context, bundle_manager, *args, **kwargs)
    finally:
        _BUNDLES.append((time.perf_counter() - started, bundle_manager.stage.name))


def short_name(stage: str) -> str:
    """A fused stage's name, '((a)+(b))+(c)', as 'a .. c' with Beam's ref_ prefixes dropped."""
    parts = [p for p in re.split(r"[()+]+", stage) if p]
    parts = [re.sub(r"^ref_(AppliedPTransform|PCollection)_", "", p) for p in parts]
    return parts[0] if len(parts) == 1 else f"{parts[0]} .. {parts[-1]} ({len(parts)} steps)"


def timed_job(command: str, paths: list[Path], workers: int, output: Path) -> None:
    _BUNDLES.clear()
    job = plan_job(command, Inputs(tuple(map(str, paths))), str(output), PipelineConfig(), workers)
    started = time.perf_counter()
    pages = run_job(job).counters.get("pages", 0)
    total = time.perf_counter() - started
    inside = sum(seconds for seconds, _ in _BUNDLES)
    print(
        f"workers={workers} pages={pages} total_s={total:.2f} in_bundles_s={inside:.2f} "
        f"outside_s={total - inside:.2f} bundles={len(_BUNDLES)}"
    )
    by_stage: dict[str, float] = defaultdict(float)
    for seconds, stage in _BUNDLES:
        by_stage[short_name(stage)] += seconds
    for stage, seconds in sorted(by_stage.items(), key=lambda kv: -kv[1])[:6]:
        print(f"  {seconds:6.2f} s  {stage[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--command", choices=["render", "run"], default="render")
    parser.add_argument("--copies", type=int, default=40, help="copies of each example PDF")
    args = parser.parse_args()
    fn_runner.FnApiRunner._execute_bundle = _timed_bundle
    work = Path(tempfile.mkdtemp(prefix="curate-stages-"))
    try:
        (work / "in").mkdir()
        paths = corpus(work / "in", args.copies)
        for workers in (1, 2):
            timed_job(args.command, paths, workers, work / f"out-{workers}")
    finally:
        fn_runner.FnApiRunner._execute_bundle = _execute_bundle
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
