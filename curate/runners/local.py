"""The local runner: a job's stages over plain Python iterators, in this process, without Beam.

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
    BatchStage,
    DatasetStage,
    Drop,
    GroupStage,
    JoinStage,
    Keep,
    Outcome,
    Spread,
    Stage,
    Tally,
    dropped,
    iter_item,
    run_batch,
    run_item,
)
from curate.io import storage
from curate.outputs.dataset import iter_rows
from curate.outputs.export.llava import llava_to_sample, read_llava_records
from curate.outputs.writers.manifest import RunReport, RunTotals, build_manifest, write_manifest
from curate.outputs.writers.parquet import (
    DATA,
    DEAD_LETTER,
    DROPPED,
    DROPPED_PAGES,
    PAGES,
    SpilledShards,
    shard_infos_as_dicts,
)
from curate.plan import Dataset, Inputs, Job, LlavaJson, Step
from curate.schemas import (
    PageRecord,
    page_from_row,
    sample_from_row,
)
from curate.stages.sources import SUPPORTED_EXTENSIONS

Emit = Callable[[str, Any], None]


def list_inputs(uris: Iterable[str]) -> Iterator[str]:
    """Input arguments -> document URIs: URLs, `.urls` lines, named files, every file under
    folders and the supported files a glob matches (what the Beam runner lists with
    fileio.MatchAll)."""
    for raw in uris:
        kind, uri = storage.route_input(raw)
        if kind == "pattern":
            yield from (
                path
                for path in storage.list_files(uri)
                if storage.has_extension(path, SUPPORTED_EXTENSIONS)
            )
        elif kind == "folder":  # every file: an unsupported one gets its dead-letter row
            yield from storage.list_files(uri)
            yield from storage.unlistable_folders(uri)  # each reported as unreadable
        elif kind == "url_list":
            yield from storage.iter_url_list(uri)
        else:
            yield uri


def read_source(job: Job) -> Iterator[Any]:
    source = job.source
    if isinstance(source, Inputs):
        yield from list_inputs(source.uris)
    elif isinstance(source, Dataset):
        from_row = page_from_row if source.kind == "pages" else sample_from_row
        yield from (from_row(row) for row in iter_rows(source.pattern))
    elif isinstance(source, LlavaJson):
        for record in read_llava_records(source.path):
            yield llava_to_sample(record, source.image_folder, source.path, source.duo_layout)


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


def _route(outcomes: Iterable[Outcome], emit: Emit) -> Iterator[Any]:
    for outcome in outcomes:
        if isinstance(outcome, Keep):
            yield outcome.item
        elif isinstance(outcome, Drop):
            record = dropped(outcome)
            emit("dropped_pages" if isinstance(record, PageRecord) else "dropped", record)
        else:
            emit("failures", outcome.failure)


def _flat(per_item: list[list[Outcome]]) -> list[Outcome]:
    return [outcome for outcomes in per_item for outcome in outcomes]


def _apply(step: Step, items: Iterator[Any], emit: Emit) -> Iterator[Any]:
    """One step over a stream; kept items flow on, drops and failures go to `emit`."""
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
            yield from _route(iter_item(step, item), emit)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield from _route(_flat(run_batch(step, batch)), emit)
            batch = []
    if batch:
        yield from _route(_flat(run_batch(step, batch)), emit)


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
                yield from _route(outcomes, emit)
                start = end
        elif isinstance(stage, DatasetStage):
            combined = stage.combine(summaries)
            for item in parked:
                yield from _route(run_item(stage, item, lambda i: stage.decide(i, combined)), emit)
        else:
            verdicts = dict(stage.verdicts(summaries))
            for key, item in zip(keys, parked, strict=True):
                yield from _route(
                    run_item(stage, item, lambda i, k=key: stage.decide(i, verdicts.get(k))), emit
                )
    finally:
        parked.close()


def run_steps(
    steps: list[Step], items: Iterable[Any], emit: Emit, count: Callable[[str, int], None]
) -> Iterator[Any]:
    """The kept items after every step, streaming; set up and torn down around the run."""
    stages = [s for s in steps if isinstance(s, Stage)]
    for stage in stages:
        stage.bind_counter(count)
        stage.setup()
    try:
        stream: Iterator[Any] = iter(items)
        for step in steps:
            stream = _apply(step, stream, emit)
        yield from stream
    finally:
        for stage in stages:
            stage.teardown()


def run_stage(stage: Stage, items: Iterable[Any]) -> list[Any]:
    """One stage on a few items: the kept records, then dropped ones (their reason set) and
    Failure rows. For tests and notebooks."""
    others: list[Any] = []
    kept = list(
        run_steps(
            [stage], items, lambda where, record: others.append(record), lambda name, value: None
        )
    )
    return kept + others


def run_local(job: Job, progress: Callable[[int], None] | None = None) -> RunReport:
    """Run the job here and write its output: shards, dropped rows, dead letters, manifest."""
    started = time.monotonic()
    steps = job.stages()
    counters: Counter = Counter()
    totals = RunTotals()
    sinks = _sinks(job, steps)

    def emit(where: str, record: Any) -> None:
        totals.add(where, record)
        if where in sinks:
            sinks[where].add(record)
        elif not where.startswith("tally:"):
            raise RuntimeError(f"{where} output has no sink in a {job.command} job")

    def count(name: str, value: int) -> None:
        counters[name] += value

    def source() -> Iterator[Any]:
        for done, item in enumerate(read_source(job), start=1):
            yield item
            if progress:
                progress(done)

    kept_as = "data" if job.output_kind == "samples" else "pages"
    for record in run_steps(steps, source(), emit, count):
        emit(kept_as, record)
    shards = {
        sink.spec.folder: shard_infos_as_dicts(sink.close(), job.output) for sink in sinks.values()
    }
    tallies = [step.name for step in steps if isinstance(step, Tally)]
    manifest = build_manifest(
        totals, shards, job.output_kind, job.config, tallies, job.writes_dropped_pages
    )
    write_manifest(job.output, manifest)
    return RunReport(
        counters=dict(sorted(counters.items())), seconds=time.monotonic() - started, runner="local"
    )


def _sinks(job: Job, steps: list[Step]) -> dict[str, SpilledShards]:
    specs = {"failures": DEAD_LETTER}
    if job.output_kind == "samples":
        specs.update(data=DATA, dropped=DROPPED)
    else:
        specs["pages"] = PAGES
    if job.writes_dropped_pages:
        specs["dropped_pages"] = DROPPED_PAGES
    return {
        where: SpilledShards(job.output, spec, job.config.writer) for where, spec in specs.items()
    }
