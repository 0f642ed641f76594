"""OCR engines against the text layer of real PDFs, and what `--ocr auto` saves end to end.

    .venv/bin/python benchmarks/ocr.py [--pages 10] [--dpi 144]

Pages of PDFs that have a text layer (examples/ plus ../shared/corpus/pdf when present) are
rendered to images and OCR'd; the text layer is the reference. Per engine it prints the mean
character error rate (CER; whitespace removed, both sides in reading order), pages/s with 1 and
2 worker processes (threads = cores / processes), and peak resident memory of a worker.
`rapidocr-onnxruntime` (PP-OCRv4), the package curate does not use, is measured beside the
default `rapidocr` (PP-OCRv6 small) to show why. Last, `curate run` on a mixed corpus (text PDFs
plus scans) with --ocr always vs --ocr auto, and the speedup.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pymupdf
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "pdf"


def reference_pages(limit: int, dpi: int) -> list[tuple[bytes, str]]:
    from curate.core.config import RenderOptions
    from curate.stages.sources import render_document

    docs = sorted((ROOT / "examples").glob("*.pdf")) + (
        sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
    )
    pages = []
    per_doc = max(1, limit // len(docs) + 1)
    for doc in docs:
        for page in list(render_document(str(doc), RenderOptions(dpi=dpi)))[:per_doc]:
            pages.append((page.image.bytes, page.text))
    return pages[:limit]


def cer(hypothesis: str, reference: str) -> float:
    hyp, ref = "".join(hypothesis.split()), "".join(reference.split())
    return Levenshtein.distance(hyp, ref) / max(1, len(ref))


def _work(args):
    engine_name, chunk, threads = args
    if engine_name == "rapidocr-onnxruntime":
        from rapidocr_onnxruntime import RapidOCR

        from curate.stages.ocr.page import decode_rgb

        engine = RapidOCR(use_cls=False, intra_op_num_threads=threads)
        texts = []
        for png in chunk:
            lines = engine(decode_rgb(png, 10**9), use_cls=False)[0] or []
            lines.sort(key=lambda r: (round(min(p[1] for p in r[0]) / 8), min(p[0] for p in r[0])))
            texts.append("\n".join(r[1] for r in lines))
    else:
        from curate.core.config import OcrOptions
        from curate.schemas import ImageData, PageRecord
        from curate.stages.ocr import load_engine, ocr_page

        options = OcrOptions(engine=engine_name, threads=threads, rotation="never")
        engine = load_engine(options)
        texts = []
        for png in chunk:
            page = PageRecord(
                "b-0",
                "b",
                "/b",
                "0",
                "pdf",
                0,
                1,
                144,
                0,
                0,
                ImageData(png, "b-0.png"),
                needs_ocr=True,
            )
            texts.append(ocr_page(page, engine, options).text)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return texts, peak_mb


def measure(
    engine: str, pages: list[tuple[bytes, str]], processes: int
) -> tuple[float, float, float]:
    """(pages/s, mean CER, peak MB of a worker); model loading is outside the timing."""
    cores = len(os.sched_getaffinity(0))
    threads = max(1, cores // processes)
    chunks = [[png for png, _ in pages[i::processes]] for i in range(processes)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(processes) as pool:
        pool.map(_work, [(engine, [pages[0][0]], threads)] * processes)  # warm: load models
        started = time.perf_counter()
        results = pool.map(_work, [(engine, chunk, threads) for chunk in chunks])
        seconds = time.perf_counter() - started
    texts = [None] * len(pages)
    for i, (chunk_texts, _) in enumerate(results):
        texts[i::processes] = chunk_texts
    errors = [cer(text, ref) for text, (_, ref) in zip(texts, pages, strict=True)]
    return len(pages) / seconds, float(np.mean(errors)), max(peak for _, peak in results)


def available(engine: str) -> bool:
    if engine == "tesseract":
        return shutil.which("tesseract") is not None
    module = {
        "rapidocr": "rapidocr",
        "rapidocr-onnxruntime": "rapidocr_onnxruntime",
        "paddleocr": "paddleocr",
    }[engine]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def end_to_end(dpi: int) -> None:
    """curate run over text PDFs + scans: --ocr always vs auto, same inputs."""
    from curate.core.config import PipelineConfig
    from curate.jobs import Inputs, plan_job, run_job

    work = Path(tempfile.mkdtemp(prefix="curate-ocr-bench-"))
    try:
        inputs = [str(p) for p in sorted((ROOT / "examples").glob("*.pdf"))]
        for i, pdf in enumerate(sorted((ROOT / "examples").glob("*.pdf"))[:1]):
            scan = pymupdf.open()
            for page in pymupdf.open(pdf):
                target = scan.new_page(width=page.rect.width, height=page.rect.height)
                target.insert_image(target.rect, stream=page.get_pixmap(dpi=dpi).tobytes("png"))
            scan.save(work / f"scan-{i}.pdf")
            inputs.append(str(work / f"scan-{i}.pdf"))
        timings = {}
        for mode in ("always", "auto"):
            config = PipelineConfig.model_validate({"render": {"dpi": dpi}, "ocr": {"mode": mode}})
            started = time.perf_counter()
            report = run_job(plan_job("run", Inputs(tuple(inputs)), str(work / mode), config))
            timings[mode] = time.perf_counter() - started
            print(
                f"e2e --ocr {mode:<6} pages={report.counters.get('pages', 0)} "
                f"ocr_pages={report.counters.get('pages.ocr', 0)} seconds={timings[mode]:.1f}",
                flush=True,
            )
        print(f"e2e speedup auto/always={timings['always'] / timings['auto']:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--dpi", type=int, default=144)
    parser.add_argument("--engines", default="rapidocr,rapidocr-onnxruntime,tesseract,paddleocr")
    args = parser.parse_args()
    pages = reference_pages(args.pages, args.dpi)
    print(f"{len(pages)} pages at {args.dpi} DPI, {len(os.sched_getaffinity(0))} cores")
    print(f"{'engine':<22} {'CER':>6} {'p/s x1':>7} {'p/s x2':>7} {'peak MB':>8}")
    for engine in args.engines.split(","):
        if not available(engine):
            print(f"{engine:<22} not installed, skipped")
            continue
        one, error, peak = measure(engine, pages, 1)
        two, _, peak2 = measure(engine, pages, 2)
        print(
            f"{engine:<22} {error:6.3f} {one:7.2f} {two:7.2f} {max(peak, peak2):8.0f}", flush=True
        )
    end_to_end(args.dpi)


if __name__ == "__main__":
    main()
