"""The stages as Beam transforms: each DoFn calls plain stage logic and routes its results.

Main outputs carry records on; the `failures` tag carries Failure rows to the dead-letter
output and the `dropped` tag carries pages or samples with a drop_reason. Heavy objects
(browser, OCR engine, LLM client, scoring model) are built in `setup()`, and every DoFn keeps
only picklable options as state.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import replace

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.fileio import EmptyMatchTreatment
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler

from curate import storage
from curate.config import (
    DedupOptions,
    FilterOptions,
    GeneratorOptions,
    OcrOptions,
    QualityOptions,
    RenderOptions,
    SampleOptions,
    ScoringOptions,
    WebOptions,
)
from curate.generators import generate_qa
from curate.ocr import OcrInputError, load_engine, needs_ocr, ocr_page
from curate.pipelines.progress import mark_done
from curate.samples import assemble_sample, window_key
from curate.schemas import Failure, LinkedDocument, PageRecord, SampleRecord, Scores, reasons
from curate.sources import render_document, render_linked_document

FAILURES = "failures"
DROPPED = "dropped"
PATTERNS = "patterns"
LINKED = "linked"
NAMESPACE = "curate"


def _count(name: str, value: int = 1) -> None:
    Metrics.counter(NAMESPACE, name).inc(value)


class _RouteInputs(beam.DoFn):
    """An input argument -> document URIs now (URLs, files, .urls lines) or a pattern to match."""

    def process(self, raw: str):
        kind, uri = storage.route_input(raw)
        if kind == "pattern":
            yield beam.pvalue.TaggedOutput(PATTERNS, uri)
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
        routed = inputs | "Route" >> beam.ParDo(_RouteInputs()).with_outputs(PATTERNS, main="uris")
        matched = (
            routed[PATTERNS]
            | "Match" >> fileio.MatchAll(EmptyMatchTreatment.ALLOW)
            | "Paths" >> beam.Map(lambda metadata: metadata.path)
            | "Supported" >> beam.Filter(storage.has_extension, extensions)
        )
        return (routed.uris, matched) | "AllInputs" >> beam.Flatten()


class RenderDocuments(beam.DoFn):
    """Input URI -> page records; unreadable inputs and pages -> failures.

    When the job has webpages, each worker starts one headless Chromium in setup() and closes
    it in teardown().
    """

    def __init__(
        self,
        options: RenderOptions,
        progress_dir: str | None = None,
        web: WebOptions | None = None,
        staging: str | None = None,
    ):
        self.options = options
        self.progress_dir = progress_dir
        self.web = web
        self.staging = staging
        self.renderer = None

    def setup(self):
        if self.web is not None:
            from curate.sources.web import WebRenderer

            self.renderer = WebRenderer(self.web, self.options).__enter__()

    def teardown(self):
        if self.renderer is not None:
            self.renderer.__exit__(None, None, None)

    def process(self, uri: str):
        _count("documents")
        for item in render_document(uri, self.options, self.renderer, self.staging):
            if isinstance(item, Failure):
                _count(f"failures.{item.reason}")
                yield beam.pvalue.TaggedOutput(FAILURES, item)
            elif isinstance(item, LinkedDocument):
                _count("documents.linked")
                yield beam.pvalue.TaggedOutput(LINKED, item)
            else:
                _count("pages")
                if item.needs_ocr:
                    _count("pages.needs_ocr")
                yield item
        mark_done(self.progress_dir)


class RenderLinkedDocuments(beam.DoFn):
    """Documents a crawl downloaded -> their pages, with the linking page as provenance."""

    def __init__(self, options: RenderOptions):
        self.options = options

    def process(self, doc: LinkedDocument):
        for item in render_linked_document(doc, self.options):
            if isinstance(item, Failure):
                _count(f"failures.{item.reason}")
                yield beam.pvalue.TaggedOutput(FAILURES, item)
            else:
                _count("pages")
                yield item


class OnePerContent(beam.PTransform):
    """Linked documents -> one per content hash (the smallest URL wins, deterministically), so a
    deck linked from ten pages, or under two URLs, is rendered once."""

    def expand(self, docs):
        return (
            docs
            | "ByHash" >> beam.Map(lambda doc: (doc.sha256, doc))
            | "First" >> beam.CombinePerKey(lambda found: min(found, key=lambda d: (d.url, d.linked_from)))
            | "Docs" >> beam.Values()
        )


class OcrPages(beam.DoFn):
    """Pages without usable text (or all, with mode=always) -> pages with OCR text lines.

    The engine is loaded once per worker in setup(); its threads default to the machine's
    cores divided by the local worker processes, so workers do not oversubscribe the CPU.
    """

    def __init__(self, options: OcrOptions, local_workers: int = 1):
        self.options = options
        self.local_workers = local_workers
        self.engine = None

    def setup(self):
        options = self.options
        if options.threads is None:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            options = options.model_copy(update={"threads": max(1, (cores or 1) // self.local_workers)})
        self.engine = load_engine(options)

    def process(self, page: PageRecord):
        if not needs_ocr(page, self.options.mode):
            yield page
            return
        try:
            result = ocr_page(page, self.engine, self.options)
        except OcrInputError as err:
            yield self._failure(page, err.reason, str(err))
            return
        except Exception as err:  # an engine error on one page must not stop the job
            yield self._failure(page, reasons.OCR_ERROR, f"{type(err).__name__}: {err}")
            return
        _count("pages.ocr")
        yield result

    def _failure(self, page: PageRecord, reason: str, detail: str):
        _count(f"failures.{reason}")
        return beam.pvalue.TaggedOutput(
            FAILURES, Failure(page.page_id, page.source_uri, "ocr", reason, detail)
        )


class AssembleSamples(beam.PTransform):
    """Pages -> one sample per window of consecutive pages; too-small windows -> dropped."""

    def __init__(self, options: SampleOptions):
        super().__init__()
        self.options = options

    def expand(self, pages):
        options = self.options
        return (
            pages
            | "KeyByWindow" >> beam.Map(lambda page: (window_key(page, options), page))
            | "GroupWindows" >> beam.GroupByKey()
            | "Assemble" >> beam.ParDo(_AssembleWindow(options)).with_outputs(DROPPED, main="samples")
        )


class _AssembleWindow(beam.DoFn):
    def __init__(self, options: SampleOptions):
        self.options = options

    def process(self, keyed: tuple[str, list[PageRecord]]):
        sample = assemble_sample(keyed[1], self.options)
        if sample.drop_reason:
            _count(f"dropped.{sample.drop_reason}")
            yield beam.pvalue.TaggedOutput(DROPPED, sample)
        else:
            yield sample


class GenerateQA(beam.DoFn):
    """Batches of samples -> samples with conversations, dropped samples, or failures.

    For the llm backend the client is created once per worker in setup(), and a batch is
    worked on by `llm.concurrency` threads, which bounds the requests in flight per worker.
    """

    def __init__(self, options: GeneratorOptions, quality: QualityOptions | None = None):
        self.options = options
        self.quality = quality
        self.client = None
        self.pool = None

    def setup(self):
        if self.options.backend == "llm":
            from concurrent.futures import ThreadPoolExecutor

            from curate.generators.llm_client import LLMClient

            llm = self.options.llm
            self.client = LLMClient(llm, llm.cache_dir, llm.structured_output)
            self.pool = ThreadPoolExecutor(llm.concurrency, thread_name_prefix="curate-llm")

    def teardown(self):
        if self.pool:
            self.pool.shutdown(wait=False)

    def _generate(self, sample: SampleRecord):
        try:
            return generate_qa(sample, self.options, self.client)
        except Exception as err:  # routed per sample below; one bad sample must not stop the job
            return err

    def process(self, batch: list[SampleRecord]):
        outcomes = self.pool.map(self._generate, batch) if self.pool else map(self._generate, batch)
        for sample, outcome in zip(batch, outcomes, strict=True):
            yield from self._route(sample, outcome)

    def _route(self, sample: SampleRecord, outcome):
        if isinstance(outcome, Exception):
            reason = getattr(outcome, "reason", reasons.GENERATOR_ERROR)
            detail = str(outcome) if hasattr(outcome, "reason") else (
                f"{type(outcome).__name__}: {outcome}\n"
                + "".join(traceback.format_exception(outcome, limit=3))
            )
            _count(f"failures.{reason}")
            yield beam.pvalue.TaggedOutput(
                FAILURES, Failure(sample.sample_id, sample.source_uri, "generate", reason, detail)
            )
            return
        if self.quality is not None:
            from curate.filters.quality import filter_qa_lengths

            outcome = filter_qa_lengths(outcome, self.quality)
            if not outcome.drop_reason and not any(q.kind == "extractive" for q in outcome.qa):
                outcome = replace(outcome, drop_reason=reasons.NO_QA_GENERATED, drop_detail="every turn was outside the length bounds")
        if outcome.llm_usage:
            usage = outcome.llm_usage
            _count("llm.requests", usage.requests)
            _count("llm.cache_hits", usage.cache_hits)
            _count("llm.prompt_tokens", usage.prompt_tokens)
            _count("llm.completion_tokens", usage.completion_tokens)
            _count("llm.cost_micro_usd", round(usage.cost_usd * 1e6))
        for rejected in outcome.rejected_qa:
            _count(f"qa.rejected.{rejected.reject_reason}")
        if outcome.drop_reason:
            _count(f"dropped.{outcome.drop_reason}")
            yield beam.pvalue.TaggedOutput(DROPPED, outcome)
        else:
            _count("samples")
            _count("qa_turns", len(outcome.qa))
            yield outcome


class ScoringModelHandler(ModelHandler):
    """RunInference handler: the reference model is loaded once per worker (or per VM with
    share_model_across_processes), and batches of samples are scored together."""

    def __init__(self, options: ScoringOptions, model: str):
        self.options = options
        self.model_name = model

    def load_model(self):
        from curate.filters.scoring import ScoringModel

        return ScoringModel(
            self.model_name,
            device=self.options.device,
            max_length=self.options.max_length,
            batch_tokens=self.options.batch_tokens,
        )

    def run_inference(self, batch, model, inference_args=None):
        from curate.filters.scoring import score_samples

        try:
            scored = score_samples(model, list(batch), self.options.metrics)
        except Exception:  # find the bad sample: score one by one, mark what fails
            scored = []
            for sample in batch:
                try:
                    scored.extend(score_samples(model, [sample], self.options.metrics))
                except Exception as err:
                    _count(f"failures.{reasons.SCORING_ERROR}")
                    note = f"{reasons.SCORING_ERROR}: {type(err).__name__}: {err}"[:500]
                    scored.append(replace(sample, scores=Scores(note=note)))
        for sample in scored:
            _count("samples.scored")
            for item in sample.qa:
                if item.scores.note:
                    _count(f"scores.missing.{item.scores.note}")
        return scored

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": self.options.batch_size}

    def share_model_across_processes(self) -> bool:
        return self.options.share_model_across_processes


class ScoreSamples(beam.PTransform):
    """Samples -> samples with difficulty scores, via RunInference (GPU hint when configured)."""

    def __init__(self, options: ScoringOptions, model: str):
        super().__init__()
        self.options, self.model = options, model

    def expand(self, samples):
        from apache_beam.ml.inference.base import RunInference

        inference = RunInference(ScoringModelHandler(self.options, self.model))
        if self.options.accelerator:
            inference = inference.with_resource_hints(accelerator=self.options.accelerator)
        return samples | "Score" >> inference


class FilterSamples(beam.PTransform):
    """Scored samples -> kept samples, plus dropped ones (tag `dropped`) with their reason.

    The top-fraction threshold needs every eligible score, so it is a global combine used as a
    side input; only floats are gathered, never samples.
    """

    def __init__(self, options: FilterOptions):
        super().__init__()
        self.options = options

    def expand(self, samples):
        from curate.filters.select import decide, eligible, score_of, top_threshold

        options = self.options
        threshold = (
            samples
            | "EligibleScores" >> beam.FlatMap(
                lambda s: [score_of(s, options.metric)] if eligible(score_of(s, options.metric), options) is None else []
            )
            | "AllScores" >> beam.combiners.ToList()
            | "Threshold" >> beam.Map(lambda scores: top_threshold(scores, options.keep_top))
        )

        def route(sample, cut):
            reason = decide(sample, options, cut)
            if reason is None:
                _count("filter.kept")
                yield sample
            else:
                _count(f"dropped.{reason}")
                yield beam.pvalue.TaggedOutput(
                    DROPPED, replace(sample, drop_reason=reason, drop_detail=f"{options.metric}={score_of(sample, options.metric)}")
                )

        return samples | "Decide" >> beam.FlatMap(route, cut=beam.pvalue.AsSingleton(threshold)).with_outputs(
            DROPPED, main="kept"
        )


class HashAndScreenPages(beam.DoFn):
    """Pages -> pages with a perceptual hash; blank pages -> `dropped` (before any OCR)."""

    def __init__(self, dedup: DedupOptions, quality: QualityOptions):
        self.dedup, self.quality = dedup, quality

    def process(self, page: PageRecord):
        from curate.filters.dedup import perceptual_hash
        from curate.filters.quality import page_before_ocr

        reason = page_before_ocr(page, self.quality)
        if reason:
            _count(f"dropped_pages.{reason}")
            yield beam.pvalue.TaggedOutput(DROPPED, replace(page, drop_reason=reason))
            return
        if self.dedup.enabled:
            page = replace(page, phash=perceptual_hash(page.image_bytes, self.dedup.hash))
        yield page


def _pair_info(info: tuple) -> tuple:
    """(page id, rank, image digest): what clustering needs, without hash and text."""
    page_id, _, _, rank, digest = info
    return page_id, rank, digest


class DeduplicatePages(beam.PTransform):
    """Pages -> one page per cluster of exact or near-duplicate images; the others go to the
    `dropped` tag with `duplicate_of` pointing at the kept page (curate/filters/dedup.py).

    Pages meet only in band buckets (GroupByKey on band values); only verified duplicate pairs
    are gathered in one place, never the pages or all hashes.
    """

    def __init__(self, options: DedupOptions):
        super().__init__()
        self.options = options

    def expand(self, pages):
        import hashlib

        from curate.filters.dedup import band_keys, candidate_pairs, clusters, representatives

        from curate.generators.grounding import normalize

        threshold = self.options.threshold
        strict = min(self.options.threshold_without_text, threshold)

        def member(page: PageRecord):
            digest = hashlib.sha256(page.image_bytes).hexdigest()[:16]
            rank = (-page.width * page.height, page.source_uri)
            info = (page.page_id, page.phash, normalize(page.text)[:2000], rank, digest)
            return [(key, info) for key in band_keys(page.phash, threshold)]

        def pairs(bucket):
            _, infos = bucket
            infos = list(infos)
            if len(infos) < 2:
                return
            by_id = {info[0]: info for info in infos}
            for a, b in candidate_pairs([i[:3] for i in infos], threshold, strict):
                yield _pair_info(by_id[a]), _pair_info(by_id[b])

        def decide(all_pairs):
            rank = {info[0]: tuple(info[1]) for pair in all_pairs for info in pair}
            digest = {info[0]: info[2] for pair in all_pairs for info in pair}
            kept = representatives(clusters((a[0], b[0]) for a, b in all_pairs), rank)
            return {page: (keep, digest[page] == digest[keep]) for page, keep in kept.items()}

        decisions = (
            pages
            | "BandKeys" >> beam.FlatMap(member)
            | "Buckets" >> beam.GroupByKey()
            | "Candidates" >> beam.FlatMap(pairs)
            | "AllPairs" >> beam.combiners.ToList()
            | "Clusters" >> beam.Map(decide)
        )

        def mark(page: PageRecord, duplicates):
            if page.page_id not in duplicates:
                yield page
                return
            keep, exact = duplicates[page.page_id]
            reason = reasons.EXACT_DUPLICATE if exact else reasons.NEAR_DUPLICATE
            _count(f"dropped_pages.{reason}")
            yield beam.pvalue.TaggedOutput(DROPPED, replace(page, drop_reason=reason, duplicate_of=keep))

        return pages | "Mark" >> beam.FlatMap(mark, duplicates=beam.pvalue.AsSingleton(decisions)).with_outputs(
            DROPPED, main="pages"
        )


class ScreenPagesAfterOcr(beam.DoFn):
    """Pages whose text is too thin for text-rich data -> `dropped` (text density)."""

    def __init__(self, quality: QualityOptions):
        self.quality = quality

    def process(self, page: PageRecord):
        from curate.filters.quality import page_after_ocr

        reason = page_after_ocr(page, self.quality)
        if reason:
            _count(f"dropped_pages.{reason}")
            yield beam.pvalue.TaggedOutput(DROPPED, replace(page, drop_reason=reason))
        else:
            yield page


class ScreenSamplesBeforeGeneration(beam.DoFn):
    """Samples outside the language allow-list -> `dropped`, before any LLM call is paid for."""

    def __init__(self, quality: QualityOptions):
        self.quality = quality

    def process(self, sample: SampleRecord):
        from curate.filters.quality import detect_language, language_allowed

        if language_allowed(sample, self.quality):
            yield sample
            return
        _count(f"dropped.{reasons.LANGUAGE_NOT_ALLOWED}")
        detected = detect_language("\n".join(sample.image_texts)[:5000])
        yield beam.pvalue.TaggedOutput(
            DROPPED,
            replace(sample, drop_reason=reasons.LANGUAGE_NOT_ALLOWED, drop_detail=f"detected {detected}"),
        )
