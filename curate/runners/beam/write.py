"""Sharded, deterministic Parquet writes and the run manifest, as Beam transforms."""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from apache_beam.pvalue import AsSingleton

from curate.core.config import WriterOptions
from curate.outputs.writers.manifest import ManifestSpec, RunTotals, write_manifest
from curate.outputs.writers.parquet import (
    ShardInfo,
    estimated_bytes,
    finish_shards,
    shard_count,
    shard_index,
    shard_infos_as_dicts,
    shard_path,
    write_shard,
)
from curate.schemas import schema_for_kind
from curate.schemas.folders import ShardSpec


def _sum_pairs(pairs) -> tuple[int, int]:
    total_bytes = total_rows = 0
    for size, rows in pairs:
        total_bytes += size
        total_rows += rows
    return total_bytes, total_rows


class WriteShards(beam.PTransform):
    """(where, record) pairs -> `<output>/<folder>/<prefix>-NNNNN-of-MMMMM.parquet`, for every
    output of the job (`specs`: where -> ShardSpec) in one set of transforms.

    Records are grouped into shards as they are (images by reference stay references) and
    become rows only in the shard writer. Every output gets its full set of shards, empty
    ones included. Emits one `(folder, [shard entries])` per output, for the manifest.
    One sink for all outputs, rather than one each, saves the runner about 15 bundles a job.
    """

    def __init__(self, output: str, specs: dict[str, ShardSpec], options: WriterOptions):
        super().__init__()
        self.output, self.specs, self.options = output, specs, options

    def expand(self, pairs):
        output, specs, options = self.output, self.specs, self.options

        def counts(totals: dict[str, tuple[int, int]]) -> dict[str, int]:
            return {where: shard_count(*totals.get(where, (0, 0)), options) for where in specs}

        count = AsSingleton(
            pairs
            | "Size" >> beam.MapTuple(lambda where, record: (where, (estimated_bytes(record), 1)))
            | "TotalSize" >> beam.CombinePerKey(_sum_pairs)
            | "Totals" >> beam.combiners.ToDict()
            | "ShardCounts" >> beam.Map(counts)
        )

        def assign(pair: tuple[str, Any], n: dict[str, int]):
            where, record = pair
            return (where, shard_index(record, n[where])), record

        def write(keyed: tuple[tuple[str, int], Any], n: dict[str, int]):
            (where, index), shard_records = keyed
            spec = specs[where]
            path = shard_path(output, spec, index, n[where])
            return where, write_shard(shard_records, schema_for_kind(spec.kind), path, options)

        def finish(written: list[tuple[str, ShardInfo]], n: dict[str, int]):
            for where, spec in specs.items():
                infos = [info for w, info in written if w == where]
                schema = schema_for_kind(spec.kind)
                done = finish_shards(output, spec, schema, n[where], infos, options)
                yield spec.folder, shard_infos_as_dicts(done, output)

        return (
            pairs
            | "AssignShard" >> beam.Map(assign, n=count)
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShard" >> beam.Map(write, n=count)
            | "CollectShards" >> beam.combiners.ToList()
            | "FinishShards" >> beam.FlatMap(finish, n=count)
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
    """A transform: records -> (where, record), what the shard writer and the run totals take."""
    return beam.Map(lambda record: (where, record))


class WriteManifest(beam.PTransform):
    """(where, record) facts and (folder, shard entries) parts -> `<output>/manifest.json`,
    written once at the end."""

    def __init__(self, output: str, spec: ManifestSpec):
        super().__init__()
        self.output, self.spec = output, spec

    def expand(self, inputs):
        facts, shard_parts = inputs
        output, spec = self.output, self.spec
        totals = facts | "Totals" >> beam.CombineGlobally(_Totals())

        def write(parts: list[tuple[str, list[dict]]], totals: RunTotals) -> str:
            return write_manifest(output, spec.build(totals, dict(parts)))

        return (
            shard_parts
            | "GatherShards" >> beam.combiners.ToList()
            | "WriteManifest" >> beam.Map(write, totals=beam.pvalue.AsSingleton(totals))
        )
