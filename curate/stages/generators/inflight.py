"""How many requests a worker keeps in flight to an LLM endpoint: as many as it takes.

A vLLM server wants tens to hundreds of concurrent requests; a rate-limited API or a small
server says no (HTTP 429, or 5xx when overloaded). `AdaptiveLimit` starts at the configured
most, halves the limit each time the endpoint says it is overloaded, and grows it back by one
after each limit's worth of successes (additive increase, multiplicative decrease, as TCP does),
so a run settles just under what the endpoint serves without anyone tuning it.
"""

from __future__ import annotations

import threading


class AdaptiveLimit:
    """A counting gate (`with limit: ...`) whose size adapts between 1 and `most`."""

    def __init__(self, most: int):
        self.most = self.limit = max(1, most)
        self.in_flight = 0
        self._successes = 0
        self._cond = threading.Condition()

    def __enter__(self) -> AdaptiveLimit:
        with self._cond:
            while self.in_flight >= self.limit:
                self._cond.wait()
            self.in_flight += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify()

    def overloaded(self) -> None:
        """The endpoint said it has too much to do: halve the limit."""
        with self._cond:
            self.limit = max(1, self.limit // 2)
            self._successes = 0

    def succeeded(self) -> None:
        """A reply came: after a limit's worth of them, allow one more in flight."""
        with self._cond:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.most:
                self.limit += 1
                self._successes = 0
                self._cond.notify()
