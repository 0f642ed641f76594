"""`llavar2`: LLaVAR-2's LLaVA-1.5-style JSON, one image per record.

One JSON array (`data.json`, not JSON lines) plus `images/`. Each record has `id`, `image` (a
single path string relative to `images/`) and `conversations`, with `<image>` at the start of the
first human turn and turns in blocks of four: extractive question, extractive answer, self-explain
question, self-explain answer.

The format cannot hold several images, so a multi-image sample becomes **one record per image**,
each with that image's extractive/self-explain blocks (id `<sample_id>-<image number>`). What
cannot be expressed is skipped and counted: cross-image questions (`needs_several_images`),
extractive pairs with no self-explain turn (`extractive_without_self_explain`), captions and
imported turns that are not an extractive block (`not_an_extractive_block`), and images without
any extractive block (`image_without_extractive_qa`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from curate.io import storage
from curate.outputs.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    ImageFolder,
    JsonArrayWriter,
    from_from_value,
    read_bytes,
    read_json,
    to_from_value,
)
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn

DATA_FILE = "data.json"
NEEDS_SEVERAL_IMAGES = "needs_several_images"
NOT_AN_EXTRACTIVE_BLOCK = "not_an_extractive_block"
IMAGE_WITHOUT_EXTRACTIVE_QA = "image_without_extractive_qa"
WITHOUT_SELF_EXPLAIN = "extractive_without_self_explain"


def split_by_image(sample: SampleRecord) -> tuple[list[tuple[int, list[Turn]]], list[str]]:
    """([(image index, turns)], [skip reason per skipped QA item or image])."""
    blocks: dict[int, list[Turn]] = {i: [] for i in range(sample.num_images)}
    skipped: list[str] = []
    qa = sample.qa
    i = 0
    while i < len(qa):
        item = qa[i]
        follow = qa[i + 1] if i + 1 < len(qa) else None
        if (
            item.kind == "extractive"
            and follow is not None
            and follow.kind == "self_explain"
            and 0 <= item.image_index < sample.num_images
            and follow.image_index == item.image_index
        ):
            blocks[item.image_index] += [
                Turn("user", item.question),
                Turn("assistant", item.answer),
                Turn("user", follow.question),
                Turn("assistant", follow.answer),
            ]
            i += 2
            continue
        if item.image_index < 0:
            skipped.append(NEEDS_SEVERAL_IMAGES)
        elif item.kind == "extractive":
            skipped.append(WITHOUT_SELF_EXPLAIN)
        else:
            skipped.append(NOT_AN_EXTRACTIVE_BLOCK)
        i += 1
    records = []
    for image, turns in blocks.items():
        if not turns:
            skipped.append(IMAGE_WITHOUT_EXTRACTIVE_QA)
            continue
        turns[0] = Turn("user", f"{IMAGE_PLACEHOLDER}\n{turns[0].content}")
        records.append((image, turns))
    return records, skipped


class Llavar2Exporter(BaseExporter):
    name = "llavar2"
    hub_data = {"data_files": [{"split": "train", "path": DATA_FILE}]}
    columns = [
        ("id", "`<sample_id>-<image number>`"),
        ("image", "one path under images/ (a string)"),
        ("conversations", "`<image>` first, then blocks of four: extractive Q/A, self-explain Q/A"),
    ]
    train_with = (
        "LLaVA-1.5 or LLaVA-NeXT: `--data_path <this folder>/data.json --image_folder <this "
        "folder>/images`."
    )

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[DATA_FILE])
        images = ImageFolder(output)
        with JsonArrayWriter(storage.join(output, DATA_FILE)) as out:
            for sample in samples:
                records, skipped = split_by_image(sample)
                result.skipped.update(skipped)
                for image, turns in records:
                    path = images.add(sample.images[image].path, sample.images[image].bytes)
                    out.write(
                        {
                            "id": f"{sample.sample_id}-{image + 1}",
                            "image": path,
                            "conversations": to_from_value(turns),
                        }
                    )
                    result.images += 1
                result.samples += 1 if records else 0
        return result

    def validate(self, output: str) -> list[str]:
        records = read_json(storage.join(output, DATA_FILE))
        if not isinstance(records, list):
            return [f"{DATA_FILE} must be one JSON array (LLaVA-1.5 style), not JSON lines"]
        errors = []
        for record in records:
            rid = str(record.get("id"))
            image = record.get("image")
            if not isinstance(image, str):
                errors.append(
                    f"{rid}: `image` must be a single path string, got {type(image).__name__}; "
                    "llavar2 has one image per record"
                )
            elif not storage.exists(storage.join(output, "images", image)):
                errors.append(f"{rid}: image {image} is missing from images/")
            turns = record.get("conversations") or []
            speakers = [t.get("from") for t in turns]
            if not turns or len(turns) % 4:
                errors.append(
                    f"{rid}: {len(turns)} turns; llavar2 turns come in blocks of four "
                    "(extractive Q, A, self-explain Q, A)"
                )
            if speakers != ["human", "gpt"] * (len(turns) // 2):
                errors.append(
                    f"{rid}: speakers must alternate human/gpt starting with human, got {speakers}"
                )
            values = [t.get("value", "") for t in turns]
            if not values or not values[0].startswith(IMAGE_PLACEHOLDER):
                errors.append(f"{rid}: the first human turn must start with {IMAGE_PLACEHOLDER}")
            if sum(v.count(IMAGE_PLACEHOLDER) for v in values) != 1:
                errors.append(f"{rid}: exactly one {IMAGE_PLACEHOLDER} per record")
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for record in read_json(storage.join(output, DATA_FILE)):
            image = read_bytes(storage.join(output, "images", record["image"]))
            yield ExportedSample(
                str(record["id"]), [image], from_from_value(record["conversations"])
            )

    def expected(self, sample: SampleRecord, options: ExportOptions) -> list[ExportedSample]:
        records, _ = split_by_image(sample)
        return [
            ExportedSample(f"{sample.sample_id}-{i + 1}", [sample.images[i].bytes], turns)
            for i, turns in records
        ]
