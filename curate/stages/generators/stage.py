"""The generation stage: samples -> samples with checked QA, or dropped with the reason why not."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from curate.core.config import GeneratorOptions, QualityOptions
from curate.core.stage import BatchStage, Drop, Keep, Outcome, Resources
from curate.schemas import LLMUsage, SampleRecord
from curate.schemas.reasons import FailureReason, SampleDropReason
from curate.stages.generators.base import Generator, load_generator
from curate.stages.generators.judge import judge_sample, with_sample_mark
from curate.stages.generators.lengths import filter_qa_lengths
from curate.stages.generators.llm_client import LLMCallError, LLMClient, LLMEndpoint

log = logging.getLogger(__name__)

# kinds of accepted item a sample is kept for: a follow-up or a near miss only goes with them
KEPT_FOR = frozenset({"extractive", "caption", "cross_image"})


def has_qa(sample: SampleRecord) -> bool:
    """The rule every sample must meet to be kept: at least one accepted extractive pair,
    caption or cross-image item. A sample whose extractive pairs were all rejected keeps its
    caption and cross-image items that passed their checks."""
    return any(item.kind in KEPT_FOR for item in sample.qa)


class GenerateQA(BatchStage):
    """Batches of samples -> samples with conversations, dropped samples, or failures.

    The backend comes from the registry (`generator.backend`). Backends that call a service
    work on `concurrency` samples at once on threads; turns outside the quality length bounds
    move to `rejected_qa`.
    """

    name = "generate"
    accepts = (SampleRecord,)
    emits = frozenset(
        {
            SampleDropReason.NO_QA_GENERATED,
            FailureReason.GENERATOR_ERROR,
            FailureReason.LLM_ERROR,
            FailureReason.LLM_UNAVAILABLE,
            FailureReason.LLM_INVALID_OUTPUT,
        }
    )
    error_reason = FailureReason.GENERATOR_ERROR  # one bad sample must not stop the job

    def __init__(
        self,
        options: GeneratorOptions,
        quality: QualityOptions | None = None,
        service: Any = None,
        judge_endpoint: LLMEndpoint | None = None,
    ):
        super().__init__(options)
        self.quality, self.service = quality, service  # service: what the backend's serve() started
        self.judge_endpoint = judge_endpoint  # the judge's, with the run's reply cache
        self.generator: Generator | None = None
        self.judge: LLMClient | None = None  # generator.judge: marks accepted items
        self.pool: ThreadPoolExecutor | None = None

    def _concurrency(self, generator: Generator) -> int:
        """Samples worked on at once: the backend's, or the judge's endpoint's when larger."""
        judge = self.options.judge_llm()
        return max(generator.concurrency, judge.most_in_flight if judge else 1)

    def resources(self) -> Resources:
        concurrency = self._concurrency(load_generator(self.options, self.service))
        return Resources(batch_size=concurrency * 2 if concurrency > 1 else 16)

    def setup(self) -> None:
        self.generator = load_generator(self.options, self.service)
        self.generator.setup()
        judge = self.options.judge_llm()
        if judge:
            self.judge = LLMClient(judge, self.judge_endpoint or LLMEndpoint.configured(judge))
        concurrency = self._concurrency(self.generator)
        if concurrency > 1:
            self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="curate-generate")

    def teardown(self) -> None:
        if self.pool:
            self.pool.shutdown(wait=False)
        if self.generator:
            self.generator.teardown()

    def _generate(self, sample: SampleRecord) -> SampleRecord | Exception:
        try:
            result = self.generator.generate(sample)
        except Exception as err:  # routed per sample by the runner
            return err
        return self._judged(result) if self.judge and result.qa else result

    def _judged(self, sample: SampleRecord) -> SampleRecord:
        """The sample with the judge's marks and spend; unmarked when the judge's call fails
        (a judge drops nothing: the sample's `scores.judge` stays null)."""
        spent = LLMUsage()
        if sample.llm_usage:
            spent.add(sample.llm_usage)
        try:
            sample, usage = judge_sample(sample, self.judge)
        except LLMCallError as err:
            usage = err.usage or LLMUsage()
            log.warning(
                "the judge's call failed, sample %s is not marked: %s", sample.sample_id, err
            )
        spent.add(usage)
        return replace(sample, llm_usage=spent)

    def process_batch(self, samples: list[SampleRecord]) -> list[Iterable[Outcome] | Exception]:
        results = list(
            self.pool.map(self._generate, samples) if self.pool else map(self._generate, samples)
        )
        # finished here, on the calling thread: counters belong to it, not to the pool's threads
        for result in results:
            if isinstance(result, Exception) and getattr(result, "usage", None):
                self._count_usage(result.usage)  # a failed sample's calls were sent too
        return [
            result if isinstance(result, Exception) else [self._finish(result)]
            for result in results
        ]

    def _count_usage(self, usage) -> None:
        self.count("llm.requests", usage.requests)
        self.count("llm.cache_hits", usage.cache_hits)
        self.count("llm.prompt_tokens", usage.prompt_tokens)
        self.count("llm.completion_tokens", usage.completion_tokens)
        self.count("llm.images", usage.images)
        for name, cost in (("cost", usage.cost_usd), ("cached_cost", usage.cached_cost_usd)):
            if cost is None:  # the model has no price: unknown, not free
                self.count(f"llm.{name}_unknown", 1)
            else:
                self.count(f"llm.{name}_micro_usd", round(cost * 1e6))

    def _finish(self, result: SampleRecord) -> Outcome:
        generated = has_qa(result)
        if self.quality is not None:
            result = filter_qa_lengths(result, self.quality)
            if self.judge:  # the mark of the turns kept, not of those the bounds removed
                result = with_sample_mark(result)
        if result.llm_usage:
            self._count_usage(result.llm_usage)
        for rejected in result.rejected_qa:
            self.count(f"qa.rejected.{rejected.reject_reason}")
        if not has_qa(result):
            detail = (
                self.generator.why_no_qa(result)
                if not generated
                else "every turn was outside the length bounds"
            )
            return Drop(result, SampleDropReason.NO_QA_GENERATED, detail)
        self.count("samples")
        self.count("qa_turns", len(result.qa))
        if self.judge:
            self.count("judge.marked" if result.scores.judge is not None else "judge.unmarked")
        return Keep(result)
