"""Bad inputs are reported, never skipped or crashed on, and a job that mostly failed says so.

Each test here failed before the fix it covers (issue: reliability and security)."""

import json

from documents import write_text_pdf
from typer.testing import CliRunner

from curate.cli import app
from curate.config import RenderOptions
from curate.local import list_inputs
from curate.schemas import Failure, PageRecord
from curate.sources import render_document

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
    assert runner.invoke(app, [*allowed, "--max-failure-rate", "1"]).exit_code == 0
