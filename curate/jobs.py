"""Running a job from Python: the one entry point the CLI, notebooks and scripts share.

    job = plan_job("run", Inputs(("docs/",)), "out/", load_config("curate.yaml"))
    report = run_job(job)                  # Apache Beam (FnApiRunner, or --runner ...)
    report = run_job(job, runner="local")  # the same output, in this process, without Beam

The same config gives the same output whichever way the job is started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from curate.config import ConfigError
from curate.local import run_local
from curate.plan import Inputs, Job, names_runner, plan_job, serve
from curate.sources import SUPPORTED_EXTENSIONS
from curate.writers.manifest import RunReport, read_manifest

__all__ = ["Inputs", "Job", "plan_job", "run_job"]


def run_job(
    job: Job,
    runner: Literal["beam", "local"] = "beam",
    beam_args: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Run the job with its services beside it, and write its output; raises ConfigError when
    the inputs held no document. `progress(done)` is called as inputs finish (local runs)."""
    remote = names_runner(beam_args)
    with serve(job, remote) as ready:
        if runner == "local":
            report = run_local(ready, progress)
        else:
            from curate.pipelines.launch import run_beam  # Beam is imported only when it runs

            report = run_beam(ready, list(beam_args), progress)
    if isinstance(job.source, Inputs) and not read_manifest(job.output)["counts"].get("documents"):
        kinds = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise ConfigError(f"no documents ({kinds}) found in: {' '.join(job.source.uris)}")
    return report
