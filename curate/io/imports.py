"""Import a library without an optional part of it that curate never uses (and that is slow to
load), while leaving that part importable for anyone who wants it later."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without(module: str) -> Iterator[None]:
    """Inside the block, `import module` fails as if it were not installed (libraries treat
    such optional imports as absent), unless it is loaded already. After it, it imports."""
    blocked = module not in sys.modules
    if blocked:
        sys.modules[module] = None
    try:
        yield
    finally:
        if blocked and sys.modules.get(module, ...) is None:
            del sys.modules[module]
