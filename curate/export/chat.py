"""Chat formats: `sharegpt` (from/value turns) and `messages` (role + typed content parts).

`messages` is what Idefics, SmolVLM and Qwen-VL chat templates take: each user message is a list
of `{"type": "image"}` and `{"type": "text", "text": ...}` parts, the image parts standing where
the `<image>` placeholders stand, and `images` lists the files in that order. Both formats write
JSON lines (`data.jsonl`) plus `images/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from curate import storage
from curate.conversation import split_placeholders
from curate.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    ImageFolder,
    check_turns,
    from_from_value,
    read_bytes,
    to_from_value,
)
from curate.export.tiles import tile_columns
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn

DATA_FILE = "data.jsonl"


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
        return result

    def validate(self, output: str) -> list[str]:
        errors = []
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

    def encode(self, turns):
        return "messages", to_messages(turns)

    def decode(self, record):
        return from_messages(record["messages"])
