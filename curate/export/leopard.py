"""`leopard`: WebDataset tar shards as Leopard's training code reads them with `wids`.

Per sample, two tar members share a key (the sample id, which has no dots):
- `<key>.input_image`: a pickled Python list of PNG/JPEG `bytes`, each one `PIL.Image.open`s;
- `<key>.conversations`: a Python-literal list of `{'from': ..., 'value': ...}` turns. Leopard
  reads it with `eval`, so it may hold only lists, dicts and strings (no true/false/null).
Beside the shards: `shardlist.json` (wids' index: `{"url": "x.tar", "nsamples": N}` per shard) and
`data_json.json`, one `{id, image, num_tiles, tile_grid}` entry per sample in the same global
order. Every sample has one `<image>` per image, and its adaptive-resolution tiles (Leopard's
rule, curate/export/tiles.py) must fit the budget M (default 50); samples that cannot fit are
skipped and counted as `over_tile_budget`.
"""

from __future__ import annotations

import ast
import io
import json
import pickle
import tarfile
from collections.abc import Iterable, Iterator

from PIL import Image

from curate import storage
from curate.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    JsonArrayWriter,
    check_turns,
    from_from_value,
    read_json,
    to_from_value,
)
from curate.export.tiles import fits_budget, plan_tiles
from curate.schemas import SampleRecord

SHARD_LIST = "shardlist.json"
DATA_JSON = "data_json.json"
SAMPLES_PER_SHARD = 1000
OVER_TILE_BUDGET = "over_tile_budget"


class _BytesOnly(pickle.Unpickler):
    """Reads back a pickled list of bytes and refuses anything else (no code runs)."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in .input_image")


def load_images(data: bytes) -> list[bytes]:
    images = _BytesOnly(io.BytesIO(data)).load()
    if not isinstance(images, list) or not all(isinstance(i, bytes) for i in images):
        raise ValueError(".input_image must be a pickled list of bytes")
    return images


def literal_problems(text: str) -> list[str]:
    """Why `text` is not a plain Python literal of lists, dicts and strings (what eval expects)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        return [f"not a Python literal: {err.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            problems.append(f"bare name {node.id!r} (JSON true/false/null are not Python)")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
            problems.append(f"non-string constant {node.value!r}")
        elif not isinstance(node, (ast.Expression, ast.List, ast.Dict, ast.Constant, ast.Load)):
            problems.append(f"{type(node).__name__} is not allowed")
    return problems


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


class _Shard:
    def __init__(self, output: str, index: int):
        self.name = f"shard-{index:05d}.tar"
        self.handle = storage.open_file(storage.join(output, self.name), "wb")
        self.tar = tarfile.open(fileobj=self.handle, mode="w")
        self.count = 0

    def close(self) -> dict:
        self.tar.close()
        self.handle.close()
        return {"url": self.name, "nsamples": self.count}


class LeopardExporter(BaseExporter):
    name = "leopard"
    columns = [
        ("<key>.input_image", "pickled list of PNG/JPEG bytes"),
        ("<key>.conversations", "Python-literal list of `{from, value}` turns (read with eval)"),
        ("data_json.json", "`{id, image, num_tiles, tile_grid}` per sample, in shard order"),
    ]

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[SHARD_LIST, DATA_JSON])
        storage.makedirs(output)
        shards, shard = [], None
        entries = JsonArrayWriter(
            storage.join(output, DATA_JSON)
        )  # streamed: never a list in memory
        for sample in samples:
            plan = plan_tiles(sample.image_sizes, options.tile_size, options.max_tiles)
            if not fits_budget(plan, options.max_tiles):
                result.skipped[OVER_TILE_BUDGET] += 1
                continue
            if shard is None or shard.count >= SAMPLES_PER_SHARD:
                if shard is not None:
                    shards.append(shard.close())
                shard = _Shard(output, len(shards))
            key = sample.sample_id
            _add(
                shard.tar,
                f"{key}.input_image",
                pickle.dumps([image.bytes for image in sample.images], protocol=4),
            )
            _add(
                shard.tar,
                f"{key}.conversations",
                repr(to_from_value(sample.conversations)).encode("utf-8"),
            )
            shard.count += 1
            entries.write(
                {
                    "id": key,
                    "image": [image.path for image in sample.images],
                    "num_tiles": plan.num_tiles,
                    "tile_grid": [list(g) for g in plan.grids],
                }
            )
            result.samples += 1
            result.images += sample.num_images
        if shard is not None:
            shards.append(shard.close())
        index = {
            "__kind__": "wids-shard-index-v1",
            "wids_version": 1,
            "name": "curate",
            "shardlist": shards,
            "curate_tile_budget": options.max_tiles,
        }
        storage.write_bytes_atomic(
            storage.join(output, SHARD_LIST), json.dumps(index, indent=1).encode()
        )
        entries.close()
        result.files += [s["url"] for s in shards]
        return result

    def _members(self, output: str) -> Iterator[tuple[str, dict[str, bytes]]]:
        """(shard url, {key: {suffix: bytes}}) per shard, in shardlist order."""
        for shard in read_json(storage.join(output, SHARD_LIST))["shardlist"]:
            with (
                storage.open_file(storage.join(output, shard["url"])) as handle,
                tarfile.open(fileobj=handle, mode="r|") as tar,
            ):
                samples: dict[str, dict[str, bytes]] = {}
                for member in tar:
                    key, _, suffix = member.name.partition(".")
                    samples.setdefault(key, {})[suffix] = tar.extractfile(member).read()
            yield shard, samples

    def validate(self, output: str) -> list[str]:
        errors = []
        entries = read_json(storage.join(output, DATA_JSON))
        max_tiles = read_json(storage.join(output, SHARD_LIST)).get("curate_tile_budget", 50)
        order = []
        for shard, samples in self._members(output):
            if len(samples) != shard.get("nsamples"):
                errors.append(
                    f"{shard['url']}: nsamples is {shard.get('nsamples')} but it holds "
                    f"{len(samples)}"
                )
            for key, members in samples.items():
                order.append(key)
                if set(members) != {"input_image", "conversations"}:
                    errors.append(
                        f"{key}: members must be .input_image and .conversations, got "
                        f"{sorted(members)}"
                    )
                    continue
                try:
                    images = load_images(members["input_image"])
                    for data in images:
                        Image.open(io.BytesIO(data)).verify()
                except Exception as err:  # noqa: BLE001 - any unreadable image is a finding
                    errors.append(f"{key}: .input_image: {err}")
                    continue
                text = members["conversations"].decode("utf-8")
                problems = literal_problems(text)
                if problems:
                    errors.append(
                        f"{key}: .conversations cannot be eval'd safely: {'; '.join(problems[:3])}"
                    )
                    continue
                errors.extend(
                    check_turns(key, from_from_value(ast.literal_eval(text)), len(images))
                )
        if [e["id"] for e in entries] != order:
            errors.append(f"{DATA_JSON} must list the samples in the shards' global order")
        for entry in entries:
            if entry.get("num_tiles", 0) > max_tiles:
                errors.append(
                    f"{entry['id']}: {entry['num_tiles']} tiles > the budget of {max_tiles}"
                )
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for _shard, samples in self._members(output):
            for key, members in samples.items():
                turns = from_from_value(ast.literal_eval(members["conversations"].decode("utf-8")))
                yield ExportedSample(key, load_images(members["input_image"]), turns)

    def expected(self, sample: SampleRecord, options: ExportOptions) -> list[ExportedSample]:
        if not fits_budget(
            plan_tiles(sample.image_sizes, options.tile_size, options.max_tiles), options.max_tiles
        ):
            return []
        return super().expected(sample, options)
