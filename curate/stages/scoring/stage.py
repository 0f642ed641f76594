"""The scoring stage: batches of samples -> the same samples with difficulty scores."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from curate.core.config import ScoringOptions
from curate.core.stage import BatchStage, Keep, Outcome, Resources
from curate.schemas import SampleRecord, Scores
from curate.schemas.reasons import ScoreNote
from curate.stages.scoring.metrics import score_samples
from curate.stages.scoring.model import ScoringModel


class ScoreSamples(BatchStage):
    """The reference model is loaded once per worker (or once per VM with
    `share_model_across_processes`) and scores a batch of samples together. A sample the model
    fails on keeps its place, with `scoring_error` and the error in `scores.note`."""

    name = "score"
    accepts = (SampleRecord,)

    def __init__(self, options: ScoringOptions, model: str):
        super().__init__(options)
        self.model_name = model
        self.asked = [m for m in options.metrics]
        self.model: ScoringModel | None = None

    def resources(self) -> Resources:
        return Resources(
            batch_size=self.options.batch_size,
            accelerator=self.options.accelerator,
            shared=self.options.share_model_across_processes,
        )

    def setup(self) -> None:
        self.model = ScoringModel(
            self.model_name,
            device=self.options.device,
            max_length=self.options.max_length,
            batch_tokens=self.options.batch_tokens,
            max_image_tokens=self.options.max_image_tokens,
        )

    def process_batch(self, samples: list[SampleRecord]) -> list[Iterable[Outcome] | Exception]:
        try:
            scored = score_samples(self.model, samples, self.options.metrics)
        except Exception:  # find the bad sample: score one by one, note what fails
            scored = [self._one(sample) for sample in samples]
        for sample in scored:
            got = [m for m in self.asked if getattr(sample.scores, m) is not None]
            if got:  # counted as scored only with a value for a metric asked for
                self.count("samples.scored")
            for metric in self.asked:
                done = metric in got
                self.count(f"samples.{'scored' if done else 'unscored'}.{metric}")
            if sample.scores.note:  # why a metric asked for has no value
                self.count(f"samples.note.{sample.scores.note.split(':')[0]}")
            for item in sample.qa:
                if item.scores.note:
                    self.count(f"scores.missing.{item.scores.note}")
        return [[Keep(sample)] for sample in scored]

    def _one(self, sample: SampleRecord) -> SampleRecord:
        try:
            (scored,) = score_samples(self.model, [sample], self.options.metrics)
            return scored
        except Exception as err:
            self.count(f"scores.missing.{ScoreNote.SCORING_ERROR}")
            note = f"{ScoreNote.SCORING_ERROR}: {type(err).__name__}: {err}"[:500]
            return replace(sample, scores=Scores(note=note, **sample.scores.judged()))
