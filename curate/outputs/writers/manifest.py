"""The run manifest: counts, reasons, LLM usage and shards, gathered the same way by every runner.

`RunTotals` is a mergeable accumulator: each output record adds one small fact, and partial
totals merge, so Beam combines it across workers and the local runner adds to one.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from curate import __version__
from curate.core.config import PipelineConfig
from curate.io import storage
from curate.schemas import SCHEMA_VERSION, LLMUsage

MANIFEST_NAME = "manifest.json"


@dataclass
class RunTotals:
    """What the manifest counts, for any stream of output records.

    `where` names the stream: `tally:<name>` (a count the plan asked for), `data`, `pages`,
    `dropped`, `dropped_pages` or `failures`.
    """

    counts: Counter = field(default_factory=Counter)
    reasons: dict[str, Counter] = field(default_factory=dict)
    usage: LLMUsage = field(default_factory=LLMUsage)

    def add(self, where: str, record: Any) -> RunTotals:
        if where.startswith("tally:"):
            self.counts[where[len("tally:") :]] += 1
            return self
        name = {"data": "samples"}.get(where, where)
        if where != "pages":  # kept pages are counted by the plan's tallies
            self.counts[name] += 1
        if where in ("dropped", "dropped_pages"):
            self._reason(f"{where}_by_reason", record.drop_reason)
        elif where == "failures":
            self._reason("failures_by_reason", record.reason)
            if record.reason not in REFUSALS:
                level = "samples" if record.stage in SAMPLE_STAGES else "documents"
                self.counts[f"failures.{level}"] += 1
        if where in ("data", "dropped", "failures") and record.llm_usage:  # every call paid for
            self.usage.add(record.llm_usage)
        if where == "data":
            for item in record.qa:
                self._reason("qa_by_kind", item.kind)  # turns kept: extractive, unanswerable...
        if where in ("data", "dropped"):
            for rejected in record.rejected_qa:
                self._reason("rejected_qa_by_reason", rejected.reject_reason)
            for benchmark, kind in {(m.benchmark, m.kind) for m in record.benchmark_matches}:
                self._reason("benchmark_matches", f"{benchmark}/{kind}")  # samples, by kind
        return self

    def _reason(self, section: str, reason: str) -> None:
        self.reasons.setdefault(section, Counter())[reason] += 1

    def merge(self, other: RunTotals) -> RunTotals:
        self.counts.update(other.counts)
        for section, counter in other.reasons.items():
            self.reasons.setdefault(section, Counter()).update(counter)
        self.usage.add(other.usage)
        return self


SAMPLE_STAGES = frozenset({"generate", "score", "filter", "samples", "language", "llava_to_sample"})
# the job's own rules said no (robots.txt, the SSRF guard, size caps): not failures of the job
REFUSALS = frozenset(
    {
        "robots_disallowed",
        "ssrf_refused",
        "download_too_large",
        "file_too_large",
        "too_many_pages",
        "unsupported_format",
    }
)


def failure_rate(counts: Counter) -> float:
    """The larger of the two failure rates: documents (render, OCR) and samples (generate,
    score): a job where every LLM call failed reads 1.0 however many documents rendered."""
    seen = counts.get("documents", 0) + counts.get("linked_documents", 0)
    documents = counts.get("failures.documents", 0), seen
    samples = counts.get("failures.samples", 0)
    attempted = samples + counts.get("samples", 0) + counts.get("dropped", 0)
    rates = [min(1.0, documents[0] / documents[1]) if documents[1] else float(documents[0] > 0)]
    rates.append(samples / attempted if attempted else 0.0)
    return round(max(rates), 4)


@dataclass(frozen=True)
class ManifestSpec:
    """What a run's manifest says beside its totals and shards, fixed when the plan is built:
    the runner that writes the shards writes the manifest once, at the very end."""

    kind: str
    config: PipelineConfig
    tallies: tuple[str, ...]
    dropped_pages: bool
    run: dict[str, Any] = field(default_factory=dict)  # command, inputs, output, runner, ...

    def build(self, totals: RunTotals, shards: dict[str, list[dict]]) -> dict[str, Any]:
        manifest = build_manifest(
            totals, shards, self.kind, self.config, list(self.tallies), self.dropped_pages
        )
        if self.run:
            manifest["run"] = {**self.run, "finished_at": now()}
        return manifest


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build_manifest(
    totals: RunTotals,
    shards: dict[str, list[dict]],
    kind: str,
    config: PipelineConfig,
    tallies: list[str],
    dropped_pages: bool,
) -> dict[str, Any]:
    """The manifest document. Every count the job could produce is present, zeros included."""
    names = [*tallies, "failures"]
    if kind == "samples":
        names += ["samples", "dropped"]
    if dropped_pages:
        names.append("dropped_pages")
    manifest: dict[str, Any] = {
        "curate_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "config_hash": config.fingerprint(),
        "config": config.model_dump(mode="json"),
        "counts": {name: totals.counts.get(name, 0) for name in sorted(names)},
        "shards": shards,
    }
    manifest["failure_rate"] = failure_rate(totals.counts)
    sections = ["dropped_by_reason", "failures_by_reason"]
    if kind == "samples":
        sections += ["qa_by_kind", "rejected_qa_by_reason"]
    if dropped_pages:
        sections.append("dropped_pages_by_reason")
    if kind == "samples" and config.decontaminate.against:
        sections.append("benchmark_matches")  # "docvqa/image_near": samples matched that way
    for section in sections:
        manifest[section] = {
            str(k): v for k, v in sorted(totals.reasons.get(section, Counter()).items())
        }
    usage = totals.usage
    if usage.requests or usage.cache_hits:
        looked_up = usage.requests + usage.cache_hits
        manifest["llm"] = {
            **asdict(usage),
            "total_cost_usd": usage.total_cost_usd,  # this run's and the cached replies'
            "cache_hit_rate": round(usage.cache_hits / looked_up, 4),
        }
    return manifest


def write_manifest(output: str, manifest: dict[str, Any]) -> str:
    path = storage.join(output, MANIFEST_NAME)
    storage.makedirs(output)
    storage.write_bytes_atomic(path, json.dumps(manifest, indent=2, sort_keys=True).encode())
    return path


def read_manifest(output: str) -> dict[str, Any]:
    with storage.open_file(storage.join(output, MANIFEST_NAME), "rb") as handle:
        return json.loads(handle.read())


@dataclass
class RunReport:
    """What a finished run tells its caller: the counters its stages kept, and how long it took."""

    counters: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    runner: str = ""
