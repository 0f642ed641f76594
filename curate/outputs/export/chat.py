"""Chat formats: `sharegpt` (from/value turns) and `messages` (role + typed content parts).

`messages` is what Idefics, SmolVLM and Qwen-VL chat templates take: each user message is a list
of `{"type": "image"}` and `{"type": "text", "text": ...}` parts, the image parts standing where
the `<image>` placeholders stand, and `images` lists the files in that order. Both formats write
JSON lines (`data.jsonl`) plus `images/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from curate.document.conversation import split_placeholders
from curate.io import storage
from curate.outputs.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    ImageFolder,
    check_turns,
    from_from_value,
    read_bytes,
    read_json,
    to_from_value,
)
from curate.outputs.export.tiles import tile_columns
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn

DATA_FILE = "data.jsonl"
INFO_FILE = "dataset_info.json"


def to_messages(turns: Iterable[Turn]) -> list[dict]:
    messages = []
    for turn in turns:
        parts = [
            {"type": "image"} if piece is None else {"type": "text", "text": piece}
            for piece in split_placeholders(turn.content)
        ]
        messages.append({"role": turn.role, "content": parts})
    return messages


def from_messages(messages: Iterable[dict]) -> list[Turn]:
    return [
        Turn(
            m["role"],
            "".join(IMAGE_PLACEHOLDER if p["type"] == "image" else p["text"] for p in m["content"]),
        )
        for m in messages
    ]


def _iter_jsonl(uri: str) -> Iterator[dict]:
    with storage.open_file(uri) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


class _JsonLinesChat(BaseExporter):
    name = ""
    hub_data = {"data_files": [{"split": "train", "path": DATA_FILE}]}
    dataset_info: dict | None = None  # written as dataset_info.json when set (LLaMA-Factory)

    def encode(self, turns: list[Turn]) -> tuple[str, list]:
        raise NotImplementedError

    def decode(self, record: dict) -> list[Turn]:
        raise NotImplementedError

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[DATA_FILE])
        images = ImageFolder(output)
        with storage.open_file(storage.join(output, DATA_FILE), "wb") as out:
            for sample in samples:
                paths = images.add_sample(sample)
                key, turns = self.encode(sample.conversations)
                record = {"id": sample.sample_id, "images": paths, key: turns}
                if options.tiles:
                    record.update(
                        tile_columns(sample.image_sizes, options.tile_size, options.max_tiles)
                    )
                out.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
                result.samples += 1
                result.images += len(paths)
        if self.dataset_info:
            storage.write_bytes_atomic(
                storage.join(output, INFO_FILE), json.dumps(self.dataset_info, indent=2).encode()
            )
            result.files.append(INFO_FILE)
        return result

    def validate(self, output: str) -> list[str]:
        errors = []
        if self.dataset_info:
            try:
                info = read_json(storage.join(output, INFO_FILE))
            except FileNotFoundError:
                info = None
            if info != self.dataset_info:
                errors.append(
                    f"{INFO_FILE} must register {DATA_FILE} for LLaMA-Factory as "
                    f"{json.dumps(self.dataset_info)}"
                )
        for record in _iter_jsonl(storage.join(output, DATA_FILE)):
            rid = str(record.get("id"))
            paths = record.get("images")
            if not isinstance(paths, list):
                errors.append(f"{rid}: `images` must be a list of paths")
                continue
            for path in paths:
                if not storage.exists(storage.join(output, "images", path)):
                    errors.append(f"{rid}: image {path} is missing from images/")
            try:
                turns = self.decode(record)
            except (KeyError, TypeError) as exc:
                errors.append(f"{rid}: malformed turn ({exc!r})")
                continue
            errors.extend(check_turns(rid, turns, len(paths)))
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for record in _iter_jsonl(storage.join(output, DATA_FILE)):
            images = [read_bytes(storage.join(output, "images", p)) for p in record["images"]]
            yield ExportedSample(str(record["id"]), images, self.decode(record))


class ShareGptExporter(_JsonLinesChat):
    name = "sharegpt"
    columns = [
        ("id", "sample id"),
        ("images", "paths under images/, in `<image>` order"),
        ("conversations", "`{from: human|gpt, value}` turns with `<image>` placeholders"),
    ]
    train_with = (
        "LLaMA-Factory: `dataset: curate_sharegpt`, `dataset_dir: <this folder>` (this folder's"
        " `dataset_info.json` registers `data.jsonl`) and `media_dir: <this folder>/images`, "
        "since image paths are relative to `images/`."
    )

    dataset_info = {
        "curate_sharegpt": {
            "file_name": DATA_FILE,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "images": "images"},
            "tags": {
                "role_tag": "from",
                "content_tag": "value",
                "user_tag": "human",
                "assistant_tag": "gpt",
            },
        }
    }

    def encode(self, turns):
        return "conversations", to_from_value(turns)

    def decode(self, record):
        return from_from_value(record["conversations"])


class MessagesExporter(_JsonLinesChat):
    name = "messages"
    columns = [
        ("id", "sample id"),
        ("images", "paths under images/, in image-part order"),
        ("messages", "`{role, content: [{type: image} | {type: text, text}]}`"),
    ]
    train_with = (
        'Transformers chat processors (Idefics3, SmolVLM): `datasets.load_dataset("json", '
        'data_files="<this folder>/data.jsonl")`, open each row\'s `images` under `<this '
        "folder>/images/`, and pass `messages` to `processor.apply_chat_template`."
    )

    def encode(self, turns):
        return "messages", to_messages(turns)

    def decode(self, record):
        return from_messages(record["messages"])
