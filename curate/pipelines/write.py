"""Sharded, deterministic Parquet writes and the run manifest, as Beam transforms."""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from apache_beam.pvalue import AsSingleton

from curate.config import PipelineConfig, WriterOptions
from curate.schemas import schema_for_kind
from curate.writers.manifest import RunTotals, build_manifest, write_manifest
from curate.writers.parquet import (
    ShardInfo,
    ShardSpec,
    estimated_bytes,
    finish_shards,
    shard_count,
    shard_index,
    shard_infos_as_dicts,
    shard_path,
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

    Records are grouped into shards as they are (images by reference stay references) and
    become rows only in the shard writer. Emits one element, `(folder, [shard entries])`, for
    the manifest.
    """

    def __init__(self, output: str, spec: ShardSpec, options: WriterOptions):
        super().__init__()
        self.output, self.spec, self.options = output, spec, options

    def expand(self, records):
        output, spec, options = self.output, self.spec, self.options
        schema = schema_for_kind(spec.kind)
        count = AsSingleton(
            records
            | "Size" >> beam.Map(lambda record: (estimated_bytes(record), 1))
            | "TotalSize" >> beam.CombineGlobally(_sum_pairs)
            | "ShardCount" >> beam.Map(lambda totals: shard_count(*totals, options))
        )

        def write(keyed: tuple[int, Any], n: int) -> ShardInfo:
            index, shard_records = keyed
            return write_shard(shard_records, schema, shard_path(output, spec, index, n), options)

        def finish(infos: list[ShardInfo], n: int) -> tuple[str, list[dict]]:
            done = finish_shards(output, spec, schema, n, infos, options)
            return spec.folder, shard_infos_as_dicts(done, output)

        return (
            records
            | "AssignShard" >> beam.Map(lambda record, n: (shard_index(record, n), record), n=count)
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShard" >> beam.Map(write, n=count)
            | "CollectShards" >> beam.combiners.ToList()
            | "FinishShards" >> beam.Map(finish, n=count)
        )


class _Totals(beam.CombineFn):
    """RunTotals across workers: each (where, record) adds one fact; partial totals merge."""

    def create_accumulator(self) -> RunTotals:
        return RunTotals()

    def add_input(self, totals: RunTotals, element: tuple[str, Any]) -> RunTotals:
        return totals.add(*element)

    def merge_accumulators(self, accumulators) -> RunTotals:
        merged = RunTotals()
        for totals in accumulators:
            merged.merge(totals)
        return merged

    def extract_output(self, totals: RunTotals) -> RunTotals:
        return totals


def tagged_as(where: str):
    """A transform: records -> (where, record), the input of the run totals."""
    return beam.Map(lambda record: (where, record))


class WriteManifest(beam.PTransform):
    """(where, record) facts and (folder, shard entries) parts -> `<output>/manifest.json`,
    written once at the end."""

    def __init__(
        self,
        output: str,
        kind: str,
        config: PipelineConfig,
        tallies: list[str],
        dropped_pages: bool,
    ):
        super().__init__()
        self.output, self.kind, self.config = output, kind, config
        self.tallies, self.dropped_pages = tallies, dropped_pages

    def expand(self, inputs):
        facts, shard_parts = inputs
        output, kind, config, tallies, dropped_pages = (
            self.output,
            self.kind,
            self.config,
            self.tallies,
            self.dropped_pages,
        )
        totals = facts | "Totals" >> beam.CombineGlobally(_Totals())

        def write(parts: list[tuple[str, list[dict]]], totals: RunTotals) -> str:
            manifest = build_manifest(totals, dict(parts), kind, config, tallies, dropped_pages)
            return write_manifest(output, manifest)

        return (
            shard_parts
            | "GatherShards" >> beam.combiners.ToList()
            | "WriteManifest" >> beam.Map(write, totals=beam.pvalue.AsSingleton(totals))
        )
