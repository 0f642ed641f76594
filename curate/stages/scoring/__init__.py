"""Difficulty scoring with a reference model: the model runner (`model.py`), the metrics
(`metrics.py`), which model to use (`models.py`) and the stage (`stage.py`)."""

from curate.stages.scoring.metrics import score_samples
from curate.stages.scoring.model import Part, Pass, ScoringModel
from curate.stages.scoring.models import resolve_model
from curate.stages.scoring.stage import ScoreSamples

__all__ = ["Part", "Pass", "ScoreSamples", "ScoringModel", "resolve_model", "score_samples"]
