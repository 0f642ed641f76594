"""LLM generation throughput against an endpoint with a fixed latency, as a remote API or a
vLLM server behaves: samples per second against the ideal, limit / latency / requests per
sample, at the default in-flight limit (64) and at the old fixed 4, in the same run.

    .venv/bin/python benchmarks/throughput.py [--samples 256] [--latency 0.5] [--limit 64]

The endpoint is the tests' fake OpenAI-compatible server (tests/fake_openai.py) on 127.0.0.1,
which answers every task with a valid reply after `--latency` seconds. Samples are the windows
of examples/, repeated; the generate stage runs them in its batches, as a job's worker does.
A third run makes the server answer 429 above 16 requests in flight: the adaptive limit must
settle under it and keep the throughput near 16 / latency / requests per sample.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from dataclasses import replace
from pathlib import Path

from curate.core.config import GeneratorOptions, LLMOptions, RenderOptions, SampleOptions
from curate.schemas import PageRecord, SampleRecord
from curate.stages.generators.stage import GenerateQA
from curate.stages.samples import assemble_sample, plan_windows
from curate.stages.sources import render_document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fake_openai import FakeOpenAI  # noqa: E402  (the tests' endpoint, started here)


def samples(count: int) -> list[SampleRecord]:
    """The windows of examples/, repeated to `count` (each with its own id)."""
    windows = []
    for pdf in sorted((ROOT / "examples").glob("*.pdf")):
        pages = [
            p for p in render_document(str(pdf), RenderOptions(dpi=72)) if isinstance(p, PageRecord)
        ]
        for start, end in plan_windows(len(pages), SampleOptions()):
            windows.append(assemble_sample(pages[start:end], SampleOptions()))
    return [
        replace(windows[i % len(windows)], sample_id=f"{windows[i % len(windows)].sample_id}-{i}")
        for i in range(count)
    ]


def serve(latency: float, overloaded_above: int, address, stop) -> None:
    """The fake endpoint, in its own process: its threads do not compete for this one's GIL."""
    with FakeOpenAI() as fake:
        fake.latency_s, fake.overloaded_above = latency, overloaded_above
        address.put(fake.base_url)
        stop.wait()


def measure(items: list[SampleRecord], latency: float, limit: int, overloaded_above: int = 0):
    """(samples per second, requests per sample, most requests in flight from this worker)."""
    context = multiprocessing.get_context("spawn")
    address, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(latency, overloaded_above, address, stop))
    server.start()
    try:
        llm = LLMOptions(
            base_url=address.get(timeout=60), model="fake-model", concurrency=limit, max_retries=8
        )
        stage = GenerateQA(GeneratorOptions(backend="llm", llm=llm))
        stage.setup()
        gate = stage.generator.client._slots
        size = stage.resources().batch_size
        requests = 0
        started = time.monotonic()
        try:
            for first in range(0, len(items), size):
                for outcomes in stage.process_batch(items[first : first + size]):
                    for outcome in [] if isinstance(outcomes, Exception) else outcomes:
                        usage = getattr(getattr(outcome, "item", None), "llm_usage", None)
                        requests += usage.requests if usage else 0
        finally:
            stage.teardown()
        seconds = time.monotonic() - started
    finally:
        stop.set()
        server.join(10)
    return len(items) / seconds, requests / len(items), gate.limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=64)
    args = parser.parse_args()
    items = samples(args.samples)
    print(f"{len(items)} samples, endpoint latency {args.latency:g} s per reply")
    print(f"{'in-flight limit':>24} {'samples/s':>10} {'req/sample':>10} {'ideal':>8} {'ratio':>6}")
    rows = [(args.limit, 0), (4, 0), (args.limit, 16)]
    results = {}
    for limit, above in rows:
        # the old limit's rate is steady from the first batch on: a quarter of the samples
        # measures it in a quarter of the time
        some = items if limit == args.limit else items[: max(len(items) // 4, 2 * limit)]
        rate, per_sample, most = measure(some, args.latency, limit, above)
        served = min(limit, above) if above else limit
        ideal = served / args.latency / per_sample
        label = f"{limit}" + (f" (429 above {above})" if above else "")
        results[(limit, above)] = rate
        print(f"{label:>24} {rate:>10.1f} {per_sample:>10.2f} {ideal:>8.1f} {rate / ideal:>6.2f}"
              f"   in-flight limit at the end: {most}")  # fmt: skip
    speedup = results[(args.limit, 0)] / results[(4, 0)]
    print(f"speed-up of {args.limit} over 4 in flight: {speedup:.1f}x")


if __name__ == "__main__":
    main()
