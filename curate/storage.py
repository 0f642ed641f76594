"""Reading and writing paths through fsspec, so local paths, gs:// and s3:// work the same."""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable, Iterator

import fsspec
from fsspec.core import url_to_fs


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
    return fsspec.open(uri, mode).open()


def file_size(uri: str) -> int:
    fs, path = url_to_fs(uri)
    return int(fs.size(path))


def exists(uri: str) -> bool:
    fs, path = url_to_fs(uri)
    return bool(fs.exists(path))


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
    """Write to a temporary name, then rename: a killed worker never leaves a half file."""
    fs, path = url_to_fs(uri)
    tmp = f"{path}.tmp-{os.getpid()}"
    with fs.open(tmp, "wb") as handle:
        handle.write(data)
    fs.mv(tmp, path)


def glob(pattern: str) -> list[str]:
    fs, path = url_to_fs(pattern)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    found = sorted(fs.glob(path))
    return found if protocol in ("file", "local") else [f"{protocol}://{p}" for p in found]


def expand_inputs(inputs: Iterable[str], extensions: frozenset[str]) -> Iterator[str]:
    """Files named directly, plus supported files under directories and globs, sorted.

    Files named directly are yielded whatever their extension, so an unsupported one gets a
    clear dead-letter row instead of vanishing; directory walks only pick supported types.
    """
    for raw in inputs:
        if raw.startswith(("http://", "https://")):  # a webpage to crawl
            yield raw
            continue
        if raw.endswith(".urls"):  # a file listing URLs, one per line
            with open_file(normalize_uri(raw), "rb") as handle:
                for line in handle.read().decode("utf-8").splitlines():
                    if line.strip() and not line.lstrip().startswith("#"):
                        yield line.strip()
            continue
        uri = normalize_uri(raw)
        fs, path = url_to_fs(uri)
        if any(ch in raw for ch in "*?["):
            yield from (p for p in glob(uri) if _has_extension(p, extensions))
        elif fs.isdir(path):
            for found in sorted(fs.find(path)):
                if _has_extension(found, extensions):
                    yield found if is_local(uri) else f"{uri.split('://')[0]}://{found}"
        else:
            yield uri


def _has_extension(path: str, extensions: frozenset[str]) -> bool:
    return os.path.splitext(path)[1].lower() in extensions


def move(source: str, target: str) -> None:
    fs, path = url_to_fs(source)
    fs.mv(path, url_to_fs(target)[1])


def remove(uri: str) -> None:
    fs, path = url_to_fs(uri)
    if fs.exists(path):
        fs.rm(path, recursive=True)
