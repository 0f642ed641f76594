"""Checks every file source makes before reading an input."""

from __future__ import annotations

from curate.core.config import RenderOptions
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas.reasons import FailureReason


def check_input_file(uri: str, options: RenderOptions) -> None:
    """Raise ItemFailed when the input is missing or larger than render.max_file_mb."""
    try:
        size = storage.file_size(uri)
    except FileNotFoundError:
        raise ItemFailed(FailureReason.FILE_NOT_FOUND, "the input does not exist") from None
    if size > options.max_file_mb * 2**20:
        detail = f"{size / 2**20:.1f} MB exceeds render.max_file_mb={options.max_file_mb:g}"
        raise ItemFailed(FailureReason.FILE_TOO_LARGE, detail)
