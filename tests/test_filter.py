import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli import app
from curate.config import FilterOptions
from curate.filters.select import decide, top_threshold
from curate.schemas import SampleRecord, Scores
from curate.schemas.reasons import SampleDropReason
from documents import write_text_pdf

MODELS = Path(__file__).resolve().parents[1] / ".models"
runner = CliRunner()


def _sample(mifd):
    return SampleRecord("s", "d", "/x", "", "pdf", [], [], [], [], [], [], scores=Scores(mifd=mifd))


def test_cherry_style_selection():
    options = FilterOptions(metric="mifd", max=1.0, keep_top=0.3)
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, None]
    eligible = [s for s in scores if s is not None and s <= 1.0]
    cut = top_threshold(eligible, options.keep_top)
    decisions = {s: decide(_sample(s), options, cut) for s in scores}
    assert [s for s, reason in decisions.items() if reason is None] == [0.8, 0.9, 1.0]  # top 30% of 10
    assert decisions[1.2] == SampleDropReason.SCORE_ABOVE_MAX
    assert decisions[None] == SampleDropReason.SCORE_MISSING
    assert decisions[0.1] == SampleDropReason.BELOW_TOP_FRACTION
    assert decide(_sample(0.1), FilterOptions(metric="mifd", min=0.2, keep_top=None), None) == SampleDropReason.SCORE_BELOW_MIN
    assert top_threshold([], 0.3) is None and top_threshold([0.5], None) is None


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
@pytest.mark.skipif(not (MODELS / "tiny-idefics3").is_dir(), reason="run scripts/make_scoring_models.py")
def test_score_then_filter_on_curate_output(tmp_path):
    (tmp_path / "in").mkdir()
    write_text_pdf(tmp_path / "in" / "r.pdf")
    _invoke("run", tmp_path / "in", "-o", tmp_path / "out", "--no-progress", "--max-images", "3")
    _invoke("score", tmp_path / "out", "-o", tmp_path / "scored", "--metric", "all")
    rows = pq.read_table(tmp_path / "scored" / "data").to_pylist()
    assert len(rows) == 2
    for row in rows:
        assert all(row["scores"][m] is not None for m in ("ifd", "vfd", "mifd", "ffd"))
        assert row["scores"]["mifd"] == pytest.approx(
            sum(q["scores"]["mifd"] for q in row["qa"]) / len(row["qa"]))
    _invoke("filter", tmp_path / "scored", "-o", tmp_path / "kept", "--metric", "mifd", "--max", "100", "--keep-top", "0.5")
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
        {"id": "good", "image": "a.png", "conversations": [
            {"from": "human", "value": "<image>\nWhat is the capital of France?"},
            {"from": "gpt", "value": "The capital of France is Paris."}]},
        {"id": "odd", "image": ["a.png", "b.png"], "conversations": [
            {"from": "human", "value": "<image>\n<image>\nWhat is the capital of France?"},
            {"from": "gpt", "value": "Bananas are rich in potassium."}]},
    ]
    (tmp_path / "data.json").write_text(json.dumps(records))
    # Cherry defaults: IFD > 1 (the question did not help predict the answer) is dropped
    _invoke("filter", tmp_path / "data.json", "--image-folder", images, "-o", tmp_path / "out",
            "--metric", "ifd", "--model", MODELS / "smollm2")
    kept = pq.read_table(tmp_path / "out" / "data").to_pylist()
    dropped = pq.read_table(tmp_path / "out" / "dropped").to_pylist()
    assert [r["sample_id"] for r in kept] == ["good"] and kept[0]["scores"]["ifd"] < 1
    assert [(r["sample_id"], r["drop_reason"]) for r in dropped] == [("odd", SampleDropReason.SCORE_ABOVE_MAX)]
    assert dropped[0]["num_images"] == 2 and dropped[0]["qa"][0]["question"] == "What is the capital of France?"
