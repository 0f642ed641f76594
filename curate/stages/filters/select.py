"""Keep or drop a sample by one score, Cherry_LLM-style.

1. No score for the metric -> `score_missing`.
2. Above `max` (default 1.0: the condition did not help) -> `score_above_max`; below `min` ->
   `score_below_min`.
3. Of the rest, keep the `keep_top` fraction with the highest scores (the hardest, most
   informative samples, as Cherry_LLM keeps high IFD); the others -> `below_top_fraction`.
The threshold for step 3 needs every eligible score, so it is computed first: in one process by
sorting (`top_threshold`); on Beam in two passes that never gather all scores (approximate
quantiles give a narrow window around it, then only the window is gathered: `window_bounds`,
`threshold_in_window`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from curate.core.config import FilterOptions
from curate.core.stage import DatasetStage, Drop, Keep, Outcome
from curate.schemas import SampleRecord
from curate.schemas.reasons import SampleDropReason


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


def window_bounds(quantiles: list[float], n: int, keep_top: float, margin: int = 2) -> tuple:
    """(low, high) scores around the top-fraction threshold, from approximate quantiles (rank
    error under one quantile step): the exact threshold lies between them."""
    steps = len(quantiles) - 1
    rank = n - max(1, math.ceil(n * keep_top))  # the threshold's rank, ascending
    position = rank * steps / max(1, n - 1)
    low = quantiles[max(0, math.floor(position) - margin)]
    high = quantiles[min(steps, math.ceil(position) + margin)]
    return low, high


def threshold_in_window(window: Iterable[float], above: int, n: int, keep_top: float) -> float:
    """The exact threshold from the scores inside the bounds and the count of those above:
    the second pass of the two-pass method, which only gathers the window."""
    ordered = sorted(window, reverse=True)
    index = max(1, math.ceil(n * keep_top)) - 1 - above
    if not 0 <= index < len(ordered):
        raise RuntimeError(
            f"the quantile bounds missed the top-fraction threshold (rank {index} of a window "
            f"of {len(ordered)}); please report this with the number of samples ({n})"
        )
    return ordered[index]


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
    scale_out = "top_fraction"  # on Beam: two passes that never gather every score
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
