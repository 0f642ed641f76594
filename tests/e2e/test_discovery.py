"""Crawl discovery: PDFs and decks linked from crawled pages are downloaded once, processed by the
PDF and slides sources in the same job, and keep the page that linked them as provenance."""

import json
import shutil
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from documents import REPORT_PAGES, make_deck, write_text_pdf_bytes
from typer.testing import CliRunner

from curate.cli import app
from curate.schemas.reasons import FailureReason

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="chromium is not installed"),
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed"),
]
PDF = "application/pdf"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
BROCHURE_PAGES = [
    [
        "Ferry Timetable",
        "Departures: 6 daily",
        "The first ferry leaves the harbour at 06:15 each morning.",
    ],
    ["Fares", "Adult: 4.50", "Children under twelve travel free on every route all year."],
]


class DocumentSite:
    """Two HTML pages linking a PDF (by extension), a PDF served from an extensionless URL (by
    Content-Type), the same PDF again under another name, a deck linked twice, an oversized
    file, and a document robots.txt forbids."""

    def __init__(self, deck: bytes):
        report = write_text_pdf_bytes(REPORT_PAGES)
        self.routes = {
            "/index.html": (
                "text/html",
                b"""<html><body><h1>Harbour library</h1>
                <p>Reports and slides of the harbour authority, free to read.</p>
                <a href="report.pdf">Annual review</a> <a href="fetch/brochure">Ferry brochure</a>
                <a href="slides/fleet.pptx">Fleet slides</a> <a href="more.html">More</a>
                <a href="huge.pdf">Scans</a> <a href="private/secret.pdf">Secret</a>
                <a href="copy-of-report.pdf">Review (copy)</a> <a href="mirror.pdf">Mirror</a>
                </body></html>""",
            ),
            "/more.html": (
                "text/html",
                b"""<html><body><h1>More documents</h1>
                <p>The same slides again, linked from a second page.</p>
                <a href="slides/fleet.pptx">Fleet slides</a></body></html>""",
            ),
            "/report.pdf": (PDF, report),
            "/copy-of-report.pdf": (PDF, report),
            "/fetch/brochure": (PDF, write_text_pdf_bytes(BROCHURE_PAGES)),
            "/slides/fleet.pptx": (PPTX, deck),
            "/huge.pdf": (PDF, b"%PDF-1.4\n" + b"0" * 3_000_000),
            "/private/secret.pdf": (PDF, report),
            "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\n"),
        }
        self.paths: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.paths.append(self.path)
                if (
                    self.path == "/mirror.pdf"
                ):  # a document link that redirects to a private address
                    self.send_response(302)
                    self.send_header("Location", "http://10.0.0.1/report.pdf")
                    self.end_headers()
                    return
                if self.path not in site.routes:
                    self.send_error(404)
                    return
                content_type, body = site.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discovery")
    site = DocumentSite(make_deck(folder / "fleet.pptx").read_bytes())
    config = folder / "curate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "web": {
                    "allowed_hosts": ["127.0.0.1"],
                    "politeness_delay_s": 0,
                    "max_depth": 1,
                    "max_document_bytes": 1_000_000,
                    "navigation_timeout_s": 5,
                },
                "render": {"dpi": 72},
            }
        )
    )
    out = folder / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            site.url("/index.html"),
            "-o",
            str(out),
            "-c",
            str(config),
            "--no-progress",
            "--workers",
            "2",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    yield site, out
    site.server.shutdown()


def rows(out: Path, folder: str) -> list[dict]:
    return pq.read_table(out / folder).to_pylist() if any((out / folder).glob("*.parquet")) else []


def test_linked_pdfs_and_decks_become_samples_with_the_linking_page_as_provenance(crawl):
    site, out = crawl
    samples = rows(out, "data") + rows(out, "dropped")
    by_source = {s["source_uri"]: s for s in samples}
    review, brochure, deck = (
        site.url("/report.pdf"),
        site.url("/fetch/brochure"),
        site.url("/slides/fleet.pptx"),
    )
    assert {review, brochure, deck} <= set(by_source)
    assert by_source[review]["linked_from"] == site.url("/index.html")
    assert by_source[brochure]["linked_from"] == site.url("/index.html")
    assert by_source[deck]["linked_from"] == site.url("/index.html")
    assert (
        by_source[deck]["source_type"] == "slides" and by_source[brochure]["source_type"] == "pdf"
    )
    assert "Ferry Timetable" in by_source[brochure]["image_texts"][0]
    kept = {s["source_uri"] for s in rows(out, "data")}
    assert {review, brochure, deck} <= kept  # each document yields training samples


def test_each_document_is_downloaded_once_and_processed_once(crawl):
    site, out = crawl
    fetched = Counter(site.paths)
    assert fetched["/slides/fleet.pptx"] == 1  # linked from two pages, downloaded once
    assert fetched["/report.pdf"] == 1 and fetched["/copy-of-report.pdf"] == 1
    pages = rows(out, "data") + rows(out, "dropped")
    sources = {s["source_uri"] for s in pages}
    assert (
        site.url("/copy-of-report.pdf") not in sources
    )  # same bytes as report.pdf: processed once
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["linked_documents"] == 3
    assert not (out / "_staging").exists()  # downloads are cleaned up after the job


def test_oversized_forbidden_and_private_documents_go_to_the_dead_letter_output(crawl):
    site, out = crawl
    failures = {f["source_uri"]: f for f in rows(out, "dead_letter")}
    huge = failures[site.url("/huge.pdf")]
    assert huge["reason"] == FailureReason.DOWNLOAD_TOO_LARGE
    assert "max_document_bytes" in huge["detail"] and "linked from" in huge["detail"]
    assert failures[site.url("/private/secret.pdf")]["reason"] == FailureReason.ROBOTS_DISALLOWED
    assert "/private/secret.pdf" not in site.paths
    assert (
        failures[site.url("/mirror.pdf")]["reason"] == FailureReason.SSRF_REFUSED
    )  # checked on every hop
