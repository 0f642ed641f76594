"""`hf`: Parquet shards that `datasets` loads with `images` as a list of `Image`, Hub-ready.

Layout `data/train-NNNNN-of-NNNNN.parquet` (the Hub's default split naming) plus a dataset card.
Besides curate's provenance and scores, each row has `conversations` (role/content with `<image>`
placeholders) and `messages` (typed content parts), so TRL-style VLM trainers can read it as is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from curate.io import storage
from curate.outputs.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    check_turns,
)
from curate.outputs.export.chat import to_messages
from curate.outputs.export.tiles import tile_columns
from curate.schemas import SAMPLE_SCHEMA, SampleRecord, Turn, sample_to_row
from curate.schemas.arrow import hf_feature
from curate.stages.sources.datasets import iter_rows

DATA_FOLDER = "data"
MESSAGE_PART = pa.struct([("type", pa.string()), ("text", pa.string())])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.list_(MESSAGE_PART))])
# Columns taken from curate's own sample rows (same types), plus `id` and the typed `messages`.
_SAMPLE_COLUMNS = (
    "images",
    "conversations",
    "num_images",
    "image_texts",
    "source_uri",
    "doc_id",
    "page_indices",
    "scores",
    "generator",
)
_FIELDS = [
    ("id", pa.string()),
    *[(name, SAMPLE_SCHEMA.field(name).type) for name in _SAMPLE_COLUMNS[:2]],
    ("messages", pa.list_(MESSAGE)),
    *[(name, SAMPLE_SCHEMA.field(name).type) for name in _SAMPLE_COLUMNS[2:]],
]
_TILE_FIELDS = [
    ("tile_grid", pa.list_(pa.list_(pa.int32(), 2))),
    ("num_tiles", pa.int32()),
    ("tile_size", pa.int32()),
]


def hf_schema(tiles: bool) -> pa.Schema:
    fields = _FIELDS + (_TILE_FIELDS if tiles else [])
    features = {name: hf_feature(arrow_type) for name, arrow_type in fields}
    return pa.schema(
        fields, metadata={b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    )


def to_row(sample: SampleRecord, options: ExportOptions) -> dict:
    own = sample_to_row(sample)
    row = {"id": sample.sample_id, "messages": to_messages(sample.conversations)}
    row.update((name, own[name]) for name in _SAMPLE_COLUMNS)
    if options.tiles:
        row.update(tile_columns(sample.image_sizes, options.tile_size, options.max_tiles))
    return row


class ShardedParquet:
    """Rows -> shards of about `shard_mb`, renamed to `train-i-of-n` once n is known."""

    def __init__(self, folder: str, schema: pa.Schema, shard_mb: float, batch_rows: int = 32):
        self.folder, self.schema, self.limit = folder, schema, int(shard_mb * 1e6)
        self.batch_rows, self.rows, self.parts = batch_rows, [], []
        self.writer = self.handle = None
        storage.makedirs(folder)

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        if self.writer is None:
            path = storage.join(self.folder, f".part-{len(self.parts):05d}.parquet")
            self.handle = storage.open_file(path, "wb")
            self.writer = pq.ParquetWriter(self.handle, self.schema)
            self.parts.append(path)
        self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.rows = []
        if self.handle.tell() >= self.limit:
            self._close_part()

    def _close_part(self) -> None:
        self.writer.close()
        self.handle.close()
        self.writer = self.handle = None

    def close(self) -> list[str]:
        self._flush()
        if self.writer is not None:
            self._close_part()
        if not self.parts:  # an empty dataset still gets one (empty) shard
            path = storage.join(self.folder, ".part-00000.parquet")
            with storage.open_file(path, "wb") as handle:
                pq.ParquetWriter(handle, self.schema).close()
            self.parts.append(path)
        names = []
        for i, part in enumerate(self.parts):
            name = f"train-{i:05d}-of-{len(self.parts):05d}.parquet"
            storage.move(part, storage.join(self.folder, name))
            names.append(f"{DATA_FOLDER}/{name}")
        return names


class ParquetExporter(BaseExporter):
    hub_data = {"data_files": [{"split": "train", "path": f"{DATA_FOLDER}/train-*.parquet"}]}
    """Formats stored as `data/train-*.parquet`: subclasses give the schema and a row per sample."""

    def schema(self, options: ExportOptions) -> pa.Schema:
        raise NotImplementedError

    def row(self, sample: SampleRecord, options: ExportOptions) -> dict:
        raise NotImplementedError

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name)
        for stale in self.files(output):
            storage.remove(stale)
        shards = ShardedParquet(
            storage.join(output, DATA_FOLDER), self.schema(options), options.shard_mb
        )
        for sample in samples:
            shards.add(self.row(sample, options))
            result.samples += 1
            result.images += sample.num_images
        result.files = shards.close()
        return result

    def files(self, output: str) -> list[str]:
        return storage.glob(storage.join(output, DATA_FOLDER, "train-*.parquet"))

    def rows(self, output: str, columns: list[str] | None = None) -> Iterator[dict]:
        return iter_rows(storage.join(output, DATA_FOLDER, "train-*.parquet"), columns)

    def image_feature_errors(self, output: str) -> list[str]:
        """`images` must be declared as a list of datasets.Image, so the Hub viewer shows them."""
        with storage.open_file(self.files(output)[0]) as handle:
            metadata = pq.read_schema(handle).metadata or {}
        features = (
            json.loads(metadata.get(b"huggingface", b"{}")).get("info", {}).get("features", {})
        )
        if features.get("images", {}).get("feature", {}).get("_type") != "Image":
            return ["`images` is not declared as a list of datasets.Image"]
        return []


class HfExporter(ParquetExporter):
    name = "hf"
    columns = [
        ("id", "sample id"),
        ("images", "list of Image"),
        ("conversations", "`{role, content}` turns with `<image>` placeholders, interleaved"),
        ("messages", "the same turns as typed content parts (`image` / `text`)"),
        ("num_images, image_texts", "images per sample and each image's text (native, OCR or DOM)"),
        ("source_uri, doc_id, page_indices", "provenance"),
        ("scores", "IFD, VFD, mIFD, FFD (null when not scored)"),
        ("generator", "which backend wrote the QA"),
        (
            "tile_grid, num_tiles, tile_size",
            "with --tiles: Leopard adaptive-resolution grids per image",
        ),
    ]
    train_with = (
        '`datasets.load_dataset("parquet", data_files="<this folder>/data/*.parquet")`, or '
        '`load_dataset("<repo id>")` after `--to-hub`; images are decoded `datasets.Image` '
        "columns."
    )

    def schema(self, options: ExportOptions) -> pa.Schema:
        return hf_schema(options.tiles)

    def row(self, sample: SampleRecord, options: ExportOptions) -> dict:
        return to_row(sample, options)

    def validate(self, output: str) -> list[str]:
        if not self.files(output):
            return [f"no {DATA_FOLDER}/train-*.parquet shards"]
        errors = self.image_feature_errors(output)
        for row in self.rows(output, ["id", "images", "conversations"]):
            turns = [Turn(**t) for t in row["conversations"]]
            errors.extend(check_turns(row["id"], turns, len(row["images"])))
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for row in self.rows(output, ["id", "images", "conversations"]):
            yield ExportedSample(
                row["id"],
                [i["bytes"] for i in row["images"]],
                [Turn(**t) for t in row["conversations"]],
            )
