"""The Dataflow job, checked offline: the translated pipeline proto, built with --dry_run.

Dataflow cannot be reached from here; the DataflowRunner's dry run builds the same pipeline
proto it would submit, with no network and no credentials.
"""

import shutil
import subprocess

import pytest
from documents import REPO

from curate.core.config import PipelineConfig

dataflow = pytest.importorskip(
    "apache_beam.runners.dataflow.dataflow_runner", reason="needs apache-beam[gcp]"
)
ROOT = REPO
IMAGE = "us-docker.pkg.dev/my-project/curate/worker:0.1.0"
ACCELERATOR = "type:nvidia-l4;count:1;install-nvidia-driver"


def test_full_job_translates_for_dataflow_with_image_and_gpu_hint():
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from curate.plan import Inputs, Job, Runtime, build_plan
    from curate.runners.beam.graph import build

    options = PipelineOptions(
        [
            "--project=my-project",
            "--region=us-central1",
            "--temp_location=gs://my-bucket/tmp",
            f"--sdk_container_image={IMAGE}",
            "--experiments=use_runner_v2",
            "--no_auth",
            "--dry_run=True",
        ]
    )
    config = PipelineConfig.model_validate(
        {"scoring": {"metrics": ["ifd"], "accelerator": ACCELERATOR}, "filter": {"metric": "ifd"}}
    )
    runner = dataflow.DataflowRunner()
    pipeline = beam.Pipeline(runner, options)
    inputs = Inputs(("gs://my-bucket/in/a.pdf", "gs://my-bucket/in/b.pptx"))
    job = Job("run", inputs, "gs://my-bucket/out", config, scoring_model="smollm2", remote=True)
    build(pipeline, build_plan(job, job.output, Runtime(), "dataflow"))
    pipeline.run()
    proto = runner.proto_pipeline
    names = {t.unique_name for t in proto.components.transforms.values()}
    for expected in (
        "list_inputs/ParDo(_StageFn)",
        "spread_1",
        "render/ParDo(_StageFn)",
        "spread_5",
        "dedup/Verdicts/Buckets",
        "dedup/Join",
        "ocr/ParDo(_StageFn)",
        "samples/Group",
        "generate/Batches/BeamML_RunInference",
        "score/Batches/BeamML_RunInference",
        "filter/Decide",
        "Write/GroupShards",
        "Manifest/WriteManifest",
    ):
        assert any(name == expected or name.startswith(expected + "/") for name in names), expected
    environments = proto.components.environments
    hinted = [e for e in environments.values() if e.resource_hints]
    assert [dict(e.resource_hints) for e in hinted] == [
        {"beam:resources:accelerator:v1": ACCELERATOR.encode()}
    ]
    assert all(IMAGE.encode() in e.payload for e in environments.values())
    scoring = next(
        t
        for t in proto.components.transforms.values()
        if t.unique_name == "score/Batches/BeamML_RunInference"
    )
    assert environments[scoring.environment_id].resource_hints or any(
        environments[proto.components.transforms[s].environment_id].resource_hints
        for s in scoring.subtransforms
        if proto.components.transforms[s].environment_id
    )


@pytest.mark.skipif(
    shutil.which("hadolint") is None and not (ROOT / ".venv/bin/hadolint").exists(),
    reason="hadolint is not installed",
)
def test_worker_dockerfiles_pass_hadolint():
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv/bin/hadolint")
    result = subprocess.run(
        [hadolint, "docker/Dockerfile", "docker/Dockerfile.gpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
