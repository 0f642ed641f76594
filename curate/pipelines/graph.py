"""The pipeline graphs behind `curate run`, `curate render` and `curate generate`.

All three share the same transforms; they differ only in where they start (input documents
or an existing Parquet dataset) and what they write.
"""

from __future__ import annotations

import apache_beam as beam

from curate import storage
from curate.config import PipelineConfig
from curate.pipelines.transforms import (
    DROPPED,
    FAILURES,
    AssembleSamples,
    DeduplicatePages,
    FilterSamples,
    GenerateQA,
    HashAndScreenPages,
    LINKED,
    ListInputs,
    OnePerContent,
    OcrPages,
    RenderDocuments,
    RenderLinkedDocuments,
    ScoreSamples,
    ScreenPagesAfterOcr,
    ScreenSamplesBeforeGeneration,
)
from curate.pipelines.write import SumUsage, WriteManifest, WriteShards, count_as, count_reasons
from curate.schemas import (
    failure_to_row,
    page_from_row,
    page_to_row,
    sample_from_row,
    sample_to_row,
)
from curate.sources import SUPPORTED_EXTENSIONS
from curate.writers.parquet import DATA, DEAD_LETTER, DROPPED_PAGES, PAGES
from curate.writers.parquet import DROPPED as DROPPED_SPEC


def _ocr(pages, config: PipelineConfig, workers: int):
    """Pages -> pages with OCR text where needed; unreadable images -> failures."""
    if config.ocr.mode == "never":
        return pages, []
    done = pages | "OCR" >> beam.ParDo(OcrPages(config.ocr, workers)).with_outputs(
        FAILURES, main="pages"
    )
    return done.pages, [done[FAILURES]]


def _web_if_needed(inputs: list[str], config: PipelineConfig):
    """Web options when any input is a URL or a .urls file, so PDF-only jobs never start a browser."""
    web = any(uri.startswith(("http://", "https://")) or uri.endswith(".urls") for uri in inputs)
    return config.web if web else None


def staging_dir(output: str, config: PipelineConfig) -> str:
    """Where crawls download linked documents: web.staging_dir, or OUTPUT/_staging/documents."""
    return config.web.staging_dir or storage.join(output, "_staging", "documents")


def _render(
    p: beam.Pipeline,
    inputs: list[str],
    output: str,
    config: PipelineConfig,
    progress_dir: str | None,
    workers: int = 1,
):
    uris = p | "Inputs" >> beam.Create(inputs) | "ListInputs" >> ListInputs(SUPPORTED_EXTENSIONS)
    web = _web_if_needed(inputs, config)
    rendered = (
        uris
        | "SpreadDocuments" >> beam.Reshuffle()
        | "Render"
        >> beam.ParDo(RenderDocuments(config.render, progress_dir, web, staging_dir(output, config))).with_outputs(
            FAILURES, LINKED, main="pages"
        )
    )
    # Documents that crawled pages link to: once per content, then the PDF or slides source.
    linked = rendered[LINKED] | "OnePerContent" >> OnePerContent()
    linked_rendered = (
        linked
        | "SpreadLinked" >> beam.Reshuffle()
        | "RenderLinked" >> beam.ParDo(RenderLinkedDocuments(config.render)).with_outputs(FAILURES, main="pages")
    )
    # A document fans out into many pages: spread them over workers before the heavy steps.
    rendered_pages = (
        (rendered.pages, linked_rendered.pages) | "AllRendered" >> beam.Flatten() | "SpreadPages" >> beam.Reshuffle()
    )
    pages, ocr_failures, dropped_pages = _screen_pages(rendered_pages, config, workers)
    failures = [rendered[FAILURES], linked_rendered[FAILURES], *ocr_failures] | "RenderFailures" >> beam.Flatten()
    counts = [
        uris | "CountDocuments" >> count_as("documents"),
        linked | "CountLinked" >> count_as("linked_documents"),
        rendered_pages | "CountPages" >> count_as("pages"),
        pages | "CountPagesKept" >> count_as("pages_kept"),
    ]
    return pages, failures, counts, dropped_pages


def _screen_pages(pages, config: PipelineConfig, workers: int):
    """Blank pages and duplicates out before OCR; thin text out after it.

    Returns (kept pages, [OCR failures], [dropped page collections]).
    """
    screened = pages | "HashAndScreen" >> beam.ParDo(
        HashAndScreenPages(config.dedup, config.quality)
    ).with_outputs(DROPPED, main="pages")
    pages, dropped = screened.pages, [screened[DROPPED]]
    if config.dedup.enabled:
        unique = pages | "Dedup" >> DeduplicatePages(config.dedup)
        pages, dropped = unique.pages, [*dropped, unique[DROPPED]]
    pages, failures = _ocr(pages, config, workers)
    if config.quality.min_chars_per_megapixel is not None:
        dense = pages | "TextDensity" >> beam.ParDo(ScreenPagesAfterOcr(config.quality)).with_outputs(
            DROPPED, main="pages"
        )
        pages, dropped = dense.pages, [*dropped, dense[DROPPED]]
    return pages, failures, dropped


def _write_dropped_pages(dropped_pages: list, output: str, config: PipelineConfig, p) -> list:
    """Dropped pages to `dropped_pages/` (kind=pages), plus their manifest parts."""
    empty = p | "NoDroppedPages" >> beam.Create([])
    pages = [empty, *dropped_pages] | "AllDroppedPages" >> beam.Flatten()
    return [
        pages | "CountDroppedPages" >> count_as("dropped_pages"),
        pages | "DroppedPageReasons" >> count_reasons("dropped_pages_by_reason", lambda page: page.drop_reason),
        pages | "WriteDroppedPages" >> WriteShards(output, DROPPED_PAGES, page_to_row, config.writer),
    ]


def _score_and_filter(samples, dropped: list, config: PipelineConfig, scoring_model: str | None):
    """Optional steps: difficulty scores on every sample, then the filter on one metric."""
    if config.scoring.metrics:
        samples = samples | "Scoring" >> ScoreSamples(config.scoring, scoring_model)
    if config.filter.metric:
        filtered = samples | "Filter" >> FilterSamples(config.filter)
        samples, dropped = filtered.kept, [*dropped, filtered[DROPPED]]
    return samples, dropped


def _write_samples(
    kept, dropped: list, failures: list, counts: list, output: str, config: PipelineConfig, p
) -> None:
    """Kept samples, dropped samples and failures to their shards, then the manifest."""
    empty = p | "Nothing" >> beam.Create([])
    all_dropped = [empty, *dropped] | "AllDropped" >> beam.Flatten()
    all_failures = [empty, *failures] | "AllFailures" >> beam.Flatten()
    produced = [kept, all_dropped] | "Produced" >> beam.Flatten()
    parts = [
        *counts,
        kept | "CountSamples" >> count_as("samples"),
        all_dropped | "CountDropped" >> count_as("dropped"),
        all_failures | "CountFailures" >> count_as("failures"),
        all_dropped | "DropReasons" >> count_reasons("dropped_by_reason", lambda s: s.drop_reason),
        all_failures | "FailureReasons" >> count_reasons("failures_by_reason", lambda f: f.reason),
        produced | "Usage" >> SumUsage(),
        produced
        | "Rejected" >> beam.FlatMap(lambda s: [q.reject_reason for q in s.rejected_qa])
        | "RejectReasons" >> count_reasons("rejected_qa_by_reason", lambda reason: reason),
        kept | "WriteData" >> WriteShards(output, DATA, sample_to_row, config.writer),
        all_dropped | "WriteDropped" >> WriteShards(output, DROPPED_SPEC, sample_to_row, config.writer),
        all_failures
        | "WriteDeadLetter" >> WriteShards(output, DEAD_LETTER, failure_to_row, config.writer),
    ]
    parts | "AllParts" >> beam.Flatten() | "Manifest" >> WriteManifest(output, "samples", config)


def _generate_and_write(
    samples,
    dropped: list,
    failures: list,
    counts: list,
    output: str,
    config: PipelineConfig,
    scoring_model: str | None = None,
) -> None:
    if config.quality.languages:
        screened = samples | "Language" >> beam.ParDo(
            ScreenSamplesBeforeGeneration(config.quality)
        ).with_outputs(DROPPED, main="samples")
        samples, dropped = screened.samples, [*dropped, screened[DROPPED]]
    batch = config.generator.llm.concurrency * 2 if config.generator.backend == "llm" else 16
    generated = (
        samples
        | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch)
        | "Generate"
        >> beam.ParDo(GenerateQA(config.generator, config.quality)).with_outputs(
            FAILURES, DROPPED, main="samples"
        )
    )
    kept, dropped = _score_and_filter(
        generated.samples, [*dropped, generated[DROPPED]], config, scoring_model
    )
    _write_samples(
        kept, dropped, [*failures, generated[FAILURES]], counts, output, config, samples.pipeline
    )


def build_run(
    p: beam.Pipeline,
    inputs: list[str],
    output: str,
    config: PipelineConfig,
    progress_dir: str | None = None,
    workers: int = 1,
    scoring_model: str | None = None,
) -> None:
    """Documents -> pages (+OCR) -> samples -> QA (-> scores -> filter) -> Parquet, drops, dead letters."""
    pages, failures, counts, dropped_pages = _render(p, inputs, output, config, progress_dir, workers)
    counts = [*counts, *_write_dropped_pages(dropped_pages, output, config, p)]
    assembled = pages | "Samples" >> AssembleSamples(config.samples)
    _generate_and_write(
        assembled.samples, [assembled[DROPPED]], [failures], counts, output, config, scoring_model
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
    pages, failures, counts, dropped_pages = _render(p, inputs, output, config, progress_dir, workers)
    counts = [*counts, *_write_dropped_pages(dropped_pages, output, config, p)]
    _write_pages(pages, failures, counts, output, config)


def _write_pages(pages, failures, counts: list, output: str, config: PipelineConfig) -> None:
    """Page records to `pages/`, failures to `dead_letter/`, then the manifest (kind=pages)."""
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
    _write_pages(pages, failures, [pages | "CountPages" >> count_as("pages")], output, config)


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


def read_samples(p: beam.Pipeline, source: str, image_folder: str | None = None):
    """Samples from our Parquet (a glob pattern) or from a LLaVA-format JSON with its images."""
    if image_folder is not None:
        from curate.llava import llava_to_sample, read_llava_records

        records = read_llava_records(source)  # text only; images are read by the workers
        return (
            p
            | "LlavaRecords" >> beam.Create(records)
            | "ToSamples" >> beam.Map(llava_to_sample, image_folder, source)
        )
    return p | "ReadParquet" >> beam.io.ReadFromParquet(source) | "ToSamples" >> beam.Map(sample_from_row)


def build_score_filter(
    p, source: str, output: str, config: PipelineConfig, model: str | None, image_folder: str | None = None
) -> None:
    """Existing samples -> scored (when scoring.metrics is set) -> filtered (when filter.metric
    is set): kept rows to data/, dropped rows with their reason to dropped/."""
    samples = read_samples(p, source, image_folder)
    kept, dropped = _score_and_filter(samples, [], config, model)
    _write_samples(kept, dropped, [], [], output, config, p)
