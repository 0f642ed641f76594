"""Running a job from Python: the one entry point the CLI, notebooks and scripts share.

    job = plan_job("run", Inputs(("docs/",)), "out/", load_config("curate.yaml"))
    result = run_job(job)                  # Apache Beam (FnApiRunner, or --runner ...)
    result = run_job(job, runner="local")  # the same output, in this process, without Beam
    result.exit_code, result.problems      # the job's verdict on itself

The same config gives the same output, and the same verdict, whichever way the job is started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from curate.core.checkpoint import CHECKPOINT_FOLDER
from curate.core.config import ConfigError, PipelineConfig
from curate.io import storage
from curate.outputs.writers.claim import claim_output
from curate.outputs.writers.guard import check_not_an_input, check_output_folder
from curate.outputs.writers.manifest import MANIFEST_NAME, RunReport, read_manifest
from curate.plan import Inputs, Job, LlavaJson, build_plan, names_runner, plan_job, serve
from curate.runners.local import run_local
from curate.schemas.reasons import FailureReason, SampleDropReason, ScoreNote
from curate.stages.filters.select import FilterSamples
from curate.stages.sources import SUPPORTED_EXTENSIONS

__all__ = ["Inputs", "Job", "JobResult", "plan_job", "run_job"]


@dataclass
class JobResult:
    """A finished job: what its stages counted, the manifest it wrote, the config it ran
    with, and what went wrong enough that the job failed (one line each)."""

    report: RunReport
    manifest: dict[str, Any]
    config: PipelineConfig
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    @property
    def counters(self) -> dict[str, int]:
        return self.report.counters


def run_job(
    job: Job,
    runner: Literal["beam", "local"] = "beam",
    beam_args: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    overwrite: bool = False,
) -> JobResult:
    """Run the job with its services beside it, write its output, and judge it; raises
    ConfigError when the inputs held no document. `progress(done)` is called as documents
    finish.

    The output may not be an input, and may hold only curate's output of the same kind
    (`overwrite`: or of another kind), which is all a run replaces (writers/guard.py). It is
    locked for the run and written through a staging folder: it holds either the previous
    complete results or this run's, never a mix (writers/claim.py). Documents that a killed
    run into the same output had rendered are not rendered again (core/checkpoint.py)."""
    if names_runner(beam_args):  # the workers run elsewhere: they cannot reach this machine
        job = replace(job, remote=True)
    read = [*job.inputs, *([job.source.image_folder] if isinstance(job.source, LlavaJson) else [])]
    check_not_an_input(job.output, read, documents=isinstance(job.source, Inputs))
    check_output_folder(job.output, MANIFEST_NAME, job.output_kind, overwrite)
    with claim_output(job.output) as staging:
        # the LLM cache is kept in the output itself, not staged: it outlives a killed run
        with serve(job, cache_root=job.output) as runtime:
            plan = build_plan(job, staging, runtime, runner)
            try:
                if runner == "local":
                    report = run_local(plan, progress)
                else:
                    from curate.runners.beam.launch import run_beam  # Beam only when it runs

                    report = run_beam(plan, list(beam_args), job.workers, progress)
            finally:  # also after Ctrl-C, while workers may still be writing: never raise
                for folder in plan.scratch:
                    try:
                        storage.remove(folder)
                    except OSError:  # left for the claim's staging clean-up
                        pass
        manifest = read_manifest(staging)
        if isinstance(job.source, Inputs) and not manifest["counts"].get("documents"):
            kinds = ", ".join(sorted(SUPPORTED_EXTENSIONS))
            raise ConfigError(f"no documents ({kinds}) found in: {' '.join(job.source.uris)}")
    # committed: what an interrupted run left for resuming is no longer needed
    storage.remove(storage.join(job.output, CHECKPOINT_FOLDER))
    return JobResult(report, manifest, job.config, judge(job, manifest, report.counters))


def judge(job: Job, manifest: dict[str, Any], counters: dict[str, int]) -> list[str]:
    """Why the job failed, if it did: everything it wrote stays, and each line says what to do.

    - its LLM endpoint stopped answering (samples failed as llm_unavailable);
    - more of its items failed than `run.max_failure_rate`;
    - a metric it scored could not be computed for any sample;
    - it filtered on a metric no sample has a score for;
    - otherwise, it kept nothing.
    """
    problems = []
    config = job.config
    rate, most = manifest.get("failure_rate", 0.0), config.run.max_failure_rate
    unanswered = manifest.get("failures_by_reason", {}).get(FailureReason.LLM_UNAVAILABLE, 0)
    if unanswered:  # one line that says what to check, in place of the failure rate's
        llm = config.generator.llm
        where = llm.base_url or "the embedded SmolLM2 server"
        problems.append(
            f"The LLM endpoint {where} did not answer: {unanswered} samples failed as "
            f"llm_unavailable (see {job.output}/dead_letter/). Check that it is up and serves "
            f"{llm.model or 'the model'} (GET {where.rstrip('/')}/models lists what it serves), "
            "or raise llm.first_byte_timeout_s if it is only slow; then run again into the same "
            "output: finished samples come from the cache."
        )
    elif rate > most:
        reasons = ", ".join(f"{k}: {v}" for k, v in manifest.get("failures_by_reason", {}).items())
        problems.append(
            f"{rate:.0%} of the job's items failed ({reasons}), more than --max-failure-rate "
            f"{most:g}. Everything was written to {job.output}; see its dead_letter/ for each "
            "reason, fix the cause and run again (finished LLM calls are cached)."
        )
    for metric in config.scoring.metrics:
        scored = counters.get(f"samples.scored.{metric}", 0)
        unscored = counters.get(f"samples.unscored.{metric}", 0)
        if unscored and not scored:
            notes = {
                k.removeprefix("samples.note."): v
                for k, v in counters.items()
                if k.startswith("samples.note.")
            }
            why = "; ".join(f"{_note_text(note)} ({n} samples)" for note, n in notes.items())
            problems.append(
                f"{metric} could not be computed for any of the {unscored} samples. "
                f"{why or 'See the scores.note column.'}"
            )
    metric = config.filter.metric
    missing = counters.get(f"dropped.{SampleDropReason.SCORE_MISSING}", 0)
    reached = counters.get("filter.kept", 0) + sum(
        counters.get(f"dropped.{reason}", 0) for reason in FilterSamples.emits
    )
    if metric and missing and missing == reached and not config.scoring.metrics:
        problems.append(
            f"none of the {missing} samples has a {metric} score to filter on. Score the "
            f"dataset first (curate score DATA --metric {metric}), or pass --model to score "
            "it as part of the filter."
        )
    if not problems:
        problems += _nothing_kept(job, manifest)
    return problems


def _nothing_kept(job: Job, manifest: dict[str, Any]) -> list[str]:
    """A job that kept nothing failed, whatever the reasons: one line with the main ones."""
    counts = manifest["counts"]
    kept = counts.get("samples", 0) if job.output_kind == "samples" else counts.get("pages", 0)
    if kept:
        return []
    reasons: dict[str, int] = {}
    for section in ("failures_by_reason", "dropped_by_reason", "dropped_pages_by_reason"):
        for reason, count in manifest.get(section, {}).items():
            reasons[reason] = reasons.get(reason, 0) + count
    top = sorted(reasons.items(), key=lambda item: -item[1])[:4]
    why = ", ".join(f"{reason}: {count}" for reason, count in top) or "no reasons recorded"
    generated = job.command in ("run", "generate")  # else the rejections are the input's
    rejected = sum(manifest.get("rejected_qa_by_reason", {}).values()) if generated else 0
    checks = f"; {rejected} generated QA items failed the checks" if rejected else ""
    generator = job.config.generator
    hint = ""
    if rejected and generator.backend == "llm" and not generator.llm.base_url:
        hint = (
            " The embedded SmolLM2-135M is a test model: point --llm-base-url at a stronger "
            "one (vLLM, OpenAI) for data, or use --generator template."
        )
    return [
        f"The job kept no {job.output_kind} ({why}{checks}). See {job.output}/dropped/ and "
        f"dead_letter/ for each item's reason; `curate inspect` shows the first ones.{hint}"
    ]


def _note_text(note: str) -> str:
    known = {str(member): member.description for member in ScoreNote}
    return f"{note}: {known[note]}" if note in known else note
