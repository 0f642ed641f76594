"""Difficulty scoring with a reference model: the model runner (`model.py`), the metrics
(`metrics.py`), which model to use (`models.py`) and the stage (`stage.py`)."""

from curate.scoring.metrics import score_samples
from curate.scoring.model import Part, Pass, ScoringModel
from curate.scoring.models import resolve_model
from curate.scoring.stage import ScoreSamples

__all__ = ["Part", "Pass", "ScoreSamples", "ScoringModel", "resolve_model", "score_samples"]
