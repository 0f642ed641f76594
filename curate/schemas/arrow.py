"""Versioned Arrow schemas for page, sample and failure rows, and record <-> row conversion.

Images are `{bytes, path}` structs and the Hugging Face feature spec is written into the schema
metadata, so `datasets.load_dataset("parquet", ...)` decodes them as `Image` without extra code.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pyarrow as pa

from curate.schemas.records import (
    ContextItem,
    Failure,
    LLMUsage,
    PageRecord,
    QAItem,
    SampleRecord,
    Scores,
    TextBlock,
    Turn,
)

# Bump the minor version for added nullable fields, the major for anything that breaks readers.
SCHEMA_VERSION = "1.2"  # 1.1: rejected_qa, llm_usage, qa.reject_reason; 1.2: linked_from

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
TEXT_BLOCK = pa.struct(
    [
        ("text", pa.string()),
        ("bbox", pa.list_(pa.float32(), 4)),
        ("source", pa.string()),
        ("confidence", pa.float32()),
    ]
)
CONTEXT_ITEM = pa.struct(
    [("kind", pa.string()), ("text", pa.string()), ("image_index", pa.int32())]
)
# A struct rather than an Arrow map: `datasets` cannot represent maps, and `scores.mifd` is
# what users filter on.
SCORES = pa.struct(
    [
        ("ifd", pa.float64()),
        ("vfd", pa.float64()),
        ("mifd", pa.float64()),
        ("ffd", pa.float64()),
        ("note", pa.string()),
    ]
)
QA_ITEM = pa.struct(
    [
        ("kind", pa.string()),
        ("question", pa.string()),
        ("answer", pa.string()),
        ("image_index", pa.int32()),
        ("evidence", pa.string()),
        ("generator", pa.string()),
        ("prompt_version", pa.string()),
        ("scores", SCORES),
        ("reject_reason", pa.string()),
    ]
)
LLM_USAGE = pa.struct(
    [
        ("requests", pa.int64()),
        ("cache_hits", pa.int64()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("cost_usd", pa.float64()),
    ]
)
TURN = pa.struct([("role", pa.string()), ("content", pa.string())])

_PROVENANCE = [
    ("doc_id", pa.string()),
    ("source_uri", pa.string()),
    ("source_sha256", pa.string()),
    ("source_type", pa.string()),
]

_PAGE_FIELDS = [
    ("page_id", pa.string()),
    *_PROVENANCE,
    ("page_index", pa.int32()),
    ("page_count", pa.int32()),
    ("render_dpi", pa.float32()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("image", IMAGE),
    ("text", pa.string()),
    ("text_blocks", pa.list_(TEXT_BLOCK)),
    ("text_source", pa.string()),
    ("needs_ocr", pa.bool_()),
    ("context", pa.list_(CONTEXT_ITEM)),
    ("phash", pa.string()),
    ("drop_reason", pa.string()),
    ("duplicate_of", pa.string()),
    ("linked_from", pa.string()),
]

_SAMPLE_FIELDS = [
    ("sample_id", pa.string()),
    *_PROVENANCE,
    ("page_ids", pa.list_(pa.string())),
    ("page_indices", pa.list_(pa.int32())),
    ("images", pa.list_(IMAGE)),
    ("image_sizes", pa.list_(pa.list_(pa.int32(), 2))),
    ("image_texts", pa.list_(pa.string())),
    ("image_blocks", pa.list_(pa.list_(TEXT_BLOCK))),
    ("context", pa.list_(CONTEXT_ITEM)),
    ("conversations", pa.list_(TURN)),
    ("qa", pa.list_(QA_ITEM)),
    ("scores", SCORES),
    ("generator", pa.string()),
    ("rejected_qa", pa.list_(QA_ITEM)),
    ("llm_usage", LLM_USAGE),
    ("num_images", pa.int32()),
    ("drop_reason", pa.string()),
    ("drop_detail", pa.string()),
    ("linked_from", pa.string()),
]

_FAILURE_FIELDS = [
    ("item_id", pa.string()),
    ("source_uri", pa.string()),
    ("stage", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
]


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


PAGE_SCHEMA = _schema("pages", _PAGE_FIELDS)
SAMPLE_SCHEMA = _schema("samples", _SAMPLE_FIELDS)
FAILURE_SCHEMA = _schema("failures", _FAILURE_FIELDS)

_SCHEMAS = {"pages": PAGE_SCHEMA, "samples": SAMPLE_SCHEMA, "failures": FAILURE_SCHEMA}


def schema_for_kind(kind: str) -> pa.Schema:
    return _SCHEMAS[kind]


def kind_of_schema(schema: pa.Schema) -> str | None:
    """Which record kind a Parquet file holds, from the metadata curate wrote into it."""
    value = (schema.metadata or {}).get(b"curate.kind")
    return value.decode() if value else None


# ---------------------------------------------------------------- record <-> row conversion


def _blocks_to_rows(blocks: list[TextBlock]) -> list[dict[str, Any]]:
    return [
        {"text": b.text, "bbox": list(b.bbox), "source": b.source, "confidence": b.confidence}
        for b in blocks
    ]


def _blocks_from_rows(rows: list[dict[str, Any]] | None) -> list[TextBlock]:
    return [
        TextBlock(b["text"], tuple(b["bbox"]), b["source"], b["confidence"]) for b in rows or []
    ]


def page_to_row(page: PageRecord) -> dict[str, Any]:
    return {
        "page_id": page.page_id,
        "doc_id": page.doc_id,
        "source_uri": page.source_uri,
        "source_sha256": page.source_sha256,
        "source_type": page.source_type,
        "page_index": page.page_index,
        "page_count": page.page_count,
        "render_dpi": page.render_dpi,
        "width": page.width,
        "height": page.height,
        "image": {"bytes": page.image_bytes, "path": page.image_name},
        "text": page.text,
        "text_blocks": _blocks_to_rows(page.text_blocks),
        "text_source": page.text_source,
        "needs_ocr": page.needs_ocr,
        "context": [asdict(c) for c in page.context],
        "phash": page.phash,
        "drop_reason": page.drop_reason,
        "duplicate_of": page.duplicate_of,
        "linked_from": page.linked_from,
    }


def page_from_row(row: dict[str, Any]) -> PageRecord:
    image = row["image"]
    name = image.get("path") or ""
    return PageRecord(
        page_id=row["page_id"],
        doc_id=row["doc_id"],
        source_uri=row["source_uri"],
        source_sha256=row["source_sha256"],
        source_type=row["source_type"],
        page_index=row["page_index"],
        page_count=row["page_count"],
        render_dpi=row["render_dpi"],
        width=row["width"],
        height=row["height"],
        image_bytes=image["bytes"],
        image_format=name.rsplit(".", 1)[-1] if "." in name else "png",
        text_blocks=_blocks_from_rows(row["text_blocks"]),
        text_source=row["text_source"],
        needs_ocr=row["needs_ocr"],
        context=[ContextItem(**c) for c in row["context"] or []],
        phash=row.get("phash"),
        drop_reason=row.get("drop_reason"),
        duplicate_of=row.get("duplicate_of"),
        linked_from=row.get("linked_from"),
    )


def _scores_from(value: dict[str, Any] | None) -> Scores:
    return Scores(**value) if value else Scores()


def _qa_from(row: dict[str, Any]) -> QAItem:
    return QAItem(**{**row, "scores": _scores_from(row.get("scores"))})


def sample_to_row(sample: SampleRecord) -> dict[str, Any]:
    return {
        "sample_id": sample.sample_id,
        "doc_id": sample.doc_id,
        "source_uri": sample.source_uri,
        "source_sha256": sample.source_sha256,
        "source_type": sample.source_type,
        "page_ids": list(sample.page_ids),
        "page_indices": list(sample.page_indices),
        "images": [
            {"bytes": data, "path": name}
            for data, name in zip(sample.images, sample.image_names, strict=True)
        ],
        "image_sizes": [list(size) for size in sample.image_sizes],
        "image_texts": sample.image_texts,
        "image_blocks": [_blocks_to_rows(blocks) for blocks in sample.image_blocks],
        "context": [asdict(c) for c in sample.context],
        "conversations": [asdict(t) for t in sample.conversations],
        "qa": [asdict(q) for q in sample.qa],
        "scores": asdict(sample.scores),
        "generator": sample.generator,
        "rejected_qa": [asdict(q) for q in sample.rejected_qa],
        "llm_usage": asdict(sample.llm_usage) if sample.llm_usage else None,
        "num_images": sample.num_images,
        "drop_reason": sample.drop_reason,
        "drop_detail": sample.drop_detail,
        "linked_from": sample.linked_from,
    }


def sample_from_row(row: dict[str, Any]) -> SampleRecord:
    images = row["images"] or []
    return SampleRecord(
        sample_id=row["sample_id"],
        doc_id=row["doc_id"],
        source_uri=row["source_uri"],
        source_sha256=row["source_sha256"],
        source_type=row["source_type"],
        page_ids=list(row["page_ids"]),
        page_indices=list(row["page_indices"]),
        images=[image["bytes"] for image in images],
        image_names=[image["path"] or "" for image in images],
        image_sizes=[tuple(size) for size in row["image_sizes"] or []],
        image_blocks=[_blocks_from_rows(blocks) for blocks in row["image_blocks"] or []],
        context=[ContextItem(**c) for c in row["context"] or []],
        conversations=[Turn(**t) for t in row["conversations"] or []],
        qa=[_qa_from(q) for q in row["qa"] or []],
        rejected_qa=[_qa_from(q) for q in row.get("rejected_qa") or []],
        llm_usage=LLMUsage(**row["llm_usage"]) if row.get("llm_usage") else None,
        scores=_scores_from(row.get("scores")),
        generator=row["generator"] or "",
        drop_reason=row.get("drop_reason"),
        drop_detail=row.get("drop_detail"),
        linked_from=row.get("linked_from"),
    )


def failure_to_row(failure: Failure) -> dict[str, Any]:
    return asdict(failure)


def failure_from_row(row: dict[str, Any]) -> Failure:
    return Failure(**{k: row[k] for k in ("item_id", "source_uri", "stage", "reason", "detail")})
