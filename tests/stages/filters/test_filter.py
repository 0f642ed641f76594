import io
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from documents import REPO, write_text_pdf
from PIL import Image
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import FilterOptions
from curate.schemas import SampleRecord, Scores
from curate.schemas.reasons import SampleDropReason
from curate.stages.filters.select import decide, top_threshold

MODELS = REPO / ".models"
runner = CliRunner()


def _sample(mifd):
    return SampleRecord("s", "d", "/x", "", "pdf", [], [], [], [], [], [], scores=Scores(mifd=mifd))


def test_cherry_style_selection():
    options = FilterOptions(metric="mifd", max=1.0, keep_top=0.3)
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, None]
    eligible = [s for s in scores if s is not None and s <= 1.0]
    cut = top_threshold(eligible, options.keep_top)
    decisions = {s: decide(_sample(s), options, cut) for s in scores}
    assert [s for s, reason in decisions.items() if reason is None] == [
        0.8,
        0.9,
        1.0,
    ]  # top 30% of 10
    assert decisions[1.2] == SampleDropReason.SCORE_ABOVE_MAX
    assert decisions[None] == SampleDropReason.SCORE_MISSING
    assert decisions[0.1] == SampleDropReason.BELOW_TOP_FRACTION
    assert (
        decide(_sample(0.1), FilterOptions(metric="mifd", min=0.2, keep_top=None), None)
        == SampleDropReason.SCORE_BELOW_MIN
    )
    assert top_threshold([], 0.3) is None and top_threshold([0.5], None) is None


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
@pytest.mark.skipif(
    not (MODELS / "tiny-idefics3").is_dir(), reason="run scripts/make_scoring_models.py"
)
def test_score_then_filter_on_curate_output(tmp_path):
    (tmp_path / "in").mkdir()  # a report whose table and labelled values get explained follow-ups
    (tmp_path / "in" / "r.pdf").write_bytes(
        (REPO / "examples/northwind-quarterly-report.pdf").read_bytes()
    )
    _invoke("run", tmp_path / "in", "-o", tmp_path / "out", "--no-progress", "--max-images", "2")
    _invoke("score", tmp_path / "out", "-o", tmp_path / "scored", "--metric", "all")
    rows = pq.read_table(tmp_path / "scored" / "data").to_pylist()
    assert len(rows) == 2
    for row in rows:
        assert all(row["scores"][m] is not None for m in ("ifd", "vfd", "mifd", "ffd"))
        assert row["scores"]["mifd"] == pytest.approx(
            sum(q["scores"]["mifd"] for q in row["qa"]) / len(row["qa"])
        )
    _invoke(
        "filter",
        tmp_path / "scored",
        "-o",
        tmp_path / "kept",
        "--metric",
        "mifd",
        "--max",
        "100",
        "--keep-top",
        "0.5",
    )
    kept = pq.read_table(tmp_path / "kept" / "data").to_pylist()
    dropped = pq.read_table(tmp_path / "kept" / "dropped").to_pylist()
    assert len(kept) == 1 and len(dropped) == 1
    assert dropped[0]["drop_reason"] == SampleDropReason.BELOW_TOP_FRACTION
    assert kept[0]["scores"]["mifd"] >= dropped[0]["scores"]["mifd"]


@pytest.mark.slow
@pytest.mark.skipif(not (MODELS / "smollm2").is_dir(), reason="run scripts/make_scoring_models.py")
def test_filter_an_existing_llava_json_dataset(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.png", "b.png"):
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), "white").save(buffer, format="PNG")
        (images / name).write_bytes(buffer.getvalue())
    records = [
        {
            "id": "good",
            "image": "a.png",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat is the capital of France?"},
                {"from": "gpt", "value": "The capital of France is Paris."},
            ],
        },
        {
            "id": "odd",
            "image": ["a.png", "b.png"],
            "conversations": [
                {"from": "human", "value": "<image>\n<image>\nWhat is the capital of France?"},
                {"from": "gpt", "value": "Bananas are rich in potassium."},
            ],
        },
    ]
    (tmp_path / "data.json").write_text(json.dumps(records))
    # Cherry defaults: IFD > 1 (the question did not help predict the answer) is dropped
    _invoke(
        "filter",
        tmp_path / "data.json",
        "--image-folder",
        images,
        "-o",
        tmp_path / "out",
        "--metric",
        "ifd",
        "--model",
        MODELS / "smollm2",
    )
    kept = pq.read_table(tmp_path / "out" / "data").to_pylist()
    dropped = pq.read_table(tmp_path / "out" / "dropped").to_pylist()
    assert [r["sample_id"] for r in kept] == ["good"] and kept[0]["scores"]["ifd"] < 1
    assert [(r["sample_id"], r["drop_reason"]) for r in dropped] == [
        ("odd", SampleDropReason.SCORE_ABOVE_MAX)
    ]
    assert (
        dropped[0]["num_images"] == 2
        and dropped[0]["qa"][0]["question"] == "What is the capital of France?"
    )


@pytest.mark.slow
@pytest.mark.skipif(not (MODELS / "smollm2").is_dir(), reason="run scripts/make_scoring_models.py")
def test_generate_scores_and_filters_what_its_config_asks_and_the_library_agrees(tmp_path):
    """`curate generate --config` with scoring metrics scores; with only a filter metric it scores
    what the filter needs. `plan_job` + `run_job` with the same config writes the same files."""
    from curate.core.config import load_config
    from curate.jobs import plan_job, run_job
    from curate.stages.sources.datasets import locate

    (tmp_path / "in").mkdir()
    write_text_pdf(tmp_path / "in" / "r.pdf")
    _invoke("render", tmp_path / "in", "-o", tmp_path / "pages", "--no-progress")
    (tmp_path / "scored.yaml").write_text("scoring:\n  metrics: [ifd]\n")
    _invoke(
        "generate", tmp_path / "pages", "-o", tmp_path / "a", "--config", tmp_path / "scored.yaml"
    )
    rows = pq.read_table(tmp_path / "a" / "data").to_pylist()
    assert rows and all(r["scores"]["ifd"] is not None for r in rows)

    (tmp_path / "filtered.yaml").write_text("filter:\n  metric: ifd\n  keep_top: 0.5\n")
    _invoke(
        "generate", tmp_path / "pages", "-o", tmp_path / "b", "--config", tmp_path / "filtered.yaml"
    )
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["counts"]["samples"] >= 1
    assert SampleDropReason.SCORE_MISSING not in manifest["dropped_by_reason"]
    assert manifest["config"]["scoring"]["metrics"] == ["ifd"]

    config = load_config(tmp_path / "filtered.yaml")
    job = plan_job("generate", locate(str(tmp_path / "pages")), str(tmp_path / "c"), config)
    run_job(job, runner="local")
    # batches form differently on the two runners, so scores agree to float noise, not to the bit
    for folder in ("data", "dropped"):
        ours, cli = (
            sorted(pq.read_table(tmp_path / d / folder).to_pylist(), key=lambda r: r["sample_id"])
            for d in ("c", "b")
        )
        assert [(r["sample_id"], r["drop_reason"]) for r in ours] == [
            (r["sample_id"], r["drop_reason"]) for r in cli
        ]
        for a, b in zip(ours, cli, strict=True):
            assert a["scores"]["ifd"] == pytest.approx(b["scores"]["ifd"], abs=1e-5)
            assert a["conversations"] == b["conversations"] and a["images"] == b["images"]


@pytest.mark.parametrize("keep_top", [0.3, 0.05, 1.0])
def test_beam_top_threshold_is_exact_without_gathering_every_score(keep_top):
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from curate.runners.beam.select import TopThreshold
    from curate.stages.filters.select import FilterSamples

    rng = random.Random(7)
    scores = [round(rng.random(), 3) for _ in range(20_000)]  # many ties
    stage = FilterSamples(FilterOptions(metric="ifd", keep_top=keep_top))
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        threshold = pipeline | beam.Create(scores, reshuffle=False) | TopThreshold(stage)
        assert_that(threshold, equal_to([top_threshold(scores, keep_top)]))


def _llavar2_json(tmp_path: Path, records: int = 3) -> tuple[Path, Path]:
    """LLaVAR-2's layout: per image, 4-turn blocks of extractive Q, A, self-explain Q, A."""
    images = tmp_path / "images"
    images.mkdir()
    rows = []
    for i in range(records):
        buffer = io.BytesIO()
        Image.new("RGB", (48, 64), (40 * i, 120, 200)).save(buffer, format="PNG")
        (images / f"p{i}.png").write_bytes(buffer.getvalue())
        turns = [
            ("<image>\nWhat was the cargo volume in 2023?", f"{4 + i}.1 million tonnes."),
            ("Explain how the page supports that answer.", "The table's 2023 row says so."),
            ("Which berth is the busiest?", "North berth."),
            ("Why is that the answer?", "It handles 81% of container traffic."),
        ]
        conversations = [
            {"from": who, "value": text}
            for question, answer in turns
            for who, text in (("human", question), ("gpt", answer))
        ]
        rows.append({"id": f"r{i}", "image": f"p{i}.png", "conversations": conversations})
    path = tmp_path / "llavar2.json"
    path.write_text(json.dumps(rows))
    return path, images


def test_duo_layout_reads_llavar2_blocks_and_leaves_plain_turns_alone():
    from curate.stages.sources.datasets import duo_kinds

    blocks = ["What is the total?", "Explain how you found it.", "Who signed?", "Why is it them?"]
    assert duo_kinds(blocks) == ["extractive", "self_explain"] * 2
    plain = ["What is the total?", "Who signed the report?"]
    assert duo_kinds(plain) == ["turn", "turn"]
    assert duo_kinds(plain, "blocks4") == ["extractive", "self_explain"]
    assert duo_kinds(blocks, "none") == ["turn"] * 4


@pytest.mark.skipif(not (MODELS / "tiny-idefics3").is_dir(), reason="run make_scoring_models.py")
def test_ffd_on_llavar2_json_is_computed_and_a_metric_never_computed_fails_loudly(tmp_path):
    data, images = _llavar2_json(tmp_path)
    model = MODELS / "tiny-idefics3"
    args = ["score", data, "--image-folder", images, "--metric", "ffd", "-m", model, "--local"]
    result = _invoke(*args, "-o", tmp_path / "out")
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert len(rows) == 3 and all(r["scores"]["ffd"] is not None for r in rows)
    said = " ".join(result.replace("│", " ").split())
    assert "samples.scored.ffd 3" in said
    # read as plain turns there is no duo: every sample says why, and the command fails
    plain = runner.invoke(
        app, [str(a) for a in (*args, "--duo-layout", "none", "-o", tmp_path / "plain")]
    )
    assert plain.exit_code == 1, plain.output
    assert "ffd could not be computed" in " ".join(plain.output.split())
    assert "no_duo" in plain.output
    rows = pq.read_table(tmp_path / "plain" / "data").to_pylist()
    assert all(r["scores"]["ffd"] is None and r["scores"]["note"] == "no_duo" for r in rows)


@pytest.mark.skipif(not (MODELS / "tiny-idefics3").is_dir(), reason="run make_scoring_models.py")
def test_default_models_are_found_from_any_working_directory(tmp_path, monkeypatch):
    from curate.stages.scoring import resolve_model

    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(MODELS.resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("CURATE_HOME", str(home))
    monkeypatch.chdir(elsewhere)  # no .models here
    found = Path(resolve_model(None, ["vfd"]))
    assert found.name == "tiny-idefics3" and (found / "config.json").is_file()
    listing = runner.invoke(app, ["models"]).output
    assert "not built" not in listing and "SmolVLM" in listing
    data, images = _llavar2_json(elsewhere, records=1)
    _invoke("score", data, "--image-folder", images, "--metric", "vfd", "-o", "out", "--local")
    (row,) = pq.read_table(elsewhere / "out" / "data").to_pylist()
    assert row["scores"]["vfd"] is not None


@pytest.mark.skipif(not (MODELS / "tiny-idefics3").is_dir(), reason="run make_scoring_models.py")
def test_filter_fails_when_its_metric_is_never_computed_or_never_there(tmp_path):
    """`filter` scores first when given a model: a metric it could not compute for any sample
    fails the command with the reason (it exited 0 when the CLI read a config copy that said
    nothing was scored). Filtering a dataset without the scores fails too, saying how to score."""
    data, images = _llavar2_json(tmp_path)
    args = ["filter", data, "--image-folder", images, "--metric", "ffd", "--duo-layout", "none"]
    result = runner.invoke(
        app,
        [str(a) for a in (*args, "-m", MODELS / "tiny-idefics3", "--local", "-o", tmp_path / "f")],
    )
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 1, said
    assert "ffd could not be computed for any of the 3 samples" in said and "no_duo" in said

    (tmp_path / "in").mkdir()
    write_text_pdf(tmp_path / "in" / "r.pdf")
    _invoke("run", tmp_path / "in", "-o", tmp_path / "run", "--no-progress", "--local")
    unscored = runner.invoke(
        app, [str(a) for a in ("filter", tmp_path / "run", "--metric", "ifd", "-o", tmp_path / "u")]
    )
    said = " ".join(unscored.output.replace("│", " ").split())
    assert unscored.exit_code == 1, said
    assert "has a ifd score to filter on" in said and "curate score DATA --metric ifd" in said
    manifest = json.loads((tmp_path / "u" / "manifest.json").read_text())
    assert manifest["dropped_by_reason"] == {"score_missing": manifest["counts"]["dropped"]}
