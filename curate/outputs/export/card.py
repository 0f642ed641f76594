"""The dataset card (README.md with YAML metadata) that goes with an export, built from the run.

It states what a reader of the Hub page needs before training on the data: how many samples and
from which sources, the configuration that made them, score distributions, what was dropped and
why, and the columns.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from curate import __version__
from curate.outputs.stats import DatasetStats


def _size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < limit:
            return name
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _reasons(manifest: dict[str, Any]) -> list[tuple[str, str, int]]:
    rows = []
    for key, what in (
        ("dropped_pages_by_reason", "page"),
        ("dropped_by_reason", "sample"),
        ("failures_by_reason", "input (dead letter)"),
        ("rejected_qa_by_reason", "QA turn"),
    ):
        rows += [
            (what, reason, count) for reason, count in sorted((manifest.get(key) or {}).items())
        ]
    return rows


def build_card(
    stats: DatasetStats,
    manifest: dict[str, Any] | None,
    export_format: str,
    columns: list[tuple[str, str]],
    repo_id: str | None = None,
    language: list[str] | None = None,
    license: str = "other",
    train_with: str = "",
    hub_data: dict[str, Any] | None = None,
) -> DatasetCard:
    """A DatasetCard; `columns` are (name, description) pairs of the exported format."""
    manifest = manifest or {}
    data = DatasetCardData(
        license=license,
        language=language,
        task_categories=["visual-question-answering", "image-text-to-text"],
        size_categories=[_size_category(stats.samples)],
        tags=["curate", "document-vqa", "multi-image", "synthetic", f"format:{export_format}"],
        pretty_name=repo_id.split("/")[-1] if repo_id else None,
    )
    if hub_data:  # what load_dataset(folder) and the Hub's viewer read
        data.configs = [{"config_name": "default", **hub_data}]
    counts = manifest.get("counts") or {}
    stage_rows = [(k, v) for k, v in sorted(counts.items())] or [("samples", stats.samples)]
    score_rows = [
        (m, s["count"], f"{s['mean']:.3f}", f"{s['p10']:.3f}", f"{s['p50']:.3f}", f"{s['p90']:.3f}")
        for m, s in stats.score_summary().items()
    ]
    sources = "\n".join(f"- `{_public(uri)}`" for uri in stats.example_sources) or "- (none)"
    config = yaml.safe_dump(_public(manifest.get("config") or {}), sort_keys=True).strip()
    sections = [
        f"# {repo_id or 'curate dataset'}",
        f"Text-rich multi-image instruction data made by curate {__version__} "
        f"(schema {manifest.get('schema_version', '?')}, config hash "
        f"`{manifest.get('config_hash', '?')}`), "
        f"exported as `{export_format}`.",
        "## Train with it",
        train_with or f"Read the `{export_format}` files with their usual loader.",
        "## Counts",
        f"{stats.samples} samples, {stats.images} images, {stats.qa_turns} QA turns.",
        _table(("stage", "count"), stage_rows),
        _table(("images per sample", "samples"), sorted(stats.images_per_sample.items())),
        _table(("QA kind", "turns"), sorted(stats.qa_kinds.items())),
        "## Sources",
        _table(("source type", "samples"), sorted(stats.source_types.items())),
        f"First {len(stats.example_sources)} source documents:\n\n{sources}",
        "## Difficulty scores",
        _table(("metric", "scored", "mean", "p10", "p50", "p90"), score_rows)
        + _scored_by((manifest.get("run") or {}).get("scoring_model"))
        if score_rows
        else "This export was not scored (`curate score`).",
        "## Dropped and rejected",
        "Dropped items are kept in the run's `dropped/`, `dropped_pages/` and `dead_letter/` "
        "folders.",
        _table(("what", "reason", "count"), _reasons(manifest))
        if _reasons(manifest)
        else "Nothing was dropped.",
        "## LLM usage",
        f"{stats.llm.requests} requests, {stats.llm.cache_hits} cache hits, "
        f"{stats.llm.prompt_tokens} prompt "
        f"and {stats.llm.completion_tokens} completion tokens; the replies cost "
        + (
            f"${stats.llm.total_cost_usd:.4f} in all."
            if stats.llm.total_cost_usd is not None
            else "an unknown amount (no price for the model)."
        ),
        "## Schema",
        _table(("column", "meaning"), columns),
        "## Configuration",
        f"```yaml\n{config}\n```",
    ]
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")


def _scored_by(model: dict[str, Any] | None) -> str:
    """The reference model the scores come from, and a warning when they mean nothing."""
    if not model:
        return ""
    name = _public(str(model.get("name", "?")))
    known = ", ".join(
        f"{key} `{model[key]}`" for key in ("revision", "fingerprint") if key in model
    )
    line = f"\n\nScored with `{name}`" + (f" ({known})." if known else ".")
    if model.get("untrained_vision"):
        line += (
            " **Its vision tower is untrained** (curate's offline test model): the image "
            "scores (VFD, mIFD, FFD) test the code path and say nothing about the images."
        )
    return line


def _public(value: Any) -> Any:
    """`value` without this machine's paths: a local absolute path becomes its last part, so
    a card shared on the Hub does not show where the data sat (URLs are kept)."""
    if isinstance(value, dict):
        return {key: _public(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_public(item) for item in value]
    if isinstance(value, str) and (
        value.startswith(("/", "~", "file://")) or _WINDOWS.match(value)
    ):
        return value.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return value


_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]")
