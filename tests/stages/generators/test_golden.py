"""Golden QA files (the docling pattern): the template generator's questions, answers and
follow-ups for examples/ and a few shared-corpus documents are kept under golden/, so a rule
change shows up as a diff a reviewer reads. After a deliberate change:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/stages/generators/test_golden.py

and read `git diff tests/stages/generators/golden/` before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
from conftest import SHARED_CORPUS
from documents import REPO

from curate.core.config import GeneratorOptions, RenderOptions, SampleOptions
from curate.schemas import PageRecord
from curate.stages.generators import generate_qa
from curate.stages.samples import assemble_sample, window_start
from curate.stages.sources import render_document

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = REPO / "examples"
# examples/ and documents of the shared corpus's tuning half (benchmarks/qa_audit.py): never
# its measuring half, which is looked at only through blind samples
DOCUMENTS = {
    "northwind-quarterly-report": EXAMPLES / "northwind-quarterly-report.pdf",
    "alpine-field-guide": EXAMPLES / "alpine-field-guide.pdf",
    "bioreactor-lab-manual": EXAMPLES / "bioreactor-lab-manual.pdf",
    "reliance-annual-report": SHARED_CORPUS / "pdf/report_reliance-annual-2021-22-excerpt.pdf",
    "fbi-nics-table": SHARED_CORPUS / "pdf/table_fbi-nics-background-checks-2015-11.pdf",
    "federal-register": SHARED_CORPUS / "pdf/report_federal-register-2020-17221-faa-ad.pdf",
    "debian-reference-japanese": SHARED_CORPUS / "pdf/manual_developers-reference-japanese.pdf",
    "autogen-deck": SHARED_CORPUS / "slides/autogen-paper-deck.pptx",
    "sample-presentation": SHARED_CORPUS / "slides/sample-presentation-bullets-table.pptx",
}
MAX_PAGES = 12  # the first pages of long documents are enough to show a rule's effect


def golden_of(path: Path) -> list[dict]:
    """Each sample of the document, as `curate run` windows it, with its QA turns."""
    options = RenderOptions(dpi=72, max_pages_per_document=MAX_PAGES)
    pages = [p for p in render_document(str(path), options) if isinstance(p, PageRecord)]
    windows = SampleOptions()
    by_window: dict[int, list[PageRecord]] = {}
    for page in pages:
        by_window.setdefault(window_start(page, windows), []).append(page)
    found = []
    for start in sorted(by_window):
        sample = generate_qa(assemble_sample(by_window[start], windows), GeneratorOptions())
        found.append(
            {
                "pages": [i + 1 for i in sample.page_indices],
                "qa": [[q.kind, q.image_index + 1, q.question, q.answer] for q in sample.qa],
                "rejected": [[q.reject_reason, q.question, q.answer] for q in sample.rejected_qa],
                "dropped": sample.drop_reason,
            }
        )
    return found


def as_text(samples: list[dict]) -> str:
    """JSON with one line per turn, so a diff shows which questions changed."""

    def line(value) -> str:
        return json.dumps(value, ensure_ascii=False)

    parts = []
    for sample in samples:
        head = f' {{"pages": {line(sample["pages"])}, "dropped": {line(sample["dropped"])},'
        qa = ",\n".join(f"   {line(turn)}" for turn in sample["qa"])
        rejected = ",\n".join(f"   {line(turn)}" for turn in sample["rejected"])
        parts.append(f'{head}\n  "qa": [\n{qa}\n  ],\n  "rejected": [\n{rejected}\n  ]}}')
    return "[\n" + ",\n".join(parts) + "\n]\n"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_template_qa_matches_its_golden_file(name):
    path = DOCUMENTS[name]
    if not path.exists():
        pytest.skip(f"{path} is not present")
    produced = as_text(golden_of(path))
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(produced)
    expected = golden.read_text() if golden.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(True), produced.splitlines(True), str(golden), "produced", n=1
        )
    )
    assert not diff, f"the template's QA changed; review, then UPDATE_GOLDEN=1:\n{diff[:6000]}"
