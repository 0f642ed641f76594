"""Exact and near-duplicate pages that never merges different content, with bounded work.

For text-rich data the words and numbers *are* the content, so the rules are by kind of page:

- **Pages with text** (a PDF text layer, slide text, web text: dedup runs before OCR) are
  duplicates only when their text is the same content: every number equal, in order, and word
  3-shingles with Jaccard >= `min_jaccard` (0.95), and their layouts agree (pHash within
  `threshold`). Layout alone never merges two pages with text: a deck's slides share a
  template, a filled-in form repeats on every page.
- **Pages without text** (scans, photos) are compared by perceptual hash, whichever way up:
  each keeps its pHash at all four rotations, and two pages match when any rotation of one is
  within `threshold_without_text` bits of the other's hash. A page without a text layer also
  matches a page with text this way (a screenshot of a PDF page).

Work stays bounded, as in datatrove's and text-dedup's MinHash deduplication:

1. **Exact copies first**, by image digest, then by normalised text (same text and numbers,
   layouts within `threshold`): a keyed group, so no copy ever enters pairwise work.
2. **Candidates** come from locality-sensitive hashing: text pages by MinHash bands (12 bands
   of 10 rows over word 3-shingles, keyed by their numbers too, so filled-in templates never
   share a bucket); image-only pages by bands of their rotation hashes (t + 1 bands of a
   256-bit hash, so a pair within t bits always shares one). Inside a bucket, members are
   sorted and each is compared with the next `window` only, so a bucket of a thousand similar
   pages costs a thousand times `window` comparisons, not half a million.
3. **Clusters** are the connected components of the verified pairs; each keeps one page, the
   largest image, then the first source URI, then the smallest page id. In Beam they are
   found with keyed joins (runners/beam/dedup.py), never by gathering all pairs in one process.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from curate.core.config import DedupOptions
from curate.core.fingerprints import HASH_BITS, hash_name, perceptual_hash, rotation_hashes
from curate.core.stage import Drop, JoinStage, Keep, Outcome, Stage
from curate.core.text import normalize
from curate.schemas import PageRecord
from curate.schemas.reasons import PageDropReason

SHINGLE_WORDS = 3
BANDS, ROWS = 12, 10  # P(candidate) is 0.99998 at Jaccard 0.95, 0.016 at 0.5
_PRIME = (1 << 61) - 1
_PERMUTATIONS = np.random.RandomState(42).randint(1, 2**32 - 1, size=(2, BANDS * ROWS))
_A, _B = (row.astype(np.uint64) for row in _PERMUTATIONS)
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_WORD = re.compile(r"\w+")


# ----------------------------------------------------------------------------- features


@functools.cache
def band_ranges(threshold: int) -> list[tuple[int, int]]:
    """threshold + 1 contiguous bit ranges covering the hash bits, as equal as possible."""
    bands = threshold + 1
    base, extra = divmod(HASH_BITS, bands)
    ranges, start = [], 0
    for i in range(bands):
        width = base + (1 if i < extra else 0)
        ranges.append((start, start + width))
        start += width
    return ranges


def band_bits(value: int, index: int, threshold: int) -> int:
    start, end = band_ranges(threshold)[index]
    return (value >> (HASH_BITS - end)) & ((1 << (end - start)) - 1)


def shingles(text: str) -> np.ndarray:
    """Sorted unique 32-bit hashes of the normalised text's word 3-shingles (or its words,
    when it has fewer than three)."""
    words = _WORD.findall(normalize(text))
    if len(words) >= SHINGLE_WORDS:
        grams = (" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - 2))
    else:
        grams = iter(words)
    values = [int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest()) for g in grams]
    return np.unique(np.array(values, dtype=np.uint32))


def minhash(values: np.ndarray) -> np.ndarray:
    """BANDS x ROWS minimum hash values of the shingle set (datatrove's universal hashing)."""
    if not len(values):
        return np.zeros(BANDS * ROWS, dtype=np.uint32)
    hashed = (values.astype(np.uint64)[:, None] * _A + _B) % _PRIME
    return (hashed & np.uint64(0xFFFFFFFF)).min(axis=0).astype(np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if not len(a) or not len(b):
        return float(len(a) == len(b))
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def _digest(data: bytes | str) -> bytes:
    return hashlib.blake2b(data.encode() if isinstance(data, str) else data, digest_size=8).digest()


@dataclass(frozen=True, slots=True)
class Sketch:
    """All that duplicate detection needs of a page, never its image: under a kilobyte."""

    page_id: str
    rank: tuple  # lower wins: (-image area, source URI)
    digest: bytes  # of the image bytes
    hashes: tuple[int, ...]  # pHash upright; all four rotations when the page has no text
    text_key: bytes = b""  # digest of the normalised text; empty when the page has none
    numbers: bytes = b""  # digest of its numbers, in order
    shingles: bytes = b""  # sorted uint32 shingle hashes
    bands: bytes = b""  # an 8-byte digest of each MinHash band's rows

    @property
    def has_text(self) -> bool:
        return bool(self.text_key)

    def shingle_array(self) -> np.ndarray:
        return np.frombuffer(self.shingles, dtype=np.uint32)

    def band(self, index: int) -> bytes:
        return self.bands[index * 8 : (index + 1) * 8]


def band_digests(signature: np.ndarray) -> bytes:
    rows = signature.reshape(BANDS, ROWS)
    return b"".join(_digest(row.tobytes()) for row in rows)


def sketch_page(page: PageRecord, method: str = "phash") -> Sketch:
    rank = (-page.width * page.height, page.source_uri)
    digest = _digest(page.image.bytes)
    text = normalize(page.text)
    if not _WORD.search(text):
        hashes = tuple(int(h, 16) for h in rotation_hashes(page.image.bytes, method))
        return Sketch(page.page_id, rank, digest, hashes)
    return sketch_text(page.page_id, rank, digest, layout_hash(page, method), text)


def layout_hash(page: PageRecord, method: str) -> str:
    """The page's stored hash if `method` of this curate made it, else a fresh one: hashes of
    another method or version (an older dataset's) are never compared with this job's."""
    if page.phash and page.phash_method == hash_name(method):
        return page.phash
    return perceptual_hash(page.image.bytes, method)


def sketch_text(page_id: str, rank: tuple, digest: bytes, phash: str, text: str) -> Sketch:
    values = shingles(text)
    numbers = _digest(" ".join(_NUMBER.findall(text)))
    return Sketch(
        page_id,
        rank,
        digest,
        (int(phash, 16),),
        _digest(text),
        numbers,
        values.tobytes(),
        band_digests(minhash(values)),
    )


# ----------------------------------------------------------------------------- the rules


def same_content(a: Sketch, b: Sketch, options: DedupOptions) -> bool:
    """The pair rule: text pages by numbers, shingles and layout; others by rotated pHash."""
    if a.has_text and b.has_text:
        return (
            a.numbers == b.numbers
            and (a.hashes[0] ^ b.hashes[0]).bit_count() <= options.threshold
            and (
                a.text_key == b.text_key
                or jaccard(a.shingle_array(), b.shingle_array()) >= options.min_jaccard
            )
        )
    return (
        min((x ^ b.hashes[0]).bit_count() for x in a.hashes) <= options.threshold_without_text
        or min((a.hashes[0] ^ y).bit_count() for y in b.hashes) <= options.threshold_without_text
    )


def rank_key(sketch: Sketch) -> tuple:
    return sketch.rank, sketch.page_id


def exact_keys(sketch: Sketch) -> list[bytes]:
    """Keys under which copies meet first: the image digest, then the normalised text."""
    keys = [b"image:" + sketch.digest]
    if sketch.has_text:
        keys.append(b"text:" + sketch.text_key + sketch.numbers)
    return keys


def collapse(group: Iterable[Sketch], options: DedupOptions, limit: int = 16) -> Iterator[tuple]:
    """Within one exact key: ("edge", copy id, kept id) for each copy and ("kept", sketch) for
    the pages left. Identical images are copies outright; identical texts also need their
    layouts within `threshold` (at most `limit` layouts are kept apart, then the rest pass)."""
    members = sorted(group, key=rank_key)
    kept: list[Sketch] = []
    for member in members:
        match = next(
            (k for k in kept if k.digest == member.digest or same_content(k, member, options)),
            None,
        )
        if match is not None:
            yield "edge", member.page_id, match.page_id
            continue
        if len(kept) < limit:
            kept.append(member)
        yield "kept", member


def families(options: DedupOptions) -> list[tuple[str, int]]:
    """The LSH bands: ("i", b) for the pHash bands, ("t", b) for the MinHash bands."""
    image = [("i", b) for b in range(options.threshold_without_text + 1)]
    return image + [("t", b) for b in range(BANDS)]


def lsh_keys(
    sketch: Sketch, options: DedupOptions, family: tuple[str, int] | None = None
) -> list[tuple[tuple[str, int], int | bytes]]:
    """(band, key) of one band or of all: MinHash bands (with the numbers) for text pages, and
    the bands of every rotation's pHash for all pages (only pairs with a page without text are
    compared there)."""
    keys: list[tuple[tuple[str, int], int | bytes]] = []
    for kind, band in [family] if family else families(options):
        if kind == "i":
            bits = {band_bits(h, band, options.threshold_without_text) for h in sketch.hashes}
            keys += [(("i", band), b) for b in sorted(bits)]
        elif sketch.has_text:
            keys.append((("t", band), sketch.numbers + sketch.band(band)))
    return keys


def bucket_pairs(
    family: tuple[str, int], members: Iterable[Sketch], options: DedupOptions
) -> Iterator[tuple[str, str] | None]:
    """Verified duplicate pairs (id, id) of one bucket; None for each comparison that failed.

    Members are sorted so that similar ones sit together (text: the band digests from the next
    band on; images: the hashes) and each is compared with the next `window` only.
    """
    members = list(members)
    if len(members) < 2:
        return
    text = family[0] == "t"
    if text:
        start = (family[1] + 1) * 8
        members.sort(key=lambda s: (s.bands[start:] + s.bands[:start], s.page_id))
    else:
        if all(m.has_text for m in members):
            return  # layout alone never merges two pages with text
        members.sort(key=lambda s: (s.hashes, s.page_id))
    window = options.window
    for i, a in enumerate(members):
        for b in members[i + 1 : i + 1 + window]:
            if not text and a.has_text and b.has_text:
                continue
            if same_content(a, b, options):
                yield (a.page_id, b.page_id) if a.page_id < b.page_id else (b.page_id, a.page_id)
            else:
                yield None


def components(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Union-find: every id in a pair -> the smallest id of its connected component."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def representatives(members: Iterable[tuple[tuple, str, str]]) -> Iterator[tuple[str, tuple]]:
    """(page id, (kept id, exact copy?)) for every member of one cluster but its pick.

    Members are (rank, page id, image digest); the lowest rank wins, then the smaller id. The
    pipeline ranks by (-image area, source URI): the largest image wins, and between equal
    copies of a document the same document wins on every page, so it stays whole.
    """
    members = sorted(members)
    _, keep, digest = members[0]
    for _, page, other in members[1:]:
        yield page, (keep, other == digest)


@dataclass
class Work:
    """What a run of `find_duplicates` did, for counters and the benchmark."""

    comparisons: int = 0
    duplicates: int = 0


def find_duplicates(
    sketches: Iterable[Sketch], options: DedupOptions, work: Work | None = None
) -> Iterator[tuple[str, tuple[str, bool]]]:
    """In one process: (page id, (kept id, exact copy?)) for every page that is a duplicate.

    The same steps as the Beam transform, with dicts standing in for its keyed groups."""
    work = work if work is not None else Work()
    edges: set[tuple[str, str]] = set()
    pages = {s.page_id: s for s in sketches}
    survivors = dict(pages)
    for kind in (b"image", b"text"):
        keyed = ((k, s) for s in survivors.values() for k in exact_keys(s) if k.startswith(kind))
        for group in _groups(keyed):
            for result in collapse(group, options):
                if result[0] == "edge":
                    edges.add(result[1:])
                    survivors.pop(result[1], None)
    for family in families(options):  # one band at a time: one key per page in memory
        for members in _buckets(survivors.values(), family, options):
            for pair in bucket_pairs(family, members, options):
                work.comparisons += 1
                if pair is not None:
                    edges.add(pair)
    clusters: dict[str, list[tuple]] = {}
    for page, root in components(edges).items():
        sketch = pages[page]
        clusters.setdefault(root, []).append((sketch.rank, page, sketch.digest))
    for members in clusters.values():
        for verdict in representatives(members):
            work.duplicates += 1
            yield verdict


def _groups(keyed: Iterable[tuple[Any, Sketch]], only: set | None = None) -> Iterator[list]:
    """The groups of two or more sketches sharing a key (keys outside `only`, when given, open
    no group), with a dict entry per key rather than a list."""
    first: dict[Any, Sketch] = {}
    more: dict[Any, list[Sketch]] = {}
    for key, sketch in keyed:
        if key in more:
            more[key].append(sketch)
        elif key in first:
            more[key] = [first[key], sketch]
        elif only is None or key in only:
            first[key] = sketch
    first.clear()
    yield from more.values()


def _buckets(
    sketches: Iterable[Sketch], family: tuple[str, int], options: DedupOptions
) -> Iterator[list[Sketch]]:
    """The buckets of one band with two or more members. A pHash bucket is opened only by a
    page without text (two pages with text are never compared there)."""
    if family[0] == "t":
        yield from _groups((k, s) for s in sketches for _, k in lsh_keys(s, options, family))
        return
    sketches = list(sketches)
    textless = [(k, s) for s in sketches if not s.has_text for _, k in lsh_keys(s, options, family)]
    if not textless:
        return
    opened = {k for k, _ in textless}
    with_text = ((k, s) for s in sketches if s.has_text for _, k in lsh_keys(s, options, family))
    yield from _groups(itertools.chain(textless, with_text), opened)


# ------------------------------------------------------------------------------- the stages


class HashPages(Stage):
    """Pages -> pages with their perceptual hash (`phash`), which duplicate detection compares.

    A page that already has one of the job's method keeps it: the job's renderer hashed it
    from its pixels. A hash of another method or hash version is replaced.
    """

    name = "hash"
    accepts = (PageRecord,)

    def process(self, page: PageRecord) -> Iterable[Outcome]:
        method = self.options.hash
        yield Keep(replace(page, phash=layout_hash(page, method), phash_method=hash_name(method)))


class DeduplicatePages(JoinStage):
    """One page per cluster of exact or near-duplicate pages; the others are dropped with
    `duplicate_of` pointing at the page kept."""

    name = "dedup"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.EXACT_DUPLICATE, PageDropReason.NEAR_DUPLICATE})
    scale_out = "duplicate_clusters"  # on Beam: keyed groups and joins, never all pairs at once

    def __init__(self, options: DedupOptions):
        super().__init__(options)

    def key(self, page: PageRecord) -> str:
        return page.page_id

    def summarize(self, page: PageRecord) -> Sketch:
        return sketch_page(page, self.options.hash)

    def verdicts(self, summaries: Iterable[tuple[str, Sketch]]) -> Iterable[tuple[str, tuple]]:
        work = Work()
        yield from find_duplicates((s for _, s in summaries), self.options, work)
        self.count("dedup.comparisons", work.comparisons)

    def decide(self, page: PageRecord, verdict: tuple[str, bool] | None) -> Iterable[Outcome]:
        if verdict is None:
            yield Keep(page)
            return
        keep, exact = verdict
        reason = PageDropReason.EXACT_DUPLICATE if exact else PageDropReason.NEAR_DUPLICATE
        yield Drop(replace(page, duplicate_of=keep), reason)
