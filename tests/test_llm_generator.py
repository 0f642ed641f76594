"""The llm backend: checks against planted errors (fake server), and end to end on real SmolLM2."""

import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from documents import write_text_pdf
from fake_openai import HALLUCINATION, FakeOpenAI
from typer.testing import CliRunner

from curate.cli import app
from curate.config import GeneratorOptions, LLMOptions, RenderOptions, SampleOptions
from curate.generators.grounding import is_grounded
from curate.generators.llm import generate_llm_qa
from curate.generators.llm_client import LLMCallError, LLMClient
from curate.samples import assemble_sample
from curate.schemas.reasons import FailureReason, RejectReason
from curate.sources import render_document

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = write_text_pdf(tmp_path_factory.mktemp("d") / "review.pdf")
    pages = list(render_document(str(path), RenderOptions(dpi=72)))[:2]
    return assemble_sample(pages, SampleOptions())


def _options(fake, tmp_path=None, **llm) -> GeneratorOptions:
    settings = {
        "base_url": fake.base_url,
        "model": "fake-model",
        "max_retries": 3,
        "timeout_s": 5,
        "structured_output": "json_schema",
        "cache_dir": str(tmp_path) if tmp_path else None,
        **llm,
    }
    return GeneratorOptions(backend="llm", cross_image_questions=3, llm=LLMOptions(**settings))


def _generate(sample, options):
    client = LLMClient(options.llm, options.llm.cache_dir, options.llm.structured_output)
    return generate_llm_qa(sample, client, options)


def test_grounded_answers_are_kept_and_planted_errors_rejected_with_reasons(fake, sample):
    result = _generate(sample, _options(fake))
    assert result.drop_reason is None and result.generator == "llm"
    extractive = [q for q in result.qa if q.kind == "extractive"]
    assert extractive
    for i, item in enumerate(result.qa):
        if item.kind == "extractive":
            assert is_grounded(item.answer, sample.image_texts[item.image_index], 90)
            assert item.evidence in sample.image_texts[item.image_index]
            assert result.qa[i + 1].kind == "self_explain"
            assert item.prompt_version == "extractive.v1"
    rejected = {(q.answer, q.reject_reason) for q in result.rejected_qa}
    assert (HALLUCINATION, RejectReason.UNGROUNDED) in rejected
    assert {q.reject_reason for q in result.rejected_qa} == {
        RejectReason.UNGROUNDED,
        RejectReason.NOT_MULTI_IMAGE,
        RejectReason.DUPLICATE_QUESTION,
    }
    assert all(HALLUCINATION not in t.content for t in result.conversations)
    assert [q.kind for q in result.qa].count("cross_image") == 1
    assert sum(t.content.count("<image>") for t in result.conversations) == 2
    assert result.conversations[0].content == "Describe <image> image 1 in detail."
    usage = result.llm_usage
    assert usage.requests == len(fake.requests) == 5  # 2 captions, 2 extractive, 1 multi-image
    assert (usage.prompt_tokens, usage.completion_tokens) == (500, 100)


def test_429_with_retry_after_is_honoured(fake, sample):
    fake.script = [("status", 429, {"Retry-After": "1"})]
    started = time.monotonic()
    result = _generate(sample, _options(fake))
    assert time.monotonic() - started >= 1.0
    assert result.drop_reason is None and len(fake.requests) == 6  # 5 calls + 1 retry


def test_500_and_a_timeout_are_retried(fake, sample):
    fake.script = [("status", 500), ("sleep", 2)]
    result = _generate(sample, _options(fake, timeout_s=0.5))
    assert result.drop_reason is None and len(fake.requests) == 7


def test_errors_that_persist_become_a_reasoned_failure(fake, sample):
    fake.script = [("status", 503)] * 10
    with pytest.raises(LLMCallError) as err:
        _generate(sample, _options(fake, max_retries=1))
    assert err.value.reason == FailureReason.LLM_ERROR and "503" in str(err.value)


def test_tolerant_parsing_of_llm_replies():
    from curate.generators.llm_client import parse_json_object

    assert parse_json_object('Sure:\n```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_object('{"answer": "two\nlines"}') == {"answer": "two\nlines"}  # raw newline
    cut = '{"qa": [{"q": "x}", "a": "1"}, {"q": "y", "a": "unfinish'
    assert parse_json_object(cut) == {"qa": [{"q": "x}", "a": "1"}]}  # complete items are kept
    with pytest.raises(ValueError):
        parse_json_object("no json here")


def test_malformed_json_gets_a_bounded_retry_then_a_failure(fake, sample):
    fake.script = [("content", "Sure, here you go: not json")]
    result = _generate(sample, _options(fake))
    assert result.drop_reason is None and result.llm_usage.requests == 6
    fake.script = [("content", "still not json")] * 10
    with pytest.raises(LLMCallError) as err:
        _generate(sample, _options(fake, invalid_output_retries=2, cache_dir=None))
    assert err.value.reason == FailureReason.LLM_INVALID_OUTPUT and "3 attempt" in str(err.value)


@pytest.mark.slow
def test_cli_second_run_makes_zero_calls_and_never_writes_the_key(fake, tmp_path):
    secret = "sk-test-never-store-me-123"
    args = [
        "run",
        str(EXAMPLES / "alpine-field-guide.pdf"),
        "-o",
        str(tmp_path / "out"),
        "--no-progress",
        "--generator",
        "llm",
        "--llm-base-url",
        fake.base_url,
        "--llm-model",
        "fake-model",
        "--llm-api-key",
        secret,
    ]
    first = runner.invoke(app, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    calls = len(fake.requests)
    assert calls > 0 and fake.headers[0]["authorization"] == f"Bearer {secret}"
    second = runner.invoke(app, args, catch_exceptions=False)
    assert second.exit_code == 0 and len(fake.requests) == calls  # all answered from the cache
    assert "100% hit rate" in second.output.replace("\n", " ")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["llm"]["cache_hit_rate"] == 1.0 and manifest["llm"]["requests"] == 0
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in first.output + second.output


@pytest.mark.slow
def test_failures_land_in_the_dead_letter_output_and_the_job_finishes(fake, tmp_path):
    fake.script = [("content", "garbage")] * 200
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "run",
            str(EXAMPLES / "alpine-field-guide.pdf"),
            "-o",
            str(out),
            "--no-progress",
            "--generator",
            "llm",
            "--llm-base-url",
            fake.base_url,
            "--llm-model",
            "m",
        ],
    )
    assert result.exit_code == 0, result.output
    (failure,) = pq.read_table(out / "dead_letter").to_pylist()
    assert failure["reason"] == FailureReason.LLM_INVALID_OUTPUT and failure["stage"] == "generate"


@pytest.mark.slow
def test_end_to_end_with_the_embedded_smollm2_server(tmp_path):
    """Real SmolLM2-135M through llama-cpp-python's server, started and stopped by curate."""
    pytest.importorskip("llama_cpp")
    out = tmp_path / "out"
    inputs = [
        str(EXAMPLES / name)
        for name in ("northwind-quarterly-report.pdf", "alpine-field-guide.pdf")
    ]
    result = runner.invoke(
        app,
        ["run", *inputs, "-o", str(out), "--no-progress", "--generator", "llm"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "started the local LLM (SmolLM2-135M-Instruct)" in result.output
    rows = pq.read_table(out / "data").to_pylist()
    assert rows, "at least one sample survives the grounding check"
    grounded = 0
    for row in rows:
        assert (
            row["generator"] == "llm"
            and row["llm_usage"]["requests"] + row["llm_usage"]["cache_hits"] > 0
        )
        for i, qa in enumerate(row["qa"]):
            if qa["kind"] == "extractive":
                assert is_grounded(qa["answer"], row["image_texts"][qa["image_index"]], 90)
                assert row["qa"][i + 1]["kind"] == "self_explain"
                grounded += 1
    assert grounded >= 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["llm"]["requests"] > 0 and manifest["llm"]["completion_tokens"] > 0
