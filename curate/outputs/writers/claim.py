"""One run at a time per output folder, and an output that is either complete or untouched.

A run takes a lock file in its (local) output folder, refusing to start while another live
run holds it, and writes into a staging folder beside its results. Only when the run has
finished are the staged results moved into place, the manifest last: a run that is killed
leaves the previous results and their manifest as they were, and a folder with a manifest is
always a complete run. The LLM request cache is not staged, so a killed run's calls are reused.

Remote outputs (gs://, s3://) have no atomic rename or lock; they are written in place.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from curate.core.config import ConfigError
from curate.io import storage
from curate.outputs.writers.manifest import MANIFEST_NAME

LOCK_NAME = ".curate.lock"
STAGING_PREFIX = ".curate-staging-"
# what a run writes; an earlier run's of these are replaced as a whole, nothing else is touched
RESULTS = ("data", "dropped", "dead_letter", "pages", "dropped_pages", MANIFEST_NAME)


@contextmanager
def claim_output(
    output: str, replaces: Iterable[str] = RESULTS, last: str = MANIFEST_NAME
) -> Iterator[str]:
    """Lock `output` and yield the folder to write into; on a normal exit, commit it: the
    names in `replaces` (what the previous output wrote) are deleted, the staged ones moved
    in, `last` (the record saying what the folder holds) last of all."""
    if not storage.is_local(output):
        yield output
        return
    _check_writable(output)
    lock = os.path.join(output, LOCK_NAME)
    _take_lock(lock, output)
    staging = _staging_of(output)
    try:
        _remove_dead_staging(output)
        os.makedirs(staging)
        yield staging
        _commit(staging, output, replaces, last)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _release(lock)


def discard_staging(output: str, tries: int = 25) -> None:
    """Remove this process's staging folder after Ctrl-C: the runner's threads may still
    write into it for a moment, so try for up to five seconds (on a loaded machine, one second
    left a folder behind: CI, the Ctrl-C test); a later run removes what is left."""
    if not storage.is_local(output):
        return
    staging = _staging_of(storage.normalize_uri(output))
    for _ in range(tries):
        shutil.rmtree(staging, ignore_errors=True)
        if not os.path.exists(staging):
            return
        time.sleep(0.2)


def _staging_of(output: str) -> str:
    """This process's staging folder inside `output`."""
    return os.path.join(output, f"{STAGING_PREFIX}{os.getpid()}")


def _check_writable(output: str) -> None:
    """Refuse a folder this process cannot write before any work is done."""
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the output folder {output}: {err.strerror}") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise ConfigError(
            f"the output folder {output} is not writable; choose another --output or fix its "
            "permissions"
        )


def _take_lock(lock: str, output: str) -> None:
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder is not None and _alive(holder):
                raise ConfigError(
                    f"another curate run (pid {holder}) is writing to {output}; wait for it to "
                    "finish or choose another --output"
                ) from None
            _release(lock)  # left by a run that was killed
            continue
        except OSError as err:
            raise ConfigError(f"cannot write to the output folder {output}: {err}") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        return
    raise ConfigError(f"could not lock {output}: {lock} keeps reappearing")


def _holder(lock: str) -> int | None:
    try:
        with open(lock) as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process already runs a job into the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _release(lock: str) -> None:
    try:
        os.remove(lock)
    except FileNotFoundError:
        pass


def _remove_dead_staging(output: str) -> None:
    for name in os.listdir(output):
        if name.startswith(STAGING_PREFIX):
            pid = name[len(STAGING_PREFIX) :]
            if not (pid.isdigit() and _alive(int(pid))):
                shutil.rmtree(os.path.join(output, name), ignore_errors=True)


def _commit(staging: str, output: str, replaces: Iterable[str], last: str) -> None:
    """Replace the previous results with the staged ones, the record first out, last in."""
    _delete(os.path.join(output, last))
    staged = set(os.listdir(staging))
    for name in replaces:
        if name != last and _plain_name(name):
            _delete(os.path.join(output, name))
    for name in sorted(staged - {last}):
        target = os.path.join(output, name)
        _delete(target)
        os.replace(os.path.join(staging, name), target)
    if last in staged:
        os.replace(os.path.join(staging, last), os.path.join(output, last))


def _plain_name(name: str) -> bool:
    """A name directly inside the output (a record read back from disk could say `../x`)."""
    return bool(name) and name not in (".", "..") and os.sep not in name and "/" not in name


def _delete(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
