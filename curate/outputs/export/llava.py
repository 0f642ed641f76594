"""`llava`: LLaVA/Leopard JSON (`id`, `image`, `conversations` with `from: human|gpt`) plus images.

One JSON array in `data.json`, images under `images/`. `image` is a path string when a sample has
one image (what LLaVA-1.5's loader opens) and a list otherwise (LLaVA-NeXT, Leopard). Every image
has exactly one `<image>` in the human turns, interleaved where it is first needed, in the order
of `image`.
Reading a LLaVA-format dataset someone already has is a source: stages/sources/datasets.py.
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
    check_turns,
    from_from_value,
    read_bytes,
    read_json,
    to_from_value,
)
from curate.outputs.export.tiles import tile_columns
from curate.schemas import SampleRecord
from curate.stages.sources.datasets import image_paths

DATA_FILE = "data.json"


class LlavaExporter(BaseExporter):
    name = "llava"
    hub_data = {"data_files": [{"split": "train", "path": DATA_FILE}]}
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
