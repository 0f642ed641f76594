"""Summary statistics of a curated dataset, gathered in one streaming pass (bounded memory).

The report and the dataset card both read these. Distributions keep a fixed-size uniform
reservoir, so a 100-million-sample dataset costs the same memory as a small one.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from curate.schemas import LLMUsage, SampleRecord

METRICS = ("ifd", "vfd", "mifd", "ffd", "judge")  # judge: an LLM judge's marks, 0-5
RESERVOIR_SIZE = 50_000


@dataclass
class Reservoir:
    """A uniform sample of at most `size` values from a stream of any length (Algorithm R)."""

    size: int = RESERVOIR_SIZE
    seen: int = 0
    values: list[float] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
        else:
            slot = self.rng.randrange(self.seen)
            if slot < self.size:
                self.values[slot] = value

    def quantiles(self, *qs: float) -> list[float] | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in qs]

    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None


@dataclass
class DatasetStats:
    samples: int = 0
    images: int = 0
    qa_turns: int = 0
    images_per_sample: Counter = field(default_factory=Counter)
    qa_kinds: Counter = field(default_factory=Counter)
    source_types: Counter = field(default_factory=Counter)
    generators: Counter = field(default_factory=Counter)
    example_sources: list[str] = field(default_factory=list)
    text_chars: Reservoir = field(default_factory=Reservoir)  # characters per image
    text_density: Reservoir = field(default_factory=Reservoir)  # characters per megapixel
    scores: dict[str, Reservoir] = field(default_factory=lambda: {m: Reservoir() for m in METRICS})
    llm: LLMUsage = field(default_factory=LLMUsage)

    def add(self, sample: SampleRecord) -> None:
        self.samples += 1
        self.images += sample.num_images
        self.qa_turns += len(sample.qa)
        self.images_per_sample[sample.num_images] += 1
        self.qa_kinds.update(q.kind for q in sample.qa)
        self.source_types[sample.source_type] += 1
        self.generators[sample.generator or "none"] += 1
        if len(self.example_sources) < 20 and sample.source_uri not in self.example_sources:
            self.example_sources.append(sample.source_uri)
        for text, (width, height) in zip(sample.image_texts, sample.image_sizes, strict=False):
            self.text_chars.add(len(text))
            self.text_density.add(len(text) / max(width * height / 1e6, 1e-6))
        for metric in METRICS:
            value = getattr(sample.scores, metric)
            if value is not None:
                self.scores[metric].add(value)
        if sample.llm_usage:
            self.llm.add(sample.llm_usage)

    def score_summary(self) -> dict[str, dict[str, float]]:
        """Per metric: count, mean and the 10/50/90th percentiles, for metrics that were scored."""
        summary = {}
        for metric, reservoir in self.scores.items():
            if reservoir.seen:
                p10, p50, p90 = reservoir.quantiles(0.1, 0.5, 0.9)
                summary[metric] = {
                    "count": reservoir.seen,
                    "mean": reservoir.mean(),
                    "p10": p10,
                    "p50": p50,
                    "p90": p90,
                }
        return summary
