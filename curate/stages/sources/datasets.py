"""Datasets someone already has, as the input of a job: curate's own Parquet (pages or samples,
a run's output folder or shard files) and LLaVA-format JSON with its image folder.

Reading is a stage like any other: one shard file, or one LLaVA JSON, is read as a stream of
records, so both runners read the same way. A LLaVA record whose image cannot be read becomes
a dead-letter row of its own; the rest of the dataset goes on.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
from PIL import Image

from curate.core.stage import ItemFailed, Keep, Outcome, Stage
from curate.document.conversation import build_conversation
from curate.io import storage
from curate.io.errors import CurateError
from curate.schemas import (
    IMAGE_PLACEHOLDER,
    SCHEMA_VERSION,
    ImageData,
    QAItem,
    SampleRecord,
    page_from_row,
    sample_from_row,
    stable_id,
)
from curate.schemas.arrow import kind_of_schema
from curate.schemas.folders import DATA, PAGES
from curate.schemas.reasons import FailureReason

# ------------------------------------------------------------------------ curate's own Parquet


class DatasetError(CurateError, ValueError):
    """The path holds no curate dataset; the message says what was looked for."""


@dataclass(frozen=True)
class Dataset:
    """An existing curate dataset: a glob of Parquet files holding `pages` or `samples`."""

    pattern: str
    kind: str


def locate(path: str) -> Dataset:
    """The dataset at a folder, file or glob. A run's output folder is read from `data/`, a
    render output from `pages/`."""
    uri = storage.normalize_uri(path)
    if any(ch in path for ch in "*?["):
        files = storage.glob(uri)
        pattern = uri
    elif uri.endswith(".parquet"):
        files, pattern = [uri], uri
    else:
        for spec in (PAGES, DATA):
            pattern = storage.join(uri, spec.folder, "*.parquet")
            files = storage.glob(pattern)
            if files:
                break
        else:
            raise DatasetError(
                f"no Parquet shards under {path}/pages/ or {path}/data/; "
                "pass the output folder of `curate render` or `curate run`, or a *.parquet glob"
            )
    if not files:
        raise DatasetError(f"no Parquet files match {path}")
    return Dataset(pattern, read_kind(files[0]))


def row_count(pattern: str) -> int:
    """The rows of a dataset's shards, from their footers: nothing else is read."""
    total = 0
    for path in storage.glob(pattern):
        with storage.open_file(path) as handle:
            total += pq.ParquetFile(handle).metadata.num_rows
    return total


def read_kind(file: str) -> str:
    with storage.open_file(file) as handle:
        schema = pq.read_schema(handle)
    kind = kind_of_schema(schema)
    if kind is None:
        raise DatasetError(f"{file} was not written by curate (no curate.kind in its metadata)")
    version = (schema.metadata or {}).get(b"curate.schema_version", b"").decode()
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise DatasetError(
            f"{file} has schema version {version}; this curate reads {SCHEMA_VERSION}. "
            "Re-run the job with this version of curate."
        )
    return kind


def iter_rows(pattern: str, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Rows one batch at a time, so a large dataset is never held in memory."""
    for file in storage.glob(pattern):
        with storage.open_file(file) as handle:
            reader = pq.ParquetFile(handle)
            for batch in reader.iter_batches(batch_size=16, columns=columns):
                yield from batch.to_pylist()


def shard_files(output: str, folder: str) -> list[str]:
    return storage.glob(storage.join(output, folder, "*.parquet"))


@dataclass(frozen=True)
class ParquetShard:
    """One Parquet file of a curate dataset, and the kind of records it holds."""

    path: str
    kind: str


class ReadParquet(Stage):
    """A shard file -> its page or sample records, a batch of rows at a time."""

    name = "read_parquet"
    accepts = (ParquetShard,)
    emits = frozenset({FailureReason.UNREADABLE})
    error_reason = FailureReason.UNREADABLE

    def process(self, shard: ParquetShard) -> Iterable[Outcome]:
        from_row = page_from_row if shard.kind == "pages" else sample_from_row
        for row in iter_rows(shard.path):
            yield Keep(from_row(row))


# ------------------------------------------------------------------------- LLaVA-format JSON


@dataclass(frozen=True)
class LlavaJson:
    """A LLaVA-format JSON (or JSON lines) dataset someone already has, and its image folder."""

    path: str
    image_folder: str
    duo_layout: str = "auto"  # auto | blocks4 | none: how turns pair into duos (FFD)


@dataclass(frozen=True)
class LlavaRecord:
    """One record of a LLaVA JSON, with where it came from."""

    record: dict[str, Any]
    source: LlavaJson


def read_llava_records(path: str) -> list[dict[str, Any]]:
    """The JSON array (or JSON lines) of records; text only, images stay on disk."""
    with storage.open_file(path) as handle:
        text = handle.read().decode("utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def image_paths(record: dict) -> list[str]:
    """A record's images: `image` is a path when there is one, a list otherwise."""
    image = record.get("image")
    if image is None:
        return []
    return [image] if isinstance(image, str) else list(image)


SELF_EXPLAIN_CUE = re.compile(
    r"\b(explain|why|how (do|does|did|can|could) (you|we|i|the)|justify|reason|evidence|"
    r"support|elaborate|what makes)\b",
    re.IGNORECASE,
)


def duo_kinds(questions: list[str], layout: str = "auto") -> list[str]:
    """The kind of each QA pair. LLaVAR-2 writes 4-turn blocks (extractive Q, A, then its
    self-explain Q, A); `blocks4` reads pairs that way, `none` as plain turns, and `auto` reads
    them as blocks when there is an even number of pairs and most second pairs ask for an
    explanation."""
    if layout == "auto":
        seconds = questions[1::2]
        cued = sum(bool(SELF_EXPLAIN_CUE.search(q)) for q in seconds)
        blocks = len(questions) >= 2 and len(questions) % 2 == 0 and cued * 2 > len(seconds)
        layout = "blocks4" if blocks else "none"
    if layout == "blocks4":
        return ["extractive" if i % 2 == 0 else "self_explain" for i in range(len(questions))]
    return ["turn"] * len(questions)


def record_id(record: dict[str, Any]) -> str:
    return str(record.get("id", stable_id(json.dumps(record, sort_keys=True))))


def llava_to_sample(
    record: dict[str, Any], image_folder: str, source: str, duo_layout: str = "auto"
) -> SampleRecord:
    """One record as a sample: its `conversations` (`from: human|gpt`) become QA turns (kinds by
    `duo_kinds`) and its `image` (a path or a list) is read from the folder."""
    names = image_paths(record) or list(record.get("images") or [])
    images, sizes = [], []
    for name in names:
        with storage.open_file(storage.join(image_folder, name)) as handle:
            content = handle.read()
        with Image.open(io.BytesIO(content)) as image:
            sizes.append(image.size)
        images.append(ImageData(content, name))
    turns = record.get("conversations") or []
    pairs = [
        (human.get("value", "").replace(IMAGE_PLACEHOLDER, "").strip(), gpt.get("value", ""))
        for human, gpt in zip(turns[0::2], turns[1::2], strict=False)
    ]
    kinds = duo_kinds([question for question, _ in pairs], duo_layout)
    qa = [
        QAItem(kind=kind, question=question, answer=answer, generator="llava-json")
        for (question, answer), kind in zip(pairs, kinds, strict=True)
    ]
    sample_id = record_id(record)
    return SampleRecord(
        sample_id=sample_id,
        doc_id=sample_id,
        source_uri=source,
        source_sha256="",
        source_type="llava-json",
        page_ids=[f"{sample_id}-{i}" for i in range(len(names))],
        page_indices=list(range(len(names))),
        images=images,
        image_sizes=sizes,
        image_blocks=[[] for _ in names],  # LLaVA JSON carries no text boxes
        qa=qa,
        conversations=build_conversation(qa, len(names)),
        generator="llava-json",
    )


class ReadLlavaJson(Stage):
    """A LLaVA JSON -> its records (text only: images are read by the next stage, on the
    workers)."""

    name = "read_llava"
    accepts = (LlavaJson,)
    emits = frozenset({FailureReason.UNREADABLE})
    error_reason = FailureReason.UNREADABLE

    def process(self, source: LlavaJson) -> Iterable[Outcome]:
        for record in read_llava_records(source.path):
            yield Keep(LlavaRecord(record, source))


class LlavaToSample(Stage):
    """A LLaVA record -> a sample with its images; a record whose image is missing or cannot be
    decoded is a dead-letter row of its own."""

    name = "llava_to_sample"
    accepts = (LlavaRecord,)
    emits = frozenset(
        {FailureReason.FILE_NOT_FOUND, FailureReason.CORRUPT_IMAGE, FailureReason.UNREADABLE}
    )
    error_reason = FailureReason.UNREADABLE

    def process(self, item: LlavaRecord) -> Iterable[Outcome]:
        source = item.source
        try:
            sample = llava_to_sample(
                item.record, source.image_folder, source.path, source.duo_layout
            )
        except FileNotFoundError as err:
            raise self._failed(item, FailureReason.FILE_NOT_FOUND, f"no such image: {err}")
        except (Image.UnidentifiedImageError, Image.DecompressionBombError) as err:
            raise self._failed(item, FailureReason.CORRUPT_IMAGE, str(err)) from None
        except Exception as err:
            detail = f"{type(err).__name__}: {err}"
            raise self._failed(item, FailureReason.UNREADABLE, detail) from None
        yield Keep(sample)

    @staticmethod
    def _failed(item: LlavaRecord, reason: str, detail: str) -> ItemFailed:
        return ItemFailed(reason, detail, record_id(item.record), item.source.path)
