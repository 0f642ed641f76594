"""Duplicate clusters on Beam: the steps of `curate.stages.filters.dedup.find_duplicates` as keyed
groups and joins, so no worker ever holds all pages, all hashes or all pairs."""

from __future__ import annotations

import apache_beam as beam

from curate.core.stage import JoinStage
from curate.stages.filters.dedup import (
    bucket_pairs,
    collapse,
    components,
    exact_keys,
    lsh_keys,
    representatives,
)

EDGE = "edge"


class _Collapse(beam.DoFn):
    """One exact-key group -> its kept sketches (main) and (copy, kept) edges."""

    def __init__(self, options):
        self.options = options

    def process(self, keyed):
        for result in collapse(keyed[1], self.options):
            if result[0] == "edge":
                yield beam.pvalue.TaggedOutput(EDGE, result[1:])
            else:
                yield result[1]


class _Bucket(beam.DoFn):
    def __init__(self, options):
        self.options = options
        self.comparisons = beam.metrics.Metrics.counter("curate", "dedup.comparisons")

    def process(self, keyed):
        compared = 0
        for pair in bucket_pairs(keyed[0][0], keyed[1], self.options):
            compared += 1
            if pair is not None:
                yield pair
        self.comparisons.inc(compared)


def _send(joined):
    """Label propagation: a node's label goes to itself and to each neighbour."""
    node, parts = joined
    label = min(parts["label"], default=node)
    yield node, label
    for neighbour in parts["adjacent"]:
        yield neighbour, label


def _unsettled(joined):
    """(label of a, label of b) for each edge (a, b) keyed by b, once a's label is joined."""
    _, parts = joined
    for label_b in parts["label"]:
        for label_a in parts["edge"]:
            if label_a != label_b:
                yield label_a, label_b


def _settle(node_label, residue):
    node, label = node_label
    return node, residue.get(label, label)


class ConnectedComponents(beam.PTransform):
    """(node, smallest node of its component) for every node of the edges.

    Min-label propagation over keyed joins for `rounds` rounds settles the short chains that
    duplicate graphs are made of. The edges still joining two labels after that (long chains,
    rare) are finished with union-find in one place: only those label pairs, never all edges.
    """

    def __init__(self, rounds: int = 4):
        super().__init__()
        self.rounds = rounds

    def expand(self, edges):
        adjacent = edges | "BothWays" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
        labels = adjacent | "Start" >> beam.CombinePerKey(min)
        labels = labels | "Own" >> beam.Map(lambda kv: (kv[0], min(kv)))
        for round_ in range(self.rounds):
            labels = (
                {"label": labels, "adjacent": adjacent}
                | f"Join{round_}" >> beam.CoGroupByKey()
                | f"Send{round_}" >> beam.FlatMap(_send)
                | f"Min{round_}" >> beam.CombinePerKey(min)
            )
        label_of_a = (
            {"label": labels, "edge": edges}
            | "JoinA" >> beam.CoGroupByKey()
            | "ToB" >> beam.FlatMap(lambda j: [(b, min(j[1]["label"])) for b in j[1]["edge"]])
        )
        residue = (
            {"label": labels, "edge": label_of_a}
            | "JoinB" >> beam.CoGroupByKey()
            | "Unsettled" >> beam.FlatMap(_unsettled)
            | "Gather" >> beam.combiners.ToList()
            | "UnionFind" >> beam.Map(components)
        )
        return labels | "Settle" >> beam.Map(_settle, beam.pvalue.AsSingleton(residue))


class DuplicateVerdicts(beam.PTransform):
    """(page id, sketch) -> (page id, (kept id, exact copy?)) for every duplicate page."""

    def __init__(self, stage: JoinStage):
        super().__init__()
        self.stage = stage

    def expand(self, summaries):
        options = self.stage.options
        sketches = summaries | "Sketches" >> beam.Values()
        by_image = (
            sketches
            | "ImageKey" >> beam.Map(lambda s: (exact_keys(s)[0], s))
            | "ByImage" >> beam.GroupByKey()
            | "Images" >> beam.ParDo(_Collapse(options)).with_outputs(EDGE, main="kept")
        )
        by_text = (
            by_image.kept
            | "TextKey" >> beam.Map(lambda s: (exact_keys(s)[-1], s))
            | "ByText" >> beam.GroupByKey()
            | "Texts" >> beam.ParDo(_Collapse(options)).with_outputs(EDGE, main="kept")
        )
        near = (
            by_text.kept
            | "BucketKeys" >> beam.FlatMap(lambda s: [(k, s) for k in lsh_keys(s, options)])
            | "Buckets" >> beam.GroupByKey()
            | "Verify" >> beam.ParDo(_Bucket(options))
            | "Distinct" >> beam.Distinct()
        )
        edges = (by_image[EDGE], by_text[EDGE], near) | "Edges" >> beam.Flatten()
        labels = edges | "Components" >> ConnectedComponents()
        info = sketches | "Info" >> beam.Map(lambda s: (s.page_id, (s.rank, s.page_id, s.digest)))
        return (
            {"label": labels, "info": info}
            | "JoinInfo" >> beam.CoGroupByKey()
            | "ByCluster"
            >> beam.FlatMap(lambda j: [(r, i) for r in j[1]["label"] for i in j[1]["info"]])
            | "Clusters" >> beam.GroupByKey()
            | "Representatives" >> beam.FlatMap(lambda c: representatives(c[1]))
        )
