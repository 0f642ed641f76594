"""The two runners execute a plan the same way: the local runner and the real Beam graph
builder write byte-identical shards (kept, dropped and failure rows) and the same manifest
(tallies, reasons, failure rate) for a plan with every kind of stage, items that pass through
stages, drops, and items that reach a failing stage."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image

from curate.core.config import PipelineConfig
from curate.core.stage import (
    BatchStage,
    DatasetStage,
    Drop,
    GroupStage,
    ItemFailed,
    JoinStage,
    Keep,
    Spread,
    Stage,
    Tally,
)
from curate.outputs.writers.manifest import ManifestSpec
from curate.plan import Plan
from curate.runners.beam.launch import run_beam
from curate.runners.local import run_local
from curate.schemas import ImageData, PageRecord
from curate.schemas.folders import SHARDS
from curate.schemas.reasons import FailureReason, PageDropReason

_PNG = io.BytesIO()
Image.new("RGB", (4, 4), "white").save(_PNG, format="PNG")


def page(value: int) -> PageRecord:
    """A page whose number is the value the toy stages work on."""
    return PageRecord(
        page_id=f"p{value:04d}",
        doc_id=f"d{value % 3}",
        source_uri=f"toy://{value}",
        source_sha256="",
        source_type="pdf",
        page_index=value,
        page_count=1,
        render_dpi=72.0,
        width=4,
        height=4,
        image=ImageData(_PNG.getvalue(), f"p{value:04d}.png"),
    )


class Split(Stage):
    """A document (a string) -> its pages; `bad` documents fail after their first page."""

    name = "split"
    accepts = (str,)
    emits = frozenset({FailureReason.PAGE_RENDER_ERROR, FailureReason.DOCUMENT_TIMEOUT})

    def process(self, document: str) -> Iterable:
        kind, *values = document.split(":")
        for index, value in enumerate(int(v) for v in values):
            if kind == "bad" and index == 1:
                yield ItemFailed(FailureReason.PAGE_RENDER_ERROR, f"page {value}", f"p{value:04d}")
                continue
            yield Keep(page(value))
        if kind == "bad":
            raise ItemFailed(FailureReason.DOCUMENT_TIMEOUT, "gave up")


class OnePerLastDigit(JoinStage):
    """Pages with the same last digit are duplicates; the smallest is kept."""

    name = "one_per_digit"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.EXACT_DUPLICATE})

    def key(self, item: PageRecord) -> str:
        return item.page_id

    def summarize(self, item: PageRecord) -> int:
        return item.page_index

    def verdicts(self, summaries):
        summaries = list(summaries)
        smallest: dict[int, int] = {}
        for _, value in summaries:
            smallest[value % 10] = min(smallest.get(value % 10, 10**9), value)
        for key, value in summaries:
            if value != smallest[value % 10]:
                yield key, smallest[value % 10]

    def decide(self, item: PageRecord, kept: int | None) -> Iterable:
        if kept is None:
            yield Keep(item)
        else:
            yield Drop(item, PageDropReason.EXACT_DUPLICATE, f"same digit as {kept}")


class FailOnSeven(BatchStage):
    """Raises on 7: that page's failure row; the batch goes on."""

    name = "fail_on_seven"
    accepts = (PageRecord,)
    emits = frozenset({FailureReason.OCR_ERROR})
    error_reason = FailureReason.OCR_ERROR

    def process_batch(self, items):
        return [
            ValueError("seven") if p.page_index == 7 else [Keep(page(p.page_index * 10))]
            for p in items
        ]


class BlankThirds(Stage):
    name = "blank_thirds"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.BLANK_PAGE})

    def process(self, item: PageRecord) -> Iterable:
        if (item.page_index // 10) % 3 == 0:
            yield Drop(item, PageDropReason.BLANK_PAGE, "a multiple of three")
        else:
            yield Keep(item)


class SumByParity(GroupStage):
    name = "sum_by_parity"
    accepts = (PageRecord,)

    def key(self, item: PageRecord) -> str:
        return "odd" if (item.page_index // 10) % 2 else "even"

    def process_group(self, key: str, items: list[PageRecord]) -> Iterable:
        yield Keep(page(sum(p.page_index for p in items)))


class AboveMean(DatasetStage):
    name = "above_mean"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.LOW_TEXT_DENSITY})

    def summarize(self, item: PageRecord) -> int:
        return item.page_index

    def combine(self, values) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    def decide(self, item: PageRecord, mean: float) -> Iterable:
        if item.page_index >= mean:
            yield Keep(item)
        else:
            yield Drop(item, PageDropReason.LOW_TEXT_DENSITY, f"below {mean:g}")


SEEDS = ["ok:2:3:4", "bad:7:8:12", "ok:14:22:31:6", "ok:17", "bad:5:9"]


def plan(output: Path) -> Plan:
    steps = [
        Split(),
        Spread(),
        Tally("pages", PageRecord),
        OnePerLastDigit(),
        FailOnSeven(),
        BlankThirds(),
        Tally("pages_kept", PageRecord),
        SumByParity(),
        AboveMean(),
    ]
    tallies = ("pages", "pages_kept")
    return Plan(
        output=str(output),
        seeds=SEEDS,
        steps=steps,
        sinks={name: SHARDS[name] for name in ("pages", "dropped_pages", "failures")},
        kept_as="pages",
        manifest=ManifestSpec("pages", PipelineConfig(), tallies, True),
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.parquet"))
    }


def test_the_local_runner_and_the_beam_graph_write_the_same_files(tmp_path):
    local, beam = tmp_path / "local", tmp_path / "beam"
    run_local(plan(local))
    report = run_beam(plan(beam))
    assert _digests(local) == _digests(beam) and _digests(local)
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (local, beam)]
    assert manifests[0] == manifests[1]
    manifest = manifests[0]
    # every path was taken: pages through every kind of stage, drops, and failures
    # 11 pages; 4 duplicates; 7 fails; 30 and 60 blank; 20 + 40 and 310 + 50 summed; 60 < 210
    assert manifest["counts"] == {
        "dropped_pages": 7,
        "failures": 5,
        "pages": 11,
        "pages_kept": 4,
    }
    assert manifest["failures_by_reason"] == {
        "document_timeout": 2,
        "ocr_error": 1,
        "page_render_error": 2,
    }
    assert manifest["dropped_pages_by_reason"] == {
        "blank_page": 2,
        "exact_duplicate": 4,
        "low_text_density": 1,
    }
    kept = pq.read_table(beam / "pages", columns=["page_id"]).column("page_id").to_pylist()
    assert kept == ["p0360"]
    assert report.counters["failures.ocr_error"] == 1  # Beam's counters count the same
