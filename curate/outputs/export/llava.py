"""`llava`: LLaVA/Leopard JSON (`id`, `image`, `conversations` with `from: human|gpt`) plus images.

One JSON array in `data.json`, images under `images/`. `image` is a path string when a sample has
one image (what LLaVA-1.5's loader opens) and a list otherwise (LLaVA-NeXT, Leopard). Every image
has exactly one `<image>` in the human turns, interleaved where it is first needed, in the order
of `image`.

The reading side lives here too: `read_llava_records` and `llava_to_sample` turn a LLaVA-format
dataset someone already has into sample records, so it can be scored and filtered.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from PIL import Image

from curate.document.conversation import build_conversation
from curate.io import storage
from curate.outputs.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    ImageFolder,
    JsonArrayWriter,
    check_turns,
    from_from_value,
    read_bytes,
    read_json,
    to_from_value,
)
from curate.outputs.export.tiles import tile_columns
from curate.schemas import IMAGE_PLACEHOLDER, ImageData, QAItem, SampleRecord, stable_id

DATA_FILE = "data.json"


def image_paths(record: dict) -> list[str]:
    image = record.get("image")
    if image is None:
        return []
    return [image] if isinstance(image, str) else list(image)


class LlavaExporter(BaseExporter):
    name = "llava"
    single_as_string = True  # LLaVA-1.5's loader opens `image` as one path
    columns = [
        ("id", "sample id"),
        ("image", "path under images/ (a string for one image, a list for several)"),
        ("conversations", "`{from: human|gpt, value}` turns, one `<image>` per image, interleaved"),
        (
            "tile_grid, num_tiles, tile_size",
            "with --tiles: Leopard adaptive-resolution grids (rows, cols) per image",
        ),
    ]
    train_with = (
        "LLaVA: `--data_path <this folder>/data.json --image_folder <this folder>/images`. Rows"
        " with one image (`image` a string) load in LLaVA-1.5 and LLaVA-NeXT. Rows with several"
        " images (`image` a list) need LLaVA-NeXT; for LLaVA-1.5 export `llavar2`, which writes"
        " one image per record."
    )

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[DATA_FILE])
        images = ImageFolder(output)
        with JsonArrayWriter(storage.join(output, DATA_FILE)) as out:
            for sample in samples:
                paths = images.add_sample(sample)
                record = {
                    "id": sample.sample_id,
                    "image": paths[0] if len(paths) == 1 and self.single_as_string else paths,
                    "conversations": to_from_value(sample.conversations),
                }
                if options.tiles:
                    record.update(
                        tile_columns(sample.image_sizes, options.tile_size, options.max_tiles)
                    )
                out.write(record)
                result.samples += 1
                result.images += len(paths)
        return result

    def validate(self, output: str) -> list[str]:
        errors: list[str] = []
        records = read_json(storage.join(output, DATA_FILE))
        if not isinstance(records, list):
            return [f"{DATA_FILE} must hold one JSON array"]
        ids = set()
        for record in records:
            rid = str(record.get("id"))
            if rid in ids:
                errors.append(f"{rid}: duplicate id")
            ids.add(rid)
            paths = image_paths(record)
            image = record.get("image")
            if self.single_as_string and isinstance(image, list) and len(paths) == 1:
                errors.append(f"{rid}: a single image must be a path string, not a list")
            if not self.single_as_string and not isinstance(image, list):
                errors.append(
                    f"{rid}: `image` must be a list of paths (one per <image>), got "
                    f"{type(image).__name__}"
                )
            for path in paths:
                if not storage.exists(storage.join(output, "images", path)):
                    errors.append(f"{rid}: image {path} is missing from images/")
            try:
                turns = from_from_value(record.get("conversations") or [])
            except KeyError as exc:
                errors.append(f"{rid}: unknown speaker {exc}; use from: human|gpt")
                continue
            errors.extend(check_turns(rid, turns, len(paths)))
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for record in read_json(storage.join(output, DATA_FILE)):
            yield ExportedSample(
                str(record["id"]),
                [read_bytes(storage.join(output, "images", p)) for p in image_paths(record)],
                from_from_value(record["conversations"]),
            )


class LlavaInterleaveExporter(LlavaExporter):
    """`llava-interleave`: LLaVA-NeXT-Interleave JSON, `image` always a list of paths, with one
    `<image>` per image where it belongs in the text (interleaved, in list order)."""

    name = "llava-interleave"
    single_as_string = False
    columns = [
        ("id", "sample id"),
        ("image", "list of paths under images/, in `<image>` order"),
        ("conversations", "`{from: human|gpt, value}` turns, `<image>` placeholders interleaved"),
    ]
    train_with = (
        "LLaVA-NeXT (interleave): `--data_path <this folder>/data.json --image_folder <this "
        "folder>/images`."
    )


# ------------------------------------------------------------ reading an existing dataset


def read_llava_records(path: str) -> list[dict[str, Any]]:
    """The JSON array (or JSON lines) of records; text only, images stay on disk."""
    with storage.open_file(path) as handle:
        text = handle.read().decode("utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


SELF_EXPLAIN_CUE = re.compile(
    r"\b(explain|why|how (do|does|did|can|could) (you|we|i|the)|justify|reason|evidence|"
    r"support|elaborate|what makes)\b",
    re.IGNORECASE,
)


def duo_kinds(questions: list[str], layout: str = "auto") -> list[str]:
    """The kind of each QA pair. LLaVAR-2 writes 4-turn blocks (extractive Q, A, then its
    self-explain Q, A); `blocks4` reads pairs that way, `none` as plain turns, and `auto` reads
    them as blocks when there is an even number of pairs and most second pairs ask for an
    explanation."""
    if layout == "auto":
        seconds = questions[1::2]
        cued = sum(bool(SELF_EXPLAIN_CUE.search(q)) for q in seconds)
        blocks = len(questions) >= 2 and len(questions) % 2 == 0 and cued * 2 > len(seconds)
        layout = "blocks4" if blocks else "none"
    if layout == "blocks4":
        return ["extractive" if i % 2 == 0 else "self_explain" for i in range(len(questions))]
    return ["turn"] * len(questions)


def llava_to_sample(
    record: dict[str, Any], image_folder: str, source: str, duo_layout: str = "auto"
) -> SampleRecord:
    """One record as a sample: its `conversations` (`from: human|gpt`) become QA turns (kinds by
    `duo_kinds`) and its `image` (a path or a list) is read from the folder."""
    names = image_paths(record) or list(record.get("images") or [])
    images, sizes = [], []
    for name in names:
        content = read_bytes(storage.join(image_folder, name))
        with Image.open(io.BytesIO(content)) as image:
            sizes.append(image.size)
        images.append(ImageData(content, name))
    turns = record.get("conversations") or []
    pairs = [
        (human.get("value", "").replace(IMAGE_PLACEHOLDER, "").strip(), gpt.get("value", ""))
        for human, gpt in zip(turns[0::2], turns[1::2], strict=False)
    ]
    kinds = duo_kinds([question for question, _ in pairs], duo_layout)
    qa = [
        QAItem(kind=kind, question=question, answer=answer, generator="llava-json")
        for (question, answer), kind in zip(pairs, kinds, strict=True)
    ]
    record_id = str(record.get("id", stable_id(json.dumps(record, sort_keys=True))))
    return SampleRecord(
        sample_id=record_id,
        doc_id=record_id,
        source_uri=source,
        source_sha256="",
        source_type="llava-json",
        page_ids=[f"{record_id}-{i}" for i in range(len(names))],
        page_indices=list(range(len(names))),
        images=images,
        image_sizes=sizes,
        image_blocks=[[] for _ in names],  # LLaVA JSON carries no text boxes
        qa=qa,
        conversations=build_conversation(qa, len(names)),
        generator="llava-json",
    )
