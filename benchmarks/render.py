"""Render throughput: curate's render stage against a bare PyMuPDF render + PNG loop.

    .venv/bin/python benchmarks/render.py [--copies 40] [--dpi 144]

Prints pages/s for
  bare      a plain loop: open each PDF, get_pixmap at the DPI, PNG-encode;
  stage     curate.stages.sources.render_document (the same plus text lines with boxes);
  beam-w1   the `curate render` Beam job with 1 worker (render + Parquet shards + manifest);
  beam-w2   the same with 2 worker processes;
then `ratio=` of beam-w1 pages/s to bare pages/s, last. All on the same pages, in one run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pymupdf

from curate.core.config import PipelineConfig, RenderOptions
from curate.stages.sources import render_document

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def corpus(folder: Path, copies: int) -> list[Path]:
    """`copies` copies of every example PDF, under distinct names (distinct documents to curate)."""
    paths = []
    for i in range(copies):
        for pdf in sorted(EXAMPLES.glob("*.pdf")):
            target = folder / f"{pdf.stem}-{i:03d}.pdf"
            shutil.copy(pdf, target)
            paths.append(target)
    return paths


def bare(paths: list[Path], dpi: float) -> int:
    pages = 0
    for path in paths:
        with pymupdf.open(path) as doc:
            for page in doc:
                page.get_pixmap(dpi=dpi).tobytes("png")
                pages += 1
    return pages


def stage(paths: list[Path], dpi: float) -> int:
    options = RenderOptions(dpi=dpi)
    return sum(
        1 for p in paths for item in render_document(str(p), options) if hasattr(item, "page_id")
    )


def beam_job(paths: list[Path], dpi: float, workers: int, output: Path) -> int:
    from curate.jobs import Inputs, plan_job, run_job

    config = PipelineConfig.model_validate({"render": {"dpi": dpi}})
    job = plan_job("render", Inputs(tuple(str(p) for p in paths)), str(output), config, workers)
    return run_job(job).counters["pages"]


def timed(label: str, fn, *args) -> float:
    started = time.perf_counter()
    pages = fn(*args)
    seconds = time.perf_counter() - started
    rate = pages / seconds
    print(f"{label:<8} pages={pages:<5d} seconds={seconds:7.2f} pages/s={rate:7.2f}", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--copies", type=int, default=40, help="copies of each example PDF (12 pages each set)"
    )
    parser.add_argument("--dpi", type=float, default=144)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="curate-bench-"))
    try:
        (work / "in").mkdir()
        paths = corpus(work / "in", args.copies)
        print(f"{len(paths)} PDFs at {args.dpi:g} DPI")
        bare_rate = timed("bare", bare, paths, args.dpi)
        stage_rate = timed("stage", stage, paths, args.dpi)
        w1 = timed("beam-w1", beam_job, paths, args.dpi, 1, work / "o1")
        w2 = timed("beam-w2", beam_job, paths, args.dpi, 2, work / "o2")
        print(f"stage/bare={stage_rate / bare_rate:.2f} beam-w2/beam-w1={w2 / w1:.2f}")
        print(f"ratio={w1 / bare_rate:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
