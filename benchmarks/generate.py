"""LLM generation throughput against the embedded SmolLM2 server: concurrency 1 vs 4, cache hits.

    .venv/bin/python benchmarks/generate.py [--samples 4]

Samples come from examples/ (rendered and grouped as `curate run` does). Each configuration
starts with an empty request cache; the last pass re-runs concurrency 4 on its warm cache.
Prints samples/min and completion tokens/s per configuration, then the speedups.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from curate.config import GeneratorOptions, LLMOptions, RenderOptions, SampleOptions
from curate.generators.embedded import MODEL_NAME, EmbeddedServer
from curate.generators.llm import generate_llm_qa
from curate.generators.llm_client import LLMClient
from curate.samples import assemble_sample, plan_windows
from curate.schemas import LLMUsage, PageRecord
from curate.sources import render_document

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def samples(limit: int):
    options = SampleOptions()
    out = []
    for pdf in sorted(EXAMPLES.glob("*.pdf")):
        pages = [
            p for p in render_document(str(pdf), RenderOptions(dpi=72)) if isinstance(p, PageRecord)
        ]
        for start, end in plan_windows(len(pages), options):
            out.append(assemble_sample(pages[start:end], options))
    return out[:limit]


def run(batch, base_url: str, cache_dir: str, concurrency: int) -> tuple[float, LLMUsage, int]:
    options = GeneratorOptions(
        backend="llm",
        llm=LLMOptions(
            base_url=base_url,
            model=MODEL_NAME,
            structured_output="json_object_schema",
            concurrency=concurrency,
            cache_dir=cache_dir,
        ),
    )
    client = LLMClient(options.llm, cache_dir, "json_object_schema")
    total, failed = LLMUsage(), 0
    started = time.perf_counter()

    def one(sample):
        try:
            return generate_llm_qa(sample, client, options).llm_usage
        except Exception:  # counted; the benchmark measures throughput, not quality
            return None

    with ThreadPoolExecutor(concurrency) as pool:
        for usage in pool.map(one, batch):
            if usage is None:
                failed += 1
            else:
                total.add(usage)
    return time.perf_counter() - started, total, failed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    batch = samples(args.samples)
    work = Path(tempfile.mkdtemp(prefix="curate-gen-bench-"))
    results = {}
    try:
        with EmbeddedServer() as server:
            print(f"{len(batch)} samples, {MODEL_NAME} at {server.base_url}")
            for label, concurrency, cache in (
                ("c1", 1, "c1"),
                ("c4", 4, "c4"),
                ("c4-cached", 4, "c4"),
            ):
                seconds, usage, failed = run(batch, server.base_url, str(work / cache), concurrency)
                results[label] = seconds
                print(
                    f"{label:<10} seconds={seconds:7.2f} "
                    f"samples/min={len(batch) / seconds * 60:8.1f} "
                    f"requests={usage.requests:3d} cache_hits={usage.cache_hits:3d} "
                    f"completion_tokens/s={usage.completion_tokens / seconds:7.1f} failed={failed}",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"speedup c4/c1={results['c1'] / results['c4']:.2f} "
        f"cached/uncached={results['c4'] / results['c4-cached']:.1f}"
    )


if __name__ == "__main__":
    main()
