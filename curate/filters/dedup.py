"""Exact and near-duplicate images, found without comparing all pairs.

Each page image gets a 256-bit perceptual hash (pHash, or dHash, at hash size 16: the 64-bit
default sees only layout, and different slides of one template came within 4 bits of each other,
while 256 bits keep them 36+ apart; docs/filters.md). Two hashes within Hamming
distance t share at least one of t + 1 bands (split the bits into t + 1 contiguous bands: t
differing bits can touch at most t of them). So grouping pages by each band's value yields
every near-duplicate pair as a candidate, and only candidates are compared: banding
(locality-sensitive hashing) with guaranteed recall. Clusters come from union-find over the
verified pairs; each keeps one representative, chosen deterministically: the largest image,
then the first source URI, then the smallest page id.

Deduplication is by image (page), not by sample: the same slide in many decks, or a page
template repeated, is one image, and dropping it before OCR, LLM calls and scoring is where
the savings are. Samples are then built from the remaining pages.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import replace

import imagehash
from PIL import Image

from curate.config import DedupOptions
from curate.schemas import PageRecord
from curate.schemas.reasons import PageDropReason
from curate.stage import Drop, JoinStage, Keep, Outcome, Stage
from curate.text import normalize

HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE


def perceptual_hash(image_bytes: bytes, method: str = "phash") -> str:
    """64 hex digits: imagehash's pHash (DCT) or dHash (gradient) at hash size 16."""
    with Image.open(io.BytesIO(image_bytes)) as image:
        image.draft("L", (512, 512))  # JPEG: decode at reduced size; the hash needs 64x64
        function = imagehash.phash if method == "phash" else imagehash.dhash
        return str(function(image, hash_size=HASH_SIZE))


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


def band_keys(hash_hex: str, threshold: int) -> list[str]:
    value = int(hash_hex, 16)
    keys = []
    for index, (start, end) in enumerate(band_ranges(threshold)):
        bits = (value >> (HASH_BITS - end)) & ((1 << (end - start)) - 1)
        keys.append(f"{index}:{bits:x}")
    return keys


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


TEXT_SIMILARITY = 80.0  # rapidfuzz ratio (0-100) two texts need to count as the same page
MIN_TEXT_CHARS = 20


def same_page(a: tuple, b: tuple, threshold: int, threshold_without_text: int) -> bool:
    """Verify a candidate pair of (id, hash, text) members.

    A perceptual hash mostly sees layout: sparse pages of one template (different text, same
    lines in the same places) came within 22 bits, as close as 1%-cropped copies. So when both
    pages have text, the texts must agree too; without text on both sides (scans, photos) only
    the stricter `threshold_without_text` counts, which still catches re-encodes and re-renders.
    """
    distance = hamming(a[1], b[1])
    if len(a[2]) >= MIN_TEXT_CHARS and len(b[2]) >= MIN_TEXT_CHARS:
        from rapidfuzz import fuzz

        return distance <= threshold and fuzz.ratio(a[2], b[2]) >= TEXT_SIMILARITY
    return distance <= threshold_without_text


def candidate_pairs(
    members: list[tuple[str, str, str]], threshold: int, threshold_without_text: int | None = None
) -> Iterable[tuple[str, str]]:
    """Verified near-duplicate pairs among (id, hash, text) members of one band bucket.

    Members with the same hash and text are chained without pairwise work, so a bucket of a
    thousand copies of one page costs a thousand steps, not half a million.
    """
    strict = threshold if threshold_without_text is None else threshold_without_text
    same: dict[tuple[str, str], list[str]] = {}
    for member_id, value, text in members:
        same.setdefault((value, text), []).append(member_id)
    for ids in same.values():
        ids.sort()
        yield from zip(ids, ids[1:])
    distinct = sorted(same)
    for i, (value, text) in enumerate(distinct):
        first = (min(same[(value, text)]), value, text)
        for other_value, other_text in distinct[i + 1 :]:
            second = (min(same[(other_value, other_text)]), other_value, other_text)
            if same_page(first, second, threshold, strict):
                yield first[0], second[0]


def clusters(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Union-find over pairs: root id -> all members (sorted)."""
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
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return {root: sorted(members) for root, members in groups.items()}


def representatives(groups: dict[str, list[str]], rank: dict[str, tuple]) -> dict[str, str]:
    """Every non-representative id -> the id kept for its cluster: the lowest `rank`, then id.

    The pipeline ranks by (-image area, source URI): the largest image wins, and between equal
    copies of a document the same document wins on every page, so it stays whole.
    """
    kept = {}
    for members in groups.values():
        keep = min(members, key=lambda m: (rank.get(m, ()), m))
        kept.update({m: keep for m in members if m != keep})
    return kept


# ------------------------------------------------------------------------------- the stages


class HashPages(Stage):
    """Pages -> pages with their perceptual hash (`phash`), which duplicate detection compares."""

    name = "hash"
    accepts = (PageRecord,)

    def process(self, page: PageRecord) -> Iterable[Outcome]:
        yield Keep(replace(page, phash=perceptual_hash(page.image.bytes, self.options.hash)))


class DeduplicatePages(JoinStage):
    """One page per cluster of exact or near-duplicate images; the others are dropped with
    `duplicate_of` pointing at the page kept. Pages meet only in band buckets."""

    name = "dedup"
    accepts = (PageRecord,)
    emits = frozenset({PageDropReason.EXACT_DUPLICATE, PageDropReason.NEAR_DUPLICATE})

    def __init__(self, options: DedupOptions):
        super().__init__(options)

    @property
    def strict(self) -> int:
        return min(self.options.threshold_without_text, self.options.threshold)

    def key(self, page: PageRecord) -> str:
        return page.page_id

    def summarize(self, page: PageRecord) -> tuple:
        """(hash, text, rank, image digest): all that clustering needs, never the image."""
        digest = hashlib.sha256(page.image.bytes).hexdigest()[:16]
        rank = (-page.width * page.height, page.source_uri)
        return page.phash, normalize(page.text)[:2000], rank, digest

    def band_keys(self, keyed: tuple[str, tuple]) -> list[tuple[str, tuple]]:
        page_id, (phash, text, rank, digest) = keyed
        return [
            (key, (page_id, phash, text, rank, digest))
            for key in band_keys(phash, self.options.threshold)
        ]

    def bucket_pairs(self, infos: list[tuple]) -> Iterable[tuple[tuple, tuple]]:
        """Verified duplicate pairs in one band bucket, as (page id, rank, digest) pairs."""
        if len(infos) < 2:
            return
        by_id = {info[0]: info for info in infos}
        for a, b in candidate_pairs([i[:3] for i in infos], self.options.threshold, self.strict):
            yield _pair_info(by_id[a]), _pair_info(by_id[b])

    def clusters_of(
        self, pairs: list[tuple[tuple, tuple]]
    ) -> Iterable[tuple[str, tuple[str, bool]]]:
        """(page id, (kept page id, exact copy?)) for every page that is not its cluster's pick."""
        rank = {info[0]: tuple(info[1]) for pair in pairs for info in pair}
        digest = {info[0]: info[2] for pair in pairs for info in pair}
        kept = representatives(clusters((a[0], b[0]) for a, b in pairs), rank)
        for page, keep in sorted(kept.items()):
            yield page, (keep, digest[page] == digest[keep])

    def verdicts(
        self, summaries: Iterable[tuple[str, tuple]]
    ) -> Iterable[tuple[str, tuple[str, bool]]]:
        buckets: dict[str, list[tuple]] = {}
        for keyed in summaries:
            for key, info in self.band_keys(keyed):
                buckets.setdefault(key, []).append(info)
        pairs = [pair for infos in buckets.values() for pair in self.bucket_pairs(infos)]
        return self.clusters_of(pairs)

    def decide(self, page: PageRecord, verdict: tuple[str, bool] | None) -> Iterable[Outcome]:
        if verdict is None:
            yield Keep(page)
            return
        keep, exact = verdict
        reason = PageDropReason.EXACT_DUPLICATE if exact else PageDropReason.NEAR_DUPLICATE
        yield Drop(replace(page, duplicate_of=keep), reason)


def _pair_info(info: tuple) -> tuple:
    page_id, _, _, rank, digest = info
    return page_id, rank, digest
