"""Webpages: a same-site crawl rendered by headless Chromium into tiled page records.

Playwright drives the system Chromium (never a downloaded browser). One browser per worker; a
new context per page. Every request goes through `Fetcher` (SSRF guard, robots.txt,
politeness, timeouts). A page becomes a full-page screenshot, capped at `max_page_height` so
infinite scroll ends, sliced into `tile_height` tiles with a small overlap: a long page is a
multi-image sample. DOM text with boxes (no OCR needed), image alt text and figure captions are
mapped onto the tiles.

Links to PDFs and slide decks (by extension, or by the Content-Type a page URL answers with) are
downloaded once each, through the same Fetcher and robots.txt check, size-capped and streamed to
a content-addressed staging file. The crawl yields them as `LinkedDocument`s, which the pipeline
deduplicates by content hash and renders with the PDF or slides source.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

from PIL import Image

from curate.core.config import RenderOptions, WebOptions
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas import (
    BlockRole,
    ContextItem,
    ImageData,
    LinkedDocument,
    PageRecord,
    TextBlock,
    stable_id,
)
from curate.schemas.reasons import FailureReason
from curate.stages.sources.fetch import Fetcher, FetchRefused, check_url
from curate.stages.sources.pdf import PDF_EXTENSIONS
from curate.stages.sources.slides import SLIDE_EXTENSIONS

DOCUMENT_EXTENSIONS = PDF_EXTENSIONS | SLIDE_EXTENSIONS
DOCUMENT_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.oasis.opendocument.presentation": ".odp",
}

WEB_PREFIXES = ("http://", "https://")
HTML_EXTENSIONS = frozenset({".html", ".htm"})
# saved pages are served under this origin (reserved, never resolved), so that every request
# they make passes the route, which serves only files of the page's own folder
SAVED_ORIGIN = "http://saved-page.invalid/"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Every request is intercepted and fetched by curate's guarded client. Should one escape
    # interception (a speculative preconnect, DNS prefetch, secure DNS), Chromium can reach
    # nothing: every host resolves to nothing, and all traffic, loopback included, goes to a
    # proxy port where nothing listens.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--dns-prefetch-disable",
    "--disable-features=DnsOverHttps,NetworkPrediction,NetworkServiceInProcess2",
]
_DOM = """() => {
  const out = {blocks: [], context: [], links: []};
  const sx = window.scrollX, sy = window.scrollY;
  const tables = Array.from(document.querySelectorAll('table'));
  const role = (el) => {  // [role, table, row, column]: what the element is on the page
    const boilerplate = 'nav, footer, aside, [role=navigation], [role=contentinfo], ' +
      '[role=complementary]';
    if (el.closest(boilerplate)) return ['header_footer', -1, -1, -1];
    const h = el.closest('h1, h2, h3, h4, h5, h6');
    if (h) return [h.tagName === 'H1' ? 'title' : 'heading', -1, -1, -1];
    if (el.closest('header, [role=banner]')) return ['header_footer', -1, -1, -1];
    if (el.closest('pre, code, kbd, samp')) return ['code', -1, -1, -1];
    if (el.closest('figcaption, caption')) return ['caption', -1, -1, -1];
    const cell = el.closest('td, th');
    if (cell && cell.parentElement && cell.parentElement.rowIndex >= 0) {
      const table = tables.indexOf(cell.closest('table'));
      return ['table_cell', table, cell.parentElement.rowIndex, cell.cellIndex];
    }
    if (el.closest('svg')) return ['figure', -1, -1, -1];
    if (el.closest('li, dt')) return ['list_item', -1, -1, -1];
    return ['paragraph', -1, -1, -1];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    const el = node.parentElement;
    if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    out.blocks.push([text, r.left + sx, r.top + sy, r.right + sx, r.bottom + sy, ...role(el)]);
  }
  for (const img of document.images) {
    const alt = (img.getAttribute('alt') || '').trim();
    if (!alt) continue;
    const r = img.getBoundingClientRect();
    out.context.push(['alt_text', alt, r.top + sy + r.height / 2]);
  }
  for (const caption of document.querySelectorAll('figcaption')) {
    const text = caption.innerText.replace(/\\s+/g, ' ').trim();
    if (!text) continue;
    const r = caption.getBoundingClientRect();
    out.context.push(['caption', text, r.top + sy + r.height / 2]);
  }
  for (const a of document.querySelectorAll('a[href]')) out.links.push(a.href);
  return out;
}"""


def is_url(uri: str) -> bool:
    return uri.startswith(WEB_PREFIXES)


def document_extension(url: str) -> str | None:
    """`.pdf`, `.pptx`, ... when the URL's path names a document the pipeline can process."""
    extension = os.path.splitext(unquote(urlsplit(url).path))[1].lower()
    return extension if extension in DOCUMENT_EXTENSIONS else None


def document_type(content_type: str) -> str | None:
    return DOCUMENT_TYPES.get(content_type.split(";")[0].strip().lower())


_META_REFRESH = """() => {
  const meta = document.querySelector('meta[http-equiv="refresh" i]');
  return meta ? meta.getAttribute('content') : null;
}"""


@dataclass
class _DocumentResponse:
    """A page URL that answered with a document's Content-Type instead of HTML."""

    extension: str


def tile_ranges(height: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Vertical [top, bottom) ranges covering the page, consecutive tiles sharing `overlap` px."""
    step = max(1, tile - overlap)
    ranges, top = [], 0
    while True:
        ranges.append((top, min(top + tile, height)))
        if top + tile >= height:
            return ranges
        top += step


class WebRenderer:
    """`with WebRenderer(web, render) as renderer: renderer.crawl(url)`; one per worker.

    Playwright's sync API belongs to the thread that started it, while Beam may call setup,
    process and teardown from different threads. So the browser lives on a thread of its own,
    and every browser call is handed to that thread.
    """

    def __init__(self, web: WebOptions, render: RenderOptions):
        self.web, self.render = web, render
        self._playwright = self._browser = None
        self._thread: ThreadPoolExecutor | None = None
        self.fetcher: Fetcher | None = None

    def _on_browser_thread(self, function, *args):
        return self._thread.submit(function, *args).result()

    def __enter__(self) -> WebRenderer:
        self.fetcher = Fetcher(self.web)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="curate-browser")
        self._on_browser_thread(self._start)
        return self

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.web.chromium, args=LAUNCH_ARGS
        )

    def _stop(self) -> None:
        if self._browser:
            self._browser.close()
        if self._playwright:
            self._playwright.stop()

    def __exit__(self, *exc) -> None:
        try:
            if self._thread:
                self._on_browser_thread(self._stop)
        finally:
            if self._thread:
                self._thread.shutdown()
            if self.fetcher:
                self.fetcher.close()

    def crawl(
        self, seed: str, staging: str | None = None
    ) -> Iterator[PageRecord | ItemFailed | LinkedDocument]:
        """The seed and same-site pages it links to, breadth first, within depth and count limits.

        Linked PDFs and decks are downloaded into `staging` (once per URL and per content) and
        yielded as LinkedDocument; without `staging` or with web.follow_documents off they are
        skipped.
        """
        site = urlsplit(seed).netloc
        start = urldefrag(seed)[0]
        queue, seen, rendered = deque([(start, 0, None)]), {start}, 0
        downloads, hashes = 0, set()
        follow = self.web.follow_documents and staging is not None
        while queue and rendered < self.web.max_pages:
            url, depth, parent = queue.popleft()
            if not self.fetcher.robots_allow(url):
                yield ItemFailed(
                    FailureReason.ROBOTS_DISALLOWED,
                    "robots.txt disallows it; not fetched",
                    url,
                    url,
                )
                continue
            extension = document_extension(url)
            outcome = None if extension else self.render_url(url)
            if isinstance(outcome, _DocumentResponse):
                extension = outcome.extension
            if extension:
                if follow and downloads < self.web.max_documents:
                    downloads += 1
                    yield from self._download(url, parent, extension, staging, hashes)
                continue
            if isinstance(outcome, ItemFailed):
                yield outcome
                continue
            pages, links = outcome
            rendered += 1
            yield from pages
            if depth < self.web.max_depth:
                for link in links:
                    link = urldefrag(link)[0]
                    if link not in seen and is_url(link) and urlsplit(link).netloc == site:
                        if document_extension(link) and not follow:
                            continue
                        seen.add(link)
                        queue.append((link, depth + 1, url))

    def _download(
        self, url: str, parent: str | None, extension: str, staging: str, hashes: set[str]
    ) -> Iterator[LinkedDocument | ItemFailed]:
        via = f" (linked from {parent})" if parent else ""
        try:
            got = self.fetcher.download(url, staging, extension, self.web.max_document_bytes)
        except FetchRefused as refused:
            yield ItemFailed(refused.reason, f"{refused}{via}", url, url)
            return
        if got.sha256 in hashes:  # the same file under another URL: processed once
            return
        hashes.add(got.sha256)
        yield LinkedDocument(url, parent or "", got.uri, got.sha256, got.size, got.content_type)

    def render_url(
        self, url: str
    ) -> tuple[list[PageRecord], list[str]] | ItemFailed | _DocumentResponse:
        """One page's tiles and links, or an ItemFailed; safe to call from any thread."""
        return self._on_browser_thread(self._render_url, url)

    def _render_url(
        self, url: str
    ) -> tuple[list[PageRecord], list[str]] | ItemFailed | _DocumentResponse:
        refusals: dict[str, FetchRefused] = {}
        documents: dict[str, tuple[int, bytes]] = {}
        found: dict[str, str] = {}  # a navigation that answered with a PDF or deck
        moved_on: list[tuple[str, FetchRefused]] = []  # refused navigations away from the page
        # one budget for the page and everything it loads; politeness applies to navigations
        deadline = time.monotonic() + self.web.page_timeout_s

        def route(route):
            request = route.request
            try:  # the top frame's navigations; frames and subresources are the page's own
                navigation = request.is_navigation_request() and request.frame.parent_frame is None
            except Exception:  # a request with no frame (a worker's)
                navigation = False
            try:
                fetched = self.fetcher.fetch(
                    request.url,
                    {"Accept": request.headers.get("accept", "*/*")},
                    deadline=deadline,
                    polite=navigation,
                )
            except FetchRefused as refused:
                refusals[request.url] = refused
                if navigation and request.url != url:
                    moved_on.append((request.url, refused))
                route.abort("blockedbyclient")
                return
            if request.resource_type == "document":
                extension = document_type(fetched.headers.get("content-type", ""))
                if extension and fetched.status < 400:
                    found[request.url] = extension
                    route.abort("aborted")
                    return
                documents[request.url] = (fetched.status, fetched.body)
            headers = {k: v for k, v in fetched.headers.items() if k.lower() in ("content-type",)}
            route.fulfill(status=fetched.status, headers=headers, body=fetched.body)

        context = self._new_context()
        try:
            page = context.new_page()
            page.route("**/*", route)
            try:
                page.goto(url, timeout=self.web.page_timeout_s * 1000, wait_until="load")
            except Exception as err:
                if url in found:
                    return _DocumentResponse(found[url])
                refused = refusals.get(url)
                if refused:
                    return ItemFailed(refused.reason, str(refused), url, url)
                if "Timeout" in type(err).__name__:
                    return ItemFailed(
                        FailureReason.FETCH_TIMEOUT,
                        f"the page did not load within web.page_timeout_s="
                        f"{self.web.page_timeout_s:g} s; raise it for slow sites",
                        url,
                        url,
                    )
                return ItemFailed(
                    FailureReason.FETCH_ERROR, f"{type(err).__name__}: {str(err)[:300]}", url, url
                )
            status = documents.get(url, (200, b""))[0]
            if status >= 400:  # an error page is not content
                return ItemFailed(FailureReason.FETCH_ERROR, f"HTTP {status}", url, url)
            refused = self._refused_refresh(url, page.evaluate(_META_REFRESH))
            if refused is not None:  # a stub that moves on to where we may not go
                return ItemFailed(refused[1].reason, refused[0], url, url)
            png, dom = self._capture(page)
        except Exception as err:
            if moved_on:  # a meta refresh or script sent the page somewhere it may not go
                target, refused = moved_on[0]
                return ItemFailed(
                    refused.reason,
                    f"the page moves on to {target} (a meta refresh or script), which was "
                    f"refused: {refused}",
                    url,
                    url,
                )
            return ItemFailed(
                FailureReason.FETCH_ERROR, f"{type(err).__name__}: {str(err)[:300]}", url, url
            )
        finally:
            context.close()
        html = documents.get(url, (200, b""))[1]
        return self._tiles(url, hashlib.sha256(html).hexdigest(), png, dom), dom["links"]

    def render_file(self, path: str, name: str | None = None) -> list[PageRecord]:
        """A saved webpage (`.html`, with its `NAME_files/` folder), rendered from disk: it
        may load files from its own folder and nothing else, so no request leaves the
        machine and no file beside the page's folder shows up in its image. Raises
        ItemFailed when it cannot be rendered."""
        outcome = self._on_browser_thread(self._render_file, path, name)
        if isinstance(outcome, ItemFailed):
            raise outcome
        return outcome

    def _render_file(self, path: str, name: str | None) -> list[PageRecord] | ItemFailed:
        local = storage.normalize_uri(path)
        root = os.path.dirname(os.path.realpath(local))
        start = SAVED_ORIGIN + quote(os.path.basename(local))

        def route(route):
            url = route.request.url
            if url.startswith(SAVED_ORIGIN):  # a file of the page's folder, by its path there
                relative = unquote(urlsplit(url).path).lstrip("/")
                target = os.path.realpath(os.path.join(root, relative))
                if target.startswith(root + os.sep) and os.path.isfile(target):
                    route.fulfill(path=target)
                else:
                    route.fulfill(status=404, body=b"")
                return
            route.abort("blockedbyclient")  # the network, or files elsewhere on the disk

        context = self._new_context()
        try:
            page = context.new_page()
            page.route("**/*", route)
            page.goto(start, timeout=self.web.page_timeout_s * 1000, wait_until="load")
            png, dom = self._capture(page)
        except Exception as err:
            reason = (
                FailureReason.DOCUMENT_TIMEOUT
                if "Timeout" in type(err).__name__
                else (FailureReason.PAGE_RENDER_ERROR)
            )
            return ItemFailed(reason, f"{type(err).__name__}: {str(err)[:300]}")
        finally:
            context.close()
        with open(local, "rb") as handle:
            sha256 = hashlib.sha256(handle.read()).hexdigest()
        return self._tiles(local, sha256, png, dom, name)

    def _new_context(self):
        return self._browser.new_context(
            viewport={"width": self.web.viewport_width, "height": self.web.tile_height},
            user_agent=self.web.user_agent,
            service_workers="block",
        )

    def _capture(self, page) -> tuple[bytes, dict]:
        """The loaded page's screenshot (full height, up to web.max_page_height) and DOM."""
        height = min(
            int(page.evaluate("document.documentElement.scrollHeight")),
            self.web.max_page_height,
        )
        png = page.screenshot(
            full_page=True,
            clip={"x": 0, "y": 0, "width": self.web.viewport_width, "height": height},
        )
        return png, page.evaluate(_DOM)

    def _refused_refresh(self, url: str, content: str | None) -> tuple[str, FetchRefused] | None:
        """A meta refresh whose target the guard refuses, with the sentence that says so."""
        match = re.search(r"url\s*=\s*['\"]?([^'\"\s]+)", content or "", re.IGNORECASE)
        if not match:
            return None
        target = urljoin(url, match.group(1))
        try:
            check_url(target, self.web)
        except FetchRefused as refused:
            detail = f"the page moves on to {target} (a meta refresh), which was refused: {refused}"
            return detail, refused
        return None

    def _tiles(
        self, url: str, sha256: str, png: bytes, dom: dict, name: str | None = None
    ) -> list[PageRecord]:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        width, height = image.size
        doc_id = stable_id(name or url, sha256)
        ranges = tile_ranges(height, self.web.tile_height, self.web.tile_overlap)
        pages = []
        for index, (top, bottom) in enumerate(ranges):
            blocks = []
            for text, x0, y0, x1, y1, role, table, row, column in dom["blocks"]:
                if top <= (y0 + y1) / 2 < bottom:
                    box = (
                        max(0.0, x0),
                        max(0.0, y0 - top),
                        min(float(width), x1),
                        min(float(bottom - top), y1 - top),
                    )
                    cell = (table, row, column) if role == BlockRole.TABLE_CELL else None
                    blocks.append(TextBlock(text, box, "dom", 1.0, role, cell))
            blocks.sort(key=lambda b: (round(b.bbox[1] / 4), b.bbox[0]))
            buffer = io.BytesIO()
            image.crop((0, top, width, bottom)).save(buffer, format="PNG")
            pages.append(
                PageRecord(
                    page_id=f"{doc_id}-{index:05d}",
                    doc_id=doc_id,
                    source_uri=url,
                    source_sha256=sha256,
                    source_type="web",
                    page_index=index,
                    page_count=len(ranges),
                    render_dpi=96.0,
                    width=width,
                    height=bottom - top,
                    image=ImageData(buffer.getvalue(), f"{doc_id}-{index:05d}.png"),
                    text_blocks=blocks,
                    text_source="dom" if blocks else "none",
                    needs_ocr=len("".join(b.text for b in blocks)) < self.render.min_text_chars,
                    context=[
                        ContextItem(kind, text)
                        for kind, text, y in dom["context"]
                        if top <= y < bottom
                    ],
                )
            )
        # a tile whose upper third holds a heading opens a section: sample windows follow them
        sections = [
            p.page_index
            for p in pages
            if any(
                b.role in (BlockRole.TITLE, BlockRole.HEADING) and b.bbox[1] < p.height / 3
                for b in p.text_blocks
            )
        ]
        return [replace(p, sections=sections) for p in pages]
