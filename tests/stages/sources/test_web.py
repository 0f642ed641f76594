"""Webpages from servers the test starts on 127.0.0.1: crawl, tiles, DOM text, and refusals."""

import socket
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import RenderOptions, WebOptions
from curate.core.stage import ItemFailed
from curate.schemas import PageRecord
from curate.schemas.reasons import FailureReason
from curate.stages.sources.fetch import FetchRefused, check_url
from curate.stages.sources.web import WebRenderer, tile_ranges

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists(), reason="chromium is not installed"
)

INDEX = """<html><head><title>Harbour</title></head><body>
<h1>Harbour Authority</h1><p>Ships handled this year: 1,284 vessels at the main terminal.</p>
<figure><img src="crane.png" alt="Two cranes at the north quay" width="80" height="60">
<figcaption>Figure 1: North quay cranes</figcaption></figure>
<a href="long.html">Long report</a> <a href="/private/secret.html">Secret</a>
<a href="http://example.invalid/elsewhere">Elsewhere</a></body></html>"""
LONG = (
    "<html><body><h1>Annual Report</h1>"
    + "".join(
        f"<p style='margin:40px'>Section {i}: berth {i} handled {100 + i} ships.</p>"
        for i in range(40)
    )
    + "</body></html>"
)


class Site:
    """A local site that logs the paths it serves; /go and /meta redirect to private addresses."""

    def __init__(self, root: Path):
        self.paths: list[str] = []
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.paths.append(self.path)
                targets = {
                    "/go": "http://10.0.0.1/admin",
                    "/meta": "http://169.254.169.254/latest/",
                }
                if self.path in targets:
                    self.send_response(302)
                    self.send_header("Location", targets[self.path])
                    self.end_headers()
                    return
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path.lstrip('/')}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(INDEX)
    (root / "long.html").write_text(LONG)
    (root / "private").mkdir()
    (root / "private" / "secret.html").write_text("<p>secret</p>")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    from PIL import Image

    Image.new("RGB", (80, 60), "orange").save(root / "crane.png")
    running = Site(root)
    yield running
    running.server.shutdown()


OPTIONS = WebOptions(
    allowed_hosts=["127.0.0.1"],
    politeness_delay_s=0,
    max_depth=1,
    tile_height=800,
    viewport_width=1000,
    navigation_timeout_s=2,
    page_timeout_s=15,
)


@pytest.fixture(scope="module")
def renderer():
    with WebRenderer(OPTIONS, RenderOptions()) as running:
        yield running


def test_crawl_renders_tiles_with_dom_text_and_human_context(site, renderer):
    items = list(renderer.crawl(site.url("index.html")))
    pages = [i for i in items if isinstance(i, PageRecord)]
    failures = [i for i in items if isinstance(i, ItemFailed)]
    index = [p for p in pages if p.source_uri.endswith("index.html")]
    long = [p for p in pages if p.source_uri.endswith("long.html")]
    assert len(index) == 1 and len(long) >= 4
    assert [p.page_index for p in long] == list(range(len(long))) and long[0].page_count == len(
        long
    )
    assert all(p.height <= 800 and p.width == 1000 and p.source_type == "web" for p in pages)
    assert "Harbour Authority" in index[0].text and index[0].text_source == "dom"
    for block in index[0].text_blocks:
        x0, y0, x1, y1 = block.bbox
        assert 0 <= x0 < x1 <= 1000 and 0 <= y0 < y1 <= index[0].height
    assert {(c.kind, c.text) for c in index[0].context} == {
        ("alt_text", "Two cranes at the north quay"),
        ("caption", "Figure 1: North quay cranes"),
    }
    assert "Section 39" in " ".join(p.text for p in long)  # the whole long page is covered
    # robots.txt: recorded, never fetched; other sites: never followed
    assert [(f.reason, f.source_uri.endswith("/private/secret.html")) for f in failures] == [
        (FailureReason.ROBOTS_DISALLOWED, True)
    ]
    assert not any(path.startswith("/private/") for path in site.paths)


def test_error_pages_are_failures_not_data(site, renderer):
    failure = renderer.render_url(site.url("missing.html"))
    assert (
        isinstance(failure, ItemFailed)
        and failure.reason == FailureReason.FETCH_ERROR
        and "404" in failure.detail
    )


def test_server_that_never_answers_times_out_and_the_renderer_goes_on(site, renderer):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        started = time.monotonic()
        (failure,) = list(renderer.crawl(f"http://127.0.0.1:{silent.getsockname()[1]}/"))
        assert failure.reason in (FailureReason.FETCH_TIMEOUT, FailureReason.FETCH_ERROR)
        assert time.monotonic() - started < 30
    finally:
        silent.close()
    assert any(isinstance(i, PageRecord) for i in renderer.crawl(site.url("long.html")))


def test_private_addresses_are_refused_before_any_connection(site, renderer):
    for path in ("go", "meta"):  # redirects to 10.0.0.1 and 169.254.169.254
        (failure,) = list(renderer.crawl(site.url(path)))
        assert failure.reason == FailureReason.SSRF_REFUSED and "private" in failure.detail
    strict = WebOptions()
    with pytest.raises(FetchRefused, match="allow-private-hosts"):
        check_url(site.url("index.html"), strict)  # loopback without the flag
    with pytest.raises(FetchRefused, match="only http"):
        check_url("file:///etc/passwd", strict)
    check_url(site.url("index.html"), WebOptions(allow_private_hosts=True))


def test_tiles_cover_the_page_with_overlap():
    assert tile_ranges(2000, 800, 64) == [(0, 800), (736, 1536), (1472, 2000)]
    assert tile_ranges(500, 800, 64) == [(0, 500)]


def test_shared_corpus_webpage(shared_corpus, renderer):
    served = Site(shared_corpus / "web" / "wikipedia-microsoft-article")
    try:
        outcome = renderer.render_url(served.url("index.html"))
    finally:
        served.server.shutdown()
    pages, links = outcome
    assert len(links) > 100  # a real article: its /wiki/ links, which a deeper crawl would follow
    # a long article: capped at max_page_height (20000 px), 800 px tiles with 64 px overlap
    assert 2 <= len(pages) <= len(tile_ranges(20000, 800, 64))
    assert "Microsoft Corporation" in " ".join(p.text for p in pages)  # the article, past the nav


@pytest.mark.slow
def test_run_mixes_webpages_and_pdfs_in_one_job(site, tmp_path):
    from documents import write_text_pdf

    pdf = write_text_pdf(tmp_path / "r.pdf")
    runner = CliRunner()
    # two worker processes: each starts its own browser in setup(), apart from this test's
    result = runner.invoke(
        app,
        [
            "run",
            site.url("long.html"),
            str(pdf),
            "-o",
            str(tmp_path / "out"),
            "--no-progress",
            "--allow-private-hosts",
            "--workers",
            "2",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert {r["source_type"] for r in rows} == {"web", "pdf"}
    for row in rows:
        for qa in row["qa"]:
            if qa["kind"] == "extractive":
                assert qa["answer"] in row["image_texts"][qa["image_index"]]


class Canary:
    """A TCP listener on a loopback address the crawl is not allowed to reach: it counts every
    connection anyone opens to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.2:{self.sock.getsockname()[1]}"


def test_the_browser_opens_no_connection_of_its_own(tmp_path, renderer):
    """Subresources, frames, preconnect hints and a meta refresh towards a refused address: the
    guarded client refuses them, and Chromium itself connects nowhere."""
    canary = Canary()
    root = tmp_path / "hostile"
    root.mkdir()
    (root / "index.html").write_text(
        f"""<html><head><link rel="preconnect" href="{canary.origin}">
        <link rel="dns-prefetch" href="{canary.origin}">
        <meta http-equiv="refresh" content="1;url={canary.origin}/refresh"></head><body>
        <h1>Hostile page</h1><img src="{canary.origin}/pixel.png">
        <iframe src="{canary.origin}/frame"></iframe>
        <script>fetch("{canary.origin}/beacon").catch(() => {{}});</script></body></html>"""
    )
    hostile = Site(root)
    try:
        list(renderer.crawl(hostile.url("index.html")))
        list(renderer.crawl(canary.origin + "/seed"))  # a refused seed URL
        time.sleep(1.5)  # let the meta refresh fire
    finally:
        hostile.server.shutdown()
        canary.sock.close()
    assert canary.connections == 0


class SlowSite:
    """Pages that take time: a body trickled a byte at a time, a gallery of many images, and a
    page that moves on by meta refresh to a private address."""

    def __init__(self):
        site = self
        self.images: list[float] = []  # when each image was asked for
        png = _png()

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, body: bytes, kind: str, trickle: float = 0.0):
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if not trickle:
                        self.wfile.write(body)
                    for i in range(len(body) if trickle else 0):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(trickle)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                if self.path == "/trickle":  # every read in time; the whole page never
                    self._reply(
                        b"<html><body>" + b"slow " * 200 + b"</body></html>", "text/html", 0.2
                    )
                elif self.path == "/gallery":
                    tags = "".join(f'<img src="/img/{i}.png" width="20">' for i in range(12))
                    self._reply(
                        f"<html><body><h1>Gallery</h1>{tags}</body></html>".encode(), "text/html"
                    )
                elif self.path.startswith("/img/"):
                    site.images.append(time.monotonic())
                    self._reply(png, "image/png")
                elif self.path == "/refresh":
                    page = (
                        '<html><head><meta http-equiv="refresh" content="0; url=http://10.0.0.1/x">'
                    )
                    self._reply((page + "</head><body>Moved</body></html>").encode(), "text/html")
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def slow_site():
    running = SlowSite()
    yield running
    running.server.shutdown()


def _renderer(**changes) -> WebRenderer:
    return WebRenderer(OPTIONS.model_copy(update=changes), RenderOptions())


def test_a_trickling_page_is_cut_off_at_the_page_budget(slow_site):
    with _renderer(page_timeout_s=3) as renderer:
        started = time.monotonic()
        (failure,) = list(renderer.crawl(slow_site.url("/trickle")))  # 40 s to send it all
        took = time.monotonic() - started
    assert failure.reason == FailureReason.FETCH_TIMEOUT and "page_timeout_s=3" in failure.detail
    assert took < 10


def test_a_pages_images_share_its_budget_and_skip_the_politeness_delay(slow_site):
    with _renderer(politeness_delay_s=1.0, max_depth=0) as renderer:
        started = time.monotonic()
        pages = [i for i in renderer.crawl(slow_site.url("/gallery")) if isinstance(i, PageRecord)]
        took = time.monotonic() - started
    assert pages and "Gallery" in pages[0].text
    assert len(slow_site.images) >= 12
    assert took < 8, f"{took:.1f} s: the politeness delay was applied to each image"


def test_a_meta_refresh_to_a_refused_host_says_so(slow_site, renderer):
    (failure,) = list(renderer.crawl(slow_site.url("/refresh")))
    assert failure.reason == FailureReason.SSRF_REFUSED
    assert "moves on to http://10.0.0.1/x" in failure.detail


def test_allowed_hosts_can_name_one_port():
    port = "127.0.0.1:8000"
    check_url("http://127.0.0.1:8000/page", WebOptions(allowed_hosts=[port]))
    with pytest.raises(FetchRefused, match="allow-private-hosts"):
        check_url("http://127.0.0.1:8001/page", WebOptions(allowed_hosts=[port]))
    check_url("http://127.0.0.1:8001/page", WebOptions(allowed_hosts=["127.0.0.1"]))


CRAWL_IN_NAMESPACE = """
import sys, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from curate.core.config import RenderOptions, WebOptions
from curate.stages.sources.web import WebRenderer
root = sys.argv[1]
server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=root))
threading.Thread(target=server.serve_forever, daemon=True).start()
print("SITE_PORT", server.server_address[1], flush=True)
options = WebOptions(allowed_hosts=["127.0.0.1"], politeness_delay_s=0, page_timeout_s=10)
with WebRenderer(options, RenderOptions()) as web:
    items = list(web.crawl(f"http://127.0.0.1:{server.server_address[1]}/index.html"))
print("REASONS", [getattr(i, "reason", "page") for i in items], flush=True)
"""
TRAP = """<html><head><link rel="preconnect" href="https://1.1.1.1">
<link rel="dns-prefetch" href="//example.com">
<meta http-equiv="refresh" content="1; url=http://10.0.0.1/moved"></head>
<body><h1>Trap</h1><img src="http://169.254.169.254/latest/x.png">
<iframe src="http://10.0.0.1/frame"></iframe><script>fetch('http://8.8.8.8/')</script>
</body></html>"""


def test_in_a_network_namespace_the_browser_sends_nothing_of_its_own(tmp_path):
    """The crawl runs in its own network namespace (loopback only) under strace: every TCP or
    UDP `connect` is curate's guarded client fetching what the page asked for. Chromium opens
    none: no preconnect, prefetch, DNS-over-HTTPS or refused address. The
    one UDP `connect` Chromium makes is its IPv6 route probe (2001:4860:4860::8888), which
    picks a route and sends no packet."""
    import re
    import shutil
    import subprocess
    import sys

    if (
        not (shutil.which("strace") and shutil.which("ip"))
        or subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode
    ):
        pytest.skip("needs strace, ip and unshare --net (root)")
    (tmp_path / "index.html").write_text(TRAP)
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL_IN_NAMESPACE)
    trace = tmp_path / "trace.log"
    run = subprocess.run(
        [
            "unshare",
            "--net",
            "sh",
            "-c",
            # -yy names each socket's protocol (TCP, UDP) in the call itself
            f"ip link set lo up && strace -f -qq -yy -e trace=connect "
            f"-o {trace} {sys.executable} {script} {tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "REASONS" in run.stdout, run.stdout + run.stderr
    port = int(re.search(r"SITE_PORT (\d+)", run.stdout).group(1))
    seen = []
    for line in trace.read_text().splitlines():
        m = re.match(
            r"\d+\s+connect\(\d+<(TCP|UDP)v?6?:.*?\{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\)",
            line,
        )
        if m:
            address = re.search(r'inet_addr\("([^"]+)"\)|"([0-9a-f:]+)", &sin6_addr', line)
            host = address.group(1) or address.group(2)
            seen.append((host, int(m.group(2)), m.group(1) == "UDP"))
    resolvers = set(re.findall(r"^nameserver\s+(\S+)", Path("/etc/resolv.conf").read_text(), re.M))
    assert ("127.0.0.1", port, False) in seen  # the trace did see curate's own fetches
    expected = {("127.0.0.1", port, False), ("8.8.8.8", 80, False)}  # the page and its fetch()
    for host, port_, udp in seen:
        if (host, port_, udp) in expected or (port_ == 53 and host in resolvers):
            continue  # curate's client, and its guard resolving a requested host
        assert udp and (host, port_) == ("2001:4860:4860::8888", 443), (host, port_, udp)
    refused = {"10.0.0.1", "169.254.169.254", "1.1.1.1"}
    assert not refused & {host for host, _, _ in seen}
