"""Peak memory for one huge PDF: `curate render` on a 100-page and a 1,000-page document.

    .venv/bin/python benchmarks/huge_pdf.py [--pages 100 1000] [--runners beam local]

The PDF repeats the example pages (text, tables, charts) under one file name, so it is one
document with many pages, which is what issue 19 measured (a 5,000-page PDF at 5.2 GB). Each
run is a separate process; peak RSS is summed over its process tree. Bounded memory means the
largest document peaks near the smallest; the target is under 2 GB for any single input.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pymupdf
from measure import run_with_peak_rss

ROOT = Path(__file__).resolve().parents[1]
CURATE = [sys.executable, "-m", "curate.cli"]


def huge_pdf(path: Path, pages: int) -> None:
    examples = [pymupdf.open(p) for p in sorted((ROOT / "examples").glob("*.pdf"))]
    out = pymupdf.open()
    while out.page_count < pages:
        for source in examples:
            take = min(source.page_count, pages - out.page_count)
            out.insert_pdf(source, to_page=take - 1)
    out.save(path, garbage=3, deflate=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runners", nargs="+", default=["beam", "local"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="curate-huge-"))
    try:
        peaks: dict[tuple[str, int], float] = {}
        for pages in args.pages:
            pdf = work / f"huge-{pages}.pdf"
            huge_pdf(pdf, pages)
            for runner in args.runners:
                flags = ["--local"] if runner == "local" else []
                command = [*CURATE, "render", str(pdf), "-o", str(work / "out"), *flags]
                seconds, peak = run_with_peak_rss([*command, "--no-progress"])
                peaks[runner, pages] = peak
                print(
                    f"{runner:<6} pages={pages:<6d} seconds={seconds:7.1f} "
                    f"pages/s={pages / seconds:6.1f} peak_rss_mb={peak:7.0f}",
                    flush=True,
                )
                shutil.rmtree(work / "out", ignore_errors=True)
        small, large = min(args.pages), max(args.pages)
        for runner in args.runners:
            ratio = peaks[runner, large] / peaks[runner, small]
            print(f"{runner}: peak RSS {large} pages / {small} pages = {ratio:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
