"""Finding and reading an existing curate dataset (a run's output folder or Parquet files)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq

from curate.io import storage
from curate.io.errors import CurateError
from curate.outputs.writers.parquet import DATA, PAGES
from curate.schemas import SCHEMA_VERSION
from curate.schemas.arrow import kind_of_schema


class DatasetError(CurateError, ValueError):
    """The path holds no curate dataset; the message says what was looked for."""


def locate(path: str) -> tuple[str, str]:
    """(glob pattern of the Parquet files, record kind) for a folder, file or glob.

    A run's output folder is read from `data/`, a render output from `pages/`.
    """
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
    return pattern, read_kind(files[0])


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
