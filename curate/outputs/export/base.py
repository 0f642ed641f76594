"""What every export format shares: options, the exporter protocol, and streaming writers.

An exporter turns curated samples into the files a training codebase reads. Each format is one
module with `write` (streams samples out), `validate` (checks the files against the loader's
rules) and `read` (reads them back, for round-trip checks and for users who want to verify).
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from curate.io import storage
from curate.io.errors import CurateError
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn

IMAGES_FOLDER = "images"
ROLE_TO_FROM = {"user": "human", "assistant": "gpt"}
FROM_TO_ROLE = {v: k for k, v in ROLE_TO_FROM.items()}


class ExportError(CurateError, ValueError):
    """An export cannot be written or does not follow its format's rules; the message says why."""


@dataclass
class ExportOptions:
    """How to export. Tiles follow Leopard's adaptive resolution (outputs/export/tiles.py)."""

    tiles: bool = False
    tile_size: int = 364
    max_tiles: int = 50
    shard_mb: float = 256.0


@dataclass
class ExportResult:
    output: str
    format: str
    samples: int = 0
    images: int = 0
    files: list[str] = field(default_factory=list)
    skipped: Counter = field(
        default_factory=Counter
    )  # reason -> items left out (samples, turns, images)


@dataclass
class ExportedSample:
    """One sample as a format stores it: image bytes in placeholder order, and its turns."""

    id: str
    images: list[bytes]
    turns: list[Turn]


class Exporter(Protocol):
    name: ClassVar[str]
    columns: ClassVar[list[tuple[str, str]]]
    train_with: ClassVar[str]
    hub_data: ClassVar[dict[str, Any]]

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult: ...

    def validate(self, output: str) -> list[str]: ...

    def read(self, output: str) -> Iterator[ExportedSample]: ...

    def expected(self, sample: SampleRecord, options: ExportOptions) -> list[ExportedSample]: ...


class BaseExporter:
    """Defaults shared by the formats: a sample is stored as itself (images and turns)."""

    name: ClassVar[str] = ""
    columns: ClassVar[list[tuple[str, str]]] = []
    train_with: ClassVar[str] = ""  # the loader and its arguments, for the card
    # the card's `configs:` entry (data files and builder options), so `load_dataset(folder)`
    # and the Hub's viewer read the records, not the image folder beside them
    hub_data: ClassVar[dict[str, Any]] = {}

    def expected(self, sample: SampleRecord, options: ExportOptions) -> list[ExportedSample]:
        """What `read` gives back for this sample after `write`: the round-trip contract."""
        return [ExportedSample(sample.sample_id, image_bytes(sample), list(sample.conversations))]


# ------------------------------------------------------------------------- shared writers


class ImageFolder:
    """Writes each image once under `<output>/images/`, by its (page-derived, unique) name."""

    def __init__(self, output: str, folder: str = IMAGES_FOLDER):
        self.output, self.folder = output, folder
        self.written: set[str] = set()
        storage.makedirs(storage.join(output, folder))

    def add_sample(self, sample: SampleRecord, prefix: str = "") -> list[str]:
        """Every image of a sample, written once; the paths a record names, in image order."""
        return [prefix + self.add(image.path, image.bytes) for image in sample.images]

    def add(self, name: str, data: bytes) -> str:
        """The path, relative to the output folder's image root, that a record should name."""
        relative = posixpath.normpath(name).lstrip("./")
        if relative not in self.written:
            target = storage.join(self.output, self.folder, *relative.split("/"))
            if "/" in relative:
                storage.makedirs(target.rsplit("/", 1)[0])
            storage.write_bytes_atomic(target, data)
            self.written.add(relative)
        return relative


class JsonArrayWriter:
    """Writes a JSON array one element at a time, so an export never holds the dataset."""

    def __init__(self, uri: str):
        self.handle = storage.open_file(uri, "wb")
        self.count = 0
        self.handle.write(b"[\n")

    def write(self, item: Any) -> None:
        prefix = b",\n" if self.count else b""
        self.handle.write(prefix + json.dumps(item, ensure_ascii=False).encode("utf-8"))
        self.count += 1

    def close(self) -> None:
        self.handle.write(b"\n]\n")
        self.handle.close()

    def __enter__(self) -> JsonArrayWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_json(uri: str) -> Any:
    with storage.open_file(uri) as handle:
        return json.loads(handle.read().decode("utf-8"))


def read_bytes(uri: str) -> bytes:
    with storage.open_file(uri) as handle:
        return handle.read()


def image_bytes(sample: SampleRecord) -> list[bytes]:
    return [image.bytes for image in sample.images]


def to_from_value(turns: Iterable[Turn]) -> list[dict[str, str]]:
    """LLaVA/ShareGPT turns: `{"from": "human"|"gpt", "value": ...}`."""
    return [{"from": ROLE_TO_FROM[t.role], "value": t.content} for t in turns]


def from_from_value(turns: Iterable[dict[str, str]]) -> list[Turn]:
    return [Turn(FROM_TO_ROLE[t["from"]], t["value"]) for t in turns]


def strip_placeholders(text: str) -> str:
    """The text without `<image>` placeholders and the whitespace they leave."""
    return " ".join(text.replace(IMAGE_PLACEHOLDER, " ").split())


def placeholder_count(turns: Iterable[Turn]) -> int:
    return sum(t.content.count(IMAGE_PLACEHOLDER) for t in turns)


def check_turns(record_id: str, turns: list[Turn], num_images: int) -> list[str]:
    """Rules every chat format shares: alternating user/assistant, one `<image>` per image."""
    errors = []
    roles = [t.role for t in turns]
    if not turns or roles != ["user", "assistant"] * (len(turns) // 2) or len(turns) % 2:
        errors.append(
            f"{record_id}: turns must alternate user/assistant starting with user, got {roles}"
        )
    placeholders = placeholder_count(turns)
    if placeholders != num_images:
        errors.append(
            f"{record_id}: {placeholders} {IMAGE_PLACEHOLDER} placeholders for {num_images} images"
        )
    return errors
