"""Sharded, deterministic Parquet writes and the run manifest, as Beam transforms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import AsSingleton

from curate import __version__
from curate.config import PipelineConfig, WriterOptions
from dataclasses import asdict

from curate.schemas import SCHEMA_VERSION, LLMUsage, schema_for_kind
from curate.writers.parquet import (
    ShardInfo,
    ShardSpec,
    estimated_bytes,
    finish_shards,
    shard_count,
    shard_index,
    shard_infos_as_dicts,
    shard_path,
    write_manifest,
    write_shard,
)


def _sum_pairs(pairs) -> tuple[int, int]:
    total_bytes = total_rows = 0
    for size, rows in pairs:
        total_bytes += size
        total_rows += rows
    return total_bytes, total_rows


class WriteShards(beam.PTransform):
    """Records -> `<output>/<folder>/<prefix>-NNNNN-of-MMMMM.parquet`.

    Emits one element, `(folder, [shard entries])`, for the manifest.
    """

    def __init__(self, output: str, spec: ShardSpec, to_row: Callable, options: WriterOptions):
        super().__init__()
        self.output, self.spec, self.to_row, self.options = output, spec, to_row, options

    def expand(self, records):
        output, spec, options = self.output, self.spec, self.options
        schema = schema_for_kind(spec.kind)
        rows = records | "ToRow" >> beam.Map(self.to_row)
        count = AsSingleton(
            rows
            | "Size" >> beam.Map(lambda row: (estimated_bytes(row), 1))
            | "TotalSize" >> beam.CombineGlobally(_sum_pairs)
            | "ShardCount" >> beam.Map(lambda totals: shard_count(*totals, options))
        )

        def write(keyed: tuple[int, Any], n: int) -> ShardInfo:
            index, shard_rows = keyed
            return write_shard(shard_rows, schema, shard_path(output, spec, index, n), options)

        def finish(infos: list[ShardInfo], n: int) -> tuple[str, list[dict]]:
            done = finish_shards(output, spec, schema, n, infos, options)
            return spec.folder, shard_infos_as_dicts(done, output)

        return (
            rows
            | "AssignShard" >> beam.Map(lambda row, n: (shard_index(row, n), row), n=count)
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShard" >> beam.Map(write, n=count)
            | "CollectShards" >> beam.combiners.ToList()
            | "FinishShards" >> beam.Map(finish, n=count)
        )


def count_as(name: str):
    """A transform: PCollection -> one ("counts", {name: n})."""
    return beam.combiners.Count.Globally() | beam.Map(lambda n: ("counts", {name: n}))


def count_reasons(name: str, reason_of: Callable[[Any], str]):
    """A transform: PCollection -> one (name, {reason: n})."""

    def as_dict(pairs: list[tuple[str, int]]) -> tuple[str, dict[str, int]]:
        return name, dict(sorted(pairs))

    return (
        beam.Map(reason_of)
        | beam.combiners.Count.PerElement()
        | beam.combiners.ToList()
        | beam.Map(as_dict)
    )


class SumUsage(beam.PTransform):
    """Samples -> one ("llm", totals) part: requests, cache hits, tokens and cost of the run."""

    def expand(self, samples):
        def totals(usages) -> tuple[str, dict]:
            total = LLMUsage()
            for usage in usages:
                total.add(usage)
            looked_up = total.requests + total.cache_hits
            summary = asdict(total)
            summary["cache_hit_rate"] = round(total.cache_hits / looked_up, 4) if looked_up else None
            return "llm", summary

        return (
            samples
            | "Usages" >> beam.FlatMap(lambda s: [s.llm_usage] if s.llm_usage else [])
            | "AllUsages" >> beam.combiners.ToList()
            | "Totals" >> beam.Map(totals)
        )


def build_manifest(parts: list[tuple[str, Any]], kind: str, config: PipelineConfig) -> dict:
    """Merge the (key, value) parts gathered in the pipeline into the manifest document."""
    manifest: dict[str, Any] = {
        "curate_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "config_hash": config.fingerprint(),
        "config": config.model_dump(mode="json"),
        "counts": {},
        "shards": {},
    }
    for key, value in parts:
        if key == "counts":
            manifest["counts"].update(value)
        elif key in ("dropped_by_reason", "failures_by_reason", "rejected_qa_by_reason", "llm", "dropped_pages_by_reason"):
            manifest[key] = value
        else:  # a shard folder
            manifest["shards"][key] = value
    manifest.setdefault("dropped_by_reason", {})
    manifest.setdefault("failures_by_reason", {})
    if not (manifest.get("llm") or {}).get("requests") and not (manifest.get("llm") or {}).get("cache_hits"):
        manifest.pop("llm", None)
    return manifest


class WriteManifest(beam.PTransform):
    """Flattened (key, value) parts -> `<output>/manifest.json`, written once at the end."""

    def __init__(self, output: str, kind: str, config: PipelineConfig):
        super().__init__()
        self.output, self.kind, self.config = output, kind, config

    def expand(self, parts):
        output, kind, config = self.output, self.kind, self.config
        return (
            parts
            | "GatherParts" >> beam.combiners.ToList()
            | "WriteManifest"
            >> beam.Map(lambda items: write_manifest(output, build_manifest(items, kind, config)))
        )
