"""The local runner: a plan's steps over plain Python iterators, in this process, without Beam.

For tests, notebooks and small jobs (`curate run --local`). It writes the same files the Beam
runner writes. Items stream from stage to stage; a step that needs every item first (grouping,
duplicate clusters, the score threshold) parks them in a temporary file, not in memory.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from curate.core.stage import (
    KEPT,
    BatchStage,
    DatasetStage,
    GroupStage,
    JoinStage,
    Outcome,
    Spread,
    Stage,
    Tally,
    iter_item,
    route,
    run_batch,
    run_item,
)
from curate.outputs.writers.manifest import RunReport, RunTotals, write_manifest
from curate.outputs.writers.parquet import SpilledShards, shard_infos_as_dicts
from curate.plan import Plan, Step

Emit = Callable[[str, Any], None]


class _Parked:
    """Items waiting in a temporary file for a step that needs all of them first."""

    def __init__(self):
        self._file = tempfile.TemporaryFile(prefix="curate-local-")
        self.offsets: list[int] = []

    def add(self, item: Any) -> int:
        self.offsets.append(self._file.tell())
        pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        return len(self.offsets) - 1

    def get(self, index: int) -> Any:
        self._file.seek(self.offsets[index])
        return pickle.load(self._file)

    def __iter__(self) -> Iterator[Any]:
        return (self.get(i) for i in range(len(self.offsets)))

    def close(self) -> None:
        self._file.close()


def _routed(outcomes: Iterable[Outcome], emit: Emit) -> Iterator[Any]:
    """Kept items flow on; dropped records and failure rows go to `emit`."""
    for outcome in outcomes:
        where, record = route(outcome)
        if where == KEPT:
            yield record
        else:
            emit(where, record)


def _flat(per_item: list[list[Outcome]]) -> list[Outcome]:
    return [outcome for outcomes in per_item for outcome in outcomes]


def _apply(
    step: Step, items: Iterator[Any], emit: Emit, done: Callable[[], None] | None = None
) -> Iterator[Any]:
    """One step over a stream. `done` is called as each item the step handles is finished."""
    if isinstance(step, Tally):
        for item in items:
            if isinstance(item, step.of):
                emit(f"tally:{step.name}", item)
            yield item
        return
    if isinstance(step, Spread):
        yield from items
        return
    if isinstance(step, GroupStage | DatasetStage | JoinStage):
        yield from _apply_whole(step, items, emit)
        return
    batch: list[Any] = []
    size = step.resources().batch_size if isinstance(step, BatchStage) else 1
    for item in items:
        if not step.handles(item):
            yield item
            continue
        if size == 1:
            yield from _routed(iter_item(step, item), emit)
            if done:
                done()
            continue
        batch.append(item)
        if len(batch) >= size:
            yield from _routed(_flat(run_batch(step, batch)), emit)
            _count_done(done, len(batch))
            batch = []
    if batch:
        yield from _routed(_flat(run_batch(step, batch)), emit)
        _count_done(done, len(batch))


def _count_done(done: Callable[[], None] | None, items: int) -> None:
    for _ in range(items if done else 0):
        done()


def _apply_whole(stage: Stage, items: Iterator[Any], emit: Emit) -> Iterator[Any]:
    """Steps that see every item first: items they do not handle pass straight on."""
    parked, keys, summaries = _Parked(), [], []
    try:
        for item in items:
            if not stage.handles(item):
                yield item
                continue
            index = parked.add(item)
            if isinstance(stage, GroupStage):
                keys.append((stage.key(item), index))
            elif isinstance(stage, DatasetStage):
                summary = stage.summarize(item)
                if summary is not None:
                    summaries.append(summary)
            else:
                keys.append(stage.key(item))
                summaries.append((keys[-1], stage.summarize(item)))
        if isinstance(stage, GroupStage):
            keys.sort()
            start = 0
            while start < len(keys):
                end = start
                while end < len(keys) and keys[end][0] == keys[start][0]:
                    end += 1
                key, group = keys[start][0], [parked.get(index) for _, index in keys[start:end]]
                outcomes = run_item(
                    stage, group, lambda g, k=key: stage.process_group(k, g), subject=group[0]
                )
                yield from _routed(outcomes, emit)
                start = end
        elif isinstance(stage, DatasetStage):
            combined = stage.combine(summaries)
            for item in parked:
                yield from _routed(run_item(stage, item, lambda i: stage.decide(i, combined)), emit)
        else:
            verdicts = dict(stage.verdicts(summaries))
            for key, item in zip(keys, parked, strict=True):
                yield from _routed(
                    run_item(stage, item, lambda i, k=key: stage.decide(i, verdicts.get(k))), emit
                )
    finally:
        parked.close()


def run_steps(
    steps: list[Step],
    items: Iterable[Any],
    emit: Emit,
    count: Callable[[str, int], None],
    progress: tuple[str, Callable[[], None]] | None = None,
) -> Iterator[Any]:
    """The kept items after every step, streaming; set up and torn down around the run.
    `progress`: (a stage's name, called as that stage finishes each item)."""
    stages = [s for s in steps if isinstance(s, Stage)]
    for stage in stages:
        stage.bind_counter(count)
        stage.setup()
    try:
        stream: Iterator[Any] = iter(items)
        for step in steps:
            done = progress[1] if progress and getattr(step, "name", None) == progress[0] else None
            stream = _apply(step, stream, emit, done)
        yield from stream
    finally:
        for stage in stages:
            stage.teardown()


def run_local(plan: Plan, progress: Callable[[int], None] | None = None) -> RunReport:
    """Run the plan here and write its output: shards, dropped rows, dead letters, manifest.
    `progress(done)` is called as documents finish."""
    started = time.monotonic()
    counters: Counter = Counter()
    totals = RunTotals()
    sinks = {
        where: SpilledShards(plan.output, spec, plan.manifest.config.writer)
        for where, spec in plan.sinks.items()
    }

    def emit(where: str, record: Any) -> None:
        totals.add(where, record)
        if where in sinks:
            sinks[where].add(record)
        elif not where.startswith("tally:"):
            raise RuntimeError(f"the plan has no {where} output")

    def count(name: str, value: int) -> None:
        counters[name] += value

    finished = Counter()

    def one_done() -> None:
        finished["documents"] += 1
        progress(finished["documents"])

    watch = (plan.progress_stage, one_done) if progress and plan.progress_stage else None
    for record in run_steps(plan.steps, plan.seeds, emit, count, watch):
        emit(plan.kept_as, record)
    shards = {
        sink.spec.folder: shard_infos_as_dicts(sink.close(), plan.output) for sink in sinks.values()
    }
    write_manifest(plan.output, plan.manifest.build(totals, shards))
    return RunReport(
        counters=dict(sorted(counters.items())), seconds=time.monotonic() - started, runner="local"
    )
