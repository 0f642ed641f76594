"""Evaluation benchmarks as a user has them on disk, read as items of images and QA pairs.

What `read_benchmark` understands, by what the path is:

- a `.json` or `.jsonl` file: LLaVA format (`id`, `image` or `images`, `conversations` of
  human/gpt turns), or records with `question` and `answer` fields (MMLongBench-Doc's
  samples.json); images are found next to the file, or in its `images/` folder;
- a `.parquet` file, a glob of them, or a folder holding them (DocVQA, ChartQA, the Cauldron
  on the Hub are Parquet): a row is an item;
- a folder written by `datasets`' `save_to_disk` (a `state.json` beside `.arrow` files, or a
  `dataset_dict.json` over split folders): read with pyarrow, every split;
- any other folder: every image file in it, at any depth, is an item named by its path.

In rows, images are the values that are images (`{bytes, path}` structs as `datasets` stores
them, raw bytes, or lists of either), whatever their column's name. Questions and answers are
read from the usual column names (`question`, `query`, `answer`, `answers` or `label` with one
or many answers, LLaVA `conversations`, the Cauldron's `texts` of user/assistant pairs, chat
`messages`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.io import storage
from curate.io.errors import CurateError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")
QUESTION_COLUMNS = ("question", "query", "questions", "prompt", "instruction")
ANSWER_COLUMNS = ("answer", "answers", "response", "label", "gt_answer", "ground_truth")
ID_COLUMNS = ("id", "question_id", "questionId", "qid", "uid", "sample_id", "image_id")


class BenchmarkError(CurateError, ValueError):
    """A benchmark path that cannot be read; the message says what was looked for."""


@dataclass
class BenchmarkItem:
    """One benchmark item: its id, its images (encoded bytes) and its question-answer pairs."""

    item_id: str
    images: list[bytes] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)


def read_benchmark(path: str) -> Iterator[BenchmarkItem]:
    """The items of the benchmark at `path`, one at a time (see the module docstring)."""
    uri = storage.normalize_uri(path)
    if uri.endswith((".json", ".jsonl")):
        yield from _llava_items(uri)
    elif uri.endswith(".parquet") or any(ch in uri for ch in "*?["):
        yield from _table_items(_parquet_batches(storage.glob(uri)))
    elif not storage.isdir(uri):
        raise BenchmarkError(
            f"no benchmark at {path}: give a LLaVA .json, Parquet files, a folder saved "
            "with datasets' save_to_disk, or a folder of images"
        )
    elif parquet := storage.list_files(storage.join(uri, "**", "*.parquet")):
        yield from _table_items(_parquet_batches(parquet))
    elif arrow := storage.list_files(storage.join(uri, "**", "*.arrow")):
        yield from _table_items(_arrow_batches(arrow))
    else:
        yield from _image_items(uri)


def benchmark_files(path: str) -> list[tuple[str, int]]:
    """(file, size) of every file the benchmark is read from: what its index is keyed by."""
    uri = storage.normalize_uri(path)
    if uri.endswith((".json", ".jsonl")):
        folder = uri.rsplit("/", 1)[0]
        files = [uri, *storage.list_files(storage.join(folder, "**", "*"))]
    elif storage.isdir(uri):
        files = storage.list_files(storage.join(uri, "**", "*"))
    else:
        files = storage.list_files(uri)
    return sorted({(file, storage.file_size(file)) for file in files})


# ---------------------------------------------------------------------------- LLaVA JSON


def _llava_items(uri: str) -> Iterator[BenchmarkItem]:
    with storage.open_file(uri) as handle:
        text = handle.read().decode("utf-8")
    records = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    folder = uri.rsplit("/", 1)[0] if "/" in uri else "."
    for number, record in enumerate(records):
        names = record.get("image") or record.get("images") or []
        names = [names] if isinstance(names, str) else [n for n in names if isinstance(n, str)]
        item = row_item({k: v for k, v in record.items() if k not in ("image", "images")}, "")
        item.item_id = item.item_id or f"row-{number}"
        try:
            item.images = [_read_image(folder, name) for name in names]
        except BenchmarkError as err:
            raise BenchmarkError(f"{uri}, item {item.item_id}: {err}") from None
        yield item


def _read_image(folder: str, name: str) -> bytes:
    for candidate in (storage.join(folder, name), storage.join(folder, "images", name)):
        if storage.exists(candidate):
            with storage.open_file(candidate) as handle:
                return handle.read()
    raise BenchmarkError(
        f"image {name} not found in {folder} or {folder}/images; a benchmark is indexed whole "
        "or not at all, so fix or remove the record"
    )


def _conversation_pairs(turns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) of LLaVA turns ({from, value}), the Cauldron's ({user, assistant}) or
    chat messages ({role, content}, content a string or a list of {type, text} parts)."""
    if turns and "user" in turns[0]:
        return [(str(t.get("user") or ""), str(t.get("assistant") or "")) for t in turns]
    if turns and "role" in turns[0]:
        texts = [(t.get("role"), _content_text(t.get("content"))) for t in turns]
        said = [text for role, text in texts if role != "system"]
        return list(zip(said[0::2], said[1::2], strict=False))
    humans = [str(t.get("value", "")).replace("<image>", "").strip() for t in turns[0::2]]
    answers = [str(t.get("value", "")) for t in turns[1::2]]
    return list(zip(humans, answers, strict=False))


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return str(content or "")


# ------------------------------------------------------------------ Parquet and Arrow rows


def _parquet_batches(files: list[str]) -> Iterator[tuple[str, pa.RecordBatch]]:
    for file in files:
        with storage.open_file(file) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=64):
                yield file, batch


def _arrow_batches(files: list[str]) -> Iterator[tuple[str, pa.RecordBatch]]:
    """save_to_disk writes Arrow IPC streams (older versions: files)."""
    for file in files:
        with storage.open_file(file) as handle:
            data = handle.read()
        try:
            reader = pa.ipc.open_stream(data)
        except pa.ArrowInvalid:
            reader = pa.ipc.open_file(data)
        if isinstance(reader, pa.ipc.RecordBatchFileReader):
            for index in range(reader.num_record_batches):
                yield file, reader.get_batch(index)
        else:
            for batch in reader:
                yield file, batch


def _table_items(batches: Iterable[tuple[str, pa.RecordBatch]]) -> Iterator[BenchmarkItem]:
    number = 0
    for file, batch in batches:
        for row in batch.to_pylist():
            yield row_item(row, f"{os.path.basename(file)}#{number}")
            number += 1


def row_item(row: dict[str, Any], fallback_id: str) -> BenchmarkItem:
    """A table row as an item: its images wherever they are, its QA by the usual names."""
    item_id = next((str(row[c]) for c in ID_COLUMNS if row.get(c) not in (None, "")), fallback_id)
    images = [image for value in row.values() for image in _images_in(value)]
    pairs: list[tuple[str, str]] = []
    for column in ("conversations", "texts", "messages"):
        if isinstance(row.get(column), list) and row[column] and isinstance(row[column][0], dict):
            pairs += _conversation_pairs(row[column])
    question = next((row[c] for c in QUESTION_COLUMNS if isinstance(row.get(c), (str, list))), "")
    answers = next((row[c] for c in ANSWER_COLUMNS if row.get(c) not in (None, "")), "")
    questions = question if isinstance(question, list) else [question]
    answers = [str(a) for a in answers] if isinstance(answers, list) else [str(answers)]
    for text in questions:
        pairs += [(str(text), answer) for answer in answers or [""]]
    return BenchmarkItem(item_id, images, [(q, a) for q, a in pairs if q or a])


_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")


def _images_in(value: Any) -> list[bytes]:
    """The encoded images in a cell: `{bytes, path}` structs, raw bytes, lists of them."""
    if isinstance(value, dict) and isinstance(value.get("bytes"), bytes):
        return [value["bytes"]]
    if isinstance(value, bytes) and value.startswith(_IMAGE_MAGIC):
        return [value]
    if isinstance(value, list):
        return [image for part in value for image in _images_in(part)]
    return []


# ------------------------------------------------------------------------ image folders


def _image_items(uri: str) -> Iterator[BenchmarkItem]:
    found = False
    for file in storage.list_files(storage.join(uri, "**", "*")):
        if file.lower().endswith(IMAGE_EXTENSIONS):
            found = True
            with storage.open_file(file) as handle:
                yield BenchmarkItem(file[len(uri) :].lstrip("/"), [handle.read()])
    if not found:
        raise BenchmarkError(
            f"no benchmark in {uri}: no .json, .jsonl, .parquet, .arrow or image files in it"
        )
