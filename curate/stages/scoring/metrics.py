"""Difficulty scores with a reference model: IFD, VFD, mIFD = VFD x IFD, and FFD.

L(X | C) is the mean negative log-likelihood of the tokens of X only, given context C, under
the model with its chat template (docs/scoring.md). For a turn (Q, A) with images I, and a
duo of an extractive pair (Qe, Ae) followed by a self-explain pair (Qs, As):

    IFD  = L(A | Q) / L(A)
    VFD  = L(Q+A | I) / L(Q+A)
    mIFD = VFD x IFD
    FFD  = L(Qs+As | I, Qe, Ae) / L(Qs+As | I)

Exactness: every pass is rendered with the chat template and then tokenised piece by piece,
so Q and A are the same token ids in a conditioned pass and its direct pass; truncation may
only cut unscored context from the left, never a scored token. Speed: rows are right-padded
and bucketed by length, several scores share one forward (L(A|Q) and L(Q+A) come from the same
sequence), and logits are computed only at the positions that are scored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from curate.schemas import IMAGE_METRICS, METRICS, QAItem, SampleRecord, Scores
from curate.schemas.reasons import ScoreNote
from curate.stages.scoring.model import Part, Pass, ScoringModel


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0 or math.isnan(numerator):
        return None
    return numerator / denominator


def _mean(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def score_samples(
    model: ScoringModel, samples: Sequence[SampleRecord], metrics: Sequence[str]
) -> list[SampleRecord]:
    """Samples with per-turn scores in qa[i].scores and their mean over turns in .scores.

    A turn that cannot be scored (empty answer, too long, no image model) gets None and a note.
    """
    wanted = set(metrics) | ({"ifd", "vfd"} if "mifd" in metrics else set())
    images_needed = bool(wanted & IMAGE_METRICS)
    if images_needed and not model.has_images:
        raise ValueError(
            f"{sorted(wanted & IMAGE_METRICS)} need an image-text model; {model.name} is text-only "
            "(use --model .models/tiny-idefics3 or a real VLM such as SmolVLM)"
        )

    def plan(sample: SampleRecord) -> tuple[list[Pass], list[dict]]:
        return _plan_sample(model, sample, wanted, images_needed)

    passes: list[Pass] = []
    plans = []  # per sample: list of per-turn dicts name -> (pass index, span)
    nll: dict[int, dict[str, float]] = {}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        # Building passes is CPU work (the image processor above all). Samples are prepared on
        # a few threads (PIL and the tokenizer release the GIL) while the model scores the
        # image passes of the samples already prepared; text passes run last, batched across
        # all samples.
        prepared = pool.map(plan, samples) if images_needed else map(plan, samples)
        for sample_passes, turns in prepared:
            offset = len(passes)
            passes.extend(sample_passes)
            plans.append(
                [
                    {k: v if k == "note" else (v[0] + offset, v[1]) for k, v in turn.items()}
                    for turn in turns
                ]
            )
            with_images = [offset + i for i, p in enumerate(sample_passes) if p.image_inputs]
            nll.update(zip(with_images, model.span_nll([passes[i] for i in with_images])))
    text_only = [i for i in range(len(passes)) if i not in nll]
    nll.update(zip(text_only, model.span_nll([passes[i] for i in text_only])))

    def loss(plan: dict, key: str) -> float | None:
        if key not in plan:
            return None
        index, span = plan[key]
        values = nll[index]
        if span == "qa":  # Q and A together: token-weighted mean of the two spans
            spans = passes[index].spans
            counts = {name: len([p for p in spans.get(name, []) if p > 0]) for name in ("q", "a")}
            total = sum(counts.values())
            if not total or any(name not in values for name, c in counts.items() if c):
                return None
            return sum(values.get(name, 0.0) * c for name, c in counts.items()) / total
        return values.get(span)

    scored = []
    for sample, turns in zip(samples, plans, strict=True):
        qa: list[QAItem] = []
        for item, plan in zip(sample.qa, turns, strict=True):
            if "note" in plan:
                qa.append(replace(item, scores=Scores(note=plan["note"], **item.scores.judged())))
                continue
            notes = {passes[i].note for i, _ in plan.values() if passes[i].note}
            ifd = _ratio(loss(plan, "a|q"), loss(plan, "a"))
            vfd = _ratio(loss(plan, "qa|i"), loss(plan, "q+a"))
            values = {
                "ifd": ifd,
                "vfd": vfd,
                "mifd": ifd * vfd if ifd is not None and vfd is not None else None,
                "ffd": _ratio(loss(plan, "s|i,e"), loss(plan, "qa|i")),
            }
            kept = {m: v if m in wanted else None for m, v in values.items()}
            note = ",".join(sorted(notes)) or None
            qa.append(replace(item, scores=Scores(**kept, note=note, **item.scores.judged())))
        means = {m: _mean([getattr(q.scores, m) for q in qa]) for m in METRICS}
        why = _why_missing(sample, qa, set(metrics), means)
        aggregate = Scores(**means, note=why, **sample.scores.judged())
        scored.append(replace(sample, qa=qa, scores=aggregate))
    return scored


def _plan_sample(
    model: ScoringModel, sample: SampleRecord, wanted: set[str], images_needed: bool
) -> tuple[list[Pass], list[dict]]:
    """One sample's passes, and per turn which pass and span each loss reads."""
    passes: list[Pass] = []
    turns: list[dict] = []
    images = [image.bytes for image in sample.images]  # one list per sample: its passes share it
    for index, item in enumerate(sample.qa):
        plan: dict = {}
        if not item.answer.strip() or not item.question.strip():
            turns.append({"note": ScoreNote.EMPTY_ANSWER})
            continue
        q, a = Part(item.question, "q"), Part(item.answer, "a")
        passes.append(model.build_pass([("user", [q]), ("assistant", [a])]))
        plan["a|q"] = (len(passes) - 1, "a")
        plan["q+a"] = (len(passes) - 1, "qa")  # same forward: L(Q+A), VFD's direct pass
        if "ifd" in wanted:
            passes.append(
                model.build_pass([("user", [Part()]), ("assistant", [Part(item.answer, "a")])])
            )
            plan["a"] = (len(passes) - 1, "a")
        if images_needed:
            with_images = [Part(images=True), Part(item.question, "q")]
            passes.append(
                model.build_pass(
                    [("user", with_images), ("assistant", [Part(item.answer, "a")])], images
                )
            )
            plan["qa|i"] = (len(passes) - 1, "qa")
            previous = sample.qa[index - 1] if index else None
            if (
                "ffd" in wanted
                and item.kind == "self_explain"
                and previous
                and previous.kind == "extractive"
            ):
                messages = [
                    ("user", [Part(images=True), Part(previous.question)]),
                    ("assistant", [Part(previous.answer)]),
                    ("user", [Part(item.question, "q")]),
                    ("assistant", [Part(item.answer, "a")]),
                ]
                passes.append(model.build_pass(messages, images))
                plan["s|i,e"] = (len(passes) - 1, "qa")
        turns.append(plan)
    return passes, turns


def _why_missing(
    sample: SampleRecord, qa: list[QAItem], asked: set[str], means: dict
) -> str | None:
    """Why a metric that was asked for has no value for the sample; None when all have one."""
    missing = sorted(m for m in asked if means.get(m) is None)
    if not missing:
        return None
    if "ffd" in missing and not any(
        item.kind == "self_explain" and previous.kind == "extractive"
        for previous, item in zip(sample.qa, sample.qa[1:], strict=False)
    ):
        return ScoreNote.NO_DUO
    notes = sorted({q.scores.note for q in qa if q.scores.note})
    return ",".join(notes) or f"no value for {','.join(missing)}"
