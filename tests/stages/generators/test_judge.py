"""The optional LLM judge (`--llm-judge MODEL`): each accepted item marked 0-5 on four scales,
stored as scores to filter on, never a drop. The judge is the tests' fake OpenAI-compatible
server (it stands in for a remote paid model): it marks an answer the pages hold correct (5)
and one they do not wrong (0)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from documents import REPO, write_text_pdf
from fake_openai import FakeOpenAI
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import GeneratorOptions, RenderOptions, SampleOptions
from curate.core.stage import Keep
from curate.schemas import PageRecord
from curate.stages.generators.stage import GenerateQA
from curate.stages.samples import assemble_sample
from curate.stages.sources import render_document

runner = CliRunner()


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = write_text_pdf(tmp_path_factory.mktemp("d") / "review.pdf")
    pages = [
        p for p in render_document(str(path), RenderOptions(dpi=72)) if isinstance(p, PageRecord)
    ]
    return assemble_sample(pages[:2], SampleOptions())


def _generate(sample, options):
    stage = GenerateQA(options)
    stage.counted = {}
    stage.bind_counter(lambda name, n: stage.counted.update({name: stage.counted.get(name, 0) + n}))
    stage.setup()
    try:
        ((outcome,),) = stage.process_batch([sample])
        return outcome, stage
    finally:
        stage.teardown()


def test_template_items_are_marked_by_the_judge_and_a_wrong_one_marked_down(fake, sample):
    judge = {"model": "judge-model", "base_url": fake.base_url}
    outcome, _ = _generate(sample, GeneratorOptions(judge=judge))
    assert isinstance(outcome, Keep)
    marked = outcome.item
    assert [t for t in fake.tasks()] == ["judge"]  # one call marks the whole sample
    assert marked.qa and all(q.scores.judge_correctness == 5 for q in marked.qa)
    assert all(q.scores.judge == 4.0 for q in marked.qa)  # (5 + 3 + 4 + 4) / 4
    assert marked.scores.judge == 4.0
    assert marked.llm_usage.requests == 1
    listed = fake.requests[0]["messages"][-1]["content"]
    assert all(q.question in listed and q.answer in listed for q in marked.qa)

    # a judge that finds the first item wrong marks it down; the sample's mark is the mean
    def planted(prompt):
        from fake_openai import judged

        marks = judged(prompt)
        marks[0]["correctness"] = 0
        marks[0]["usefulness"] = 1
        return {"marks": marks}

    fake.plant["judge"] = planted
    outcome, _ = _generate(sample, GeneratorOptions(judge=judge))
    qa = outcome.item.qa
    assert qa[0].scores.judge == 2.25 and qa[1].scores.judge == 4.0
    assert outcome.item.scores.judge == pytest.approx(
        round((2.25 + 4.0 * (len(qa) - 1)) / len(qa), 3)
    )


def test_a_failed_judge_drops_nothing_and_leaves_the_sample_unmarked(fake, sample):
    fake.refuse["judge"] = 99
    options = GeneratorOptions(
        judge={"model": "judge-model", "base_url": fake.base_url}, llm={"max_retries": 0}
    )
    outcome, stage = _generate(sample, options)
    assert isinstance(outcome, Keep) and outcome.item.qa
    assert outcome.item.scores.judge is None
    assert all(q.scores.judge is None for q in outcome.item.qa)
    assert stage.counted["judge.unmarked"] == 1 and "judge.marked" not in stage.counted


def test_the_judge_needs_an_endpoint():
    with pytest.raises(ValueError, match="judge needs an endpoint"):
        GeneratorOptions(judge={"model": "gpt-4o"})


def test_curate_run_with_a_judge_then_filter_on_its_marks(fake, tmp_path):
    """The marks are Parquet columns next to the difficulty scores; `curate filter --metric
    judge` keeps by them (no max of 1.0: marks run 0-5)."""
    out, kept = tmp_path / "out", tmp_path / "kept"
    args = [
        "run",
        str(REPO / "examples" / "alpine-field-guide.pdf"),
        "-o",
        str(out),
        "--no-progress",
        "--llm-judge",
        "judge-model",
        "--llm-judge-url",
        fake.base_url,
    ]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / "data").to_pylist()
    assert rows and all(row["scores"]["judge"] == 4.0 for row in rows)
    assert all(q["scores"]["judge_correctness"] == 5 for row in rows for q in row["qa"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["generator"]["judge"]["model"] == "judge-model"
    assert manifest["llm"]["requests"] == len(rows)  # the judge's calls are spend too
    calls = len(fake.requests)
    again = runner.invoke(app, [*args, "--overwrite"], catch_exceptions=False)
    assert again.exit_code == 0 and len(fake.requests) == calls  # its replies are cached
    assert [r["scores"]["judge"] for r in pq.read_table(out / "data").to_pylist()] == [4.0] * len(
        rows
    )

    result = runner.invoke(
        app,
        ["filter", str(out), "-o", str(kept), "--metric", "judge", "--min", "4.5", "--keep-all"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1 and "kept no samples" in result.output  # all below 4.5
    dropped = pq.read_table(kept / "dropped").to_pylist()
    assert len(dropped) == len(rows) and {r["drop_reason"] for r in dropped} == {"score_below_min"}
    result = runner.invoke(
        app,
        ["filter", str(out), "-o", str(tmp_path / "all"), "--metric", "judge", "--keep-all"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert len(pq.read_table(tmp_path / "all" / "data")) == len(rows)  # 4.0 > 1.0 is kept


def test_filtering_on_judge_marks_needs_a_judge(tmp_path):
    result = runner.invoke(
        app,
        ["run", str(REPO / "examples" / "alpine-field-guide.pdf"), "-o", str(tmp_path / "o"),
         "--filter", "judge"],
    )  # fmt: skip
    assert result.exit_code != 0 and "--llm-judge MODEL" in result.output
