"""The pipeline graphs behind `curate run`, `curate render` and `curate generate`.

All three share the same transforms; they differ only in where they start (input documents
or an existing Parquet dataset) and what they write.
"""

from __future__ import annotations

import apache_beam as beam

from curate.config import PipelineConfig
from curate.pipelines.transforms import (
    DROPPED,
    FAILURES,
    AssembleSamples,
    GenerateQA,
    OcrPages,
    RenderDocuments,
)
from curate.pipelines.write import SumUsage, WriteManifest, WriteShards, count_as, count_reasons
from curate.schemas import (
    failure_to_row,
    page_from_row,
    page_to_row,
    sample_from_row,
    sample_to_row,
)
from curate.writers.parquet import DATA, DEAD_LETTER, DROPPED as DROPPED_SPEC, PAGES


def _ocr(pages, config: PipelineConfig, workers: int):
    """Pages -> pages with OCR text where needed; unreadable images -> failures."""
    if config.ocr.mode == "never":
        return pages, []
    done = pages | "OCR" >> beam.ParDo(OcrPages(config.ocr, workers)).with_outputs(
        FAILURES, main="pages"
    )
    return done.pages, [done[FAILURES]]


def _render(
    p: beam.Pipeline,
    inputs: list[str],
    config: PipelineConfig,
    progress_dir: str | None,
    workers: int = 1,
):
    uris = p | "Inputs" >> beam.Create(inputs)
    rendered = (
        uris
        | "SpreadDocuments" >> beam.Reshuffle()
        | "Render"
        >> beam.ParDo(RenderDocuments(config.render, progress_dir)).with_outputs(
            FAILURES, main="pages"
        )
    )
    # A document fans out into many pages: spread them over workers before the heavy steps.
    pages = rendered.pages | "SpreadPages" >> beam.Reshuffle()
    pages, ocr_failures = _ocr(pages, config, workers)
    failures = [rendered[FAILURES], *ocr_failures] | "RenderFailures" >> beam.Flatten()
    counts = [
        uris | "CountDocuments" >> count_as("documents"),
        pages | "CountPages" >> count_as("pages"),
    ]
    return pages, failures, counts


def _generate_and_write(
    samples,
    dropped: list,
    failures: list,
    counts: list,
    output: str,
    config: PipelineConfig,
) -> None:
    batch = config.generator.llm.concurrency * 2 if config.generator.backend == "llm" else 16
    generated = (
        samples
        | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch)
        | "Generate"
        >> beam.ParDo(GenerateQA(config.generator)).with_outputs(FAILURES, DROPPED, main="samples")
    )
    all_dropped = [*dropped, generated[DROPPED]] | "AllDropped" >> beam.Flatten()
    all_failures = [*failures, generated[FAILURES]] | "AllFailures" >> beam.Flatten()
    kept = generated.samples
    parts = [
        *counts,
        kept | "CountSamples" >> count_as("samples"),
        all_dropped | "CountDropped" >> count_as("dropped"),
        all_failures | "CountFailures" >> count_as("failures"),
        all_dropped | "DropReasons" >> count_reasons("dropped_by_reason", lambda s: s.drop_reason),
        all_failures | "FailureReasons" >> count_reasons("failures_by_reason", lambda f: f.reason),
        [kept, generated[DROPPED]] | "Generated" >> beam.Flatten() | "Usage" >> SumUsage(),
        [kept, generated[DROPPED]]
        | "GeneratedForRejects" >> beam.Flatten()
        | "Rejected" >> beam.FlatMap(lambda s: [q.reject_reason for q in s.rejected_qa])
        | "RejectReasons" >> count_reasons("rejected_qa_by_reason", lambda reason: reason),
        kept | "WriteData" >> WriteShards(output, DATA, sample_to_row, config.writer),
        all_dropped | "WriteDropped" >> WriteShards(output, DROPPED_SPEC, sample_to_row, config.writer),
        all_failures
        | "WriteDeadLetter" >> WriteShards(output, DEAD_LETTER, failure_to_row, config.writer),
    ]
    parts | "AllParts" >> beam.Flatten() | "Manifest" >> WriteManifest(output, "samples", config)


def build_run(
    p: beam.Pipeline,
    inputs: list[str],
    output: str,
    config: PipelineConfig,
    progress_dir: str | None = None,
    workers: int = 1,
) -> None:
    """Documents -> pages (+OCR) -> samples -> QA -> sharded Parquet, drops and dead letters."""
    pages, failures, counts = _render(p, inputs, config, progress_dir, workers)
    assembled = pages | "Samples" >> AssembleSamples(config.samples)
    _generate_and_write(
        assembled.samples, [assembled[DROPPED]], [failures], counts, output, config
    )


def build_render(
    p: beam.Pipeline,
    inputs: list[str],
    output: str,
    config: PipelineConfig,
    progress_dir: str | None = None,
    workers: int = 1,
) -> None:
    """Documents -> page records (+OCR) in `<output>/pages/`, dead letters and a manifest."""
    pages, failures, counts = _render(p, inputs, config, progress_dir, workers)
    parts = [
        *counts,
        failures | "CountFailures" >> count_as("failures"),
        failures | "FailureReasons" >> count_reasons("failures_by_reason", lambda f: f.reason),
        pages | "WritePages" >> WriteShards(output, PAGES, page_to_row, config.writer),
        failures | "WriteDeadLetter" >> WriteShards(output, DEAD_LETTER, failure_to_row, config.writer),
    ]
    parts | "AllParts" >> beam.Flatten() | "Manifest" >> WriteManifest(output, "pages", config)


def build_ocr(
    p: beam.Pipeline, dataset_pattern: str, output: str, config: PipelineConfig, workers: int = 1
) -> None:
    """Existing page records -> page records with OCR text where needed."""
    pages = p | "ReadParquet" >> beam.io.ReadFromParquet(dataset_pattern) | "ToPages" >> beam.Map(page_from_row)
    pages, failures = _ocr(pages | "SpreadPages" >> beam.Reshuffle(), config, workers)
    failures = failures[0] if failures else p | "NoFailures" >> beam.Create([])
    parts = [
        pages | "CountPages" >> count_as("pages"),
        failures | "CountFailures" >> count_as("failures"),
        failures | "FailureReasons" >> count_reasons("failures_by_reason", lambda f: f.reason),
        pages | "WritePages" >> WriteShards(output, PAGES, page_to_row, config.writer),
        failures | "WriteDeadLetter" >> WriteShards(output, DEAD_LETTER, failure_to_row, config.writer),
    ]
    parts | "AllParts" >> beam.Flatten() | "Manifest" >> WriteManifest(output, "pages", config)


def build_generate(
    p: beam.Pipeline,
    dataset_pattern: str,
    dataset_kind: str,
    output: str,
    config: PipelineConfig,
) -> None:
    """Existing pages (assembled first) or samples (regenerated) -> samples with QA."""
    rows = p | "ReadParquet" >> beam.io.ReadFromParquet(dataset_pattern)
    if dataset_kind == "pages":
        pages = rows | "ToPages" >> beam.Map(page_from_row)
        assembled = pages | "Samples" >> AssembleSamples(config.samples)
        samples, dropped = assembled.samples, [assembled[DROPPED]]
        counts = [pages | "CountPages" >> count_as("pages")]
    else:
        samples, dropped, counts = rows | "ToSamples" >> beam.Map(sample_from_row), [], []
    _generate_and_write(samples, dropped, [], counts, output, config)
