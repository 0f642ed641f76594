"""Running a job from Python: the one entry point the CLI, notebooks and scripts share.

    job = plan_job("run", Inputs(("docs/",)), "out/", load_config("curate.yaml"))
    report = run_job(job)                  # Apache Beam (FnApiRunner, or --runner ...)
    report = run_job(job, runner="local")  # the same output, in this process, without Beam

The same config gives the same output whichever way the job is started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Literal

from curate import __version__
from curate.core.config import ConfigError
from curate.outputs.writers.claim import claim_output
from curate.outputs.writers.manifest import RunReport, read_manifest, write_manifest
from curate.plan import Inputs, Job, names_runner, plan_job, serve
from curate.runners.local import run_local
from curate.stages.sources import SUPPORTED_EXTENSIONS

__all__ = ["Inputs", "Job", "plan_job", "run_job"]


def run_job(
    job: Job,
    runner: Literal["beam", "local"] = "beam",
    beam_args: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Run the job with its services beside it, and write its output; raises ConfigError when
    the inputs held no document. `progress(done)` is called as inputs finish (local runs).

    The output folder is locked for the run and written through a staging folder: it holds
    either the previous complete results or this run's, never a mix (writers/claim.py)."""
    remote = names_runner(beam_args)
    started = _now()
    with claim_output(job.output) as staging:
        staged = replace(job, output=staging)
        # the LLM cache is kept in the output itself, not staged: it outlives a killed run
        with serve(staged, remote, cache_root=job.output) as ready:
            if runner == "local":
                report = run_local(ready, progress)
            else:
                from curate.runners.beam.launch import (
                    run_beam,  # Beam is imported only when it runs
                )

                report = run_beam(ready, list(beam_args), progress)
        manifest = read_manifest(staging)
        if isinstance(job.source, Inputs) and not manifest["counts"].get("documents"):
            kinds = ", ".join(sorted(SUPPORTED_EXTENSIONS))
            raise ConfigError(f"no documents ({kinds}) found in: {' '.join(job.source.uris)}")
        manifest["run"] = {
            "command": job.command,
            "inputs": _inputs_of(job),
            "output": job.output,
            "runner": runner,
            "started_at": started,
            "finished_at": _now(),
            "curate_version": __version__,
        }
        write_manifest(staging, manifest)
    return report


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _inputs_of(job: Job) -> list[str]:
    uris = getattr(job.source, "uris", None)
    if uris is not None:
        return list(uris)
    pattern = getattr(job.source, "pattern", None)
    return [pattern] if pattern else [str(job.source)]
