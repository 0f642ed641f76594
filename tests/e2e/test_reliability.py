"""Bad inputs are reported, never skipped or crashed on, and a job that mostly failed says so.

Each test here failed before the fix it covers (issue: reliability and security)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from documents import write_text_pdf
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import RenderOptions
from curate.schemas import Failure, PageRecord
from curate.stages.sources import render_document
from curate.stages.sources.inputs import list_inputs

runner = CliRunner()


def _failures(path) -> list[Failure]:
    return [
        item for item in render_document(str(path), RenderOptions()) if isinstance(item, Failure)
    ]


def test_html_saved_as_pdf_is_reported_by_its_content(tmp_path):
    fake = tmp_path / "report.pdf"
    fake.write_text("<!DOCTYPE html><html><body>404 Not Found</body></html>")
    [failure] = _failures(fake)
    assert failure.reason == "wrong_file_type"
    assert "named .pdf but its content is html" in failure.detail


def test_a_truncated_pdf_is_reported_as_truncated(tmp_path):
    whole = write_text_pdf(tmp_path / "whole.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) // 3])
    items = list(render_document(str(cut), RenderOptions()))
    reasons = [i.reason for i in items if isinstance(i, Failure)]
    assert "truncated_document" in reasons or all(isinstance(i, PageRecord) for i in items)
    assert "empty_document" not in reasons
    start = whole.index(b" obj") + 4
    objects_only = tmp_path / "start.pdf"
    objects_only.write_bytes(whole[:start])  # the header and the first object's opening
    assert [f.reason for f in _failures(objects_only)] == ["truncated_document"]


def test_an_unreadable_input_is_a_dead_letter_row(tmp_path):
    folder_named_like_a_pdf = tmp_path / "odd.pdf"
    folder_named_like_a_pdf.mkdir()
    [failure] = _failures(folder_named_like_a_pdf)
    assert failure.reason == "unreadable"
    assert "check permissions" in failure.detail


def test_names_with_glob_characters_and_every_file_in_a_folder_are_kept(tmp_path):
    pdf = write_text_pdf(tmp_path / "report [draft] v2*.pdf")
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "template.otp").write_bytes(b"PK\x03\x04")
    (folder / "notes.txt").write_text("not a document")
    assert list(list_inputs([str(pdf)])) == [str(pdf)]
    listed = sorted(list_inputs([str(folder)]))
    assert [p.rsplit("/", 1)[1] for p in listed] == ["notes.txt", "template.otp"]
    [failure] = _failures(folder / "notes.txt")
    assert failure.reason == "unsupported_format"


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "*.pdf"), "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "matches no file" in result.output


def test_a_job_where_everything_failed_exits_non_zero_after_writing(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.pdf").write_text("<html>not a pdf</html>")
    (inputs / "b.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(inputs), "-o", str(out), "--local"])
    assert result.exit_code == 1, result.output
    assert "max-failure-rate" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failure_rate"] == 1.0
    assert manifest["failures_by_reason"] == {"corrupt_document": 1, "wrong_file_type": 1}
    allowed = ["run", str(inputs), "-o", str(tmp_path / "out2"), "--local"]
    result = runner.invoke(app, [*allowed, "--max-failure-rate", "1"])
    assert result.exit_code == 1  # failures allowed, but a job that kept nothing failed
    assert "kept no samples (corrupt_document: 1, wrong_file_type: 1)" in " ".join(
        result.output.split()
    )
    write_text_pdf(inputs / "good.pdf")
    allowed = ["run", str(inputs), "-o", str(tmp_path / "out3"), "--local"]
    assert runner.invoke(app, [*allowed, "--max-failure-rate", "1"]).exit_code == 0


def _unprivileged() -> list[str]:
    """A command prefix that runs as an unprivileged user (a user namespace), so permission
    bits apply even when the tests run as root."""
    if subprocess.run(["unshare", "--user", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare --user is not available here")
    return ["unshare", "--user"]


def test_unreadable_files_and_subfolders_are_dead_letter_rows_and_the_job_goes_on(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "private").mkdir(parents=True)
    write_text_pdf(inputs / "good.pdf")
    write_text_pdf(inputs / "locked.pdf").chmod(0)
    write_text_pdf(inputs / "private" / "hidden.pdf")
    (inputs / "private").chmod(0)
    out = tmp_path / "out"
    for folder in (tmp_path, inputs, out):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o777)
    command = [*_unprivileged(), sys.executable, "-m", "curate.cli", "run", str(inputs)]
    result = subprocess.run(
        [*command, "-o", str(out), "--local", "--no-progress", "--max-failure-rate", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    failures = pq.read_table(out / "dead_letter").to_pylist()
    assert sorted((Path(f["source_uri"]).name, f["reason"]) for f in failures) == [
        ("locked.pdf", "unreadable"),
        ("private", "unreadable"),
    ]
    assert json.loads((out / "manifest.json").read_text())["counts"]["samples"] >= 1


def test_a_second_run_into_a_locked_output_is_refused(tmp_path):
    pdf = write_text_pdf(tmp_path / "a.pdf")
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(["sleep", "60"])  # a live process holding the lock
    try:
        (out / ".curate.lock").write_text(str(holder.pid))
        result = runner.invoke(app, ["run", str(pdf), "-o", str(out), "--local"])
        assert result.exit_code == 2 and f"pid {holder.pid}" in result.output
        assert not (out / "manifest.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale, and the next run takes it over
    assert runner.invoke(app, ["run", str(pdf), "-o", str(out), "--local"]).exit_code == 0
    assert not (out / ".curate.lock").exists()


def test_a_killed_run_leaves_the_previous_results_whole(tmp_path):
    pdf = write_text_pdf(tmp_path / "a.pdf")
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(pdf), "-o", str(out), "--local"]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["inputs"] == [str(pdf)] and manifest["run"]["finished_at"]
    slow = [str(pdf)] * 1 + [str(write_text_pdf(tmp_path / f"b{i}.pdf")) for i in range(6)]
    job = subprocess.Popen(
        [sys.executable, "-m", "curate.cli", "run", *slow, "-o", str(out), "--local"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".curate-staging-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    job.kill()  # kill -9 while it writes into its staging folder
    job.wait()
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".curate" not in str(p)}
    assert after == before  # the earlier run's results and manifest, untouched
    # the next run clears what the killed one left and commits its own results
    assert runner.invoke(app, ["run", *slow, "-o", str(out), "--local"]).exit_code == 0
    assert not list(out.glob(".curate*"))
    assert json.loads((out / "manifest.json").read_text())["counts"]["documents"] == len(slow)


def test_a_read_only_output_is_refused_before_any_work(tmp_path):
    pdf = write_text_pdf(tmp_path / "a.pdf")
    out = tmp_path / "out"
    out.mkdir()
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        result = runner.invoke(app, ["run", str(pdf), "-o", str(out), "--local"])
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=True)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "is not writable" in said and "Traceback" not in said
