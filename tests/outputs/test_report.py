"""`curate report`: a self-contained HTML file, checked in a real headless Chromium."""

import json
import re
import shutil

import pytest
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import WebOptions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which(WebOptions().chromium), reason="system Chromium missing"),
]


@pytest.fixture(scope="module")
def report(curated_output, tmp_path_factory):
    target = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["report", str(curated_output), "--to", str(target)])
    assert result.exit_code == 0, result.output
    return target


def test_report_is_self_contained(report):
    html = report.read_text()
    assert not re.search(
        r"<script|<link|@import|url\((?!#)", html
    )  # no scripts, stylesheets or fonts to fetch
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/jpeg;base64,") for s in sources)


def test_report_renders_charts_gallery_and_counts_in_chromium(report, curated_output, tmp_path):
    manifest = json.loads((curated_output / "manifest.json").read_text())
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=WebOptions().chromium)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        charts = page.eval_on_selector_all(
            ".chart svg",
            "els => els.map(e => [e.closest('.chart').id, e.getBoundingClientRect().width,"
            " e.querySelectorAll('path, rect, use').length])",
        )
        images = page.eval_on_selector_all("#gallery img", "els => els.map(e => e.naturalWidth)")
        samples = page.locator("#gallery .sample").count()
        turns = page.locator("#gallery .turn").count()
        counts = page.inner_text("#counts")
        reasons = " ".join(page.locator("table.reasons").all_inner_texts())
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
    ids = {c[0] for c in charts}
    assert {"chart-ifd", "chart-vfd", "chart-mifd", "chart-ffd"} <= ids  # the fixture run is scored
    assert {"chart-text_density", "chart-images_per_sample", "chart-drop_reasons"} <= ids
    assert all(width > 200 and shapes > 5 for _, width, shapes in charts), charts
    assert samples == manifest["counts"]["samples"] and turns > 2 * samples
    assert len(images) >= samples and all(w > 0 for w in images)  # every thumbnail decoded
    assert f"samples\t{manifest['counts']['samples']}" in counts
    for reason in [*manifest["failures_by_reason"], *manifest["dropped_pages_by_reason"]]:
        assert reason in reasons
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_report_on_a_folder_without_a_run_says_so(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "no manifest.json" in result.output
