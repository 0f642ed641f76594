"""A user's mistakes: nothing a user owns is ever deleted, and each mistake gets one clear line
and a non-zero exit (issue 34). Each test here failed on the code before its fix."""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from documents import write_text_pdf
from typer.testing import CliRunner

from curate import __version__
from curate.cli import app
from curate.core.registry import EXPORT_FORMATS

runner = CliRunner()


def _curate(*args: str):
    return runner.invoke(app, [*map(str, args)], catch_exceptions=False)


def _digests(folder: Path) -> dict[str, str]:
    """Every file under `folder` -> its content's digest: what must survive a refused job."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _one_clear_line(result, *words: str) -> None:
    """Refused with exit 2 and an `error:` line naming what to do, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    text = " ".join(result.output.split())
    for word in words:
        assert word in text, result.output


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """A small render output (pages) of one PDF."""
    docs = tmp_path_factory.mktemp("docs")
    write_text_pdf(docs / "report.pdf")
    out = tmp_path_factory.mktemp("rendered") / "pages-out"
    result = _curate("render", docs, "-o", out, "--local", "--no-progress", "--dpi", "72")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def generated(rendered, tmp_path_factory) -> Path:
    """Template samples generated from `rendered`."""
    out = tmp_path_factory.mktemp("generated") / "samples-out"
    result = _curate("generate", rendered, "-o", out, "--local")
    assert result.exit_code == 0, result.output
    assert list((out / "data").glob("*.parquet"))
    return out


def test_exporting_into_the_runs_own_folder_is_refused_and_keeps_its_samples(generated, tmp_path):
    """Item 1: `export RUN -o RUN` deleted the run's data/*.parquet, then failed."""
    run = tmp_path / "run"
    shutil.copytree(generated, run)
    before = _digests(run)
    result = _curate("export", run, "-f", "hf", "-o", run)
    _one_clear_line(result, "is or holds the input", "--output outside the inputs")
    assert _digests(run) == before


def test_a_users_folder_with_a_data_subfolder_is_never_emptied(rendered, tmp_path):
    """Item 2: `run ... -o DIR` deleted the user's files in DIR/data/."""
    mine = tmp_path / "mine"
    (mine / "data").mkdir(parents=True)
    (mine / "data" / "thesis.txt").write_text("four years of work")
    (mine / "notes.md").write_text("keep")
    before = _digests(mine)
    result = _curate("generate", rendered, "-o", mine, "--local")
    _one_clear_line(result, "not empty", "was not written by curate", "new or empty folder")
    assert _digests(mine) == before


def test_generating_into_the_input_is_refused_and_keeps_its_pages(rendered, tmp_path):
    """Item 3: `generate X -o X` wiped the input's pages/ and dropped_pages/ (exit 0)."""
    pages = tmp_path / "pages"
    shutil.copytree(rendered, pages)
    before = _digests(pages)
    result = _curate("generate", pages, "-o", pages, "--local")
    _one_clear_line(result, "is or holds the input")
    assert _digests(pages) == before


def test_an_output_inside_an_input_folder_is_refused(tmp_path):
    """Item 4: an output inside the documents' folder was read back as input next time."""
    docs = tmp_path / "docs"
    docs.mkdir()
    write_text_pdf(docs / "report.pdf")
    result = _curate("render", docs, "-o", docs / "out", "--local", "--no-progress")
    _one_clear_line(result, "inside the input folder", "read its files as documents")
    assert not (docs / "out" / "pages").exists()
    assert sorted(p.name for p in docs.iterdir()) == ["report.pdf"]


def test_another_kind_of_curate_output_needs_overwrite(rendered, generated, tmp_path):
    """A render's pages are not replaced by a generate's samples unless --overwrite says so."""
    target = tmp_path / "target"
    shutil.copytree(rendered, target)
    before = _digests(target)
    result = _curate("generate", rendered, "-o", target, "--local")
    _one_clear_line(result, "holds curate's pages, not samples", "--overwrite")
    assert _digests(target) == before
    result = _curate("generate", rendered, "-o", target, "--local", "--overwrite")
    assert result.exit_code == 0, result.output
    assert list((target / "data").glob("*.parquet"))
    assert not (target / "pages").exists()  # the render's results were replaced as a whole


def test_rerunning_into_the_same_output_replaces_it(generated, rendered, tmp_path):
    """The same kind of output is re-run into freely (and resumed from the LLM cache)."""
    again = tmp_path / "again"
    shutil.copytree(generated, again)
    result = _curate("generate", rendered, "-o", again, "--local")
    assert result.exit_code == 0, result.output
    assert _digests(again / "data") == _digests(generated / "data")


def test_a_reused_export_folder_holds_only_the_new_export(generated, tmp_path):
    """Item 5: re-using an export folder left an old format's files beside the new one (an hf
    shard beside llava's data.json, unreferenced images), and --to-hub uploaded them all."""
    folder = tmp_path / "export"
    assert _curate("export", generated, "-f", "hf", "-o", folder).exit_code == 0
    assert list((folder / "data").glob("train-*.parquet"))
    result = _curate("export", generated, "-f", "llava", "-o", folder)
    assert result.exit_code == 0, result.output
    fresh = tmp_path / "fresh"
    assert _curate("export", generated, "-f", "llava", "-o", fresh).exit_code == 0
    assert _digests(folder) == _digests(fresh)  # the same files, nothing of the hf export left


def test_an_export_into_a_users_folder_or_a_run_is_refused(generated, rendered, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "train.json").write_text("[]")
    result = _curate("export", generated, "-f", "llava", "-o", mine)
    _one_clear_line(result, "not empty", "new or empty folder")
    assert (mine / "train.json").read_text() == "[]"
    run = tmp_path / "run"
    shutil.copytree(rendered, run)
    before = _digests(run)
    result = _curate("export", generated, "-f", "llava", "-o", run)
    _one_clear_line(result, "not empty")
    assert _digests(run) == before


# ---------------------------------------------------------------- one line, not a traceback


def test_filter_by_all_metrics_is_one_line(generated, tmp_path):
    """Item 7: `filter --metric all` raised ValueError."""
    result = _curate("filter", generated, "-o", tmp_path / "f", "--metric", "all", "--local")
    _one_clear_line(result, "one metric", "ifd, vfd, mifd, ffd")


@pytest.mark.parametrize("kind", ["folder", "binary"])
def test_a_config_that_is_a_folder_or_binary_is_one_line(kind, rendered, tmp_path):
    """Item 10: `--config` naming a folder or a binary file gave a traceback."""
    if kind == "folder":
        config, words = tmp_path, ("is a folder",)
    else:
        config = tmp_path / "curate.yaml"
        config.write_bytes(bytes(range(256)) * 4)
        words = ("is not text",)
    result = _curate("generate", rendered, "-o", tmp_path / "g", "--config", config, "--local")
    _one_clear_line(result, *words)


@pytest.mark.parametrize(
    "where",
    [
        ["--local", "--max-image", "2"],  # a typo with --local was ignored (exit 0)
        ["--max-image", "2"],  # ... and passed to Beam, which only logs it
    ],
)
def test_a_misspelled_option_is_an_error(where, rendered, tmp_path):
    """Item 12: misspelled flags reached Beam and were ignored."""
    out = tmp_path / "g"
    result = _curate("generate", rendered, "-o", out, *where)
    _one_clear_line(result, "--max-image")
    assert not out.exists()


def test_a_misspelled_option_before_the_inputs_does_not_swallow_them(tmp_path):
    """Item 12: a typo before the inputs swallowed them."""
    docs = tmp_path / "docs"
    docs.mkdir()
    write_text_pdf(docs / "report.pdf")
    result = _curate("run", "--dpii", "72", docs, "-o", tmp_path / "out", "--no-progress")
    _one_clear_line(result, "unknown option --dpii")


def test_an_invalid_duo_layout_is_an_error(generated, tmp_path):
    """Item 13: an invalid `--duo-layout` value was accepted."""
    result = _curate("score", generated, "-o", tmp_path / "s", "--duo-layout", "blocks5")
    _one_clear_line(result, "--duo-layout is auto, blocks4 or none", "blocks5")


def test_a_job_that_keeps_nothing_exits_1_with_its_reasons(tmp_path):
    """Item 14: a job producing 0 samples exited 0 (here: only unsupported files)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("not a document curate reads")
    (docs / "sheet.xlsx").write_bytes(b"PK\x03\x04 not really")
    result = _curate("run", docs, "-o", tmp_path / "out", "--local", "--no-progress")
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "The job kept no samples (unsupported_format: 2)" in text
    assert "dead_letter/" in text


def test_score_leaves_no_scratch_folder(generated, tmp_path):
    """Item 17: `score` and `filter` (on Beam) left an empty `_staging/` folder."""
    out = tmp_path / "s"
    result = _curate("score", generated, "-o", out, "--metric", "ifd")
    assert result.exit_code in (0, 1), result.output
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == [
        "data",
        "dead_letter",
        "dropped",
        "manifest.json",
    ]


def test_install_hints_keep_the_extras_name(caplog):
    """Item 15: `pip install 'curate[aws]'` was printed as `pip install 'curate'`: the
    terminal library read `[aws]` as a style tag."""
    import logging

    from curate.cli.job import show_curate_log
    from curate.cli.options import console

    show_curate_log()
    with console.capture() as captured:
        logging.getLogger("curate.test").warning("install it: pip install 'curate[aws]'")
    assert "pip install 'curate[aws]'" in captured.get()


def test_a_llava_json_with_a_missing_image_scores_the_rest(generated, tmp_path):
    """Item 6: one missing image in a LLaVA JSON crashed `score` (a 206-line traceback)."""
    export = tmp_path / "llava"
    assert _curate("export", generated, "-f", "llava", "-o", export).exit_code == 0
    records = json.loads((export / "data.json").read_text())
    image = records[0]["image"]  # a string for a one-image sample, else a list
    missing = export / "images" / (image if isinstance(image, str) else image[-1])
    missing.unlink()
    out = tmp_path / "scored"
    result = _curate(
        "score", export / "data.json", "--image-folder", export / "images", "-o", out,
        "--metric", "ifd",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pq.read_table(out / "data").num_rows == len(records) - 1
    [failure] = pq.read_table(out / "dead_letter").to_pylist()
    assert failure["reason"] == "file_not_found" and missing.name in failure["detail"]


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("/missing/dir", ("--model /missing/dir: no such folder",)),
        ("someone/not-cached-model", ("not in the local Hugging Face cache", "hf download")),
    ],
)
def test_a_model_that_cannot_be_loaded_is_one_line(model, words, generated, tmp_path):
    """Item 9: `--model <hub id>` offline ended in a 115-line traceback; `--model /missing/dir`
    said "Repo id must be in the form ..."."""
    out = tmp_path / "s"
    result = _curate("score", generated, "-o", out, "--metric", "ifd", "--model", model, "--local")
    _one_clear_line(result, *words)
    assert not out.exists()


def test_an_invalid_hub_repo_id_is_refused_before_exporting(generated, tmp_path):
    """Item 8: an invalid repo id gave a traceback, only after the whole export was written."""
    out = tmp_path / "hf"
    result = _curate("export", generated, "-f", "hf", "-o", out, "--to-hub", "not a repo!")
    _one_clear_line(result, "is not a Hub repo id")
    assert not out.exists()


def test_an_unreachable_hub_is_one_line_and_keeps_the_export(generated, tmp_path, monkeypatch):
    """Item 8: `export --to-hub` without network printed an 80-line traceback."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    out = tmp_path / "hf"
    result = _curate("export", generated, "-f", "hf", "-o", out, "--to-hub", "me/docs")
    _one_clear_line(result, "could not reach the Hub", "upload it later")
    assert list((out / "data").glob("train-*.parquet")) and (out / "README.md").is_file()


def test_a_dry_run_lists_what_would_be_uploaded(generated, tmp_path):
    """Item 8: `--dry-run` prints the files, their sizes and the card, and uploads nothing."""
    out = tmp_path / "llava"
    result = _curate(
        "export", generated, "-f", "llava", "-o", out, "--to-hub", "me/docs", "--dry-run"
    )
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    text = " ".join(result.output.split())
    assert f"would upload {len(files)} files" in text
    for path in files:
        assert f"{path.stat().st_size:,d} {path.relative_to(out)}" in text
    assert ".curate-export.json" not in text


def test_the_scoring_model_is_recorded_and_an_untrained_one_is_warned_about(generated, tmp_path):
    """Item 18: VFD was scored by a vision tower with random weights, with no warning, and
    neither the manifest nor the card said which model scored. Cards held machine paths."""
    from curate.stages.scoring.models import find_default

    if find_default("tiny-idefics3") is None:
        pytest.skip("the offline test model is not built (scripts/make_scoring_models.py)")
    out = tmp_path / "scored"
    result = _curate("score", generated, "-o", out, "--metric", "vfd", "--local")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.count("whose vision tower is untrained") == 1
    model = json.loads((out / "manifest.json").read_text())["run"]["scoring_model"]
    assert model["name"] == "tiny-idefics3" and model["untrained_vision"] is True
    assert len(model["fingerprint"]) == 16
    export = tmp_path / "hf"
    assert _curate("export", out, "-f", "hf", "-o", export).exit_code == 0
    card = (export / "README.md").read_text()
    assert f"Scored with `tiny-idefics3` (fingerprint `{model['fingerprint']}`)" in card
    assert "Its vision tower is untrained" in card
    for machine_path in (str(tmp_path), str(Path.home()), "/tmp/"):
        assert machine_path not in card


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])  # Beam's worker threads, or worker processes
def test_ctrl_c_stops_the_workers_says_what_was_kept_and_exits_130(
    workers, shared_corpus, tmp_path
):
    """Item 11: Ctrl-C on the default runner printed `terminate called without an active
    exception` and exited 134 (or, with worker processes, pages of gRPC tracebacks)."""
    import psutil

    docs = tmp_path / "docs"
    docs.mkdir()
    for pdf in sorted((shared_corpus / "pdf").glob("*.pdf"))[:6]:
        shutil.copy(pdf, docs)
    out = tmp_path / "out"
    started = time.time()
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "curate.cli",
            "run",
            str(docs),
            "-o",
            str(out),
            "--workers",
            workers,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    time.sleep(15)
    assert job.poll() is None, "the job ended before it could be interrupted"
    os.killpg(job.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    output, _ = job.communicate(timeout=120)
    assert job.returncode == 130, output
    assert "Traceback" not in output and "terminate called" not in output, output
    said = " ".join(output.split())
    assert "interrupted:" in said and "holds what it held before this run" in said
    assert "the same command again resumes" in said
    assert not list(out.glob(".curate-staging-*")) and not (out / ".curate.lock").exists()
    assert not (out / "manifest.json").exists()  # nothing half-written landed
    left = [
        p.pid
        for p in psutil.process_iter(["cmdline", "create_time"])
        if p.info["create_time"] >= started
        and "curate.runners.beam.worker" in " ".join(p.info["cmdline"] or [])
    ]
    assert not left, f"worker processes outlived the job: {left}"


# ---------------------------------------------------------------- feedback on long work


def test_version_and_short_help():
    result = _curate("--version")
    assert result.exit_code == 0 and result.output.strip() == f"curate {__version__}"
    for args in (["-h"], ["run", "-h"], ["score", "-h"]):
        result = _curate(*args)
        assert result.exit_code == 0 and "Usage: " in result.output, args


def test_progress_counts_documents_up_front(tmp_path):
    from curate.core.config import load_config
    from curate.plan import Inputs, plan_job, progress_of

    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    write_text_pdf(docs / "a.pdf")
    write_text_pdf(docs / "sub" / "b.pdf")
    (docs / "notes.txt").write_text("an unsupported file is a document that fails")
    job = plan_job("run", Inputs((str(docs),)), str(tmp_path / "out"), load_config())
    spec = progress_of(job)
    assert (spec.stage, spec.unit, spec.total) == ("render", "documents", 3)
    web = plan_job("run", Inputs(("https://example.org/",)), str(tmp_path / "o"), load_config())
    assert progress_of(web).total is None  # a crawl's size is not known up front


@pytest.mark.slow
@pytest.mark.parametrize("where", ["local", "beam"])
def test_score_reports_progress_up_to_its_total(where, generated, tmp_path):
    """`score` and `filter` were silent for minutes: they now count samples scored."""
    from curate.core.config import load_config
    from curate.jobs import plan_job, run_job
    from curate.plan import progress_of
    from curate.stages.sources.datasets import locate

    config = load_config(None, {"scoring.metrics": ["ifd"]})
    job = plan_job("score", locate(str(generated)), str(tmp_path / "s"), config)
    spec = progress_of(job)
    rows = pq.read_table(generated / "data").num_rows
    assert (spec.unit, spec.total) == ("samples scored", rows)
    seen = []
    run_job(job, where, progress=seen.append)
    assert seen and seen[-1] == rows and seen == sorted(seen)


# ---------------------------------------------------------------- resume


@pytest.mark.slow
def test_a_killed_run_resumes_without_rendering_finished_documents_again(shared_corpus, tmp_path):
    """A killed job restarted from zero. Now documents it had rendered are replayed from the
    output's checkpoints, and the result equals an uninterrupted run's, shard for shard."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for pdf in sorted((shared_corpus / "pdf").glob("*.pdf"))[:6]:
        shutil.copy(pdf, docs)
    out, checkpoints = tmp_path / "out", tmp_path / "out" / ".curate-checkpoint"
    job = subprocess.Popen(
        [sys.executable, "-m", "curate.cli", "run", str(docs), "-o", str(out), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and job.poll() is None:
        complete = [p for p in checkpoints.rglob("*") if p.is_file() and "." not in p.name]
        if len(complete) >= 2:
            break
        time.sleep(0.2)
    assert job.poll() is None, "the job ended before it could be killed"
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert not (out / "manifest.json").exists()  # nothing landed: the run did not finish
    finished = len([p for p in checkpoints.rglob("*") if p.is_file() and "." not in p.name])

    resumed = _curate("run", docs, "-o", out, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    said = " ".join(resumed.output.split())
    assert f"resumed: {finished} documents an interrupted run had rendered" in said
    assert not checkpoints.exists()  # committed: nothing left to resume from

    whole = tmp_path / "whole"
    assert _curate("run", docs, "-o", whole, "--no-progress").exit_code == 0
    for folder in ("data", "dropped", "dead_letter", "dropped_pages"):
        assert _digests(out / folder) == _digests(whole / folder), _row_differences(
            out / folder, whole / folder
        )


def _row_differences(left: Path, right: Path) -> list[str]:
    """Which rows and columns of two datasets differ: what a failed comparison shows."""
    rows = zip(pq.read_table(left).to_pylist(), pq.read_table(right).to_pylist(), strict=False)
    return [
        f"row {i} {column}: {str(a[column])[:200]} != {str(b[column])[:200]}"
        for i, (a, b) in enumerate(rows)
        for column in a
        if a[column] != b.get(column)
    ][:10]


# ---------------------------------------------------------------- hub-friendly exports


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS.names()))
def test_every_export_loads_as_its_records_with_load_dataset(fmt, generated, tmp_path):
    """Non-hf exports loaded as an image folder (one `image` column, a row per image): the
    card's `configs:` block now names the records' file for `load_dataset(folder)` and the
    Hub's viewer."""
    from datasets import load_dataset

    from curate.outputs.export import get_exporter

    out = tmp_path / fmt
    assert _curate("export", generated, "-f", fmt, "-o", out).exit_code == 0
    loaded = load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf-cache"))
    spec = get_exporter(fmt).hub_data
    [pattern] = [entry["path"] for entry in spec["data_files"]]
    records = 0
    for file in sorted(out.glob(pattern)):
        if file.suffix == ".parquet":
            records += pq.read_metadata(file).num_rows
        elif file.suffix == ".jsonl":
            records += len(file.read_text().splitlines())
        else:
            data = json.loads(file.read_text())
            records += len(data[spec["field"]] if "field" in spec else data)
    assert records and loaded.num_rows == records and loaded.column_names != ["image"]


def test_one_flag_name_per_thing_with_the_old_names_still_read(rendered, tmp_path):
    """`run --ocr` but `ocr --mode`; `report --to` but `-o` elsewhere: now `--ocr` and `-o`
    everywhere, the old names kept as hidden aliases."""
    new = _curate("ocr", rendered, "-o", tmp_path / "new", "--ocr", "never", "--local")
    old = _curate("ocr", rendered, "-o", tmp_path / "old", "--mode", "never", "--local")
    assert new.exit_code == old.exit_code == 0, new.output + old.output
    assert _digests(tmp_path / "new" / "pages") == _digests(tmp_path / "old" / "pages")
    for command in ("ocr", "report"):
        shown = _curate(command, "-h").output
        assert "--mode" not in shown and "--to " not in shown
    assert "--output" in _curate("report", "-h").output


# ---------------------------------------------------------------- saved webpages


def test_a_saved_webpage_is_rendered_from_disk_without_the_network(tmp_path):
    """A saved `.html` (with its `NAME_files/` folder) was an unsupported file. It is now
    rendered by the job's browser from its own folder only: a request to a server (here one
    on 127.0.0.1 that counts them) or to a file elsewhere on the disk is refused."""
    import http.server
    import threading

    from PIL import Image

    hits = []

    class Count(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = tmp_path / "saved"
    (saved / "harbor_files").mkdir(parents=True)
    Image.new("RGB", (200, 60), (220, 20, 20)).save(saved / "harbor_files" / "banner.png")
    secret = tmp_path / "secret.txt"
    secret.write_text("PRIVATE-NOTE-42")
    (saved / "harbor.html").write_text(
        "<html><body><h1>Harbor Report 2024</h1>"
        '<img src="harbor_files/banner.png" width="200" height="60">'
        "<p>Container throughput rose to 4.2 million TEU, the highest on record.</p>"
        f'<img src="http://127.0.0.1:{server.server_port}/beacon.png">'
        f'<iframe src="file://{secret}"></iframe><iframe src="../secret.txt"></iframe>'
        "</body></html>"
    )
    out = tmp_path / "out"
    try:
        result = _curate("render", saved, "-o", out, "--local", "--no-progress")
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    pages = pq.read_table(out / "pages").to_pylist()
    assert {p["source_uri"] for p in pages} == {str(saved / "harbor.html")}  # not the banner
    text = " ".join(b["text"] for p in pages for b in p["text_blocks"])
    assert "Harbor Report 2024" in text and "4.2 million TEU" in text
    assert "PRIVATE-NOTE-42" not in text
    image = Image.open(io.BytesIO(pages[0]["image"]["bytes"])).convert("RGB")
    red = sum(1 for r, g, b in image.getdata() if r > 200 and g < 60 and b < 60)
    assert red > 5000  # the banner from the page's own folder is in the image
    assert hits == []  # nothing reached the server


# ---------------------------------------------------------------- stable ids


def test_ids_and_questions_do_not_depend_on_where_the_files_sit(tmp_path):
    """Sample ids held the file's absolute path: the same files in another folder gave other
    ids. Ids now come from the content and the path below the input folder."""
    here, there = tmp_path / "here" / "docs", tmp_path / "elsewhere" / "deep" / "docs"
    for folder in (here, there):
        (folder / "sub").mkdir(parents=True)
    write_text_pdf(here / "sub" / "report.pdf")
    shutil.copy(here / "sub" / "report.pdf", there / "sub" / "report.pdf")
    outputs = []
    for folder in (here, there):
        out = folder.parent / "out"
        assert _curate("run", folder, "-o", out, "--local", "--no-progress").exit_code == 0
        outputs.append(out)
    rows = [pq.read_table(out / "data").to_pylist() for out in outputs]
    assert [r["sample_id"] for r in rows[0]] == [r["sample_id"] for r in rows[1]]
    assert [r["qa"] for r in rows[0]] == [r["qa"] for r in rows[1]]
    assert rows[0][0]["source_uri"] != rows[1][0]["source_uri"]  # provenance stays exact
    assert _digests(outputs[0] / "dropped") == _digests(outputs[1] / "dropped")


def test_the_export_docs_say_what_dataset_info_json_holds(generated, tmp_path):
    """Item 16: docs/export.md said the sharegpt `dataset_info.json` sets `media_dir`; it does
    not (media_dir is a training argument). The docs now say where images resolve."""
    out = tmp_path / "sharegpt"
    assert _curate("export", generated, "-f", "sharegpt", "-o", out).exit_code == 0
    entry = json.loads((out / "dataset_info.json").read_text())["curate_sharegpt"]
    docs = " ".join((Path(__file__).parents[2] / "docs" / "export.md").read_text().split())
    said = docs.split("**sharegpt** also writes", 1)[1].split("- **", 1)[0]
    assert "media_dir" not in entry and "does not set `media_dir`" in said
    assert "`media_dir: <export folder>/images`" in said  # where the records' paths resolve
    record = json.loads((out / "data.jsonl").read_text().splitlines()[0])
    assert all((out / "images" / path).is_file() for path in record["images"])
