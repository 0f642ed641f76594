"""Which folder a job may write into: curate replaces only what it wrote itself.

A job's output is refused, before any work is done, when
- it is one of the job's inputs or holds one (writing would replace what is being read);
- it lies inside a folder of documents the job reads (the next run would read it back);
- it holds files curate did not write (a folder is curate's when it has curate's record:
  a run's `manifest.json`, an export's `.curate-export.json`);
- it is curate's output of another kind, unless `overwrite` says to replace it.

Remote outputs (gs://, s3://) are only checked against the inputs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from curate.core.checkpoint import CHECKPOINT_FOLDER
from curate.core.config import ConfigError
from curate.io import storage

# names curate leaves in a folder it writes besides its results: a lock, staging folders,
# and what outlives a killed run (the LLM request cache, benchmark indexes, checkpoints to
# resume from)
HOUSEKEEPING = (
    ".curate.lock",
    ".curate-staging-",
    "llm_cache",
    "benchmark_index",
    CHECKPOINT_FOLDER,
)


def input_roots(inputs: Iterable[str]) -> list[str]:
    """The local files and folders the inputs name: a glob stands for the folder it starts
    in; URLs are left out."""
    roots = []
    for uri in inputs:
        if not storage.is_local(uri):
            continue
        path = storage.normalize_uri(uri)
        if any(ch in path for ch in "*?["):
            cut = min(path.index(ch) for ch in "*?[" if ch in path)
            path = os.path.dirname(path[:cut])
        roots.append(os.path.realpath(path))
    return roots


def check_not_an_input(output: str, inputs: Iterable[str], documents: bool = False) -> None:
    """Refuse an output that is an input or holds one, or, when the inputs are folders of
    documents read recursively, lies inside one."""
    if not storage.is_local(output):
        return
    out = os.path.realpath(storage.normalize_uri(output))
    for root in input_roots(inputs):
        if out == root or _inside(root, out):
            raise ConfigError(
                f"the output {output} is or holds the input {root}; writing would replace what "
                "the job reads. Choose an --output outside the inputs"
            )
        if documents and os.path.isdir(root) and _inside(out, root):
            raise ConfigError(
                f"the output {output} is inside the input folder {root}: the next run would "
                "read its files as documents. Choose an --output outside the inputs"
            )


def check_output_folder(output: str, record: str, kind: str, overwrite: bool = False) -> None:
    """Refuse a local folder that holds anything but curate's own output of `kind`.

    `record` is the file curate writes last into such a folder, saying what it holds (a JSON
    object with `kind`); `overwrite` allows replacing curate's output of another kind."""
    if not storage.is_local(output):
        return
    folder = storage.normalize_uri(output)
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise ConfigError(f"the output {output} is a file, not a folder; choose a folder")
        return
    names = [name for name in os.listdir(folder) if not name.startswith(HOUSEKEEPING)]
    if not names:
        return
    held = _recorded_kind(os.path.join(folder, record))
    if held is None:
        listed = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
        raise ConfigError(
            f"the output folder {output} is not empty ({listed}) and was not written by curate "
            f"as {kind}; curate never replaces files it did not write. Choose a new or empty "
            "folder"
        )
    if held != kind and not overwrite:
        raise ConfigError(
            f"the output folder {output} holds curate's {held}, not {kind}; choose another "
            "folder, or pass --overwrite to replace it"
        )


def _recorded_kind(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record.get("kind") if isinstance(record, dict) else None


def _inside(child: str, parent: str) -> bool:
    return child.startswith(parent.rstrip(os.sep) + os.sep)
