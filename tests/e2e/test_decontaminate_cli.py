"""`curate decontaminate` and `curate run --against` through the CLI: Beam and the local runner
drop the same samples, `--mark-only` keeps them with their matches, and the manifest counts
matches by benchmark and kind."""

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pymupdf
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli import app
from curate.schemas.reasons import SampleDropReason

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def curate(*args, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory, samples_by_id) -> Path:
    """Page 1 of the northwind report, re-rendered and re-compressed, and one question of the
    alpine guide copied from curate's output, in a LLaVA JSON."""
    folder = tmp_path_factory.mktemp("bench")
    page = pymupdf.open(REPO / "examples" / "northwind-quarterly-report.pdf")[0]
    pixmap = page.get_pixmap(dpi=120)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples).save(
        buffer, "JPEG", quality=50
    )
    (folder / "northwind-1.jpg").write_bytes(buffer.getvalue())
    alpine = next(s for s in samples_by_id.values() if "alpine" in s.source_uri)
    qa = next(q for q in alpine.qa if q.kind == "extractive")
    records = [
        {"id": "page", "image": "northwind-1.jpg", "conversations": []},
        {
            "id": "question",
            "conversations": [
                {"from": "human", "value": qa.question.upper()},
                {"from": "gpt", "value": qa.answer + "!"},
            ],
        },
    ]
    (folder / "bench.json").write_text(json.dumps(records))
    return folder / "bench.json"


def rows(folder: Path) -> list[dict]:
    files = sorted(folder.glob("*.parquet"))
    return [row for file in files for row in pq.read_table(file).to_pylist()]


def test_beam_and_local_drop_the_same_samples_and_mark_only_keeps_them(
    curated_output, benchmark, tmp_path
):
    against = f"ex={benchmark}"
    curate("decontaminate", curated_output, "-o", tmp_path / "beam", "--against", against)
    curate(
        "decontaminate", curated_output, "-o", tmp_path / "local", "--against", against, "--local"
    )
    dropped = {
        name: {r["sample_id"]: r["benchmark_matches"] for r in rows(tmp_path / name / "dropped")}
        for name in ("beam", "local")
    }
    assert dropped["beam"] == dropped["local"]
    kinds = {m["kind"] for matches in dropped["local"].values() for m in matches}
    assert kinds == {"image_near", "qa_ngram"}
    for row in rows(tmp_path / "local" / "dropped"):
        assert row["drop_reason"] == SampleDropReason.BENCHMARK_OVERLAP
        near = [m for m in row["benchmark_matches"] if m["kind"] == "image_near"]
        for match in near:  # the page that matched is page 1 of the northwind report
            assert "northwind" in row["source_uri"] and match["item_id"] == "page"
            assert row["page_indices"][match["image_index"]] == 0
    kept = rows(tmp_path / "local" / "data")
    assert kept and all(not r["benchmark_matches"] for r in kept)
    assert not any(
        "northwind" in r["source_uri"] and 0 in r["page_indices"] for r in kept
    )  # the copy of page 1 is found in every sample that shows it (zz-copy.pdf was deduplicated)
    manifest = json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert manifest["dropped_by_reason"] == {"benchmark_overlap": len(dropped["local"])}
    by_kind = manifest["benchmark_matches"]
    assert set(by_kind) == {"ex/image_near", "ex/qa_ngram"} and by_kind["ex/qa_ngram"] == 1

    curate(
        "decontaminate",
        curated_output,
        "-o",
        tmp_path / "marked",
        "--against",
        against,
        "--mark-only",
        "--local",
    )
    marked = {r["sample_id"]: r["benchmark_matches"] for r in rows(tmp_path / "marked" / "data")}
    assert len(marked) == len(kept) + len(dropped["local"])
    assert {k: v for k, v in marked.items() if v} == dropped["local"]


def test_run_decontaminates_before_scoring_and_reuses_the_index(benchmark, tmp_path):
    pdf = REPO / "examples" / "northwind-quarterly-report.pdf"
    out = tmp_path / "out"
    args = ["run", pdf, "-o", out, "--local", "--no-progress", "--max-images", "1"]
    args += ["--against", f"ex={benchmark}"]
    curate(*args, "--score", "ifd")
    (index,) = (out / "benchmark_index").iterdir()
    built = (index / "meta.json").stat().st_mtime_ns
    (dropped,) = rows(out / "dropped")
    assert dropped["page_indices"] == [0] and dropped["scores"]["ifd"] is None  # not scored
    kept = rows(out / "data")
    assert sorted(r["page_indices"][0] for r in kept) == [1, 2, 3]
    assert all(r["scores"]["ifd"] is not None for r in kept)
    curate(*args)  # into the same output (unscored): the index is found, not built again
    assert (index / "meta.json").stat().st_mtime_ns == built
    curate("decontaminate", out, "-o", tmp_path / "none", code=2)  # no benchmark: one line
