"""Keep or drop a sample by one score, Cherry_LLM-style.

1. No score for the metric -> `score_missing`.
2. Above `max` (default 1.0: the condition did not help) -> `score_above_max`; below `min` ->
   `score_below_min`.
3. Of the rest, keep the `keep_top` fraction with the highest scores (the hardest, most
   informative samples, as Cherry_LLM keeps high IFD); the others -> `below_top_fraction`.
The threshold for step 3 needs every eligible score, so it is computed first (`top_threshold`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from curate.config import FilterOptions
from curate.schemas import SampleRecord
from curate.schemas.reasons import SampleDropReason
from curate.stage import DatasetStage, Drop, Keep, Outcome


def score_of(sample: SampleRecord, metric: str) -> float | None:
    value = getattr(sample.scores, metric)
    return value if value is not None and math.isfinite(value) else None


def eligible(score: float | None, options: FilterOptions) -> str | None:
    """The drop reason from steps 1 and 2, or None when the score is in range."""
    if score is None:
        return SampleDropReason.SCORE_MISSING
    if options.max is not None and score > options.max:
        return SampleDropReason.SCORE_ABOVE_MAX
    if options.min is not None and score < options.min:
        return SampleDropReason.SCORE_BELOW_MIN
    return None


def top_threshold(scores: Iterable[float], keep_top: float | None) -> float | None:
    """The lowest score still inside the top `keep_top` fraction (None: keep all)."""
    ordered = sorted(scores, reverse=True)
    if keep_top is None or not ordered:
        return None
    keep = max(1, math.ceil(len(ordered) * keep_top))
    return ordered[keep - 1]


def decide(sample: SampleRecord, options: FilterOptions, threshold: float | None) -> str | None:
    """None to keep the sample, else its drop reason."""
    score = score_of(sample, options.metric)
    reason = eligible(score, options)
    if reason:
        return reason
    if threshold is not None and score < threshold:
        return SampleDropReason.BELOW_TOP_FRACTION
    return None


class FilterSamples(DatasetStage):
    """Scored samples -> kept, or dropped with their reason. The top-fraction threshold is the
    one value computed over the whole dataset, from the eligible scores only."""

    name = "filter"
    accepts = (SampleRecord,)
    emits = frozenset(
        {
            SampleDropReason.SCORE_MISSING,
            SampleDropReason.SCORE_ABOVE_MAX,
            SampleDropReason.SCORE_BELOW_MIN,
            SampleDropReason.BELOW_TOP_FRACTION,
        }
    )

    def __init__(self, options: FilterOptions):
        super().__init__(options)

    def summarize(self, sample: SampleRecord) -> float | None:
        score = score_of(sample, self.options.metric)
        return score if eligible(score, self.options) is None else None

    def combine(self, scores: Iterable[float]) -> float | None:
        return top_threshold(scores, self.options.keep_top)

    def decide(self, sample: SampleRecord, threshold: float | None) -> Iterable[Outcome]:
        reason = decide(sample, self.options, threshold)
        if reason is None:
            self.count("filter.kept")
            yield Keep(sample)
        else:
            yield Drop(
                sample, reason, f"{self.options.metric}={score_of(sample, self.options.metric)}"
            )
