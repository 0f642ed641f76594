"""A benchmark's index, built once, and what it finds of a sample: images and QA a model will
be evaluated on (docs/decontaminate.md).

Images match in two ways:
- **image_exact**: the same bytes (a 64-bit digest).
- **image_near**: the perceptual hash dedup uses (pHash of the content box, 256 bits) within
  `threshold` bits, at any quarter turn and at crops of 0 to 4% of each side of the content
  box on either side (a re-rendered, re-compressed, resized, cropped or turned copy), then
  confirmed by a second hash of the same pixels (dHash, 256 bits) within `fine_threshold`.
  Candidates come from 64 bands of 3 hash bytes each (drawn with a fixed seed): a copy 24
  bits away shares a band with probability 0.998, an unrelated pair of pages (about 128 bits
  apart) once in 260,000 pairs. A bucket gives at most `BUCKET_CAP` candidates, so the work per
  image is bounded.

Text matches word n-grams after normalising case and numbers ("1,284" is "1284"):
- **qa_ngram**: `qa_ngram` (8) words in a row of a sample's question and answer that a
  benchmark question and its answer also have, the run holding the benchmark's whole answer,
  or three words of a longer one (its question alone is often generic: "What is the date
  mentioned in this letter?", and so is the first word of an answer: "March"). A benchmark QA
  shorter than that counts whole when it has at least `MIN_QA_WORDS` words.
- **text_ngram**: `text_ngram` (13, GPT-3's choice) words in a row of a sample's page text,
  question or answer that a benchmark question or answer has.

The index is a folder of NumPy arrays read memory-mapped, so workers share the pages the OS
holds once and a large benchmark is not loaded whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from curate.core.config import DecontaminateOptions, benchmark_spec
from curate.core.fingerprints import HASH_BITS, HASH_VERSION, variants
from curate.core.text import ngram_hash, words
from curate.io import storage
from curate.schemas import BenchmarkMatch
from curate.stages.filters.benchmarks import BenchmarkItem, benchmark_files, read_benchmark

log = logging.getLogger("curate.decontaminate")

INDEX_VERSION = 1
LSH_BANDS, LSH_BITS = 64, 24
BUCKET_CAP = 256  # candidates one band of one lookup may give
MIN_QA_WORDS = 6
ANSWER_WORDS = 3  # of its answer (all of a shorter one) a benchmark QA's n-gram must hold
INDEX_CROPS = (0.0, 0.02, 0.04)  # a benchmark image's entries: it may be the larger copy too
MAX_MATCHES = 64  # per sample: enough to say why, bounded in size
_BAND_BYTES = np.stack(  # the 3 bytes of the 32 of a hash that make each band's key
    [
        np.random.RandomState(7 + band).choice(HASH_BITS // 8, LSH_BITS // 8, replace=False)
        for band in range(LSH_BANDS)
    ]
)
_ARRAYS = (
    "digests",  # uint64, sorted: every image's digest
    "digest_items",  # int32: the item of each digest
    "coarse",  # uint8 [entries, 32]: 256-bit hash of each image at each crop
    "fine",  # uint8 [entries, 32]: its 256-bit dHash
    "entry_items",  # int32: the item of each entry
    "band_keys",  # uint32 [bands, entries], each band sorted
    "band_entries",  # int32 [bands, entries]: the entry of each sorted key
    "qa_grams",  # uint64, sorted
    "qa_items",  # int32
    "text_grams",  # uint64, sorted
    "text_items",  # int32
)


# ------------------------------------------------------------------------------- features


def hash_bytes(value: int) -> np.ndarray:
    """A 256-bit hash (pHash or dHash) as 32 bytes, the index's rows."""
    return np.frombuffer(value.to_bytes(HASH_BITS // 8, "big"), dtype=np.uint8)


def lsh_keys(coarse: np.ndarray) -> np.ndarray:
    """uint32 [bands, n]: each band's 3 bytes of each 256-bit hash, as one number."""
    picked = coarse.reshape(-1, HASH_BITS // 8)[:, _BAND_BYTES].astype(np.uint32)  # n, bands, 3
    return (picked[..., 0] << 16 | picked[..., 1] << 8 | picked[..., 2]).T


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int32)


def image_digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest())


def qa_grams(question: str, answer: str, n: int) -> set[int]:
    """A benchmark QA's n-grams that hold its answer, or `ANSWER_WORDS` of its words (see the
    module docstring): "... in this letter? March 5, 1965" is not "... in this letter? March
    12, 2001"."""
    asked, answered = words(question), words(answer)
    sequence = asked + answered
    if len(sequence) < n:
        return {ngram_hash(sequence)} if answered and len(sequence) >= MIN_QA_WORDS else set()
    need = min(len(answered), ANSWER_WORDS)
    first = max(0, len(asked) - n + need)
    return {ngram_hash(sequence[i : i + n]) for i in range(first, len(sequence) - n + 1)}


def text_grams(text: str, n: int) -> set[int]:
    sequence = words(text)
    return {ngram_hash(sequence[i : i + n]) for i in range(len(sequence) - n + 1)}


def windows(sequence: list[str], lengths: Iterable[int]) -> Iterator[tuple[int, list[str]]]:
    """(hash, words) of every run of each length in `lengths`."""
    for length in lengths:
        for i in range(len(sequence) - length + 1):
            gram = sequence[i : i + length]
            yield ngram_hash(gram), gram


# -------------------------------------------------------------------------------- building


@dataclass
class IndexBuilder:
    """Collects a benchmark's features item by item, then writes the index folder."""

    options: DecontaminateOptions
    items: list[str] = field(default_factory=list)
    images: int = 0
    _lists: dict[str, list] = field(default_factory=lambda: {name: [] for name in _ARRAYS})

    def add(self, item: BenchmarkItem) -> None:
        number = len(self.items)
        self.items.append(item.item_id)
        lists = self._lists
        for data in item.images:
            self.images += 1
            lists["digests"].append(image_digest(data))
            lists["digest_items"].append(number)
            try:
                found = variants(data, INDEX_CROPS, turns=1, one_sided=False)
            except (ValueError, OSError) as err:  # an undecodable image matches by digest only
                log.warning("benchmark item %s: image not decoded (%s)", item.item_id, err)
                continue
            lists["coarse"] += [hash_bytes(variant.coarse) for variant in found]
            lists["fine"] += [hash_bytes(variant.fine) for variant in found]
            lists["entry_items"] += [number] * len(found)
        for question, answer in item.pairs:
            for gram in qa_grams(question, answer, self.options.qa_ngram):
                lists["qa_grams"].append(gram)
                lists["qa_items"].append(number)
            for text in (question, answer):
                for gram in text_grams(text, self.options.text_ngram):
                    lists["text_grams"].append(gram)
                    lists["text_items"].append(number)

    def add_hashes(
        self, item_ids: Iterable, coarse: np.ndarray, fine: np.ndarray, per_item: int
    ) -> None:
        """Items given by their hashes alone (uint8 [items x per_item, 32] each), for the
        benchmark script's simulated index of 100,000 images."""
        first = len(self.items)
        self.items += [str(item) for item in item_ids]
        count = len(self.items) - first
        self.images += count
        self._lists["coarse"] += list(coarse)
        self._lists["fine"] += list(fine)
        self._lists["entry_items"] += np.repeat(np.arange(first, first + count), per_item).tolist()

    def arrays(self) -> dict[str, np.ndarray]:
        lists = self._lists
        out: dict[str, np.ndarray] = {}
        for keys, values in (
            ("digests", "digest_items"),
            ("qa_grams", "qa_items"),
            ("text_grams", "text_items"),
        ):
            key_array = np.array(lists[keys], dtype=np.uint64)
            order = np.argsort(key_array, kind="stable")
            out[keys] = key_array[order]
            out[values] = np.array(lists[values], dtype=np.int32)[order]
        coarse = np.array(lists["coarse"], dtype=np.uint8).reshape(-1, HASH_BITS // 8)
        out["coarse"] = coarse
        out["fine"] = np.array(lists["fine"], dtype=np.uint8).reshape(-1, HASH_BITS // 8)
        out["entry_items"] = np.array(lists["entry_items"], dtype=np.int32)
        keys = lsh_keys(coarse) if len(coarse) else np.zeros((LSH_BANDS, 0), np.uint32)
        order = np.argsort(keys, axis=1, kind="stable").astype(np.int32)
        out["band_keys"] = np.take_along_axis(keys, order, axis=1)
        out["band_entries"] = order
        return out

    def write(self, folder: str, meta: dict) -> None:
        storage.makedirs(folder)
        for name, array in self.arrays().items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            storage.write_bytes_atomic(storage.join(folder, f"{name}.npy"), buffer.getvalue())
        storage.write_bytes_atomic(
            storage.join(folder, "items.json"), json.dumps(self.items).encode()
        )
        meta = {**meta, "items": len(self.items), "images": self.images}
        storage.write_bytes_atomic(
            storage.join(folder, "meta.json"), json.dumps(meta, indent=2).encode()
        )


def index_key(path: str, options: DecontaminateOptions) -> str:
    """What an index depends on: the benchmark's files (names and sizes), the n-grams, the
    hash and index versions. The same key finds the index a previous run built."""
    parts = {
        "files": benchmark_files(path),
        "qa_ngram": options.qa_ngram,
        "text_ngram": options.text_ngram,
        "hash": HASH_VERSION,
        "index": INDEX_VERSION,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def prepare_indexes(options: DecontaminateOptions, output: str) -> dict[str, str]:
    """name -> index folder of each benchmark in `options.against`, built where missing."""
    root = options.index_dir or storage.join(output, "benchmark_index")
    folders = {}
    for spec in options.against:
        name, path = benchmark_spec(spec)
        folder = storage.join(root, f"{name}-{index_key(path, options)}")
        if not storage.exists(storage.join(folder, "meta.json")):
            build_index(name, path, options, folder)
        else:
            log.info("benchmark %s: reusing its index %s", name, folder)
        folders[name] = folder
    return folders


def index_summary(folder: str) -> dict:
    """What the manifest records of a benchmark: its path, items, images and index folder."""
    with storage.open_file(storage.join(folder, "meta.json")) as handle:
        meta = json.loads(handle.read())
    return {"path": meta["path"], "items": meta["items"], "images": meta["images"], "index": folder}


def build_index(name: str, path: str, options: DecontaminateOptions, folder: str) -> None:
    builder = IndexBuilder(options)
    for number, item in enumerate(read_benchmark(path), 1):
        builder.add(item)
        if number % 1000 == 0:
            log.info("benchmark %s: %d items indexed", name, number)
    meta = {"name": name, "path": storage.normalize_uri(path), "version": INDEX_VERSION}
    builder.write(folder, meta)
    log.info(
        "benchmark %s: indexed %d items, %d images -> %s",
        name,
        len(builder.items),
        builder.images,
        folder,
    )


# -------------------------------------------------------------------------------- matching


@dataclass
class Work:
    """What lookups cost, for counters and the benchmark script."""

    comparisons: int = 0
    capped: int = 0


class BenchmarkIndex:
    """One benchmark's index, memory-mapped; answers what of a sample it holds."""

    def __init__(self, name: str, arrays: dict[str, np.ndarray], items: list[str]):
        self.name, self.items = name, items
        for key in _ARRAYS:
            setattr(self, key, arrays[key])
        self._words = self.coarse.view(">u8")  # the hashes as 4 words each (still mapped)
        self.work = Work()

    @classmethod
    def load(cls, name: str, folder: str) -> BenchmarkIndex:
        """The index at `folder`; a remote one is copied to a local temporary folder first."""
        if not storage.is_local(folder):
            local = tempfile.mkdtemp(prefix=f"curate-{name}-")
            for file in (*[f"{a}.npy" for a in _ARRAYS], "items.json"):
                with (
                    storage.open_file(storage.join(folder, file)) as src,
                    open(os.path.join(local, file), "wb") as dst,
                ):
                    shutil.copyfileobj(src, dst)
            folder = local
        arrays = {a: np.load(os.path.join(folder, f"{a}.npy"), mmap_mode="r") for a in _ARRAYS}
        with open(os.path.join(folder, "items.json")) as handle:
            return cls(name, arrays, json.load(handle))

    @classmethod
    def from_builder(cls, name: str, builder: IndexBuilder) -> BenchmarkIndex:
        return cls(name, builder.arrays(), builder.items)

    # images ------------------------------------------------------------------------------

    def near(self, coarse: np.ndarray, threshold: int) -> list[tuple[int, int, int]]:
        """(query, entry, distance) for every entry within `threshold` bits of a query hash
        (uint8 [queries, 32]) that shares a band with it; bounded by BUCKET_CAP per band."""
        if not self.band_keys.shape[1] or not len(coarse):
            return []
        keys = lsh_keys(coarse)  # bands, queries
        words = coarse.reshape(len(coarse), -1).view(">u8")  # 4 words a hash: 4 popcounts
        numbers = np.arange(len(coarse), dtype=np.uint64)
        found: list[tuple[int, int, int]] = []
        for band in range(LSH_BANDS):
            column = self.band_keys[band]
            # sorted needles (searchsorted runs 5x faster), with the query each came from
            paired = np.sort(keys[band].astype(np.uint64) << np.uint64(32) | numbers)
            needles = (paired >> np.uint64(32)).astype(np.uint32)
            order = (paired & np.uint64(0xFFFFFFFF)).astype(np.int64)
            lo = np.searchsorted(column, needles, "left")
            hi = np.searchsorted(column, needles, "right")
            size = hi - lo
            self.work.capped += int((size > BUCKET_CAP).sum())
            size = np.minimum(size, BUCKET_CAP)
            if not size.any():
                continue
            query = np.repeat(order, size)
            offsets = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
            entry = self.band_entries[band][np.repeat(lo, size) + offsets]
            self.work.comparisons += len(query)  # a pair sharing two bands is compared twice
            xor = words[query] ^ self._words[entry]
            distances = np.bitwise_count(xor).sum(axis=1, dtype=np.int32)
            close = distances <= threshold
            found += zip(query[close].tolist(), entry[close].tolist(), distances[close].tolist())
        return sorted(set(found))

    def match_image(self, data: bytes, options: DecontaminateOptions) -> list[tuple[str, str, str]]:
        """(item id, kind, detail) of the benchmark items that hold this image or a copy:
        every item that holds the same bytes, then every other that holds a near copy."""
        digest = np.uint64(image_digest(data))
        first = int(np.searchsorted(self.digests, digest, "left"))
        last = int(np.searchsorted(self.digests, digest, "right"))
        exact = sorted({int(item) for item in self.digest_items[first:last]})
        matches = [(self.items[item], "image_exact", "same bytes") for item in exact]
        try:
            found = variants(data)
        except ValueError:  # not decodable: only its bytes can match
            return matches
        if not found:  # nearly blank: only its bytes can match
            return matches
        coarse = np.stack([hash_bytes(v.coarse) for v in found])
        best: dict[int, tuple[int, int, int]] = {}
        for query, entry, distance in self.near(coarse, options.threshold):
            finer = int(hamming(hash_bytes(found[query].fine), self.fine[entry]))
            item = int(self.entry_items[entry])
            if item in exact or finer > options.fine_threshold:
                continue
            if item not in best or (distance, finer) < best[item][:2]:
                best[item] = (distance, finer, query)
        return matches + [
            (
                self.items[item],
                "image_near",
                f"pHash {distance}/256 bits, dHash {finer}/256 ({_crop(found[query].crop)}, "
                f"{found[query].turn * 90} degrees)",
            )
            for item, (distance, finer, query) in sorted(best.items(), key=lambda kv: kv[1])
        ]

    # text --------------------------------------------------------------------------------

    def _lookup(self, keys: np.ndarray, items: np.ndarray, gram: int) -> int | None:
        value = np.uint64(gram)
        at = np.searchsorted(keys, value)
        return int(items[at]) if at < len(keys) and keys[at] == value else None

    def match_text(
        self, pairs: list[tuple[str, str]], texts: list[str], options: DecontaminateOptions
    ) -> list[tuple[str, str, str]]:
        """(item id, kind, the shared words) of benchmark items whose QA a sample's QA or text
        repeats: one match per item and kind."""
        found: dict[tuple[int, str], str] = {}
        lengths = range(MIN_QA_WORDS, options.qa_ngram + 1)
        if len(self.qa_grams):
            for question, answer in pairs:
                for gram, run in windows(words(question) + words(answer), lengths):
                    item = self._lookup(self.qa_grams, self.qa_items, gram)
                    if item is not None:
                        found.setdefault((item, "qa_ngram"), " ".join(run))
        if len(self.text_grams):
            for text in [*texts, *(part for pair in pairs for part in pair)]:
                for gram, run in windows(words(text), [options.text_ngram]):
                    item = self._lookup(self.text_grams, self.text_items, gram)
                    if item is not None:
                        found.setdefault((item, "text_ngram"), " ".join(run))
        return [(self.items[item], kind, run) for (item, kind), run in found.items()]


def _crop(crop: tuple[float, ...]) -> str:
    """ "2% of the top and left" of (top, bottom, left, right)."""
    sides = [name for name, part in zip(("top", "bottom", "left", "right"), crop) if part]
    if not sides:
        return "uncropped"
    return f"{max(crop):.0%} of the {' and '.join(sides) if len(sides) < 4 else 'sides'}"


def sample_matches(
    indexes: dict[str, BenchmarkIndex], images: list[bytes], pairs, texts, options
) -> list[BenchmarkMatch]:
    """Every benchmark's matches of one sample's images, QA and page texts, at most
    MAX_MATCHES."""
    matches: list[BenchmarkMatch] = []
    for name, index in indexes.items():
        for number, data in enumerate(images):
            for item, kind, detail in index.match_image(data, options):
                matches.append(BenchmarkMatch(name, item, kind, number, detail))
        for item, kind, detail in index.match_text(pairs, texts, options):
            matches.append(BenchmarkMatch(name, item, kind, -1, detail[:200]))
    return matches[:MAX_MATCHES]
