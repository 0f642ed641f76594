"""An LLM endpoint that hangs or is slow, met with curate's default settings: a silent server
ends the job by itself, a slow one that keeps streaming is waited for."""

import json
import time

import pyarrow.parquet as pq
import pytest
from documents import REPO
from fake_openai import FakeOpenAI
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import LLMOptions
from curate.schemas.reasons import FailureReason
from curate.stages.generators.llm_client import LLMClient, LLMEndpoint

EXAMPLES = REPO / "examples"
runner = CliRunner()


def _run(base_url: str, out) -> tuple[int, str, float]:
    started = time.monotonic()
    result = runner.invoke(
        app,
        [
            "run",
            str(EXAMPLES),
            "-o",
            str(out),
            "--no-progress",
            "--generator",
            "llm",
            "--llm-base-url",
            base_url,
            "--llm-model",
            "m",
        ],
    )
    return result.exit_code, result.output, time.monotonic() - started


@pytest.mark.slow
def test_a_silent_endpoint_ends_the_job_by_itself_and_a_rerun_loses_no_sample(tmp_path, capsys):
    """The server accepts every request and never answers. Default settings: each attempt
    gives up after first_byte_timeout_s (30 s), a timed-out call is tried once more, and five
    failed attempts in a row trip the breaker, which fails the remaining samples at once."""
    out = tmp_path / "out"
    with FakeOpenAI() as dead:
        dead.script = [("silent",)] * 10_000
        code, output, took = _run(dead.base_url, out)
        sent = len(dead.requests)
    with capsys.disabled():
        print(f"\na silent endpoint ended the job in {took:.0f} s after {sent} requests")
    assert took < 300 and 0 < sent <= 4 * 5  # attempts stop once the breaker trips
    assert code == 1, output
    said = " ".join(output.split())
    assert said.count("did not answer") == 1 and f"{dead.base_url} did not answer" in said
    assert "max-failure-rate" not in said  # one line, the one that says what to check
    failures = pq.read_table(out / "dead_letter").to_pylist()
    assert failures and {f["reason"] for f in failures} == {FailureReason.LLM_UNAVAILABLE}
    lost = {f["item_id"] for f in failures}
    assert pq.read_table(out / "data").num_rows == 0

    with FakeOpenAI() as healthy:  # the endpoint is back: every sample comes through
        code, output, _ = _run(healthy.base_url, out)
    assert code == 0, output
    rows = [*pq.read_table(out / "data").to_pylist(), *pq.read_table(out / "dropped").to_pylist()]
    assert {row["sample_id"] for row in rows} >= lost
    assert json.loads((out / "manifest.json").read_text())["failures_by_reason"] == {}


@pytest.mark.slow
def test_a_slow_endpoint_that_keeps_streaming_for_90_s_is_not_cut_off():
    with FakeOpenAI() as slow:
        slow.script = [("stream_over", 90)]
        options = LLMOptions(base_url=slow.base_url, model="m")  # the defaults
        client = LLMClient(options, LLMEndpoint.configured(options))
        started = time.monotonic()
        data, usage = client.complete_json("t.v1", [{"role": "user", "content": "hi"}], {})
    assert time.monotonic() - started >= 89
    assert data == {} and usage.requests == 1 and usage.completion_tokens == 20
