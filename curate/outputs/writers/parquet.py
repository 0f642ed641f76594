"""Deterministic sharded Parquet: same records in, byte-identical shards out.

Each record goes to shard `hash(id) % count`, and each shard is sorted by id before it is
written, so neither worker count, bundle order nor runner changes the files. The shard count
comes from the estimated total size and `target_shard_mb`. A shard's records are held while it
is written, its rows one row group at a time (images kept by reference are read only then).
Beam writes through `curate/runners/beam/write.py`; without Beam, `SpilledShards` writes the same
files.
"""

from __future__ import annotations

import glob as local_glob
import hashlib
import itertools
import math
import os
import pickle
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.config import WriterOptions
from curate.io import storage
from curate.schemas import ImageData, schema_for_kind
from curate.schemas.columns import to_row
from curate.schemas.folders import ShardSpec


@dataclass
class ShardInfo:
    path: str
    rows: int
    bytes: int


def row_id(row: dict[str, Any]) -> str:
    """The sort and shard key of a row: its record id, plus reason and detail for failures."""
    for key in ("sample_id", "page_id"):
        if key in row:
            return row[key]
    return "\x00".join(str(row.get(k, "")) for k in ("item_id", "stage", "reason", "detail"))


def record_id(record: Any) -> str:
    """`row_id` of a record (a page, sample or failure), without building its row."""
    return row_id(vars(record))


def estimated_bytes(record: Any) -> int:
    """Rough on-disk size of a record: images by their encoded size (never read for this),
    text by its length."""
    return 256 + _size(record)


def _size(value: Any) -> int:
    if isinstance(value, ImageData):
        return value.nbytes
    if isinstance(value, bytes | str):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(_size(v) for v in value)
    if is_dataclass(value):
        return sum(_size(v) for v in vars(value).values())
    return 8


def shard_count(total_bytes: int, rows: int, options: WriterOptions) -> int:
    """Enough shards to meet the size target, but never more shards than rows."""
    wanted = math.ceil(total_bytes / (options.target_shard_mb * 2**20))
    return max(1, min(wanted, rows))


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def shard_index(record: Any, count: int) -> int:
    return _digest(record_id(record)) % count


def shard_path(output: str, spec: ShardSpec, index: int, count: int) -> str:
    return storage.join(output, spec.folder, f"{spec.prefix}-{index:05d}-of-{count:05d}.parquet")


def write_shard(
    records: Iterable[Any],
    schema: pa.Schema,
    path: str,
    options: WriterOptions,
) -> ShardInfo:
    """Sort records by id and write them as one Parquet file, atomically. Images kept by
    reference are read one row group at a time and let go again (`_row`), so the shard's
    pixels are never all in memory at once."""
    return write_sorted_shard(iter(sorted(records, key=record_id)), schema, path, options)


def _row(record: Any) -> dict[str, Any]:
    """The record's row; images it keeps by reference are let go again once copied into it."""
    row = to_row(record)
    for value in vars(record).values():
        for image in value if isinstance(value, list) else [value]:
            if isinstance(image, ImageData):
                image.release()
    return row


def write_sorted_shard(
    records: Iterator[Any], schema: pa.Schema, path: str, options: WriterOptions
) -> ShardInfo:
    """Records already in id order -> one Parquet file, built one row group at a time."""
    storage.makedirs(os.path.dirname(path) if storage.is_local(path) else path.rsplit("/", 1)[0])
    compression = None if options.compression == "none" else options.compression
    rows = 0
    with storage.atomic_writer(path) as handle:
        with pq.ParquetWriter(handle, schema, compression=compression) as writer:
            while group := [_row(r) for r in itertools.islice(records, options.row_group_size)]:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                rows += len(group)
        size = handle.tell()
    return ShardInfo(path=path, rows=rows, bytes=size)


def finish_shards(
    output: str,
    spec: ShardSpec,
    schema: pa.Schema,
    count: int,
    written: Iterable[ShardInfo],
    options: WriterOptions,
) -> list[ShardInfo]:
    """Write empty shards for indexes no row hashed to, and delete shards of earlier runs.

    Every name `...-of-<count>` then exists, so loaders that expect a full set are satisfied,
    and no stale shard from a run with another count is read along with this run's.
    """
    infos = {info.path: info for info in written}
    for index in range(count):
        path = shard_path(output, spec, index, count)
        if path not in infos:
            infos[path] = write_shard([], schema, path, options)
    if storage.is_local(output):
        pattern = os.path.join(output, spec.folder, f"{spec.prefix}-*-of-*.parquet")
        current = re.compile(rf"-of-{count:05d}\.parquet$")
        for stale in local_glob.glob(pattern):
            if not current.search(stale):
                os.remove(stale)
    return sorted(infos.values(), key=lambda info: info.path)


def shard_infos_as_dicts(infos: Iterable[ShardInfo], output: str) -> list[dict[str, Any]]:
    """Shard entries for the manifest, with paths relative to the output folder."""
    prefix = output.rstrip("/") + "/"
    return [
        {
            **asdict(info),
            "path": info.path[len(prefix) :] if info.path.startswith(prefix) else info.path,
        }
        for info in infos
    ]


class SpilledShards:
    """Records -> the shards `WriteShards` would write, without Beam and without holding them.

    Records are pickled to a temporary file as they come; `close()` works out the shard count,
    then gathers and writes one shard at a time.
    """

    def __init__(self, output: str, spec: ShardSpec, options: WriterOptions):
        self.output, self.spec, self.options = output, spec, options
        self._file = tempfile.TemporaryFile(prefix="curate-spill-")
        self._rows: list[tuple[int, str, int]] = []  # (id digest, id, file offset)
        self._bytes = 0

    def add(self, record: Any) -> None:
        key = record_id(record)
        self._rows.append((_digest(key), key, self._file.tell()))
        self._bytes += estimated_bytes(record)
        pickle.dump(record, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def close(self) -> list[ShardInfo]:
        schema = schema_for_kind(self.spec.kind)
        count = shard_count(self._bytes, len(self._rows), self.options)
        self._rows.sort(key=lambda row: row[1])
        written = []
        for index in range(count):
            offsets = [offset for digest, _, offset in self._rows if digest % count == index]
            if offsets:
                path = shard_path(self.output, self.spec, index, count)
                written.append(write_sorted_shard(self._load(offsets), schema, path, self.options))
        self._file.close()
        return finish_shards(self.output, self.spec, schema, count, written, self.options)

    def _load(self, offsets: list[int]) -> Iterator[Any]:
        for offset in offsets:
            self._file.seek(offset)
            yield pickle.load(self._file)
