"""`cauldron`: the Hub layout of HuggingFaceM4's the_cauldron and Docmatix.

Parquet shards with `images` (a list of `datasets.Image`, `{bytes, path}`) and `texts`, a list of
`{user, assistant, source}`, one per QA turn. The texts carry no image tokens: the model's chat
template places the images, so `<image>` placeholders are removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from curate.io import storage
from curate.outputs.export.base import (
    ExportedSample,
    ExportOptions,
    image_bytes,
    strip_placeholders,
)
from curate.outputs.export.hf import DATA_FOLDER, ParquetExporter
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn
from curate.schemas.arrow import IMAGE, hf_feature

TEXT = pa.struct([("user", pa.string()), ("assistant", pa.string()), ("source", pa.string())])
FIELDS = [("images", pa.list_(IMAGE)), ("texts", pa.list_(TEXT))]


def schema() -> pa.Schema:
    features = {name: hf_feature(arrow_type) for name, arrow_type in FIELDS}
    return pa.schema(
        FIELDS, metadata={b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    )


def _texts(sample: SampleRecord) -> list[dict[str, str]]:
    turns = sample.conversations
    source = f"curate-{sample.generator or 'unknown'}"
    return [
        {"user": strip_placeholders(user.content), "assistant": answer.content, "source": source}
        for user, answer in zip(turns[0::2], turns[1::2], strict=True)
    ]


def _turns(texts: list[dict[str, str]]) -> list[Turn]:
    return [
        t
        for text in texts
        for t in (Turn("user", text["user"]), Turn("assistant", text["assistant"]))
    ]


class CauldronExporter(ParquetExporter):
    name = "cauldron"
    columns = [
        ("images", "list of Image"),
        ("texts", "`{user, assistant, source}` per QA turn; no `<image>` tokens"),
    ]
    train_with = (
        'The Cauldron layout (Idefics2/3 fine-tuning): `datasets.load_dataset("parquet", '
        'data_files="<this folder>/data/*.parquet")`; `images` are decoded, `texts` hold '
        "`{user, assistant}` pairs without image tokens."
    )

    def schema(self, options: ExportOptions) -> pa.Schema:
        return schema()

    def row(self, sample: SampleRecord, options: ExportOptions) -> dict:
        images = [{"bytes": image.bytes, "path": image.path} for image in sample.images]
        return {"images": images, "texts": _texts(sample)}

    def validate(self, output: str) -> list[str]:
        if not self.files(output):
            return [f"no {DATA_FOLDER}/train-*.parquet shards"]
        with storage.open_file(self.files(output)[0]) as handle:
            names = [f.name for f in pq.read_schema(handle)]
        errors = (
            []
            if names == ["images", "texts"]
            else [f"columns must be exactly images, texts; got {names}"]
        )
        errors += self.image_feature_errors(output)
        for i, row in enumerate(self.rows(output)):
            if not row["images"]:
                errors.append(f"row {i}: no images")
            if not row["texts"]:
                errors.append(f"row {i}: no texts")
            for text in row["texts"]:
                if IMAGE_PLACEHOLDER in text["user"] or IMAGE_PLACEHOLDER in text["assistant"]:
                    errors.append(
                        f"row {i}: {IMAGE_PLACEHOLDER} in texts; the cauldron layout has no image "
                        "tokens"
                    )
                if not text["user"].strip() or not text["assistant"].strip() or not text["source"]:
                    errors.append(f"row {i}: every text needs user, assistant and source")
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        for i, row in enumerate(self.rows(output)):
            yield ExportedSample(
                str(i), [image["bytes"] for image in row["images"]], _turns(row["texts"])
            )

    def expected(self, sample: SampleRecord, options: ExportOptions) -> list[ExportedSample]:
        return [ExportedSample(sample.sample_id, image_bytes(sample), _turns(_texts(sample)))]
