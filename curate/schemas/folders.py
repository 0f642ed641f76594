"""The folders of a curate output and the names of their Parquet shards (docs/schema.md).

Each output a job writes is keyed by the name its records are routed under (`data`, `pages`,
`dropped`, `dropped_pages`, `failures`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShardSpec:
    """Where one kind of output goes: `<output>/<folder>/<prefix>-00000-of-00004.parquet`."""

    folder: str
    prefix: str
    kind: str  # pages | samples | failures


DATA = ShardSpec("data", "train", "samples")
DROPPED = ShardSpec("dropped", "dropped", "samples")
DEAD_LETTER = ShardSpec("dead_letter", "failures", "failures")
PAGES = ShardSpec("pages", "pages", "pages")
DROPPED_PAGES = ShardSpec("dropped_pages", "dropped-pages", "pages")

SHARDS = {  # output name -> its shards
    "data": DATA,
    "pages": PAGES,
    "dropped": DROPPED,
    "dropped_pages": DROPPED_PAGES,
    "failures": DEAD_LETTER,
}
