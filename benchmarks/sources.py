"""Source throughput: slide decks per page, and the share of time in conversion vs rendering.

    .venv/bin/python benchmarks/sources.py [--decks 6]

Decks are made here with python-pptx (8 slides each, titles, bullets, notes), plus the
shared corpus decks when present. For each deck: LibreOffice conversion time, then rendering of
the PDF (144 DPI, PNG, text with boxes). Webpages: a local site of long pages served on
127.0.0.1, rendered per URL (fetch through the guard, screenshot, tiles, DOM text).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pymupdf
from pptx import Presentation

from curate.core.config import RenderOptions
from curate.stages.sources.pdf import render_open_document
from curate.stages.sources.slides import convert_to_pdf

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "slides"


def make_deck(path: Path, slides: int = 8) -> Path:
    deck = Presentation()
    for i in range(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Quarter {i + 1} results"
        slide.placeholders[1].text = "\n".join(
            f"Region {r}: {100 + 7 * r + i} units" for r in range(5)
        )
        slide.notes_slide.notes_text_frame.text = f"Speaker notes for slide {i + 1}."
    deck.save(path)
    return path


def web(root: Path, count: int) -> None:
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from curate.core.config import WebOptions
    from curate.stages.sources.web import WebRenderer

    root.mkdir()
    for i in range(count):
        paragraphs = "".join(
            f"<p style='margin:30px'>Page {i}, section {s}: {100 + s} units.</p>" for s in range(30)
        )
        (root / f"p{i}.html").write_text(
            f"<html><body><h1>Report {i}</h1>{paragraphs}</body></html>"
        )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = WebOptions(allowed_hosts=["127.0.0.1"], politeness_delay_s=0, respect_robots=False)
    try:
        started = time.perf_counter()
        with WebRenderer(options, RenderOptions()) as renderer:
            launch = time.perf_counter() - started
            started = time.perf_counter()
            tiles = sum(
                len(
                    renderer.render_url(f"http://127.0.0.1:{server.server_address[1]}/p{i}.html")[0]
                )
                for i in range(count)
            )
            seconds = time.perf_counter() - started
        print(
            f"web: browser launch {launch:.2f} s; {count} URLs in {seconds:.1f} s = "
            f"{count / seconds:.2f} URLs/s, "
            f"{tiles} tiles ({tiles / seconds:.2f} tiles/s)"
        )
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decks", type=int, default=6)
    parser.add_argument("--urls", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="curate-src-bench-"))
    try:
        decks = [make_deck(work / f"deck{i}.pptx") for i in range(args.decks)]
        decks += sorted(SHARED.glob("*.pptx")) if SHARED.is_dir() else []
        convert_s = render_s = 0.0
        pages = 0
        for i, deck in enumerate(decks):
            out = work / f"out{i}"
            out.mkdir()
            started = time.perf_counter()
            pdf = convert_to_pdf(deck, out, 180)
            convert_s += time.perf_counter() - started
            started = time.perf_counter()
            pages += sum(
                1
                for _ in render_open_document(
                    pymupdf.open(pdf), str(deck), "0", RenderOptions(), "slides"
                )
            )
            render_s += time.perf_counter() - started
        total = convert_s + render_s
        print(
            f"slides: {len(decks)} decks, {pages} pages, {total:.1f} s, {pages / total:.2f} pages/s"
        )
        print(
            f"slides: conversion {convert_s / total:.0%} of the time ({convert_s / len(decks):.2f} "
            "s/deck), "
            f"rendering {render_s / total:.0%} ({pages / render_s:.1f} pages/s)"
        )
        web(work / "site", args.urls)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
