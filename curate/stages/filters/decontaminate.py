"""Drop (or mark) samples that overlap an evaluation benchmark: its images or its QA.

A model trained on a benchmark's pages or questions scores well on it for the wrong reason.
Each benchmark in `decontaminate.against` is indexed once before the job (`prepare_indexes`,
reused by later runs), and every worker maps the index from disk in `setup()`. Matching is
per sample, with bounded work, so the Beam runner and the local runner keep the same samples
(contamination.py says how images and text match).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from curate.core.config import DecontaminateOptions
from curate.core.stage import Drop, Keep, Outcome, Stage
from curate.schemas import SampleRecord
from curate.schemas.reasons import SampleDropReason
from curate.stages.filters.contamination import BenchmarkIndex, sample_matches


class Decontaminate(Stage):
    """A sample that holds a benchmark's image or QA: dropped with `benchmark_overlap`, or,
    with `mark_only`, kept with its `benchmark_matches`."""

    name = "decontaminate"
    accepts = (SampleRecord,)
    emits = frozenset({SampleDropReason.BENCHMARK_OVERLAP})

    def __init__(self, options: DecontaminateOptions, indexes: dict[str, str]):
        super().__init__(options)
        self.folders = indexes  # benchmark name -> its index folder (prepare_indexes)
        self._indexes: dict[str, BenchmarkIndex] = {}

    def setup(self) -> None:
        self._indexes = {
            name: BenchmarkIndex.load(name, folder) for name, folder in self.folders.items()
        }

    def teardown(self) -> None:
        self._indexes = {}

    def __getstate__(self):  # indexes are mapped again on each worker, never pickled
        return {**self.__dict__, "_indexes": {}}

    def process(self, sample: SampleRecord) -> Iterable[Outcome]:
        pairs = [(qa.question, qa.answer) for qa in sample.qa]
        texts = sample.image_texts
        images = [image.bytes for image in sample.images]
        matches = sample_matches(self._indexes, images, pairs, texts, self.options)
        if not matches:
            self.count("decontaminate.clean")
            return [Keep(sample)]
        for match in {(m.benchmark, m.kind) for m in matches}:
            self.count(f"decontaminate.{match[0]}.{match[1]}")
        marked = replace(sample, benchmark_matches=matches)
        if self.options.mark_only:
            return [Keep(marked)]
        first = matches[0]
        detail = f"{first.benchmark} item {first.item_id}: {first.kind}" + (
            f" (image {first.image_index + 1})" if first.image_index >= 0 else ""
        )
        return [Drop(marked, SampleDropReason.BENCHMARK_OVERLAP, detail)]
