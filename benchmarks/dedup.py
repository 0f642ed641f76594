"""Deduplication at scale, on realistic mixtures of pages (issue: near-duplicates that never
merge different content).

    .venv/bin/python benchmarks/dedup.py [--sizes 10000,100000,1000000]
    .venv/bin/python benchmarks/dedup.py --pdfs 2000     # curate run on tiny distinct PDFs

Each size runs in its own process (so its peak RSS is its own) over a mixture like a crawled
corpus: template clusters (20 to 300 pages of one layout and wording whose numbers differ: a
filled-in form), exact copies of pages, near copies (one word changed, layout moved a little),
rotated copies of scans (no text), and distinct pages (a third of them sharing one of 20
layouts). It runs `find_duplicates`, the same steps as the Beam transform, and prints:

- comparisons made against all n(n-1)/2 pairs;
- recall and precision against brute force (every pair of a 2,000-page sample holding whole
  duplicate groups and template pages, checked with the same pair rule);
- merges of pages whose text differs (must be 0);
- peak RSS and wall time.

Up to 100k pages the texts are real strings, sketched as the pipeline does (shingles,
MinHash); at 1M the shingle sets and MinHash signatures are simulated with the same similarity
(a near copy of a 200-word page shares 199 of 200 words, template pages about 80%), which
keeps the run under 3 minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from curate.core.config import DedupOptions, RenderOptions
from curate.stages.filters.dedup import (
    BANDS,
    ROWS,
    Sketch,
    Work,
    band_digests,
    components,
    find_duplicates,
    jaccard,
    same_content,
    sketch_text,
)
from curate.stages.sources import render_document

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = DedupOptions()
SAMPLE = 2000


def sketches_per_second() -> float:
    """Real pages of examples/: hash and sketch each, as the pipeline does."""
    from curate.stages.filters.dedup import sketch_page

    pages = [
        p
        for pdf in sorted((ROOT / "examples").glob("*.pdf"))
        for p in render_document(str(pdf), RenderOptions())
    ]
    started = time.perf_counter()
    for page in pages * 3:
        sketch_page(page)
    return len(pages) * 3 / (time.perf_counter() - started)


class Mixture:
    """Pages with known groups: each page gets (sketch, group), duplicates share a group."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.rng = n, random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.simulate = n > 100_000
        self.words = [self._word() for _ in range(5000)]
        self.ids = {w: i for i, w in enumerate(self.words)}
        self.layouts = [self.rng.getrandbits(256) for _ in range(20)]
        self.pages: list[Sketch] = []
        self.groups: list[int] = []
        self.text_pages: list[int] = []

    def _word(self) -> str:
        return "".join(
            self.rng.choice("bcdfghklmnprstvz") + self.rng.choice("aeiou") for _ in range(3)
        )

    def _flip(self, value: int, most: int) -> int:
        for bit in self.rng.sample(range(256), self.rng.randint(0, most)):
            value ^= 1 << bit
        return value

    def _add(self, sketch: Sketch, group: int) -> None:
        if sketch.has_text:
            self.text_pages.append(len(self.pages))
        self.pages.append(sketch)
        self.groups.append(group)

    def _text_page(
        self, words: list[str], numbers: list[int], phash: int, doc: str, base=None
    ) -> tuple[Sketch, tuple]:
        """The page's sketch, and what a copy of it is simulated from (its tokens, signature)."""
        page_id = f"{doc}-{len(self.pages)}"
        rank = (-1_000_000, doc)
        digest = hashlib.blake2b(page_id.encode(), digest_size=8).digest()
        if not self.simulate:
            text = " ".join(words[:20] + [str(x) for x in numbers] + words[20:])
            return sketch_text(page_id, rank, digest, f"{phash:064x}", text), ()
        tokens = np.unique(np.array([self.ids[w] for w in words], dtype=np.uint32))
        signature = self.np.integers(0, 2**32, size=BANDS * ROWS, dtype=np.uint32)
        if base:  # MinHash: each slot agrees with probability Jaccard(tokens, base tokens)
            agree = self.np.random(BANDS * ROWS) < jaccard(tokens, base[0])
            signature = np.where(agree, base[1], signature)
        numbers_key = hashlib.blake2b(str(numbers).encode(), digest_size=8).digest()
        text_key = hashlib.blake2b(tokens.tobytes() + numbers_key, digest_size=8).digest()
        sketch = Sketch(
            page_id,
            rank,
            digest,
            (phash,),
            text_key,
            numbers_key,
            tokens.tobytes(),
            band_digests(signature),
        )
        return sketch, (tokens, signature)

    def build(self) -> Mixture:
        rng, group = self.rng, 0
        while len(self.pages) < self.n:
            group += 1
            kind = rng.random()
            if kind < 0.008:  # a template cluster: one wording and layout, different numbers
                words, layout = rng.choices(self.words, k=60), rng.getrandbits(256)
                _, base = self._text_page(words, [], layout, "form")
                for _ in range(rng.randint(20, 300)):
                    numbers = [rng.randint(1, 10_000) for _ in range(3)]
                    filled = [w if rng.random() > 0.2 else rng.choice(self.words) for w in words]
                    page, _ = self._text_page(filled, numbers, self._flip(layout, 8), "form", base)
                    self._add(page, group)
                    group += 1
            elif kind < 0.10 and self.text_pages:  # an exact copy of a page, in another document
                index = rng.choice(self.text_pages)
                fields = _fields(self.pages[index])
                copy = Sketch(f"copy-{len(self.pages)}", (-1_000_000, "copy"), *fields)
                self._add(copy, self.groups[index])
            elif kind < 0.25:  # a page and near copies: one word changed, layout moved a little
                words = rng.choices(self.words, k=200)  # a page: one word is 3 of 198 shingles
                numbers, layout = [rng.randint(1, 99) for _ in range(2)], rng.getrandbits(256)
                page, base = self._text_page(words, numbers, layout, "near")
                self._add(page, group)
                for _ in range(rng.randint(1, 3)):
                    changed = list(words)
                    changed[rng.randrange(20, 200)] = rng.choice(self.words)
                    moved = self._flip(layout, 6)
                    self._add(self._text_page(changed, numbers, moved, "near", base)[0], group)
            elif kind < 0.35:  # a scan and copies turned 90, 180 or 270 degrees
                turns = [rng.getrandbits(256) for _ in range(4)]
                for _ in range(rng.randint(2, 4)):
                    r = rng.randrange(4)
                    hashes = tuple(self._flip(h, 4) for h in turns[r:] + turns[:r])
                    page_id = f"scan-{len(self.pages)}"
                    digest = hashlib.blake2b(page_id.encode(), digest_size=8).digest()
                    self._add(Sketch(page_id, (-1_000_000, "scan"), digest, hashes), group)
            else:  # a distinct page; a third share one of 20 layouts
                layout = rng.getrandbits(256)
                if rng.random() < 0.33:
                    layout = self._flip(rng.choice(self.layouts), 20)
                numbers = [rng.randint(1, 10_000) for _ in range(2)]
                words = rng.choices(self.words, k=60)
                self._add(self._text_page(words, numbers, layout, "doc")[0], group)
        del self.pages[self.n :], self.groups[self.n :]
        return self


def _fields(sketch: Sketch) -> tuple:
    return (
        sketch.digest,
        sketch.hashes,
        sketch.text_key,
        sketch.numbers,
        sketch.shingles,
        sketch.bands,
    )


def sample(mixture: Mixture, rng: random.Random) -> list[int]:
    """Indices of a brute-force sample: whole duplicate groups, template pages, random pages."""
    members: dict[int, list[int]] = {}
    for index, group in enumerate(mixture.groups):
        members.setdefault(group, []).append(index)
    groups = [m for m in members.values() if len(m) > 1]
    chosen: set[int] = set()
    for group in rng.sample(groups, min(len(groups), 250)):
        chosen.update(group)
    forms = [i for i, s in enumerate(mixture.pages) if s.page_id.startswith("form")]
    start = rng.randrange(max(1, len(forms) - 300))
    chosen.update(forms[start : start + 300])
    while len(chosen) < min(SAMPLE, len(mixture.pages)):  # random pages, with their groups
        chosen.update(members[mixture.groups[rng.randrange(len(mixture.pages))]])
    return sorted(chosen)


def measure(n: int) -> None:
    started = time.perf_counter()
    mixture = Mixture(n).build()
    built_s = time.perf_counter() - started
    started = time.perf_counter()
    work = Work()
    verdicts = dict(find_duplicates(mixture.pages, OPTIONS, work))
    dedup_s = time.perf_counter() - started
    kept = {page: keep for page, (keep, _) in verdicts.items()}
    found_label = {s.page_id: kept.get(s.page_id, s.page_id) for s in mixture.pages}
    indices = sample(mixture, random.Random(1))
    pages = [mixture.pages[i] for i in indices]
    truth_pairs = [
        (a.page_id, b.page_id)
        for a, b in itertools.combinations(pages, 2)
        if same_content(a, b, OPTIONS)
    ]
    truth = components(truth_pairs)
    truth_label = {s.page_id: truth.get(s.page_id, s.page_id) for s in pages}
    same_found = same_truth = both = wrong_text = 0
    for a, b in itertools.combinations(pages, 2):
        f = found_label[a.page_id] == found_label[b.page_id]
        t = truth_label[a.page_id] == truth_label[b.page_id]
        same_found += f
        same_truth += t
        both += f and t
        if f and not t and a.has_text and b.has_text:
            wrong_text += 1
    all_pairs = n * (n - 1) // 2
    kinds = Counter(s.page_id.split("-")[0] for s in mixture.pages)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"n={n:<8d} comparisons={work.comparisons:<9d} all_pairs={all_pairs:.2e} "
        f"reduction={all_pairs / max(1, work.comparisons):.0f}x "
        f"recall={both / max(1, same_truth):.3f} precision={both / max(1, same_found):.3f} "
        f"(sample {len(pages)} pages, {same_truth} duplicate pairs) "
        f"merged_different_text={wrong_text} dropped={len(verdicts)} "
        f"peak_rss={peak:.0f}MB dedup_s={dedup_s:.1f} build_s={built_s:.1f} "
        f"{'simulated' if mixture.simulate else 'real-text'} "
        + " ".join(f"{k}={v}" for k, v in sorted(kinds.items())),
        flush=True,
    )


def run_on_pdfs(count: int) -> None:
    """`curate run` on `count` tiny PDFs of one layout, each with different text (2 pages
    each): every page must be kept, in bounded memory."""
    import tempfile

    import pymupdf

    sys.path.insert(0, str(Path(__file__).parent))
    from measure import run_with_peak_rss

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pdfs"
        folder.mkdir()
        for i in range(count):
            doc = pymupdf.open()
            for part in (1, 2):
                page = doc.new_page(width=400, height=300)
                page.insert_text((30, 40), f"Quarterly review {i} part {part}", fontsize=16)
                page.insert_text(
                    (30, 80), f"Revenue grew {i % 97 + part}% in region {i}", fontsize=11
                )
            doc.save(folder / f"doc-{i:05d}.pdf")
        out = Path(tmp) / "out"
        command = [sys.executable, "-m", "curate.cli", "run", str(folder), "-o", str(out)]
        seconds, peak = run_with_peak_rss(command)
        manifest = json.loads((out / "manifest.json").read_text())
        by_reason = manifest["dropped_pages_by_reason"]
        duplicates = sum(n for reason, n in by_reason.items() if "duplicate" in reason)
        print(
            f"curate run on {count} PDFs ({2 * count} pages): {seconds:.0f}s, peak RSS "
            f"{peak:.0f}MB, pages dropped as duplicates {duplicates}, "
            f"pages dropped for any reason {sum(by_reason.values())}, counts {manifest['counts']}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pdfs", type=int, help="instead: curate run on this many tiny PDFs")
    args = parser.parse_args()
    if args.one:
        measure(args.one)
        return
    if args.pdfs:
        run_on_pdfs(args.pdfs)
        return
    started = time.perf_counter()
    print(f"sketches/s on 144-DPI example pages (pHash + text): {sketches_per_second():.1f}")
    for n in (int(s) for s in args.sizes.split(",")):
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
