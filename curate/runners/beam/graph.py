"""A plan as a Beam graph: its seeds, each step in order, and every output written.

Nothing here decides what a job does; `curate/plan.py` does. This walks the steps in order,
keeps the dropped and failed records each stage routes aside, and writes them all, plus the
manifest, at the end.
"""

from __future__ import annotations

import apache_beam as beam

from curate.core.stage import ASIDE, Spread, Stage, Tally
from curate.plan import Plan, image_staging_dir
from curate.runners.beam.stages import apply_stage
from curate.runners.beam.write import WriteManifest, WriteShards, tagged_as
from curate.schemas import PageRecord, SampleRecord


def by_reference(item, folder: str):
    """A page or sample whose images are written once under `folder` and pickled as references
    from here on (ImageData.by_reference); other items unchanged."""
    if isinstance(item, PageRecord):
        item.image.by_reference(folder)
    elif isinstance(item, SampleRecord):
        for image in item.images:
            image.by_reference(folder)
    return item


def build(p: beam.Pipeline, plan: Plan, progress_dir: str | None = None) -> None:
    """The whole plan as a graph on `p`: seeds, steps, shards, dead letters, manifest."""
    images = image_staging_dir(plan.output)
    items = p | "Seeds" >> beam.Create(plan.seeds)
    aside: dict[str, list] = {where: [] for where in ASIDE}
    facts = []
    for index, step in enumerate(plan.steps):
        if isinstance(step, Tally):
            facts.append(
                items
                | f"tally_{step.name}"
                >> beam.FlatMap(
                    lambda item, s=step: (
                        [(f"tally:{s.name}", None)] if isinstance(item, s.of) else []
                    )
                )
            )
        elif isinstance(step, Spread):
            items = (
                items
                | f"by_reference_{index}" >> beam.Map(by_reference, images)
                | f"spread_{index}" >> beam.Reshuffle()
            )
        elif isinstance(step, Stage):
            watched = progress_dir if step.name == plan.progress_stage else None
            outputs = items | step.name >> apply_stage(step, watched)
            items = outputs[None]
            for where in aside:
                aside[where].append(outputs[where])
    _write(plan, items, aside, facts)


def _write(plan: Plan, kept, aside: dict[str, list], facts: list) -> None:
    """Kept records, dropped records and failures to their shards, through one sink, then
    the manifest."""
    collections = {plan.kept_as: [kept], **aside}
    pairs = [
        collection | f"as_{where}_{index}" >> tagged_as(where)
        for where in plan.sinks
        for index, collection in enumerate(collections[where])
    ] | "AllRecords" >> beam.Flatten()
    shard_parts = pairs | "Write" >> WriteShards(
        plan.output, plan.sinks, plan.manifest.config.writer
    )
    (
        ([*facts, pairs] | "AllFacts" >> beam.Flatten(), shard_parts)
        | "Manifest" >> WriteManifest(plan.output, plan.manifest)
    )
