"""Rendered pixels to PNG bytes and a perceptual hash on helper threads, so a worker renders and
reads the next pages while the last ones are compressed.

PNG encoding is most of the cost of rendering a page (about 97% of a bare PyMuPDF loop), and
MuPDF's own writer holds the GIL while it encodes. OpenCV's writer lets go of it. With no row
filter and zlib level 5 it writes the same pixels as MuPDF, in files within 1% of their size on
the examples and the shared corpus, 15 to 20% faster (docs/performance.md, "PNG encoding off
the GIL"). So does the hash (curate/core/fingerprints.py).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

import cv2
import numpy as np

from curate.core.fingerprints import perceptual_hash

# zlib level: 4 and up use lazy matching (MuPDF-sized files); 1 to 3 are twice as fast but
# write files up to 55% larger on flat, generated pages.
LEVEL = 5
_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, LEVEL, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
THREADS = 2  # helper threads per process, next to the threads that render
# Pixels held for the helpers per document: about 5 letter pages at 144 dpi. A larger page
# (up to render.max_pixels_per_page, 120 MB) waits alone, so memory stays what one page needs.
IN_FLIGHT_BYTES = 32 * 2**20
Finished = tuple[bytes, str | None]  # (PNG bytes, perceptual hash or None)
T = TypeVar("T")


def pixels(samples: memoryview, width: int, height: int, channels: int, stride: int) -> np.ndarray:
    """A pixmap's samples as an array OpenCV writes as it is: a copy, in BGR order for colour,
    so it outlives the pixmap and the helper threads never call into MuPDF."""
    rows = np.frombuffer(samples, np.uint8).reshape(height, stride)[:, : width * channels]
    if channels == 1:
        return rows.copy()
    if channels == 3:
        return cv2.cvtColor(rows.reshape(height, width, 3), cv2.COLOR_RGB2BGR)
    raise ValueError(f"cannot write a pixmap with {channels} channels as PNG")


def png(image: np.ndarray) -> bytes:
    """PNG bytes of an array from `pixels()`."""
    ok, data = cv2.imencode(".png", image, _OPTIONS)
    if not ok:
        raise ValueError("OpenCV could not encode the page as PNG")
    return data.tobytes()


def finish(image: np.ndarray, hash_method: str | None) -> Finished:
    """The PNG bytes and perceptual hash of an array from `pixels()`."""
    return png(image), hash_method and perceptual_hash(image, hash_method)


@functools.cache
def _helpers() -> ThreadPoolExecutor:
    """The process's helper threads, shared by its documents. A pool per document made new
    threads, and with them new malloc arenas: 150 MB more per worker of a 2-worker job."""
    return ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="curate-encode")


class PageEncoder(Generic[T]):
    """One document's pages on the helper threads. `add` hands a page's pixels over;
    `finished` gives pages back in the order they were added, each with its `finish(...)`
    result or the error it raised, once more than IN_FLIGHT_BYTES of pixels are held (or all
    of them, at the end)."""

    def __enter__(self) -> PageEncoder[T]:
        self._pool = _helpers()
        self._queue: deque[tuple[T, Future[Finished], int]] = deque()
        self._held = 0
        return self

    def __exit__(self, *exc) -> None:
        """Pages not taken (a document stopped early) are cancelled or waited for."""
        for _, result, _ in self._queue:
            result.cancel()
        for _, result, _ in self._queue:
            if not result.cancelled():
                result.exception()

    def add(self, page: T, image: np.ndarray, hash_method: str | None) -> None:
        self._queue.append((page, self._pool.submit(finish, image, hash_method), image.nbytes))
        self._held += image.nbytes

    def finished(self, everything: bool = False) -> Iterator[tuple[T, Finished | Exception]]:
        while self._queue and (everything or self._held > IN_FLIGHT_BYTES):
            page, result, nbytes = self._queue.popleft()
            self._held -= nbytes
            try:
                yield page, result.result()
            except Exception as err:  # the caller reports the page as failed
                yield page, err
