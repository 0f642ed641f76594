"""The top-fraction threshold on Beam, exact, in two passes that never gather every score."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.transforms.stats import ApproximateQuantiles

from curate.core.stage import DatasetStage
from curate.stages.filters.select import threshold_in_window, window_bounds

QUANTILES = 1000  # Beam's rank error is then under N / 1000: one step


class TopThreshold(beam.PTransform):
    """Eligible scores -> one value: the lowest score inside the top `keep_top` fraction, or
    None. Pass 1: the count and approximate quantiles give bounds around the threshold. Pass
    2: the scores above the bounds are counted and those inside gathered (about 0.4% of them)."""

    def __init__(self, stage: DatasetStage):
        super().__init__()
        self.keep_top = stage.options.keep_top

    def expand(self, scores):
        keep_top = self.keep_top
        if keep_top is None:
            return scores.pipeline | "None" >> beam.Create([None])
        n = beam.pvalue.AsSingleton(scores | "Count" >> beam.combiners.Count.Globally())
        quantiles = scores | "Quantiles" >> ApproximateQuantiles.Globally(QUANTILES + 1)
        bounds = beam.pvalue.AsSingleton(
            quantiles
            | "Bounds" >> beam.Map(lambda q, n: window_bounds(q, n, keep_top) if n else None, n)
        )
        above = beam.pvalue.AsSingleton(
            scores
            | "Above" >> beam.Filter(lambda s, b: b is not None and s > b[1], bounds)
            | "CountAbove" >> beam.combiners.Count.Globally()
        )
        return (
            scores
            | "Inside" >> beam.Filter(lambda s, b: b is not None and b[0] <= s <= b[1], bounds)
            | "Window" >> beam.combiners.ToList()
            | "Threshold"
            >> beam.Map(
                lambda w, above, n: threshold_in_window(w, above, n, keep_top) if n else None,
                above,
                n,
            )
        )
