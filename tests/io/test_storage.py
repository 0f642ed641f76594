"""Storage-agnostic I/O: a whole job on a non-local filesystem, clear errors for missing cloud
extras, and an LLM request cache that many writers can share."""

import builtins
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import fsspec
import pytest
from documents import REPO
from typer.testing import CliRunner

from curate.cli import app
from curate.core.config import LLMOptions
from curate.io import storage
from curate.stages.generators.llm_client import LLMClient, LLMEndpoint

EXAMPLES = REPO / "examples"


@pytest.mark.slow
def test_a_whole_job_runs_on_a_non_local_filesystem_without_touching_local_paths(monkeypatch):
    """Inputs, listing (Beam's fileio.MatchAll), shards, dead letters and the manifest all live on
    fsspec's memory:// filesystem; any builtin open() of those paths would fail the test."""
    memory = fsspec.filesystem("memory")
    memory.rm("/", recursive=True) if memory.exists("/job") else None
    for pdf in sorted(EXAMPLES.glob("*.pdf")):
        memory.pipe(f"/job/in/docs/{pdf.name}", pdf.read_bytes())
    memory.pipe("/job/in/docs/nested/broken.pdf", b"%PDF-1.4 not really")
    memory.pipe("/job/in/docs/notes.txt", b"listed, and reported as unsupported")
    opened = []
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, str) and ("/job/" in file or file.startswith("memory:")):
            opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    result = CliRunner().invoke(
        app,
        ["run", "memory://job/in/docs", "-o", "memory://job/out", "--no-progress", "--dpi", "72"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert opened == []
    manifest = json.loads(memory.cat("/job/out/manifest.json"))
    assert manifest["counts"]["documents"] == 5 and manifest["counts"]["samples"] >= 3
    assert manifest["failures_by_reason"] == {"corrupt_document": 1, "unsupported_format": 1}
    shards = memory.glob("/job/out/data/*.parquet")
    assert shards and memory.glob("/job/out/dead_letter/*.parquet")
    from curate.outputs.export import read_samples

    samples = list(read_samples("memory://job/out"))
    assert len(samples) == manifest["counts"]["samples"]
    assert all(s.source_uri.startswith("memory://") for s in samples)


def test_missing_cloud_extras_and_unknown_schemes_say_what_to_do(monkeypatch):
    registry = sys.modules["fsspec.registry"]
    real = registry.get_filesystem_class

    def without_s3(protocol):
        if protocol == "s3":
            raise ImportError("Install s3fs to access S3")
        return real(protocol)

    monkeypatch.setattr(registry, "get_filesystem_class", without_s3)
    monkeypatch.setattr(fsspec.core, "get_filesystem_class", without_s3)
    with pytest.raises(storage.StorageError, match=r"pip install 'curate\[aws\]'"):
        storage.exists("s3://bucket/docs/a.pdf")
    with pytest.raises(storage.StorageError, match="unknown storage scheme"):
        storage.exists("nosuchscheme://bucket/a.pdf")
    result = CliRunner().invoke(app, ["run", "nosuchscheme://bucket/docs/", "-o", "/tmp/never"])
    assert result.exit_code == 2 and "unknown storage scheme" in result.output


def _client(cache: Path) -> LLMClient:
    endpoint = LLMEndpoint("http://127.0.0.1:9/v1", "m", "json_schema", str(cache))
    return LLMClient(LLMOptions(), endpoint)


def test_the_request_cache_loses_no_writes_when_threads_and_processes_share_it(tmp_path):
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import sys, threading
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from test_storage import _client
        from pathlib import Path
        client = _client(Path({str(cache)!r}))
        def work(t):
            for i in range(40):
                key = f"{{(i * 7919) % 1000:040x}}"  # shared keys: every writer writes all 40
                client._store(key, {{"data": {{"i": i, "pad": "x" * 20000}}}})
        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        [t.start() for t in threads]; [t.join() for t in threads]
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    client = _client(cache)
    entries = sorted(cache.rglob("*.json"))
    assert len(entries) == 40
    for i in range(40):
        assert client._cached(f"{(i * 7919) % 1000:040x}")["data"]["i"] == i
    assert not list(cache.rglob("*.tmp-*"))  # temp files are renamed, never left behind


def test_a_killed_writer_leaves_no_corrupt_entry(tmp_path):
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from test_storage import _client
        from pathlib import Path
        client = _client(Path({str(cache)!r}))
        i = 0
        while True:
            client._store(f"{{i:064x}}", {{"data": {{"i": i, "pad": "y" * 2_000_000}}}})
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while len(list(cache.rglob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    entries = list(cache.rglob("*.json"))
    assert len(entries) >= 3
    for entry in entries:  # every visible entry is complete
        assert json.loads(entry.read_bytes())["data"]["pad"] == "y" * 2_000_000


def test_concurrent_downloads_of_one_document_land_in_one_content_addressed_file(tmp_path):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from curate.core.config import WebOptions
    from curate.stages.sources.fetch import Fetcher

    body = b"%PDF-1.4\n" + bytes(range(256)) * 4000

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.end_headers()
            for start in range(0, len(body), 65536):
                self.wfile.write(body[start : start + 65536])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/a.pdf"
    fetcher = Fetcher(WebOptions(allowed_hosts=["127.0.0.1"], politeness_delay_s=0))
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(fetcher.download(url, str(tmp_path), ".pdf", 10**7))
        )
        for _ in range(4)
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    server.shutdown()
    assert len({r.uri for r in results}) == 1 and len(results) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{results[0].sha256}.pdf"]
    assert Path(results[0].uri).read_bytes() == body


def test_inputs_are_listed_by_a_stage_of_the_job(tmp_path):
    """Folders give every file (an unsupported one gets its row later), globs the supported
    files they match, `.urls` files their URLs: listed by the job's first stage, on a worker,
    so both runners list the same way."""
    from curate.core.stage import records
    from curate.stages.sources.inputs import InputArgument, ListInputs

    (tmp_path / "docs" / "deep" / "deeper").mkdir(parents=True)
    for name in ("a.pdf", "deep/b.PDF", "deep/deeper/c.pptx", "deep/notes.txt"):
        (tmp_path / "docs" / name).write_bytes(b"x")
    (tmp_path / "scans").mkdir()
    for name in ("s1.png", "s2.png", "s3.jpg"):
        (tmp_path / "scans" / name).write_bytes(b"x")
    (tmp_path / "odd.xyz").write_bytes(b"x")
    (tmp_path / "seeds.urls").write_text(
        "# seeds\nhttps://example.org/a\n\nhttps://example.org/b\n"
    )
    inputs = [
        str(tmp_path / "docs"),
        str(tmp_path / "scans" / "*.png"),
        str(tmp_path / "odd.xyz"),
        str(tmp_path / "seeds.urls"),
        "https://example.org/c",
    ]
    in_docs = ("a.pdf", "deep/b.PDF", "deep/deeper/c.pptx", "deep/notes.txt")  # every file
    expected = [str(tmp_path / "docs" / n) for n in in_docs]
    expected += [str(tmp_path / "scans" / n) for n in ("s1.png", "s2.png")]
    expected += [
        str(tmp_path / "odd.xyz"),
        "https://example.org/a",
        "https://example.org/b",
        "https://example.org/c",
    ]
    listed = [uri for raw in inputs for uri in records(ListInputs(), InputArgument(raw))]
    assert sorted(listed) == sorted(expected)
