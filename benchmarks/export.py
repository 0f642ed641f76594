"""Export throughput and memory: samples/s per format, and peak RSS for N vs 4N samples.

    .venv/bin/python benchmarks/export.py [--samples 200] [--formats hf,llava,leopard]

The dataset is the examples' samples repeated under new ids (real rendered pages, ~100 KB
images). Each export is its own `curate export` process; peak RSS is sampled over it. Exports
stream, so peak RSS for 4N samples should stay near that for N (ratio near 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from measure import run_with_peak_rss

ROOT = Path(__file__).resolve().parents[1]
CURATE = [sys.executable, "-m", "curate.cli"]


def make_dataset(folder: Path, count: int) -> None:
    from curate.outputs.export import read_samples
    from curate.schemas import SAMPLE_SCHEMA, sample_to_row

    base = folder / "base"
    subprocess.run(
        [*CURATE, "run", str(ROOT / "examples"), "-o", str(base), "--no-progress"],
        check=True,
        capture_output=True,
    )
    seeds = list(read_samples(str(base)))
    out = folder / f"n{count}"
    (out / "data").mkdir(parents=True)
    with pq.ParquetWriter(out / "data" / "train-00000-of-00001.parquet", SAMPLE_SCHEMA) as writer:
        for start in range(0, count, 16):
            batch = []
            for i in range(start, min(count, start + 16)):
                seed = seeds[i % len(seeds)]
                batch.append(
                    sample_to_row(
                        replace(
                            seed,
                            sample_id=f"{seed.sample_id}{i:06d}",
                            images=[
                                replace(image, path=f"{i:06d}-{image.path}")
                                for image in seed.images
                            ],
                        )
                    )
                )
            writer.write_table(pa.Table.from_pylist(batch, schema=SAMPLE_SCHEMA))
    manifest = json.loads((base / "manifest.json").read_text())
    manifest["counts"]["samples"] = count
    (out / "manifest.json").write_text(json.dumps(manifest))


def export(dataset: Path, target: Path, fmt: str) -> tuple[float, float]:
    """(seconds, peak RSS MB)."""
    return run_with_peak_rss(
        [*CURATE, "export", str(dataset), "-f", fmt, "-o", str(target)], interval_s=0.05
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--formats", default="hf,llava,messages,cauldron,leopard,llavar2,demon")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in (args.samples, 4 * args.samples):
            make_dataset(folder, n)
        print(
            f"{'format':<12} {'N':>5} {'samples/s':>10} {'peak MB':>8} {'4N samples/s':>13} "
            f"{'peak MB':>8} {'RSS 4N/N':>9}"
        )
        for fmt in args.formats.split(","):
            small = export(folder / f"n{args.samples}", folder / f"out-{fmt}-1", fmt)
            large = export(folder / f"n{4 * args.samples}", folder / f"out-{fmt}-4", fmt)
            print(
                f"{fmt:<12} {args.samples:>5} {args.samples / small[0]:>10.1f} {small[1]:>8.0f} "
                f"{4 * args.samples / large[0]:>13.1f} {large[1]:>8.0f} {large[1] / small[1]:>9.2f}"
            )


if __name__ == "__main__":
    main()
