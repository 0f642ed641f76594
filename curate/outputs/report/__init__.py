"""`curate report`: one static HTML file that shows what a run produced, with no server or CDN.

Everything is inline: charts are SVG from matplotlib, thumbnails are data URIs, styles sit in
the page. Counts come from the manifest; distributions and the gallery from one streaming pass
over the kept samples (bounded memory: reservoirs for distributions, the first N for the gallery).
"""

from __future__ import annotations

import base64
import io
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup
from PIL import Image

from curate import __version__
from curate.io import storage
from curate.outputs.report import charts
from curate.outputs.stats import METRICS, DatasetStats
from curate.outputs.writers.manifest import read_manifest
from curate.schemas import SampleRecord
from curate.schemas.arrow import sample_from_row
from curate.schemas.folders import DATA
from curate.stages.sources.datasets import iter_rows, shard_files

REPORT_NAME = "report.html"
THUMBNAIL_PX = 220


def thumbnail(data: bytes, size: int = THUMBNAIL_PX) -> str:
    """A small JPEG data URI of an image."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size, size))
        small = image.convert("RGB")
        small.thumbnail((size, size))
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _gallery_entry(sample: SampleRecord) -> dict[str, Any]:
    return {
        "id": sample.sample_id,
        "source": sample.source_uri,
        "pages": [i + 1 for i in sample.page_indices],
        "thumbnails": [thumbnail(image.bytes) for image in sample.images],
        "turns": sample.conversations,
        "scores": {
            m: getattr(sample.scores, m) for m in METRICS if getattr(sample.scores, m) is not None
        },
    }


def _reasons(manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    sections = {
        "pages dropped": "dropped_pages_by_reason",
        "samples dropped": "dropped_by_reason",
        "inputs failed (dead letter)": "failures_by_reason",
        "QA turns rejected": "rejected_qa_by_reason",
        "samples matching a benchmark (benchmark/match)": "benchmark_matches",
    }
    return {
        title: dict(sorted((manifest.get(key) or {}).items())) for title, key in sections.items()
    }


def build_report(output: str, gallery_size: int = 24) -> str:
    """The report's HTML for a `curate run` output folder."""
    output = storage.normalize_uri(output)
    manifest = read_manifest(output)
    stats, gallery = DatasetStats(), []
    for file in shard_files(output, DATA.folder):
        for row in iter_rows(file):
            sample = sample_from_row(row)
            stats.add(sample)
            if len(gallery) < gallery_size:
                gallery.append(_gallery_entry(sample))
    reasons = _reasons(manifest)
    all_reasons = {
        f"{reason} ({title.split()[0]})": n
        for title, rs in reasons.items()
        if not title.startswith("samples matching")  # matches, not drops: a table of their own
        for reason, n in rs.items()
    }
    figures = {
        **{
            metric: charts.histogram(stats.scores[metric].values, metric.upper(), "score")
            for metric in METRICS
            if stats.scores[metric].seen
        },
        "text_density": charts.histogram(
            stats.text_density.values, "Text density", "characters per megapixel"
        ),
        "images_per_sample": charts.bars(
            dict(sorted(stats.images_per_sample.items())), "Images per sample"
        ),
        "drop_reasons": charts.bars(all_reasons, "Drops and rejections by reason", horizontal=True),
    }
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
        resources.files("curate.outputs.report")
        .joinpath("report.html.j2")
        .read_text(encoding="utf-8")
    )
    return template.render(
        output=output,
        manifest=manifest,
        version=__version__,
        stats=stats,
        reasons=reasons,
        figures={k: Markup(v) for k, v in figures.items()},
        gallery=gallery,
        unscored=[m for m in METRICS if not stats.scores[m].seen and m != "judge"],
        score_summary=stats.score_summary(),
    )


def write_report(output: str, target: str | None = None, gallery_size: int = 24) -> str:
    """Write the report (default `<output>/report.html`) and return its path."""
    target = target or storage.join(storage.normalize_uri(output), REPORT_NAME)
    storage.write_bytes_atomic(target, build_report(output, gallery_size).encode("utf-8"))
    return target
