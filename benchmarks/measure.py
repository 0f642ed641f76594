"""Shared by the benchmarks: run a command and sample the peak RSS of its whole process tree."""

from __future__ import annotations

import subprocess
import time

import psutil


def run_with_peak_rss(command: list[str], interval_s: float = 0.1) -> tuple[float, float]:
    """(seconds, peak RSS in MB summed over the process and its children); exits on failure."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(interval_s)
    if process.returncode:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command[2:])}")
    return time.perf_counter() - started, peak / 2**20
