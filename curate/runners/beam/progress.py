"""Progress across local worker processes: each finished item appends one byte to a file.

Workers may be separate processes (multi_processing mode), so counting bytes in a shared
folder is the simplest signal the launcher can poll. Used on local runs only.
"""

from __future__ import annotations

import os
import threading


def mark_done(progress_dir: str | None, items: int = 1) -> None:
    if not progress_dir or items <= 0:
        return
    path = os.path.join(progress_dir, f"{os.getpid()}-{threading.get_ident()}")
    with open(path, "ab") as handle:
        handle.write(b"." * items)


def count_done(progress_dir: str) -> int:
    try:
        names = os.listdir(progress_dir)
    except FileNotFoundError:
        return 0
    total = 0
    for name in names:
        try:
            total += os.path.getsize(os.path.join(progress_dir, name))
        except FileNotFoundError:
            pass
    return total
