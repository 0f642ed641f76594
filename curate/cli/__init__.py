"""The `curate` command line: one subcommand per stage, plus `run` for the whole job.

Commands only map flags to a config and hand it to `curate.jobs`; one module per group:
`pipeline.py` (run, render, ocr, generate), `scoring.py` (score, filter, models) and
`outputs.py` (inspect, report, export). `job.py` runs a job and prints its report.
"""

import importlib

from curate.cli.app import app

for _group in ("pipeline", "scoring", "outputs"):  # each adds its commands, in --help's order
    importlib.import_module(f"curate.cli.{_group}")

__all__ = ["app"]
