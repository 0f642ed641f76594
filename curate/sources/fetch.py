"""Fetching web resources safely: the SSRF guard, robots.txt, politeness, limits.

Every request the browser makes is fetched here instead (the browser itself never connects),
so each URL and each redirect hop is checked before any connection is made: only http(s), and
no private, loopback, link-local or reserved address unless explicitly allowed.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from curate.config import WebOptions
from curate.schemas import reasons

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


def check_url(url: str, options: WebOptions) -> None:
    """Raise FetchRefused unless `url` is http(s) on a host that resolves to allowed addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(reasons.SSRF_REFUSED, f"only http(s) URLs are fetched, not {parts.scheme}://")
    host = parts.hostname or ""
    if options.allow_private_hosts or host in options.allowed_hosts:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as err:
        raise FetchRefused(reasons.FETCH_ERROR, f"cannot resolve {host}: {err}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if address in options.allowed_hosts:
            continue
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
            raise FetchRefused(
                reasons.SSRF_REFUSED,
                f"{host} resolves to {ip}, a private/loopback/link-local address; "
                "pass --allow-private-hosts for local servers",
            )


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

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET with manual redirects, each hop checked; raises FetchRefused with a reason."""
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.options)
            self._polite(urlsplit(url).netloc)
            try:
                with self._client.stream("GET", url, headers=headers or {}) as reply:
                    if reply.is_redirect and "location" in reply.headers:
                        url = urljoin(url, reply.headers["location"])
                        continue
                    body = bytearray()
                    for chunk in reply.iter_bytes():
                        body += chunk
                        if len(body) > self.options.max_bytes:
                            raise FetchRefused(reasons.FETCH_ERROR, f"larger than web.max_bytes={self.options.max_bytes}")
                    return Fetched(str(reply.url), reply.status_code, dict(reply.headers), bytes(body))
            except httpx.TimeoutException:
                raise FetchRefused(
                    reasons.FETCH_TIMEOUT, f"no answer within {self.options.navigation_timeout_s:g} s: {url}"
                ) from None
            except httpx.HTTPError as err:
                raise FetchRefused(reasons.FETCH_ERROR, f"{type(err).__name__}: {err}") from None
        raise FetchRefused(reasons.FETCH_ERROR, f"more than {MAX_REDIRECTS} redirects")

    def robots_allow(self, url: str) -> bool:
        if not self.options.respect_robots:
            return True
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            parser = urllib.robotparser.RobotFileParser()
            try:
                reply = self.fetch(f"{root}/robots.txt")
                lines = reply.body.decode("utf-8", "replace").splitlines() if reply.status == 200 else []
            except FetchRefused:
                lines = []
            parser.parse(lines)
            self._robots[root] = parser
        return self._robots[root].can_fetch(self.options.user_agent, url)
