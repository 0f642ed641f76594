"""A local worker process: Beam's SDK harness, which exits as soon as its work is done.

`curate run --workers N` starts N of these (`python -m curate.runners.beam.worker`) in place of
Beam's own `apache_beam.runners.worker.sdk_worker_main`. The work is the same; only the end
differs. When the harness returns, every bundle is finished, every DoFn torn down and the log
channel flushed, yet Python would then spend about 0.45 s tearing down the modules it imported,
and the runner waits for its workers one after another. So the process leaves at once.

It also keeps quiet about the main session it has no use for: Beam warns on every worker start
that it found no staged `__main__` to load, and curate's code never lives in `__main__`.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys

# What FnApiRunner runs for each worker process (a shell command line).
COMMAND = f"{shlex.quote(sys.executable)} -m curate.runners.beam.worker"


def main() -> None:
    from apache_beam.runners.worker import sdk_worker_main

    # Ctrl-C in a terminal reaches every process of the job: the runner stops its workers
    # itself (launch.stop_local_workers), so a worker does not die on it with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger(sdk_worker_main.__name__).addFilter(
        lambda record: "semi_persistent_directory" not in record.getMessage()
    )
    sdk_worker_main.main(sys.argv)  # raises (a non-zero exit) if the harness failed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
