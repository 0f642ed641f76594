"""`llamafactory`: LLaMA-Factory's sharegpt layout for multimodal data.

`data.json` (one JSON array) with `messages` (`{role: user|assistant, content}`, `<image>`
placeholders interleaved) and `images` (paths relative to the dataset folder, in placeholder
order), plus `dataset_info.json` registering the file and its columns, so `dataset: curate` and
`dataset_dir: <this folder>` in a LLaMA-Factory config find it. LLaMA-Factory requires the number
of images to equal the number of `<image>` placeholders.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from curate.io import storage
from curate.outputs.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    ImageFolder,
    JsonArrayWriter,
    check_turns,
    read_bytes,
    read_json,
)
from curate.schemas import SampleRecord, Turn

DATA_FILE = "data.json"
INFO_FILE = "dataset_info.json"
DATASET_NAME = "curate"
DATASET_INFO = {
    DATASET_NAME: {
        "file_name": DATA_FILE,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
        },
    }
}


class LlamaFactoryExporter(BaseExporter):
    name = "llamafactory"
    hub_data = {"data_files": [{"split": "train", "path": DATA_FILE}]}
    columns = [
        ("messages", "`{role: user|assistant, content}` with `<image>` placeholders"),
        ("images", "paths relative to the dataset folder (images/...), one per `<image>`"),
    ]
    train_with = (
        "LLaMA-Factory: `dataset: curate` and `dataset_dir: <this folder>` (this folder's "
        "`dataset_info.json` registers it). Image paths resolve against `media_dir`, which "
        "defaults to `dataset_dir`; if you copy the `curate` entry into another folder's "
        "`dataset_info.json`, set `media_dir: <this folder>`."
    )

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[DATA_FILE, INFO_FILE])
        images = ImageFolder(output)
        with JsonArrayWriter(storage.join(output, DATA_FILE)) as out:
            for sample in samples:
                paths = images.add_sample(sample, prefix="images/")
                out.write({"messages": [asdict(t) for t in sample.conversations], "images": paths})
                result.samples += 1
                result.images += len(paths)
        storage.write_bytes_atomic(
            storage.join(output, INFO_FILE), json.dumps(DATASET_INFO, indent=2).encode()
        )
        return result

    def validate(self, output: str) -> list[str]:
        errors = []
        try:
            info = read_json(storage.join(output, INFO_FILE))
        except FileNotFoundError:
            return [f"{INFO_FILE} is missing; LLaMA-Factory finds datasets through it"]
        entry = info.get(DATASET_NAME) or {}
        if entry.get("file_name") != DATA_FILE or entry.get("formatting") != "sharegpt":
            errors.append(
                f"{INFO_FILE}: `{DATASET_NAME}` must name {DATA_FILE} with formatting sharegpt"
            )
        if entry.get("columns") != DATASET_INFO[DATASET_NAME]["columns"]:
            errors.append(
                f"{INFO_FILE}: columns must map messages and images, got {entry.get('columns')}"
            )
        for i, record in enumerate(read_json(storage.join(output, DATA_FILE))):
            paths = record.get("images")
            if not isinstance(paths, list):
                errors.append(f"record {i}: `images` must be a list")
                continue
            for path in paths:
                if not storage.exists(storage.join(output, path)):
                    errors.append(
                        f"record {i}: image {path} does not exist under the dataset folder"
                    )
            try:
                turns = [Turn(m["role"], m["content"]) for m in record.get("messages") or []]
            except (KeyError, TypeError):
                errors.append(f"record {i}: messages need role and content")
                continue
            errors.extend(check_turns(f"record {i}", turns, len(paths)))
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for i, record in enumerate(read_json(storage.join(output, DATA_FILE))):
            images = [read_bytes(storage.join(output, p)) for p in record["images"]]
            yield ExportedSample(
                str(i), images, [Turn(m["role"], m["content"]) for m in record["messages"]]
            )
