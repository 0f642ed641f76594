"""`leopard`: WebDataset tar shards as Leopard's training code reads them with `wids`.

Rules taken from Leopard's loaders (tencent-ailab/Leopard at 36c5f61,
Pai-Megatron-Patch/megatron_patch/data/{llava,idefics2}/mm_pretrain_dataset.py):
- `<key>.input_image`: a pickled Python list of `io.BytesIO`, one per image; the loader calls
  `PIL.Image.open` on each element, so raw `bytes` (taken for a file name) would not do;
- `<key>.conversations`: a Python-literal list of `{'from': ..., 'value': ...}` turns, read with
  `eval`, so it may hold only lists, dicts and strings (no true/false/null), with one `<image>`
  per image;
- the shard list as a plain JSON list of `{"url": "x.tar", "nsamples": N}`, written twice:
  `shardlist_fix_oridata.json` (the LLaVA-SigLIP recipe) and `shardlist.json` (the Idefics2 one);
- `data_json.json`, one entry per sample in the shards' global order (the loader matches them by
  index): `id`, `image` (a string: the loader calls `image.split('/')`), `images`, and the tile
  plan Leopard's loader computes (`num_tiles`, `tile_grid`, `tile_budget`; export/tiles.py).
Samples with more images than the budget M (default 50) cannot be trained and are skipped, counted
as `over_tile_budget`.
"""

from __future__ import annotations

import ast
import io
import json
import pickle
import tarfile
from collections.abc import Iterable, Iterator

from PIL import Image

from curate.io import storage
from curate.outputs.export.base import (
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
from curate.outputs.export.tiles import fits_budget, plan_tiles
from curate.schemas import SampleRecord

SHARD_LIST = "shardlist_fix_oridata.json"  # the LLaVA-SigLIP recipe reads this name
SHARD_LISTS = (SHARD_LIST, "shardlist.json")  # ... and the Idefics2 recipe this one
DATA_JSON = "data_json.json"
SAMPLES_PER_SHARD = 1000
OVER_TILE_BUDGET = "over_tile_budget"


class _ImagesOnly(pickle.Unpickler):
    """Reads back a pickled list of `io.BytesIO` and refuses anything else (no code runs)."""

    def find_class(self, module, name):
        if (module, name) in (("_io", "BytesIO"), ("io", "BytesIO")):
            return io.BytesIO
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in .input_image")


def load_image_files(data: bytes) -> list[io.BytesIO]:
    """The `.input_image` list as Leopard's loader gets it: file-like objects."""
    images = _ImagesOnly(io.BytesIO(data)).load()
    if not isinstance(images, list) or not all(isinstance(i, io.BytesIO) for i in images):
        raise ValueError(
            ".input_image must be a pickled list of io.BytesIO (Leopard calls Image.open on "
            "each element)"
        )
    return images


def load_images(data: bytes) -> list[bytes]:
    return [image.getvalue() for image in load_image_files(data)]


def dump_images(images: list[bytes]) -> bytes:
    return pickle.dumps([io.BytesIO(data) for data in images], protocol=4)


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
    hub_data = {"data_files": [{"split": "train", "path": DATA_JSON}]}
    columns = [
        ("<key>.input_image", "pickled list of PNG/JPEG bytes"),
        ("<key>.conversations", "Python-literal list of `{from, value}` turns (read with eval)"),
        ("data_json.json", "`{id, image, num_tiles, tile_grid}` per sample, in shard order"),
    ]
    train_with = (
        "Leopard's LLaVA-SigLIP recipe (megatron_patch/data/llava/mm_pretrain_dataset.py): give"
        " `get_sft_dataset` this folder as its data path (it reads `shardlist_fix_oridata.json`"
        " and the shards here) and pass `--image-folder <this folder>/data_json.json` (the "
        "recipe reads its text data from that argument). Set the image aspect ratio to `anyres`"
        " to train with the tiles `data_json.json` records. The Idefics2 recipe reads "
        "`shardlist.json` from the same folder."
    )

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[*SHARD_LISTS, DATA_JSON])
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
                dump_images([image.bytes for image in sample.images]),
            )
            _add(
                shard.tar,
                f"{key}.conversations",
                repr(to_from_value(sample.conversations)).encode("utf-8"),
            )
            shard.count += 1
            paths = [image.path or f"{key}/{i}.png" for i, image in enumerate(sample.images)]
            entries.write(
                {
                    "id": key,
                    "image": paths[0],
                    "images": paths,
                    "num_tiles": plan.num_tiles,
                    "tile_grid": [list(g) for g in plan.grids],
                    "tile_budget": options.max_tiles,
                }
            )
            result.samples += 1
            result.images += sample.num_images
        if shard is not None:
            shards.append(shard.close())
        for name in SHARD_LISTS:  # plain lists: both recipes iterate them as such
            storage.write_bytes_atomic(
                storage.join(output, name), json.dumps(shards, indent=1).encode()
            )
        entries.close()
        result.files += [s["url"] for s in shards]
        return result

    def _members(self, output: str) -> Iterator[tuple[str, dict[str, bytes]]]:
        """(shard url, {key: {suffix: bytes}}) per shard, in shardlist order."""
        for shard in read_json(storage.join(output, SHARD_LIST)):
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
        """What Leopard's loaders do, step by step: read each shard list as a plain list, index
        data_json.json by position and split its `image`, unpickle `.input_image` and
        `Image.open` every element, `eval` the conversations, count `<image>` per image."""
        errors = []
        lists = [read_json(storage.join(output, name)) for name in SHARD_LISTS]
        for name, shard_list in zip(SHARD_LISTS, lists, strict=True):
            if not isinstance(shard_list, list) or not all(
                isinstance(s, dict) and {"url", "nsamples"} <= set(s) for s in shard_list
            ):
                errors.append(f"{name} must be a plain JSON list of {{url, nsamples}}")
        if errors:
            return errors
        if lists[0] != lists[1]:
            errors.append(f"{SHARD_LISTS[0]} and {SHARD_LISTS[1]} must list the same shards")
        entries = read_json(storage.join(output, DATA_JSON))
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
                    images = [
                        Image.open(f).convert("RGB")
                        for f in load_image_files(members["input_image"])
                    ]
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
        if [e.get("id") for e in entries] != order:
            errors.append(f"{DATA_JSON} must list the samples in the shards' global order")
        for entry in entries:
            if not isinstance(entry.get("image"), str):
                errors.append(
                    f"{entry.get('id')}: `image` must be a string (Leopard splits it on '/')"
                )
            budget = entry.get("tile_budget", 50)
            if entry.get("num_tiles", 0) > budget:
                errors.append(f"{entry['id']}: {entry['num_tiles']} tiles > the budget of {budget}")
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
