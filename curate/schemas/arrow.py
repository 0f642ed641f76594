"""Versioned Arrow schemas for page, sample and failure rows, derived from the records.

Images are `{bytes, path}` structs and the Hugging Face feature spec is written into the schema
metadata, so `datasets.load_dataset("parquet", ...)` decodes them as `Image` without extra code.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from curate.schemas.columns import arrow_fields, arrow_type_of, from_row, to_row
from curate.schemas.records import Failure, ImageData, PageRecord, SampleRecord

# Bump the minor version for added nullable fields, the major for anything that breaks readers.
SCHEMA_VERSION = "1.9"  # 1.1: rejected_qa, llm_usage, qa.reject_reason; 1.2: linked_from;
# 1.3: llm_usage.images, failures' llm_usage; 1.4: text block role and cell, page sections;
# 1.5: phash_method; 1.6: text blocks' unsure words (OCR); 1.7: llm_usage.cached_* (spend of
# cached replies), cost_usd null when the model has no price; 1.8: benchmark_matches;
# 1.9: scores.judge*

IMAGE = arrow_type_of(ImageData)
RECORDS: dict[str, type] = {"pages": PageRecord, "samples": SampleRecord, "failures": Failure}


def hf_feature(arrow_type: pa.DataType) -> Any:
    """The `datasets` feature spec for an Arrow type; `{bytes, path}` structs become Image."""
    if arrow_type.equals(IMAGE):
        return {"_type": "Image"}
    if pa.types.is_fixed_size_list(arrow_type):
        return {
            "feature": hf_feature(arrow_type.value_type),
            "length": arrow_type.list_size,
            "_type": "List",
        }
    if pa.types.is_list(arrow_type):
        return {"feature": hf_feature(arrow_type.value_type), "_type": "List"}
    if pa.types.is_struct(arrow_type):
        return {f.name: hf_feature(f.type) for f in arrow_type}
    names = {
        pa.string(): "string",
        pa.binary(): "binary",
        pa.bool_(): "bool",
        pa.int32(): "int32",
        pa.int64(): "int64",
        pa.float32(): "float32",
        pa.float64(): "float64",
    }
    return {"dtype": names[arrow_type], "_type": "Value"}


def _schema(kind: str, fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    features = {name: hf_feature(t) for name, t in fields}
    metadata = {
        b"curate.kind": kind.encode(),
        b"curate.schema_version": SCHEMA_VERSION.encode(),
        b"huggingface": json.dumps({"info": {"features": features}}).encode(),
    }
    return pa.schema(fields, metadata=metadata)


_SCHEMAS = {kind: _schema(kind, arrow_fields(cls)) for kind, cls in RECORDS.items()}
PAGE_SCHEMA, SAMPLE_SCHEMA, FAILURE_SCHEMA = (_SCHEMAS[k] for k in ("pages", "samples", "failures"))


def schema_for_kind(kind: str) -> pa.Schema:
    return _SCHEMAS[kind]


def kind_of_schema(schema: pa.Schema) -> str | None:
    """Which record kind a Parquet file holds, from the metadata curate wrote into it."""
    value = (schema.metadata or {}).get(b"curate.kind")
    return value.decode() if value else None


# Rows are plain dicts in column order; records and rows convert through their one definition.
page_to_row = sample_to_row = failure_to_row = to_row


def page_from_row(row: dict[str, Any]) -> PageRecord:
    return from_row(PageRecord, row)


def sample_from_row(row: dict[str, Any]) -> SampleRecord:
    return from_row(SampleRecord, row)


def failure_from_row(row: dict[str, Any]) -> Failure:
    return from_row(Failure, row)
