"""Local scaling: `curate run` (template generator) with 1 and 2 worker processes, end-to-end
pages/min, and peak memory for N and 4N pages.

    .venv/bin/python benchmarks/scaling.py [--copies 5]

Inputs are copies of examples/ (12 pages a set, distinct file names). Each run is a separate
`curate run` process; peak RSS is sampled over its whole process tree (launcher + workers).
Bounded memory means peak RSS for 4N pages stays near that for N.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from measure import run_with_peak_rss

ROOT = Path(__file__).resolve().parents[1]
CURATE = [sys.executable, "-m", "curate.cli"]


def inputs(folder: Path, copies: int) -> int:
    folder.mkdir(parents=True)
    pages = 0
    for i in range(copies):
        for pdf in sorted((ROOT / "examples").glob("*.pdf")):
            shutil.copy(pdf, folder / f"{pdf.stem}-{i:03d}.pdf")
            pages += {"northwind": 4, "alpine": 3, "bioreactor": 5}[pdf.stem.split("-")[0]]
    return pages


def run(folder: Path, output: Path, workers: int) -> tuple[float, float]:
    """(seconds, peak RSS MB of the process tree: launcher + workers)."""
    return run_with_peak_rss(
        [
            *CURATE,
            "run",
            str(folder),
            "-o",
            str(output),
            "--no-progress",
            "--workers",
            str(workers),
        ],
        interval_s=0.2,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=5, help="N = copies x 12 pages")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="curate-scale-"))
    try:
        n = inputs(work / "n", args.copies)
        four_n = inputs(work / "4n", args.copies * 4)
        results = {}
        for label, folder, pages, workers in (
            ("N, 1 worker", work / "n", n, 1),
            ("4N, 1 worker", work / "4n", four_n, 1),
            ("4N, 2 workers", work / "4n", four_n, 2),
        ):
            seconds, peak = run(folder, work / f"out-{len(results)}", workers)
            results[label] = (pages, seconds, peak)
            print(
                f"{label:<14} pages={pages:<5d} seconds={seconds:6.1f} "
                f"pages/min={pages / seconds * 60:7.1f} "
                f"peak_rss_mb={peak:7.0f}",
                flush=True,
            )
        one, two = results["4N, 1 worker"], results["4N, 2 workers"]
        print(f"speedup 2 workers / 1 worker = {one[1] / two[1]:.2f}")
        print(f"peak RSS 4N / N (1 worker) = {one[2] / results['N, 1 worker'][2]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
