"""Beam `FileSystem`s backed by fsspec, so Beam's I/O (fileio.MatchAll) sees curate's schemes.

curate's own reads and writes go through fsspec (`curate.io.storage`); Beam lists inputs through its
`FileSystems` registry. Local paths, gs:// and s3:// are native to Beam (with the gcp/aws
extras). This module adds fsspec's `memory://`, which needs no network, so the tests can run a
whole job on a filesystem that is not the local disk. Beam finds a FileSystem subclass once its
module is imported; `curate.runners.beam` imports this one.
"""

from __future__ import annotations

import posixpath

from apache_beam.io.filesystem import BeamIOError, CompressionTypes, FileMetadata, FileSystem

from curate.io import storage


class FsspecFileSystem(FileSystem):
    """A Beam FileSystem that delegates to the fsspec filesystem of `SCHEME`."""

    SCHEME = ""

    @classmethod
    def scheme(cls):
        return cls.SCHEME

    def _fs(self):
        return storage.url_to_fs(f"{self.SCHEME}://")[0]

    def _uri(self, path: str) -> str:
        return (
            path if path.startswith(f"{self.SCHEME}://") else f"{self.SCHEME}://{path.lstrip('/')}"
        )

    def _path(self, uri: str) -> str:
        return storage.url_to_fs(uri)[1]

    def join(self, basepath, *paths):
        return posixpath.join(basepath, *paths)

    def split(self, path):
        head, tail = posixpath.split(path)
        return head, tail

    def has_dirs(self):
        return True

    def mkdirs(self, path):
        self._fs().makedirs(self._path(path), exist_ok=True)

    def _list(self, dir_or_prefix):
        fs = self._fs()
        for found, info in fs.find(self._path(dir_or_prefix), detail=True).items():
            yield FileMetadata(self._uri(found), int(info.get("size") or 0))

    def create(
        self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO
    ):
        return self._fs().open(self._path(path), "wb")

    def open(
        self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO
    ):
        return self._fs().open(self._path(path), "rb")

    def copy(self, source_file_names, destination_file_names):
        for source, target in zip(source_file_names, destination_file_names, strict=True):
            self._fs().copy(self._path(source), self._path(target))

    def rename(self, source_file_names, destination_file_names):
        for source, target in zip(source_file_names, destination_file_names, strict=True):
            self._fs().mv(self._path(source), self._path(target))

    def exists(self, path):
        return self._fs().exists(self._path(path))

    def size(self, path):
        return int(self._fs().size(self._path(path)))

    def last_updated(self, path):
        return 0.0

    def checksum(self, path):
        return str(self.size(path))

    def metadata(self, path):
        if not self.exists(path):
            raise BeamIOError("metadata failed", {path: FileNotFoundError(path)})
        return FileMetadata(path, self.size(path))

    def delete(self, paths):
        for path in paths:
            self._fs().rm(self._path(path), recursive=True)


class MemoryFileSystem(FsspecFileSystem):
    """fsspec's in-process `memory://` filesystem (tests; single-process local runs only)."""

    SCHEME = "memory"
