"""A job's plan as a Beam graph: read the source, apply each step, write every output.

Nothing here decides what a job does; `curate/plan.py` does. This walks the steps in order,
keeps the dropped and failed records each stage routes aside, and writes them all, plus the
manifest, at the end.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.fileio import EmptyMatchTreatment

from curate.core.stage import Spread, Stage, Tally
from curate.io import storage
from curate.outputs.writers.parquet import DATA, DEAD_LETTER, PAGES
from curate.outputs.writers.parquet import DROPPED as DROPPED_SPEC
from curate.outputs.writers.parquet import DROPPED_PAGES as DROPPED_PAGES_SPEC
from curate.plan import Dataset, Inputs, Job, LlavaJson, image_staging_dir
from curate.runners.beam.stages import DROPPED, DROPPED_PAGES, FAILURES, apply_stage
from curate.runners.beam.write import WriteManifest, WriteShards, tagged_as
from curate.schemas import PageRecord, SampleRecord, page_from_row, sample_from_row
from curate.stages.sources import SUPPORTED_EXTENSIONS

PATTERNS, FOLDERS = "patterns", "folders"


class _RouteInputs(beam.DoFn):
    """An input argument -> document URIs now (URLs, files, .urls lines) or a pattern to match."""

    def process(self, raw: str):
        kind, uri = storage.route_input(raw)
        if kind == "pattern":
            yield beam.pvalue.TaggedOutput(PATTERNS, uri)
        elif kind == "folder":
            yield beam.pvalue.TaggedOutput(FOLDERS, uri)
            yield from storage.unlistable_folders(uri)  # each reported as unreadable
        elif kind == "url_list":
            yield from storage.iter_url_list(uri)
        else:
            yield uri


class ListInputs(beam.PTransform):
    """Input arguments -> document URIs. Folders and globs are listed by fileio.MatchAll on the
    workers, as a stream, so the launcher never builds a list of a large input set."""

    def __init__(self, extensions: frozenset[str]):
        super().__init__()
        self.extensions = extensions

    def expand(self, inputs):
        extensions = self.extensions
        routed = inputs | "Route" >> beam.ParDo(_RouteInputs()).with_outputs(
            PATTERNS, FOLDERS, main="uris"
        )
        matched = (
            routed[PATTERNS]
            | "Match" >> fileio.MatchAll(EmptyMatchTreatment.ALLOW)
            | "Paths" >> beam.Map(lambda metadata: metadata.path)
            | "Supported" >> beam.Filter(storage.has_extension, extensions)
        )
        in_folders = (  # every file: an unsupported one gets its dead-letter row
            routed[FOLDERS]
            | "MatchFolders" >> fileio.MatchAll(EmptyMatchTreatment.ALLOW)
            | "FolderPaths" >> beam.Map(lambda metadata: metadata.path)
        )
        return (routed.uris, matched, in_folders) | "AllInputs" >> beam.Flatten()


def by_reference(item, folder: str):
    """A page or sample whose images are written once under `folder` and pickled as references
    from here on (ImageData.by_reference); other items unchanged."""
    if isinstance(item, PageRecord):
        item.image.by_reference(folder)
    elif isinstance(item, SampleRecord):
        for image in item.images:
            image.by_reference(folder)
    return item


def read_source(p: beam.Pipeline, job: Job):
    source = job.source
    if isinstance(source, Inputs):
        return (
            p
            | "Inputs" >> beam.Create(list(source.uris))
            | "ListInputs" >> ListInputs(SUPPORTED_EXTENSIONS)
            | "SpreadDocuments" >> beam.Reshuffle()
        )
    if isinstance(source, Dataset):
        from_row = page_from_row if source.kind == "pages" else sample_from_row
        return (
            p
            | "ReadParquet" >> beam.io.ReadFromParquet(source.pattern)
            | "ToRecords" >> beam.Map(from_row)
        )
    if isinstance(source, LlavaJson):
        from curate.outputs.export.llava import llava_to_sample, read_llava_records

        records = read_llava_records(source.path)  # text only; images are read by the workers
        return (
            p
            | "LlavaRecords" >> beam.Create(records)
            | "ToSamples"
            >> beam.Map(llava_to_sample, source.image_folder, source.path, source.duo_layout)
        )
    raise TypeError(f"unknown source {source!r}")


def build(p: beam.Pipeline, job: Job, progress_dir: str | None = None) -> None:
    """The whole job as a graph on `p`: source, steps, shards, dead letters, manifest."""
    images = image_staging_dir(job.output)
    items = read_source(p, job) | "ImagesByReference" >> beam.Map(by_reference, images)
    aside: dict[str, list] = {DROPPED: [], DROPPED_PAGES: [], FAILURES: []}
    facts = []
    first = True
    for index, step in enumerate(job.stages()):
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
            outputs = items | step.name >> apply_stage(step, progress_dir if first else None)
            first = False
            items = outputs[None]
            for tag in aside:
                aside[tag].append(outputs[tag])
    _write(job, items, aside, facts)


def _write(job: Job, kept, aside: dict[str, list], facts: list) -> None:
    """Kept records, dropped records and failures to their shards, through one sink, then
    the manifest."""
    writer = job.config.writer
    sinks = [("failures", DEAD_LETTER, aside[FAILURES])]
    if job.output_kind == "samples":
        sinks += [("data", DATA, [kept]), ("dropped", DROPPED_SPEC, aside[DROPPED])]
    else:
        sinks += [("pages", PAGES, [kept])]
    if job.writes_dropped_pages:
        sinks.append(("dropped_pages", DROPPED_PAGES_SPEC, aside[DROPPED_PAGES]))
    pairs = [
        collection | f"as_{where}_{index}" >> tagged_as(where)
        for where, _, collections in sinks
        for index, collection in enumerate(collections)
    ] | "AllRecords" >> beam.Flatten()
    specs = {where: spec for where, spec, _ in sinks}
    shard_parts = pairs | "Write" >> WriteShards(job.output, specs, writer)
    tallies = [step.name for step in job.stages() if isinstance(step, Tally)]
    (
        ([*facts, pairs] | "AllFacts" >> beam.Flatten(), shard_parts)
        | "Manifest"
        >> WriteManifest(job.output, job.output_kind, job.config, tallies, job.writes_dropped_pages)
    )
