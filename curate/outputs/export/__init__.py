"""Exports of a curated dataset into the layouts training code reads; one module per format."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from curate.core.registry import EXPORT_FORMATS as FORMATS
from curate.io import storage
from curate.outputs.export.base import (
    ExportedSample,
    Exporter,
    ExportError,
    ExportOptions,
    ExportResult,
)
from curate.outputs.export.card import build_card
from curate.outputs.stats import DatasetStats
from curate.outputs.writers.claim import claim_output
from curate.outputs.writers.guard import check_not_an_input, check_output_folder
from curate.outputs.writers.manifest import read_manifest
from curate.schemas import SampleRecord
from curate.schemas.arrow import sample_from_row
from curate.stages.sources.datasets import iter_rows, locate

CARD_FILE = "README.md"
EXPORT_RECORD = ".curate-export.json"


def get_exporter(name: str) -> Exporter:
    if name not in FORMATS:
        raise ExportError(f"unknown export format {name!r}; choose one of: {FORMATS.listed()}")
    return FORMATS.load(name)()


@dataclass
class ExportReport:
    result: ExportResult
    stats: DatasetStats
    errors: list[str] = field(default_factory=list)  # validator findings; empty when valid


def read_samples(path: str) -> Iterator[SampleRecord]:
    """The kept samples of a run folder (or a samples Parquet glob), one at a time."""
    dataset = locate(path)
    if dataset.kind != "samples":
        raise ExportError(
            f"{path} holds {dataset.kind}, not samples; export the output of `curate run` or "
            "`curate generate`"
        )
    for row in iter_rows(dataset.pattern):
        yield sample_from_row(row)


def export_dataset(
    source: str,
    output: str,
    fmt: str,
    options: ExportOptions | None = None,
    repo_id: str | None = None,
) -> ExportReport:
    """Write `source`'s samples as `fmt` under `output`, with a dataset card, then validate it.

    `output` is new, empty or an earlier export: the earlier export's files are replaced as a
    whole (its record lists them), so no file of another format is left behind; the folder
    holds either the earlier export or this one."""
    exporter = get_exporter(fmt)
    options = options or ExportOptions()
    source, output = storage.normalize_uri(source), storage.normalize_uri(output)
    check_not_an_input(output, [source, locate(source).pattern])
    check_output_folder(output, EXPORT_RECORD, "export")
    with claim_output(output, [*_recorded_files(output), EXPORT_RECORD], EXPORT_RECORD) as staging:
        report = _export(exporter, source, staging, fmt, options, repo_id)
        _write_record(staging, fmt)
    report.result.output = output
    return report


def _export(
    exporter: Exporter,
    source: str,
    output: str,
    fmt: str,
    options: ExportOptions,
    repo_id: str | None,
) -> ExportReport:
    storage.makedirs(output)
    stats = DatasetStats()

    def counted() -> Iterator[SampleRecord]:
        for sample in read_samples(source):
            stats.add(sample)
            yield sample

    result = exporter.write(counted(), output, options)
    manifest = None
    if not source.endswith(".parquet") and "*" not in source:
        try:
            manifest = read_manifest(source)
        except FileNotFoundError:  # shards without a run's manifest: the card says less
            manifest = None
    languages = ((manifest or {}).get("config", {}).get("quality") or {}).get("languages") or None
    card = build_card(
        stats,
        manifest,
        fmt,
        exporter.columns,
        repo_id=repo_id,
        language=languages,
        train_with=exporter.train_with,
        hub_data=exporter.hub_data,
    )
    storage.write_bytes_atomic(storage.join(output, CARD_FILE), str(card).encode("utf-8"))
    result.files.append(CARD_FILE)
    return ExportReport(result, stats, exporter.validate(output))


def _write_record(folder: str, fmt: str) -> None:
    """What the export wrote (the top-level names), so the next export into the folder
    replaces exactly these; hidden, so it is not uploaded."""
    if storage.is_local(folder):
        names = sorted(os.listdir(folder))
    else:
        names = sorted(path.rstrip("/").rsplit("/", 1)[-1] for path in storage.glob(folder + "/*"))
    names = [name for name in names if name != EXPORT_RECORD]
    record = {"kind": "export", "format": fmt, "files": names}
    storage.write_bytes_atomic(storage.join(folder, EXPORT_RECORD), json.dumps(record).encode())


def _recorded_files(output: str) -> list[str]:
    if not storage.is_local(output):
        return []
    try:
        with open(os.path.join(output, EXPORT_RECORD), encoding="utf-8") as handle:
            files = json.load(handle).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in files if isinstance(name, str)]


__all__ = [
    "FORMATS",
    "ExportError",
    "ExportOptions",
    "ExportReport",
    "ExportResult",
    "ExportedSample",
    "export_dataset",
    "get_exporter",
    "read_samples",
]
