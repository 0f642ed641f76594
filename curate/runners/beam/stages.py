"""Stages on Beam: one generic transform per stage kind (curate/core/stage.py).

Every transform takes a PCollection of items and returns kept items on the main output, dropped
pages on `dropped_pages`, dropped samples on `dropped` and Failure rows on `failures`. Items a
stage does not handle go around it. Heavy objects are built in the worker (`DoFn.setup`, or
RunInference's `load_model` for batch stages, which can share one model per machine).
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, RunInference

from curate.core.registry import Registry
from curate.core.stage import (
    ASIDE,
    KEPT,
    BatchStage,
    DatasetStage,
    GroupStage,
    JoinStage,
    Outcome,
    Stage,
    iter_item,
    route,
    run_batch,
    run_item,
)
from curate.runners.beam.progress import mark_done

TAGS = ASIDE
NAMESPACE = "curate"
# Whole-dataset stages that name a distributed version of their `verdicts` or `combine`
# (`scale_out`): the transforms, by that name. A stage without one is gathered in one place.
SCALE_OUT = Registry(
    "Beam scale-out",
    {
        "duplicate_clusters": "curate.runners.beam.dedup:DuplicateVerdicts",
        "top_fraction": "curate.runners.beam.select:TopThreshold",
    },
)


def beam_counter(name: str, value: int) -> None:
    Metrics.counter(NAMESPACE, name).inc(value)


def tagged(outcomes: list[Outcome]):
    """Outcomes as Beam outputs: kept items on the main output, the rest on their tags."""
    for outcome in outcomes:
        where, record = route(outcome)
        yield record if where == KEPT else beam.pvalue.TaggedOutput(where, record)


class _StageFn(beam.DoFn):
    """Runs a stage's `work(stage, item)` on each item it handles; `setup()` once per worker."""

    def __init__(self, stage: Stage, work=None, progress_dir: str | None = None):
        self.stage, self.work, self.progress_dir = stage, work, progress_dir

    def setup(self):
        self.stage.bind_counter(beam_counter)
        self.stage.setup()

    def teardown(self):
        self.stage.teardown()

    def process(self, element, *side):
        if self.work is None:
            if self.stage.handles(element):
                yield from tagged(iter_item(self.stage, element))
            else:
                yield element
        else:
            yield from tagged(self.work(self.stage, element, *side))
        mark_done(self.progress_dir)


def _split(items, stage: Stage):
    """(items the stage handles, the others), for kinds that cannot pass items through a DoFn."""
    parts = items | "Handles" >> beam.Partition(lambda item, n: 0 if stage.handles(item) else 1, 2)
    return parts[0], parts[1]


def _merge(outputs, others):
    """The stage's tagged outputs, with the items it did not handle joined to its main output."""
    kept = (outputs[None], others) | "WithOthers" >> beam.Flatten()
    return {None: kept, **{tag: outputs[tag] for tag in TAGS}}


class ApplyStage(beam.PTransform):
    """A per-item stage: one ParDo."""

    def __init__(self, stage: Stage, progress_dir: str | None = None):
        super().__init__()
        self.stage, self.progress_dir = stage, progress_dir

    def expand(self, items):
        fn = _StageFn(self.stage, progress_dir=self.progress_dir)
        outputs = items | beam.ParDo(fn).with_outputs(*TAGS, main="kept")
        return {None: outputs.kept, **{tag: outputs[tag] for tag in TAGS}}


class _StageHandler(ModelHandler):
    """RunInference's view of a batch stage: the stage is the model, set up in load_model()."""

    def __init__(self, stage: BatchStage, progress_dir: str | None = None):
        self.stage, self.progress_dir = stage, progress_dir
        self._router: BatchStage | None = None

    def load_model(self):
        self.stage.bind_counter(beam_counter)
        self.stage.setup()
        return self.stage

    def run_inference(self, batch, model, inference_args=None):
        items = list(batch)
        if self._router is None:  # routes results here even when the model is shared elsewhere
            self._router = self.stage
            self._router.bind_counter(beam_counter)
        outcomes = run_batch(self._router, items, model.process_batch(items))
        mark_done(self.progress_dir, len(items))
        return outcomes

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": self.stage.resources().batch_size}

    def share_model_across_processes(self) -> bool:
        return self.stage.resources().shared


class ApplyBatchStage(beam.PTransform):
    """A batch stage through RunInference, with the stage's accelerator hint when it has one."""

    def __init__(self, stage: BatchStage, progress_dir: str | None = None):
        super().__init__()
        self.stage, self.progress_dir = stage, progress_dir

    def expand(self, items):
        handled, others = _split(items, self.stage)
        inference = RunInference(_StageHandler(self.stage, self.progress_dir))
        accelerator = self.stage.resources().accelerator
        if accelerator:
            inference = inference.with_resource_hints(accelerator=accelerator)
        outputs = (
            handled
            | "Batches" >> inference
            | "Route" >> beam.FlatMap(tagged).with_outputs(*TAGS, main="kept")
        )
        return _merge({None: outputs.kept, **{tag: outputs[tag] for tag in TAGS}}, others)


def _group(stage: GroupStage, keyed: tuple[str, Any]) -> list[Outcome]:
    key, items = keyed
    items = list(items)
    return run_item(stage, items, lambda group: stage.process_group(key, group), subject=items[0])


class ApplyGroupStage(beam.PTransform):
    """A grouping stage: GroupByKey on the stage's key, then one call per group."""

    def __init__(self, stage: GroupStage):
        super().__init__()
        self.stage = stage

    def expand(self, items):
        stage = self.stage
        handled, others = _split(items, stage)
        outputs = (
            handled
            | "Key" >> beam.Map(lambda item: (stage.key(item), item))
            | "Group" >> beam.GroupByKey()
            | "Process" >> beam.ParDo(_StageFn(stage, _group)).with_outputs(*TAGS, main="kept")
        )
        return _merge({None: outputs.kept, **{tag: outputs[tag] for tag in TAGS}}, others)


def _decide(stage: DatasetStage, item: Any, combined: Any) -> list[Outcome]:
    return run_item(stage, item, lambda one: stage.decide(one, combined))


class ApplyDatasetStage(beam.PTransform):
    """One value over the whole dataset (a side input), then a decision per item."""

    def __init__(self, stage: DatasetStage):
        super().__init__()
        self.stage = stage

    def expand(self, items):
        stage = self.stage
        handled, others = _split(items, stage)
        summaries = handled | "Summaries" >> beam.FlatMap(
            lambda item: [s] if (s := stage.summarize(item)) is not None else []
        )
        if stage.scale_out:
            combined = summaries | "Combine" >> SCALE_OUT.load(stage.scale_out)(stage)
        else:
            combined = (
                summaries | "All" >> beam.combiners.ToList() | "Combine" >> beam.Map(stage.combine)
            )
        outputs = handled | "Decide" >> beam.ParDo(
            _StageFn(stage, _decide), beam.pvalue.AsSingleton(combined)
        ).with_outputs(*TAGS, main="kept")
        return _merge({None: outputs.kept, **{tag: outputs[tag] for tag in TAGS}}, others)


class _GatheredVerdicts(beam.PTransform):
    """The default for a join stage: every summary in one place, then `stage.verdicts`."""

    def __init__(self, stage: JoinStage):
        super().__init__()
        self.stage = stage

    def expand(self, summaries):
        return (
            summaries
            | "All" >> beam.combiners.ToList()
            | "Verdicts" >> beam.FlatMap(self.stage.verdicts)
        )


def _join(stage: JoinStage, joined: tuple[str, dict]) -> list[Outcome]:
    _, parts = joined
    verdict = parts["verdict"][0] if parts["verdict"] else None
    outcomes: list[Outcome] = []
    for item in parts["item"]:
        outcomes += run_item(stage, item, lambda one: stage.decide(one, verdict))
    return outcomes


class ApplyJoinStage(beam.PTransform):
    """A verdict per item that needs the whole dataset, joined back to the items by key."""

    def __init__(self, stage: JoinStage):
        super().__init__()
        self.stage = stage

    def expand(self, items):
        stage = self.stage
        handled, others = _split(items, stage)
        keyed = handled | "Key" >> beam.Map(lambda item: (stage.key(item), item))
        verdicts = (
            keyed
            | "Summaries" >> beam.Map(lambda kv: (kv[0], stage.summarize(kv[1])))
            | "Verdicts"
            >> (SCALE_OUT.load(stage.scale_out) if stage.scale_out else _GatheredVerdicts)(stage)
        )
        outputs = (
            {"item": keyed, "verdict": verdicts}
            | "Join" >> beam.CoGroupByKey()
            | "Decide" >> beam.ParDo(_StageFn(stage, _join)).with_outputs(*TAGS, main="kept")
        )
        return _merge({None: outputs.kept, **{tag: outputs[tag] for tag in TAGS}}, others)


def apply_stage(stage: Stage, progress_dir: str | None = None) -> beam.PTransform:
    """The transform that runs `stage`, by its kind."""
    if isinstance(stage, BatchStage):
        return ApplyBatchStage(stage, progress_dir)
    if isinstance(stage, GroupStage):
        return ApplyGroupStage(stage)
    if isinstance(stage, DatasetStage):
        return ApplyDatasetStage(stage)
    if isinstance(stage, JoinStage):
        return ApplyJoinStage(stage)
    return ApplyStage(stage, progress_dir)
