"""Deduplication cost: hashes/s on page images, and banding's candidate pairs against n^2/2.

    .venv/bin/python benchmarks/dedup.py [--sizes 10000,100000]

For n synthetic 256-bit hashes (uniform random, 5% of them near-copies of another within the
threshold), it counts the candidate pairs banding compares, the reduction against all n^2/2
pairs, and the recall of pairs within the threshold against brute force on the same hashes.
Brute force runs in numpy (XOR + popcount) in blocks.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from curate.config import RenderOptions
from curate.filters.dedup import HASH_BITS, band_keys, perceptual_hash
from curate.sources import render_document

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 24


def hashes_per_second() -> float:
    pages = [
        p
        for pdf in sorted((ROOT / "examples").glob("*.pdf"))
        for p in render_document(str(pdf), RenderOptions())
    ]
    started = time.perf_counter()
    for page in pages * 3:
        perceptual_hash(page.image.bytes)
    return len(pages) * 3 / (time.perf_counter() - started)


def synthetic(n: int, rng: random.Random) -> list[int]:
    values = [rng.getrandbits(HASH_BITS) for _ in range(n)]
    for i in rng.sample(range(n), n // 20):  # near-copies of another hash
        value = values[rng.randrange(n)]
        for bit in rng.sample(range(HASH_BITS), rng.randint(0, THRESHOLD)):
            value ^= 1 << bit
        values[i] = value
    return values


def banded_pairs(values: list[int]) -> tuple[int, set[tuple[int, int]]]:
    """(candidate pairs compared, verified pairs within the threshold) through band buckets."""
    buckets: dict[str, list[int]] = {}
    for index, value in enumerate(values):
        for key in band_keys(f"{value:064x}", THRESHOLD):
            buckets.setdefault(key, []).append(index)
    compared, found = 0, set()
    for members in buckets.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                compared += 1
                if (values[a] ^ values[b]).bit_count() <= THRESHOLD:
                    found.add((min(a, b), max(a, b)))
    return compared, found


def brute_force(values: list[int]) -> set[tuple[int, int]]:
    words = np.array(
        [[(v >> (64 * k)) & (2**64 - 1) for k in range(HASH_BITS // 64)] for v in values],
        dtype=np.uint64,
    )
    found = set()
    block = 2048
    for start in range(0, len(values), block):
        chunk = words[start : start + block]
        distance = np.zeros((len(chunk), len(values)), dtype=np.int32)
        for k in range(words.shape[1]):
            distance += np.bitwise_count(chunk[:, k : k + 1] ^ words[None, :, k]).astype(np.int32)
        rows, cols = np.nonzero(distance <= THRESHOLD)
        for r, c in zip(rows + start, cols, strict=True):
            if r < c:
                found.add((int(r), int(c)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    print(f"pHash (256-bit) on 144-DPI example pages: {hashes_per_second():.1f} hashes/s")
    rng = random.Random(0)
    for n in (int(s) for s in args.sizes.split(",")):
        values = synthetic(n, rng)
        started = time.perf_counter()
        compared, found = banded_pairs(values)
        banded_s = time.perf_counter() - started
        started = time.perf_counter()
        truth = brute_force(values)
        brute_s = time.perf_counter() - started
        all_pairs = n * (n - 1) // 2
        recall = len(found & truth) / len(truth) if truth else 1.0
        print(
            f"n={n:<7d} candidates={compared:<10d} all_pairs={all_pairs:<11d} "
            f"reduction={all_pairs / max(compared, 1):8.1f}x "
            f"recall={recall:.4f} ({len(found & truth)}/{len(truth)}) banded_s={banded_s:.1f} "
            f"brute_force_s={brute_s:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
