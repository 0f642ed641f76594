"""Reading and writing paths through fsspec, so local paths, gs:// and s3:// work the same.

Stage logic never calls `open()` on a path: everything goes through here, so any fsspec
filesystem works, including `memory://`, which the tests use to prove it. Beam reads no
input path itself: listing and reading are stages of the job, which come here too.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fsspec.core import url_to_fs as _url_to_fs

from curate.io.errors import CurateError

# The extra that brings each cloud filesystem, for a clear message when it is missing.
EXTRAS = {
    "gs": "curate[dataflow]",
    "gcs": "curate[dataflow]",
    "s3": "curate[aws]",
    "s3a": "curate[aws]",
}


class StorageError(CurateError, ValueError):
    """A path cannot be used; the message says what to install or change."""


def url_to_fs(uri: str):
    try:
        return _url_to_fs(uri)
    except ImportError as err:
        scheme = uri.split("://", 1)[0]
        extra = EXTRAS.get(scheme)
        hint = (
            f"pip install '{extra}'"
            if extra
            else f"install the fsspec implementation for {scheme}://"
        )
        raise StorageError(f"{scheme}:// paths need an extra package: {hint} ({err})") from None
    except ValueError as err:
        if "Protocol not known" in str(err):
            raise StorageError(
                f"unknown storage scheme in {uri!r}; use a local path, gs://, s3:// or memory://"
            ) from None
        raise


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def normalize_uri(uri: str) -> str:
    """Absolute local paths; remote URIs unchanged."""
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    return os.path.abspath(uri) if is_local(uri) else uri


def join(base: str, *parts: str) -> str:
    return os.path.join(base, *parts) if is_local(base) else posixpath.join(base, *parts)


def open_file(uri: str, mode: str = "rb"):
    fs, path = url_to_fs(uri)
    return fs.open(path, mode)


def file_size(uri: str) -> int:
    fs, path = url_to_fs(uri)
    return int(fs.size(path))


def exists(uri: str) -> bool:
    fs, path = url_to_fs(uri)
    return bool(fs.exists(path))


def isdir(uri: str) -> bool:
    fs, path = url_to_fs(uri)
    return bool(fs.isdir(path))


def makedirs(uri: str) -> None:
    fs, path = url_to_fs(uri)
    fs.makedirs(path, exist_ok=True)


def sha256_of(uri: str, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open_file(uri) as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_bytes_atomic(uri: str, data: bytes) -> None:
    """A reader sees the old file or the whole new one, never a half-written one."""
    with atomic_writer(uri) as handle:
        handle.write(data)


@contextmanager
def atomic_writer(uri: str) -> Iterator:
    """A binary file handle whose content appears at `uri` only when the block ends cleanly.

    Local files go to a temporary name unique to this process and thread, then `os.replace`
    (atomic on POSIX), so concurrent writers of one key never clobber each other's temp file.
    Object stores (gs://, s3://) already make an object visible only once fully uploaded.
    """
    fs, path = url_to_fs(uri)
    if not is_local(uri):
        with fs.open(path, "wb") as handle:
            yield handle
        return
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def glob(pattern: str) -> list[str]:
    fs, path = url_to_fs(pattern)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    found = sorted(fs.glob(path))
    return found if protocol in ("file", "local") else [f"{protocol}://{p}" for p in found]


def list_files(pattern: str) -> list[str]:
    """The files (not folders) a glob matches, `**` recursing, sorted; remote ones as URIs."""
    fs, path = url_to_fs(pattern)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    found = sorted(
        p for p, info in fs.glob(path, detail=True).items() if info.get("type") == "file"
    )
    return found if protocol in ("file", "local") else [f"{protocol}://{p}" for p in found]


def is_pattern(raw: str) -> bool:
    return any(ch in raw for ch in "*?[")


def route_input(raw: str) -> tuple[str, str]:
    """What an input argument is, without listing anything: (kind, uri).

    kinds: `url` (a webpage), `url_list` (a `.urls` file), `pattern` (a glob), `folder` (as
    `folder/**`: every file in it is processed or gets a dead-letter row), `file` (named
    directly, even with `[`, `*` or `?` in its name: kept whatever its extension, so an
    unsupported one gets a clear dead-letter row instead of vanishing).
    """
    if raw.startswith(("http://", "https://")):
        return "url", raw
    uri = normalize_uri(raw)
    if raw.endswith(".urls"):
        return "url_list", uri
    fs, path = url_to_fs(uri)
    if is_pattern(raw) and not fs.isfile(path):  # "report [draft].pdf" is a file, not a glob
        return "pattern", uri
    if fs.isdir(path):
        return "folder", join(uri, "**")
    return "file", uri


def unlistable_folders(folder_pattern: str) -> list[str]:
    """Subfolders of a local `folder/**` input that cannot be listed (no permission, say).
    Listing skips them silently; the runners pass them on so that each gets a dead-letter row."""
    fs, path = url_to_fs(folder_pattern)
    if not is_local(folder_pattern):
        return []
    root = path[: -len("/**")] if path.endswith("/**") else path
    failed: list[str] = []
    for _ in os.walk(root, onerror=lambda err: failed.append(err.filename)):
        pass
    return sorted(failed)


def matches_anything(pattern: str) -> bool:
    """Whether a glob (or `folder/**`) matches at least one file, stopping at the first."""
    fs, path = url_to_fs(pattern)
    if fs.protocol in ("file", "local") or "file" in fs.protocol:
        import glob as _glob

        return any(os.path.isfile(p) for p in _glob.iglob(path, recursive=True))
    return bool(list_files(pattern))


def iter_url_list(uri: str) -> Iterator[str]:
    """The URLs of a `.urls` file, one per line; blank lines and # comments skipped."""
    with open_file(uri, "rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8").strip()
            if line and not line.startswith("#"):
                yield line


def has_extension(path: str, extensions: frozenset[str]) -> bool:
    return os.path.splitext(path)[1].lower() in extensions


def move(source: str, target: str) -> None:
    fs, path = url_to_fs(source)
    fs.mv(path, url_to_fs(target)[1])


def remove(uri: str) -> None:
    fs, path = url_to_fs(uri)
    if fs.exists(path):
        fs.rm(path, recursive=True)
