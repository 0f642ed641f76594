"""Deterministic sharded Parquet: same records in, byte-identical shards out.

Each record goes to shard `hash(id) % count`, and each shard is sorted by id before it is
written, so neither worker count, bundle order nor runner changes the files. The shard count
comes from the estimated total size and `target_shard_mb`; one shard is held in memory while it
is written. Beam writes through `curate/pipelines/write.py`; without Beam, `SpilledShards`
writes the same files.
"""

from __future__ import annotations

import glob as local_glob
import hashlib
import math
import os
import pickle
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate import storage
from curate.config import WriterOptions
from curate.schemas import schema_for_kind


@dataclass(frozen=True)
class ShardSpec:
    """Where one kind of output goes: `<output>/<folder>/<prefix>-00000-of-00004.parquet`."""

    folder: str
    prefix: str
    kind: str  # pages | samples | failures


DATA = ShardSpec("data", "train", "samples")
DROPPED = ShardSpec("dropped", "dropped", "samples")
DEAD_LETTER = ShardSpec("dead_letter", "failures", "failures")
PAGES = ShardSpec("pages", "pages", "pages")
DROPPED_PAGES = ShardSpec("dropped_pages", "dropped-pages", "pages")


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


def estimated_bytes(row: dict[str, Any]) -> int:
    """Rough on-disk size of a row: image bytes dominate, text is counted by length."""
    size = 256
    for value in row.values():
        if isinstance(value, bytes | str):
            size += len(value)
        elif isinstance(value, dict) and isinstance(value.get("bytes"), bytes):
            size += len(value["bytes"])
        elif isinstance(value, list):
            size += sum(len(v["bytes"]) for v in value if isinstance(v, dict) and "bytes" in v)
            size += len(str(value)) // 4
    return size


def shard_count(total_bytes: int, rows: int, options: WriterOptions) -> int:
    """Enough shards to meet the size target, but never more shards than rows."""
    wanted = math.ceil(total_bytes / (options.target_shard_mb * 2**20))
    return max(1, min(wanted, rows))


def shard_index(row: dict[str, Any], count: int) -> int:
    digest = hashlib.sha256(row_id(row).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def shard_path(output: str, spec: ShardSpec, index: int, count: int) -> str:
    return storage.join(output, spec.folder, f"{spec.prefix}-{index:05d}-of-{count:05d}.parquet")


def write_shard(
    rows: Iterable[dict[str, Any]],
    schema: pa.Schema,
    path: str,
    options: WriterOptions,
) -> ShardInfo:
    """Sort rows by id and write them as one Parquet file, atomically."""
    ordered = sorted(rows, key=row_id)
    table = pa.Table.from_pylist(ordered, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        row_group_size=options.row_group_size,
        compression=None if options.compression == "none" else options.compression,
    )
    data = sink.getvalue().to_pybytes()
    storage.makedirs(os.path.dirname(path) if storage.is_local(path) else path.rsplit("/", 1)[0])
    storage.write_bytes_atomic(path, data)
    return ShardInfo(path=path, rows=len(ordered), bytes=len(data))


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
    """Rows -> the shards `WriteShards` would write, without Beam and without holding them all.

    Rows are pickled to a temporary file as they come; `close()` works out the shard count,
    then gathers and writes one shard at a time.
    """

    def __init__(self, output: str, spec: ShardSpec, options: WriterOptions):
        self.output, self.spec, self.options = output, spec, options
        self._file = tempfile.TemporaryFile(prefix="curate-spill-")
        self._rows: list[tuple[int, int]] = []  # (id digest, file offset)
        self._bytes = 0

    def add(self, row: dict[str, Any]) -> None:
        digest = int.from_bytes(hashlib.sha256(row_id(row).encode("utf-8")).digest()[:8], "big")
        self._rows.append((digest, self._file.tell()))
        self._bytes += estimated_bytes(row)
        pickle.dump(row, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def close(self) -> list[ShardInfo]:
        schema = schema_for_kind(self.spec.kind)
        count = shard_count(self._bytes, len(self._rows), self.options)
        written = []
        for index in range(count):
            rows = []
            for digest, offset in self._rows:
                if digest % count == index:
                    self._file.seek(offset)
                    rows.append(pickle.load(self._file))
            if rows:
                written.append(
                    write_shard(
                        rows, schema, shard_path(self.output, self.spec, index, count), self.options
                    )
                )
        self._file.close()
        return finish_shards(self.output, self.spec, schema, count, written, self.options)
