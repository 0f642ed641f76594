"""End to end: real Beam jobs through the CLI, on real PDFs, read back with pyarrow and datasets."""

import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from documents import (
    write_bad_inputs,
    write_image_only_pdf,
    write_scan_pdf,
    write_table_pdf,
    write_text_pdf,
)
from typer.testing import CliRunner

from curate.cli import app
from curate.schemas import SCHEMA_VERSION
from curate.schemas.reasons import FailureReason, PageDropReason

pytestmark = pytest.mark.slow
runner = CliRunner()


def curate(*args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_text_pdf(folder / "review.pdf")
    write_text_pdf(folder / "zz-review-copy.pdf")  # the same document again: exact duplicates
    write_table_pdf(folder / "fleet.pdf")
    write_scan_pdf(folder / "scan.pdf")  # 3 pictures of text: read by OCR
    write_image_only_pdf(folder / "blank.pdf", pages=2)  # blank pictures: dropped before OCR
    write_bad_inputs(folder / "bad")
    (folder / "bad" / "notes.txt").write_text("not a document")  # listed: unsupported_format
    return folder


@pytest.fixture(scope="module")
def run_output(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    curate("run", corpus, "--output", out, "--no-progress", "--dpi", "72")
    return out


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


def test_run_writes_samples_drops_and_dead_letters_with_a_manifest(run_output):
    manifest = json.loads((run_output / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["kind"] == "samples"
    counts = manifest["counts"]
    assert counts["documents"] == 9  # 5 readable + encrypted + corrupt + zero pages + notes.txt
    assert counts["pages"] == 5 + 5 + 1 + 3 + 2
    assert manifest["dropped_pages_by_reason"] == {
        PageDropReason.EXACT_DUPLICATE: 5,
        PageDropReason.BLANK_PAGE: 2,
    }
    assert counts["pages_kept"] == 16 - 7
    dropped_pages = pq.read_table(run_output / "dropped_pages").to_pylist()
    copies = [p for p in dropped_pages if p["drop_reason"] == PageDropReason.EXACT_DUPLICATE]
    assert {Path(p["source_uri"]).name for p in copies} == {"zz-review-copy.pdf"}
    kept_ids = {i for r in pq.read_table(run_output / "data").to_pylist() for i in r["page_ids"]}
    assert {p["duplicate_of"] for p in copies} <= kept_ids  # each points at a page that was kept
    assert manifest["failures_by_reason"] == {
        FailureReason.CORRUPT_DOCUMENT: 1,
        FailureReason.EMPTY_DOCUMENT: 1,
        FailureReason.ENCRYPTED_DOCUMENT: 1,
        FailureReason.UNSUPPORTED_FORMAT: 1,
    }
    # fleet.pdf's one page is a single-image sample (samples.min_images defaults to 1)
    assert manifest["dropped_by_reason"] == {}
    data = pq.read_table(run_output / "data").to_pylist()
    # review.pdf: a heading opens every page, so whole sections are packed: 4 + 1; scan.pdf: 3
    assert len(data) == counts["samples"] == 4
    assert sorted(r["num_images"] for r in data) == [1, 1, 3, 4]
    assert pq.read_table(run_output / "dropped").num_rows == 0
    failures = pq.read_table(run_output / "dead_letter").to_pylist()
    assert {Path(f["source_uri"]).name: f["reason"] for f in failures} == {
        "corrupt.pdf": FailureReason.CORRUPT_DOCUMENT,
        "zero-pages.pdf": FailureReason.EMPTY_DOCUMENT,
        "encrypted.pdf": FailureReason.ENCRYPTED_DOCUMENT,
        "notes.txt": FailureReason.UNSUPPORTED_FORMAT,
    }
    for folder, shards in manifest["shards"].items():
        assert sum(s["rows"] for s in shards) == len(pq.read_table(run_output / folder))


def test_datasets_loads_the_output_and_decodes_every_image(run_output):
    ds = datasets.load_dataset(
        "parquet", data_files=str(run_output / "data" / "*.parquet"), split="train"
    )
    assert len(ds) == 4
    for row in ds:
        assert len(row["images"]) == row["num_images"] >= 1
        for image, (width, height) in zip(row["images"], row["image_sizes"], strict=True):
            image.load()
            assert image.size == (width, height)
        for qa in row["qa"]:
            if qa["kind"] == "extractive":
                assert qa["answer"] in row["image_texts"][qa["image_index"]]


def test_scanned_pages_get_ocr_text_and_grounded_qa(run_output):
    (scan,) = [
        r
        for r in pq.read_table(run_output / "data").to_pylist()
        if r["source_uri"].endswith("scan.pdf")
    ]
    blocks = [b for page in scan["image_blocks"] for b in page]
    assert blocks and {b["source"] for b in blocks} == {"ocr"}
    assert "Customs Inspection Log" in scan["image_texts"][0]
    extractive = [q for q in scan["qa"] if q["kind"] == "extractive"]
    assert extractive
    for qa in extractive:
        assert qa["answer"] in scan["image_texts"][qa["image_index"]]


def test_a_second_run_and_a_two_process_run_write_identical_shards(corpus, run_output, tmp_path):
    curate("run", corpus, "--output", tmp_path / "again", "--no-progress", "--dpi", "72")
    assert digests(tmp_path / "again") == digests(run_output)
    curate(
        "run",
        corpus,
        "--output",
        tmp_path / "two",
        "--no-progress",
        "--dpi",
        "72",
        "--workers",
        "2",
    )
    assert digests(tmp_path / "two") == digests(run_output)


def test_two_workers_are_processes_of_curates_worker_and_start_quietly(tmp_path, caplog):
    """`--workers 2` runs curate.runners.beam.worker (Beam's harness, which then exits at once),
    without Beam's warning about a staged main session on every worker start."""
    import os
    import sys

    import apache_beam as beam

    from curate.runners.beam.launch import run_graph

    caplog.set_level(logging.WARNING)

    def build(pipeline, _progress_dir):
        (
            pipeline
            | beam.Create(range(8))
            | beam.Reshuffle()
            | beam.Map(lambda _: f"{os.getpid()} {sys.modules['__main__'].__spec__.name}")
            | beam.io.WriteToText(str(tmp_path / "facts"))
        )

    run_graph(build, workers=2)
    facts = {line for f in tmp_path.glob("facts*") for line in f.read_text().splitlines()}
    assert facts and {fact.split()[1] for fact in facts} == {"curate.runners.beam.worker"}
    assert str(os.getpid()) not in {fact.split()[0] for fact in facts}
    assert "semi_persistent_directory" not in caplog.text


def test_beam_comes_without_its_bigquery_connector_which_stays_importable():
    """`import apache_beam` would import BigQuery's client (0.2 to 0.35 s in the launcher and
    every worker); curate skips it, and a user's own `import` of it still works."""
    code = (
        "import sys, curate.runners.beam; print('google.cloud.bigquery' in sys.modules); "
        "from apache_beam.io.gcp.bigquery import WriteToBigQuery; print(callable(WriteToBigQuery))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "True"]


def test_model_stages_report_memory_without_a_warning_per_bundle():
    """Skipping Beam's model manager must not also cost RunInference its memory readings."""
    code = (
        "import curate.runners.beam; from apache_beam.ml.inference import base; "
        "print(base._get_current_process_memory_in_bytes() > 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["True"] and "Resource module" not in run.stderr


def test_the_local_runner_writes_what_beam_writes(corpus, run_output, tmp_path):
    """The same job through curate/runners/local.py (no Beam): byte-identical shards, the same
    manifest."""
    curate("run", corpus, "--output", tmp_path / "local", "--no-progress", "--dpi", "72", "--local")
    assert digests(tmp_path / "local") == digests(run_output)
    local, with_beam = (
        json.loads((f / "manifest.json").read_text()) for f in (tmp_path / "local", run_output)
    )
    runs = local.pop("run"), with_beam.pop("run")  # when, where and how each was run
    assert [r["runner"] for r in runs] == ["local", "beam"]
    assert runs[0]["inputs"] == runs[1]["inputs"] == [str(corpus)]
    assert runs[0]["started_at"] <= runs[0]["finished_at"] and runs[0]["curate_version"]
    assert (
        local == with_beam
        and local["counts"]["dropped_pages"] > 0
        and local["counts"]["failures"] == 4
    )


def test_render_then_generate_equals_run(corpus, run_output, tmp_path):
    curate("render", corpus, "--output", tmp_path / "pages", "--no-progress", "--dpi", "72")
    pages = pq.read_table(tmp_path / "pages" / "pages")
    assert len(pages) == 9 and pages.schema.metadata[b"curate.kind"] == b"pages"
    curate("generate", tmp_path / "pages", "--output", tmp_path / "gen")
    assert digests(tmp_path / "gen" / "data") == digests(run_output / "data")
    # and regenerating from the samples themselves gives the same conversations again
    curate("generate", tmp_path / "gen", "--output", tmp_path / "regen")
    assert digests(tmp_path / "regen" / "data") == digests(run_output / "data")


def test_render_without_ocr_then_ocr_then_generate_equals_run(corpus, run_output, tmp_path):
    curate(
        "render",
        corpus,
        "--output",
        tmp_path / "raw",
        "--no-progress",
        "--dpi",
        "72",
        "--ocr",
        "never",
    )
    raw = pq.read_table(tmp_path / "raw" / "pages").to_pylist()
    assert {r["text_source"] for r in raw if r["needs_ocr"]} == {"none"}
    curate("ocr", tmp_path / "raw", "--output", tmp_path / "read")
    read = pq.read_table(tmp_path / "read" / "pages").to_pylist()
    assert {r["text_source"] for r in read if r["source_uri"].endswith("scan.pdf")} == {"ocr"}
    curate("generate", tmp_path / "read", "--output", tmp_path / "gen")
    assert digests(tmp_path / "gen" / "data") == digests(run_output / "data")


def test_small_shard_target_gives_a_full_deterministic_set_and_removes_stale_shards(
    corpus, tmp_path
):
    out = tmp_path / "out"
    curate("run", corpus, "--output", out, "--no-progress", "--dpi", "72", "--shard-mb", "100")
    (out / "data" / "train-00007-of-00009.parquet").write_bytes(b"stale")
    big = pq.read_table(out / "data" / "train-00000-of-00001.parquet")
    curate("run", corpus, "--output", out, "--no-progress", "--dpi", "72", "--shard-mb", "0.00001")
    names = sorted(p.name for p in (out / "data").glob("*.parquet"))
    rows = len(big)  # a tiny target gives one shard per row, never more shards than rows
    assert rows > 1 and names == [f"train-{i:05d}-of-{rows:05d}.parquet" for i in range(rows)]
    assert sum(len(pq.read_table(out / "data" / n)) for n in names) == len(big)
    # every output has its own shard count, though one sink writes them all
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    for folder, prefix, rows in (
        ("dead_letter", "failures", counts["failures"]),
        ("dropped_pages", "dropped-pages", counts["dropped_pages"]),
        ("dropped", "dropped", counts["dropped"]),
    ):
        names = sorted(p.name for p in (out / folder).glob("*.parquet"))
        n = max(rows, 1)  # an empty output still gets one (empty) shard
        assert names == [f"{prefix}-{i:05d}-of-{n:05d}.parquet" for i in range(n)], folder
        assert sum(len(pq.read_table(out / folder / name)) for name in names) == rows


def test_inspect_prints_counts_schema_and_a_readable_sample(run_output):
    text = curate("inspect", run_output)
    assert f"schema={SCHEMA_VERSION}" in text
    assert "failures: encrypted_document" in text
    assert "<image>" in text and "assistant" in text
    assert json.loads(curate("inspect", run_output, "--json"))["counts"]["samples"] == 4


def test_local_runs_never_reach_for_prism_and_beam_options_pass_through(corpus, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    out = curate(
        "run",
        corpus / "review.pdf",
        "--output",
        tmp_path / "o",
        "--no-progress",
        "--job_name=curate-test",
        "--direct_num_workers",
        "1",
    )
    assert "FnApiRunner" in out
    logs = caplog.text.lower()
    assert "prism" not in logs and "github" not in logs


def test_bad_flags_and_paths_fail_with_clear_messages(tmp_path):
    result = runner.invoke(
        app, ["run", str(tmp_path), "--output", str(tmp_path / "o"), "--dpi", "-1"]
    )
    assert result.exit_code == 2 and "render.dpi" in result.output
    result = runner.invoke(app, ["run", str(tmp_path), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no documents" in result.output
    result = runner.invoke(app, ["generate", str(tmp_path), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "curate render" in result.output
    doc = write_text_pdf(tmp_path / "doc.pdf")
    result = runner.invoke(
        app, ["run", str(doc), "-o", str(tmp_path / "o"), "--ocr-engine", "paddleocr"]
    )
    assert result.exit_code == 2 and "rapidocr" in result.output
    result = runner.invoke(app, ["inspect", str(tmp_path)])
    assert result.exit_code == 2 and "manifest.json" in result.output
