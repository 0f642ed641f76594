"""`cauldron`: the Hub layout of HuggingFaceM4's the_cauldron and Docmatix.

Parquet shards with `images` (a list of `datasets.Image`, `{bytes, path}`) and `texts`, a list of
`{user, assistant, source}`, one per QA turn. The texts carry no image tokens: the model's chat
template places the images, so `<image>` placeholders are removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from curate import storage
from curate.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    strip_placeholders,
)
from curate.export.hf import DATA_FOLDER, ShardedParquet
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn
from curate.schemas.arrow import IMAGE, hf_feature

TEXT = pa.struct([("user", pa.string()), ("assistant", pa.string()), ("source", pa.string())])
FIELDS = [("images", pa.list_(IMAGE)), ("texts", pa.list_(TEXT))]


def schema() -> pa.Schema:
    features = {name: hf_feature(arrow_type) for name, arrow_type in FIELDS}
    return pa.schema(FIELDS, metadata={b"huggingface": json.dumps({"info": {"features": features}}).encode()})


def _texts(sample: SampleRecord) -> list[dict[str, str]]:
    turns = sample.conversations
    source = f"curate-{sample.generator or 'unknown'}"
    return [
        {"user": strip_placeholders(user.content), "assistant": answer.content, "source": source}
        for user, answer in zip(turns[0::2], turns[1::2], strict=True)
    ]


class CauldronExporter(BaseExporter):
    name = "cauldron"
    columns = [
        ("images", "list of Image"),
        ("texts", "`{user, assistant, source}` per QA turn; no `<image>` tokens"),
    ]

    def write(self, samples: Iterable[SampleRecord], output: str, options: ExportOptions) -> ExportResult:
        result = ExportResult(output, self.name)
        for stale in storage.glob(storage.join(output, DATA_FOLDER, "*.parquet")):
            storage.remove(stale)
        shards = ShardedParquet(storage.join(output, DATA_FOLDER), schema(), options.shard_mb)
        for sample in samples:
            images = [{"bytes": b, "path": n} for b, n in zip(sample.images, sample.image_names, strict=True)]
            shards.add({"images": images, "texts": _texts(sample)})
            result.samples += 1
            result.images += sample.num_images
        result.files = shards.close()
        return result

    def _files(self, output: str) -> list[str]:
        return storage.glob(storage.join(output, DATA_FOLDER, "train-*.parquet"))

    def _rows(self, output: str) -> Iterator[dict]:
        for file in self._files(output):
            with storage.open_file(file) as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=64):
                    yield from batch.to_pylist()

    def validate(self, output: str) -> list[str]:
        if not self._files(output):
            return [f"no {DATA_FOLDER}/train-*.parquet shards"]
        errors = []
        with storage.open_file(self._files(output)[0]) as handle:
            arrow = pq.read_schema(handle)
        if [f.name for f in arrow] != ["images", "texts"]:
            errors.append(f"columns must be exactly images, texts; got {[f.name for f in arrow]}")
        features = json.loads((arrow.metadata or {}).get(b"huggingface", b"{}")).get("info", {}).get("features", {})
        if features.get("images", {}).get("feature", {}).get("_type") != "Image":
            errors.append("`images` is not declared as a list of datasets.Image")
        for i, row in enumerate(self._rows(output)):
            if not row["images"]:
                errors.append(f"row {i}: no images")
            if not row["texts"]:
                errors.append(f"row {i}: no texts")
            for text in row["texts"]:
                if IMAGE_PLACEHOLDER in text["user"] or IMAGE_PLACEHOLDER in text["assistant"]:
                    errors.append(f"row {i}: {IMAGE_PLACEHOLDER} in texts; the cauldron layout has no image tokens")
                if not text["user"].strip() or not text["assistant"].strip() or not text["source"]:
                    errors.append(f"row {i}: every text needs user, assistant and source")
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for i, row in enumerate(self._rows(output)):
            turns = [t for text in row["texts"] for t in (Turn("user", text["user"]), Turn("assistant", text["assistant"]))]
            yield ExportedSample(str(i), [image["bytes"] for image in row["images"]], turns)

    def expected(self, sample: SampleRecord, options: ExportOptions) -> list[ExportedSample]:
        turns = [t for text in _texts(sample) for t in (Turn("user", text["user"]), Turn("assistant", text["assistant"]))]
        return [ExportedSample(sample.sample_id, list(sample.images), turns)]
