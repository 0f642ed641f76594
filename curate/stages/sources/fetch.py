"""Fetching web resources safely: the SSRF guard, robots.txt, politeness, limits.

Every request the browser makes is fetched here instead (the browser itself never connects),
so each URL and each redirect hop is checked before any connection is made: only http(s), and
no private, loopback, link-local or reserved address unless explicitly allowed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import threading
import time
import urllib.robotparser
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from curate.core.config import WebOptions
from curate.io import storage
from curate.schemas.reasons import FailureReason

MAX_REDIRECTS = 5


class FetchRefused(Exception):
    """Not fetched; `reason` is a dead-letter reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Downloaded:
    uri: str
    sha256: str
    size: int
    content_type: str


def check_url(url: str, options: WebOptions) -> None:
    """Raise FetchRefused unless `url` is http(s) on a host that resolves to allowed addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(
            FailureReason.SSRF_REFUSED, f"only http(s) URLs are fetched, not {parts.scheme}://"
        )
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if options.allow_private_hosts or _listed(host, port, options.allowed_hosts):
        return
    try:
        addresses = {
            info[4][0]
            for info in socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
        }
    except socket.gaierror as err:
        raise FetchRefused(FailureReason.FETCH_ERROR, f"cannot resolve {host}: {err}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if _listed(address, port, options.allowed_hosts):
            continue
        if (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            raise FetchRefused(
                FailureReason.SSRF_REFUSED,
                f"{host} resolves to {ip}, a private/loopback/link-local address; "
                "pass --allow-private-hosts for local servers",
            )


def _listed(host: str, port: int, allowed: list[str]) -> bool:
    """`host` (any port) or `host:port` / `[v6]:port` (that port only) is in web.allowed_hosts."""
    return any(entry in (host, f"{host}:{port}", f"[{host}]:{port}") for entry in allowed)


class Fetcher:
    """One per worker: an HTTP client with the guard, robots.txt and per-host politeness."""

    def __init__(self, options: WebOptions):
        self.options = options
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(options.navigation_timeout_s),
            headers={"User-Agent": options.user_agent},
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _polite(self, host: str) -> None:
        with self._lock:
            wait = self._last.get(host, 0.0) + self.options.politeness_delay_s - time.monotonic()
            self._last[host] = time.monotonic() + max(0.0, wait)
        if wait > 0:
            time.sleep(wait)

    @contextmanager
    def _stream(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        deadline: float | None = None,
        polite: bool = True,
    ) -> Iterator[httpx.Response]:
        """The final response of a GET, redirects followed by hand with every hop checked.

        `deadline` (time.monotonic()) bounds the whole fetch, the body included; `polite`
        waits politeness_delay_s since the last request to the host (navigations do, a page's
        own subresources do not: they are part of one page view)."""
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.options)
            if polite:
                self._polite(urlsplit(url).netloc)
            timeout = self.options.navigation_timeout_s
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    raise FetchRefused(FailureReason.FETCH_TIMEOUT, _late(url, self.options))
            try:
                with self._client.stream(
                    "GET", url, headers=headers or {}, timeout=timeout
                ) as reply:
                    if reply.is_redirect and "location" in reply.headers:
                        url = urljoin(url, reply.headers["location"])
                        continue
                    yield reply
                    return
            except httpx.TimeoutException:
                late = deadline is not None and time.monotonic() >= deadline - 0.05
                raise FetchRefused(
                    FailureReason.FETCH_TIMEOUT,
                    _late(url, self.options)
                    if late
                    else f"no answer within {timeout:g} s (web.navigation_timeout_s): {url}",
                ) from None
            except httpx.HTTPError as err:
                raise FetchRefused(
                    FailureReason.FETCH_ERROR, f"{type(err).__name__}: {err}"
                ) from None
        raise FetchRefused(FailureReason.FETCH_ERROR, f"more than {MAX_REDIRECTS} redirects")

    def fetch(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        deadline: float | None = None,
        polite: bool = True,
    ) -> Fetched:
        """GET into memory, at most web.max_bytes, by `deadline` if given (a body that trickles
        in is cut off too); raises FetchRefused with a reason."""
        with self._stream(url, headers, deadline, polite) as reply:
            body = bytearray()
            for chunk in reply.iter_bytes():
                if deadline is not None and time.monotonic() > deadline:
                    raise FetchRefused(FailureReason.FETCH_TIMEOUT, _late(url, self.options))
                body += chunk
                if len(body) > self.options.max_bytes:
                    raise FetchRefused(
                        FailureReason.FETCH_ERROR,
                        f"larger than web.max_bytes={self.options.max_bytes}",
                    )
            return Fetched(str(reply.url), reply.status_code, dict(reply.headers), bytes(body))

    def download(self, url: str, folder: str, extension: str, max_bytes: int) -> Downloaded:
        """Stream a file to `<folder>/<sha256><extension>`, refusing it past `max_bytes`.

        The name is the content hash, so the same document downloaded by several workers or
        under several URLs lands in one file; a partial download never takes that name.
        """
        storage.makedirs(folder)
        part = storage.join(folder, f".part-{uuid.uuid4().hex}")
        digest, size = hashlib.sha256(), 0
        try:
            with self._stream(url) as reply:
                if reply.status_code >= 400:
                    raise FetchRefused(FailureReason.FETCH_ERROR, f"HTTP {reply.status_code}")
                declared = int(reply.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise FetchRefused(
                        FailureReason.DOWNLOAD_TOO_LARGE,
                        f"{declared} bytes > web.max_document_bytes={max_bytes}",
                    )
                with storage.open_file(part, "wb") as out:
                    for chunk in reply.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchRefused(
                                FailureReason.DOWNLOAD_TOO_LARGE,
                                f"more than web.max_document_bytes={max_bytes} bytes",
                            )
                        digest.update(chunk)
                        out.write(chunk)
                content_type = reply.headers.get("content-type", "")
            target = storage.join(folder, f"{digest.hexdigest()}{extension}")
            if storage.exists(target):
                storage.remove(part)
            else:
                storage.move(part, target)
            return Downloaded(target, digest.hexdigest(), size, content_type)
        finally:
            storage.remove(part)

    def robots_allow(self, url: str) -> bool:
        if not self.options.respect_robots:
            return True
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            parser = urllib.robotparser.RobotFileParser()
            try:
                reply = self.fetch(f"{root}/robots.txt")
                lines = (
                    reply.body.decode("utf-8", "replace").splitlines()
                    if reply.status == 200
                    else []
                )
            except FetchRefused:
                lines = []
            parser.parse(lines)
            self._robots[root] = parser
        return self._robots[root].can_fetch(self.options.user_agent, url)


def _late(url: str, options: WebOptions) -> str:
    return (
        f"the page was not loaded within web.page_timeout_s={options.page_timeout_s:g} s "
        f"(still waiting for {url}); raise it for slow sites"
    )
