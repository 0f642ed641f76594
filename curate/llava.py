"""Reading an existing LLaVA-format JSON dataset (plus its image folder) as sample records.

So users can score and filter data they already have: each record's `conversations`
(`from: human|gpt`) become QA turns, and its `image` (a path or a list) is read from the folder.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from PIL import Image

from curate import storage
from curate.generators.conversation import build_conversation
from curate.schemas import IMAGE_PLACEHOLDER, QAItem, SampleRecord, stable_id


def read_llava_records(path: str) -> list[dict[str, Any]]:
    """The JSON array (or JSON lines) of records; text only, images stay on disk."""
    with storage.open_file(path) as handle:
        text = handle.read().decode("utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def llava_to_sample(record: dict[str, Any], image_folder: str, source: str) -> SampleRecord:
    images = record.get("image") or record.get("images") or []
    names = [images] if isinstance(images, str) else list(images)
    data, sizes = [], []
    for name in names:
        with storage.open_file(storage.join(image_folder, name)) as handle:
            content = handle.read()
        with Image.open(io.BytesIO(content)) as image:
            sizes.append(image.size)
        data.append(content)
    turns = record.get("conversations") or []
    qa = []
    for human, gpt in zip(turns[0::2], turns[1::2], strict=False):
        question = human.get("value", "").replace(IMAGE_PLACEHOLDER, "").strip()
        qa.append(QAItem(kind="turn", question=question, answer=gpt.get("value", ""), generator="llava-json"))
    record_id = str(record.get("id", stable_id(json.dumps(record, sort_keys=True))))
    return SampleRecord(
        sample_id=record_id, doc_id=record_id, source_uri=source, source_sha256="", source_type="llava-json",
        page_ids=[f"{record_id}-{i}" for i in range(len(names))], page_indices=list(range(len(names))),
        images=data, image_names=names, image_sizes=sizes,
        image_blocks=[[] for _ in names],  # LLaVA JSON carries no text boxes
        qa=qa, conversations=build_conversation(qa, len(names)), generator="llava-json",
    )


def iter_llava_samples(path: str, image_folder: str) -> Iterator[SampleRecord]:
    for record in read_llava_records(path):
        yield llava_to_sample(record, image_folder, path)
