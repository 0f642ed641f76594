"""Image-score throughput (VFD, mIFD, FFD): curate's batched scorer against a per-sample loop.

    .venv/bin/python benchmarks/score_gpu.py [--shape smolvlm|8b|both] [--samples 16]
        [--loop-samples 4] [--device cuda] [--tokenizer .models/tiny-idefics3]

Models are built from a config with RANDOM weights (nothing is downloaded), in bf16 on a GPU
and float32 on a CPU:
- `smolvlm`: SmolVLM-256M's shape (SigLIP-base/16 at 512 px, SmolLM2-135M text, 64 tokens per
  tile, up to 4x4 tiles plus a global view);
- `8b`: Idefics3-8B's shape (SigLIP-so400m/14 at 364 px, a Llama-3-8B text model, 169 tokens
  per tile), with pages split into at most 2x2 tiles plus a global view (845 tokens a page).
The tokenizer and chat template come from `--tokenizer` (the offline test model's).

Samples are realistic in size: 1 to 4 text-rich page images (A4 at 150 dpi, drawn here),
6 to 12 turns in LLaVAR-2's duo blocks (extractive Q/A, then its self-explain Q/A).

Both sides compute every metric (IFD, VFD, mIFD, FFD) from the same token sequences:
- batched: `score_samples`, as `curate score` runs it;
- loop: what LLaVAR-2's scoring scripts do: batch size 1, one forward per loss, full logits,
  the images through the vision tower on every forward. (Pixel preprocessing is shared with
  the batched side, which flatters the loop.)
The loop runs on the first `--loop-samples` samples only and its rate is scaled per sample.

Prints samples/s, tokens/s (tokens in the sequences scored, images included), model FLOP
utilisation (2 x parameters x tokens processed, attention excluded, over the GPU's dense bf16
peak), `ratio=` (batched samples/s over loop samples/s) and the largest score difference.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import time
from pathlib import Path

import torch

from curate.schemas import ImageData, QAItem, SampleRecord
from curate.stages.scoring import Part, ScoringModel, score_samples
from curate.stages.scoring.random_models import build_random_vlm

ROOT = Path(__file__).resolve().parents[1]
METRICS = ["ifd", "vfd", "mifd", "ffd"]
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12}
WORDS = (
    "harbour cargo volume berth crane terminal tonnage quarterly revenue container vessel "
    "operating margin fiscal report growth capacity throughput dredging channel logistics "
    "warehouse customs tariff freight rail inland port authority annual budget forecast"
).split()


def build(shape: str, tokenizer_dir: str, device: str, batch_tokens: int) -> ScoringModel:
    max_length = {"smolvlm": 16384, "8b": 10240}[shape]
    return build_random_vlm(
        shape, tokenizer_dir, device, max_length=max_length, batch_tokens=batch_tokens
    )


def page(rng: random.Random) -> bytes:
    """An A4 page at 150 dpi with 40 lines of text: a text-rich image of realistic size."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    for line in range(40):
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        draw.text((80, 80 + line * 40), words, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize()


def make_samples(count: int, seed: int = 0) -> list[SampleRecord]:
    rng = random.Random(seed)
    pages = [page(rng) for _ in range(8)]
    samples = []
    for n in range(count):
        images = [ImageData(bytes=rng.choice(pages), path="") for _ in range(rng.randint(1, 4))]
        qa = []
        for _ in range(rng.randint(3, 6)):  # duo blocks: 6 to 12 turns
            index = rng.randrange(len(images))
            qa.append(
                QAItem(
                    kind="extractive",
                    question=sentence(rng, 6, 14) + "?",
                    answer=sentence(rng, 2, 8) + ".",
                    image_index=index,
                )
            )
            qa.append(
                QAItem(
                    kind="self_explain",
                    question="Explain how the page supports that answer.",
                    answer=sentence(rng, 20, 45) + ".",
                    image_index=index,
                )
            )
        samples.append(
            SampleRecord(
                sample_id=f"s{n}",
                doc_id="bench",
                source_uri="bench",
                source_sha256="",
                source_type="pdf",
                page_ids=[f"p{i}" for i in range(len(images))],
                page_indices=list(range(len(images))),
                images=images,
                image_sizes=[(1240, 1754)] * len(images),
                image_blocks=[[] for _ in images],
                qa=qa,
            )
        )
    return samples


class Meter:
    """Tokens and FLOPs of every forward the model runs (hooks on the text and vision parts)."""

    def __init__(self, model: ScoringModel):
        inner = model.model.model
        self.text_params = sum(p.numel() for p in inner.text_model.parameters()) - sum(
            p.numel() for p in inner.text_model.get_input_embeddings().parameters()
        )
        self.vision_params = sum(p.numel() for p in inner.vision_model.parameters())
        self.head = model.model.lm_head.weight.numel()
        self._other_flops = 0.0
        self.reset()
        inner.text_model.register_forward_hook(self._text, with_kwargs=True)
        inner.vision_model.register_forward_hook(self._vision, with_kwargs=True)
        model.model.register_forward_hook(self._logits)

    def _text(self, module, args, kwargs, out):
        embeds = kwargs["inputs_embeds"]  # this forward's tokens; the cached prefix is not rerun
        mask, width = kwargs.get("attention_mask"), embeds.shape[1]
        # summed on the device and read at the end: a read here would stall the GPU queue
        self._pending.append(
            mask[:, -width:].sum() if mask is not None else embeds.shape[0] * width
        )

    @property
    def tokens(self) -> int:
        return int(sum(int(t) for t in self._pending))

    def reset(self) -> None:
        self._pending: list = []

    @property
    def flops(self) -> float:
        return 2 * self.text_params * self.tokens + self._other_flops

    def _vision(self, module, args, kwargs, out):
        pixels = kwargs["pixel_values"]
        patches = pixels.shape[0] * (pixels.shape[-1] // module.config.patch_size) ** 2
        self._other_flops += 2 * self.vision_params * patches

    def _logits(self, module, args, out):
        self._other_flops += 2 * self.head * out.logits.shape[0] * out.logits.shape[1]


def nll(model: ScoringModel, built, span: str) -> float | None:
    """One loss the loop's way: batch size 1, the whole sequence, full logits."""
    if built.note:
        return None
    ids = torch.tensor([built.ids], device=model.device)
    inputs = {k: v.to(model.device) for k, v in built.image_inputs.items()}
    with torch.inference_mode():
        logits = model.model(input_ids=ids, attention_mask=torch.ones_like(ids), **inputs).logits
    positions = [p for name in span for p in built.spans.get(name, []) if p > 0]
    log_probs = torch.log_softmax(logits[0, [p - 1 for p in positions]].float(), dim=-1)
    return float(-log_probs[range(len(positions)), ids[0, positions]].mean())


def loop_scores(model: ScoringModel, samples: list[SampleRecord]) -> list[dict]:
    """Per turn: IFD, VFD, mIFD and FFD with one forward per loss (LLaVAR-2's way)."""
    out = []
    for sample in samples:
        images = [image.bytes for image in sample.images]
        for index, item in enumerate(sample.qa):
            q, a = Part(item.question, "q"), Part(item.answer, "a")
            direct = model.build_pass([("user", [q]), ("assistant", [a])])
            alone = model.build_pass([("user", [Part()]), ("assistant", [a])])
            seen = model.build_pass([("user", [Part(images=True), q]), ("assistant", [a])], images)
            a_q, a_only = nll(model, direct, "a"), nll(model, alone, "a")
            qa_i, qa_only = nll(model, seen, "qa"), nll(model, direct, "qa")
            ifd = a_q / a_only if a_q is not None and a_only else None
            vfd = qa_i / qa_only if qa_i is not None and qa_only else None
            ffd = None
            previous = sample.qa[index - 1] if index else None
            if item.kind == "self_explain" and previous and previous.kind == "extractive":
                duo = model.build_pass(
                    [
                        ("user", [Part(images=True), Part(previous.question)]),
                        ("assistant", [Part(previous.answer)]),
                        ("user", [q]),
                        ("assistant", [a]),
                    ],
                    images,
                )
                s_duo = nll(model, duo, "qa")
                ffd = s_duo / qa_i if s_duo is not None and qa_i else None
            mifd = ifd * vfd if ifd is not None and vfd is not None else None
            out.append({"ifd": ifd, "vfd": vfd, "mifd": mifd, "ffd": ffd})
    return out


def measure(model: ScoringModel, meter: Meter, run) -> tuple[float, int, float, object]:
    if model.device.startswith("cuda"):
        torch.cuda.synchronize()
    meter._other_flops = 0.0
    meter.reset()
    started = time.perf_counter()
    result = run()
    if model.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - started, meter.tokens, meter.flops, result


def bench(shape: str, args) -> None:
    model = build(shape, args.tokenizer, args.device, args.batch_tokens)
    meter = Meter(model)
    samples = make_samples(args.samples)
    loop_part = samples[: args.loop_samples]
    peak = next((v for k, v in PEAK_BF16.items() if k in _device_name(args.device)), None)
    params = sum(p.numel() for p in model.model.parameters()) / 1e9
    print(
        f"\n[{shape}] {params:.2f}B parameters on {_device_name(args.device)}, "
        f"{len(samples)} samples, {sum(len(s.qa) for s in samples)} turns, "
        f"{sum(len(s.images) for s in samples)} images"
    )
    score_samples(model, samples[:1], METRICS)  # warm-up: kernels, allocator
    loop_scores(model, samples[:1])
    rows = {}
    for name, run, count in (
        ("batched", lambda: score_samples(model, samples, METRICS), len(samples)),
        ("loop", lambda: loop_scores(model, loop_part), len(loop_part)),
    ):
        seconds, tokens, flops, result = measure(model, meter, run)
        rows[name] = (count / seconds, result)
        mfu = f"{flops / seconds / peak * 100:5.1f}%" if peak else "  n/a"
        print(
            f"{name:8} samples/s={count / seconds:8.3f} tokens/s={tokens / seconds:10.0f} "
            f"TFLOP/s={flops / seconds / 1e12:7.1f} MFU={mfu} ({seconds:.1f} s, {count} samples)"
        )
    batched = [
        {m: getattr(q.scores, m) for m in METRICS}
        for s in rows["batched"][1][: len(loop_part)]
        for q in s.qa
    ]
    differences = [
        abs(b[m] - a[m])
        for b, a in zip(batched, rows["loop"][1], strict=True)
        for m in METRICS
        if b[m] is not None and a[m] is not None and math.isfinite(b[m]) and math.isfinite(a[m])
    ]
    missing = sum(1 for b in batched for m in ("ifd", "vfd", "mifd") if b[m] is None)
    print(
        f"[{shape}] ratio={rows['batched'][0] / rows['loop'][0]:.2f} "
        f"max|batched-loop|={max(differences):.2e} over {len(differences)} scores, "
        f"unscored IFD/VFD/mIFD={missing}"
    )
    if args.device.startswith("cuda"):
        torch.cuda.empty_cache()


def _device_name(device: str) -> str:
    return torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shape", choices=["smolvlm", "8b", "both"], default="both")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--loop-samples", type=int, default=4)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-tokens", type=int, default=32768)
    parser.add_argument("--tokenizer", default=str(ROOT / ".models" / "tiny-idefics3"))
    args = parser.parse_args()
    if args.device == "cpu" and args.shape != "smolvlm":
        print("8b shape skipped on CPU (it needs a GPU); running the smolvlm shape only")
        args.shape = "smolvlm"
    for shape in ("smolvlm", "8b") if args.shape == "both" else (args.shape,):
        bench(shape, args)


if __name__ == "__main__":
    main()
