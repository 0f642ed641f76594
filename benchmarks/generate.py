"""LLM generation against the embedded SmolLM2 server: what the checks accept and reject on real
documents, and throughput at concurrency 1 and 4.

    .venv/bin/python benchmarks/generate.py [--samples 6] [--dump accepted.json]

Samples are the first window of each PDF and deck in ../shared/corpus (examples/ when absent),
rendered and grouped as `curate run` does. Prints, per task, accepted items and rejections by
reason; the self-explain acceptance rate; the share of cross-image items whose cited facts are
found in two or more images; then samples/min at concurrency 1 and 4 (empty caches) and on a
warm cache. `--dump` writes every accepted item with its page text, to read them yourself.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from curate.core.config import GeneratorOptions, LLMOptions, RenderOptions, SampleOptions
from curate.schemas import LLMUsage, PageRecord, SampleRecord
from curate.stages.generators.embedded import MODEL_NAME, EmbeddedServer
from curate.stages.generators.llm import generate_llm_qa
from curate.stages.generators.llm_client import LLMClient, LLMEndpoint
from curate.stages.samples import assemble_sample, plan_windows
from curate.stages.sources import render_document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
TASK_OF = {
    "caption": "caption",
    "extractive": "extractive",
    "self_explain": "self_explain",
    "cross_image": "cross_image",
}


def samples(limit: int) -> list[SampleRecord]:
    """The first window of each document, round-robin over PDFs and decks, up to `limit`."""
    docs = sorted((CORPUS / "pdf").glob("*.pdf")) + sorted((CORPUS / "slides").glob("*.pptx"))
    docs = docs or sorted((ROOT / "examples").glob("*.pdf"))
    options = SampleOptions()
    out = []
    for doc in docs:
        pages = []
        for item in render_document(str(doc), RenderOptions(dpi=72, max_pages_per_document=8)):
            if isinstance(item, PageRecord) and not item.needs_ocr:
                pages.append(item)
        if pages:
            start, end = plan_windows(len(pages), options)[0]
            out.append(assemble_sample(pages[start:end], options))
        if len(out) >= limit:
            break
    return out


def run(batch, base_url: str, cache_dir: str, concurrency: int):
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
    client = LLMClient(options.llm, LLMEndpoint.configured(options.llm))
    total, results, failed = LLMUsage(), [], 0
    started = time.perf_counter()

    def one(sample):
        try:
            return generate_llm_qa(sample, client, options)
        except Exception as err:  # counted; the run goes on
            return err

    with ThreadPoolExecutor(concurrency) as pool:
        for result in pool.map(one, batch):
            if isinstance(result, Exception):
                failed += 1
                total.add(getattr(result, "usage", LLMUsage()))
            else:
                results.append(result)
                total.add(result.llm_usage)
    return time.perf_counter() - started, total, failed, results


def quality(results: list[SampleRecord]) -> None:
    accepted, rejected = Counter(), {task: Counter() for task in TASK_OF}
    for sample in results:
        accepted.update(q.kind for q in sample.qa)
        for q in sample.rejected_qa:
            rejected[q.kind][q.reject_reason] += 1
    for task in TASK_OF:
        reasons = ", ".join(f"{r}={n}" for r, n in rejected[task].most_common()) or "-"
        print(
            f"  {task:<12} accepted={accepted[task]:<3d} "
            f"rejected={sum(rejected[task].values()):<3d} ({reasons})"
        )
    returned = accepted["self_explain"] + sum(
        n for r, n in rejected["self_explain"].items() if r != "task_failed"
    )
    print(
        f"  self-explain acceptance = {accepted['self_explain']}/{returned}"
        f" = {accepted['self_explain'] / max(returned, 1):.0%}"
    )
    cross = rejected["cross_image"]
    judged = accepted["cross_image"] + sum(
        n for r, n in cross.items() if r not in ("task_failed", "empty_answer")
    )
    two = judged - cross["not_multi_image"]
    print(
        f"  cross-image items citing facts found in 2+ images = {two}/{judged} = "
        f"{two / max(judged, 1):.0%}"
    )


def dump(results: list[SampleRecord], path: Path) -> None:
    items = [
        {
            "source": s.source_uri.rsplit("/", 1)[-1],
            "pages": [i + 1 for i in s.page_indices],
            "kind": q.kind,
            "question": q.question,
            "answer": q.answer,
            "page_text": s.image_texts[q.image_index][:600] if q.image_index >= 0 else "",
        }
        for s in results
        for q in s.qa
    ]
    path.write_text(json.dumps(items, indent=2, ensure_ascii=False))
    print(f"wrote {len(items)} accepted items to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--dump", type=Path, default=None)
    args = parser.parse_args()
    batch = samples(args.samples)
    work = Path(tempfile.mkdtemp(prefix="curate-gen-bench-"))
    timings = {}
    try:
        with EmbeddedServer() as server:
            sources = ", ".join(s.source_uri.rsplit("/", 1)[-1] for s in batch)
            print(f"{len(batch)} samples ({sources}); {MODEL_NAME} at {server.base_url}")
            for label, concurrency, cache in (
                ("c1", 1, "c1"),
                ("c4", 4, "c4"),
                ("c4-cached", 4, "c4"),
            ):
                seconds, usage, failed, results = run(
                    batch, server.base_url, str(work / cache), concurrency
                )
                timings[label] = seconds
                print(
                    f"{label:<10} seconds={seconds:7.2f} "
                    f"samples/min={len(batch) / seconds * 60:8.1f} "
                    f"requests={usage.requests:3d} cache_hits={usage.cache_hits:3d} "
                    f"completion_tokens/s={usage.completion_tokens / seconds:7.1f} failed={failed}",
                    flush=True,
                )
                if label == "c4":
                    quality(results)
                    if args.dump:
                        dump(results, args.dump)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"speedup c4/c1={timings['c1'] / timings['c4']:.2f} "
        f"cached/uncached={timings['c4'] / timings['c4-cached']:.1f}"
    )


if __name__ == "__main__":
    main()
