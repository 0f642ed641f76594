"""IFD scoring speed: curate's batched scorer against a Cherry_LLM-style per-sample loop.

    .venv/bin/python benchmarks/score.py [--model .models/smollm2] [--copies 4] [--device cpu]

Both score the same QA turns (template QA on examples/) with the same model and the same token
sequences. The loop does what Cherry_LLM's scripts do: batch size 1, one forward for
instruction+answer and another for the answer alone, full logits. The scores must agree
(max difference printed). Prints turns/s and tokens/s for each, then `ratio=` (batched/loop).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from curate.core.config import GeneratorOptions, RenderOptions, SampleOptions
from curate.schemas import PageRecord
from curate.stages.generators import generate_qa
from curate.stages.samples import assemble_sample, plan_windows
from curate.stages.scoring import Part, ScoringModel, score_samples
from curate.stages.sources import render_document

ROOT = Path(__file__).resolve().parents[1]


def samples(copies: int):
    """Template QA on examples/ with `copies` different seeds, every (question, answer) pair
    kept once: repeated turns would let the scorer's de-duplication inflate its speed."""
    options = SampleOptions()
    out, seen = [], set()
    for seed in range(copies):
        for pdf in sorted((ROOT / "examples").glob("*.pdf")):
            pages = [
                p
                for p in render_document(str(pdf), RenderOptions(dpi=72))
                if isinstance(p, PageRecord)
            ]
            for start, end in plan_windows(len(pages), options):
                sample = generate_qa(
                    assemble_sample(pages[start:end], options),
                    GeneratorOptions(max_qa_per_image=4, seed=seed),
                )
                sample.qa = [q for q in sample.qa if (q.question, q.answer) not in seen]
                seen.update((q.question, q.answer) for q in sample.qa)
                if sample.qa:
                    out.append(sample)
    return out


def cherry_loop(model: ScoringModel, batch) -> tuple[list[float], int]:
    """Batch size 1, separate forwards, full logits: L(A|Q) then L(A) for every turn."""
    scores, tokens = [], 0
    for sample in batch:
        for item in sample.qa:
            losses = []
            for messages in (
                [("user", [Part(item.question, "q")]), ("assistant", [Part(item.answer, "a")])],
                [("user", [Part()]), ("assistant", [Part(item.answer, "a")])],
            ):
                built = model.build_pass(messages)
                ids = torch.tensor([built.ids], device=model.device)
                with torch.inference_mode():
                    logits = model.model(input_ids=ids).logits[0].float()
                positions = [p for p in built.spans["a"] if p > 0]
                log_probs = torch.log_softmax(logits[[p - 1 for p in positions]], dim=-1)
                losses.append(float(-log_probs[range(len(positions)), ids[0, positions]].mean()))
                tokens += len(built.ids)
            scores.append(losses[0] / losses[1])
    return scores, tokens


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(ROOT / ".models" / "smollm2"))
    parser.add_argument("--copies", type=int, default=4, help="template seeds")
    parser.add_argument("--device", default=None)
    parser.add_argument("--batch-tokens", type=int, default=8192)
    args = parser.parse_args()
    model = ScoringModel(args.model, device=args.device, batch_tokens=args.batch_tokens)
    batch = samples(args.copies)
    turns = sum(len(s.qa) for s in batch)
    print(
        f"{len(batch)} samples, {turns} turns, model {args.model} on {model.device} "
        f"({next(model.model.parameters()).dtype})"
    )
    score_samples(model, batch[:1], ["ifd"])  # warm up
    started = time.perf_counter()
    scored = score_samples(model, batch, ["ifd"])
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    loop_scores, tokens = cherry_loop(model, batch)
    loop_s = time.perf_counter() - started
    batched_scores = [q.scores.ifd for s in scored for q in s.qa]
    diff = max(abs(a - b) for a, b in zip(batched_scores, loop_scores, strict=True))
    print(
        f"batched  seconds={batched_s:7.2f} turns/s={turns / batched_s:7.2f} "
        f"tokens/s={tokens / batched_s:9.0f}"
    )
    print(
        f"loop     seconds={loop_s:7.2f} turns/s={turns / loop_s:7.2f} "
        f"tokens/s={tokens / loop_s:9.0f}"
    )
    print(f"max |IFD batched - IFD loop| = {diff:.2e}")
    print(f"ratio={loop_s / batched_s:.2f}")


if __name__ == "__main__":
    main()
