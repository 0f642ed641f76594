"""What a stage finished for one item, kept in the output folder so a killed run resumes.

A run's results land in its output only when it finishes (writers/claim.py), so a run killed
after hours would start over. Stages whose work on an item is expensive and depends only on
the item and their options (rendering a document) stream each item's outcomes through a
`Checkpoint`: they are pickled to a file as they are yielded, and the file gets its final
name only when the item is complete, which is the completion marker (as in datatrove). The
next run into the same output replays complete items instead of redoing them; the job
removes the checkpoints once its results are committed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from curate.io import storage

CHECKPOINT_FOLDER = ".curate-checkpoint"


class Checkpoint:
    """One stage's completed items under `folder`, by key; `folder=None` keeps nothing."""

    def __init__(self, folder: str | None, version: str):
        self.folder, self.version = folder, version

    def key(self, *identity: object) -> str | None:
        """A key for an item from what determines the stage's outcomes for it; None (not
        kept) when the identity has an unknown part."""
        if self.folder is None or any(part is None for part in identity):
            return None
        text = "\x1f".join([self.version, *map(str, identity)])
        return hashlib.sha256(text.encode()).hexdigest()

    def replay(self, key: str | None) -> Iterator[Any] | None:
        """The outcomes kept for `key`, one at a time, or None when the item is not complete."""
        if key is None:
            return None
        path = self._path(key)
        if not storage.exists(path):
            return None
        return self._read(path)

    def record(self, key: str | None, outcomes: Iterable[Any]) -> Iterator[Any]:
        """`outcomes`, passed through and kept; complete only when they are exhausted."""
        if key is None:
            yield from outcomes
            return
        path = self._path(key)
        storage.makedirs(os.path.dirname(path) if storage.is_local(path) else self.folder)
        partial = f"{path}.{uuid.uuid4().hex}.partial"
        try:
            with storage.open_file(partial, "wb") as handle:
                for outcome in outcomes:
                    pickle.dump(outcome, handle, protocol=pickle.HIGHEST_PROTOCOL)
                    yield outcome
            if storage.is_local(path):
                os.replace(partial, path)
            else:
                storage.move(partial, path)
        finally:
            if storage.exists(partial):
                storage.remove(partial)

    def _path(self, key: str) -> str:
        return storage.join(self.folder, key[:2], key)

    @staticmethod
    def _read(path: str) -> Iterator[Any]:
        with storage.open_file(path, "rb") as handle:
            while True:
                try:
                    yield pickle.load(handle)
                except EOFError:
                    return


def local_file_identity(uri: str) -> tuple[str, int, int] | None:
    """(path, size, modification time) of a local file: a changed file is a new item. None
    for anything else (a URL's content may change between runs)."""
    if not storage.is_local(uri):
        return None
    try:
        stat = os.stat(storage.normalize_uri(uri))
    except OSError:
        return None
    return (storage.normalize_uri(uri), stat.st_size, stat.st_mtime_ns)
