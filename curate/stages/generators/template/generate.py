"""Template QA for a sample: each image's candidates from every question kind, picked in order
of preference without repeating an answer, asked, then followed by their self-explain turns;
then the sample's cross-image questions."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import replace

from curate.core.config import GeneratorOptions
from curate.core.registry import Registry
from curate.core.text import normalize
from curate.document.conversation import build_conversation
from curate.schemas import QAItem, SampleRecord, stable_id
from curate.schemas.reasons import RejectReason
from curate.stages.generators.checks import (
    answer_fits_question,
    builds_on,
    claims_grounded,
    derived_numbers,
    echoes,
    is_question,
    location_only,
)
from curate.stages.generators.grounding import is_grounded
from curate.stages.generators.template.cross import cross_image_qa
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import FLAT_LOGO
from curate.stages.generators.template.unanswerable import near_misses
from curate.stages.generators.template.version import NAME, PROMPT_VERSION

# The question kinds, one module each; their order is the order of preference when a page offers
# more candidates than questions.
QUESTION_KINDS = Registry(
    "question kind",
    {
        "tables": "curate.stages.generators.template.tables:TABLES",
        "key_values": "curate.stages.generators.template.key_values:KEY_VALUES",
        "descriptions": "curate.stages.generators.template.descriptions:DESCRIPTIONS",
        "lists": "curate.stages.generators.template.lists:LISTS",
        "bullets": "curate.stages.generators.template.bullets:BULLETS",
        "acronyms": "curate.stages.generators.template.acronyms:ACRONYMS",
        "measures": "curate.stages.generators.template.measures:MEASURES",
        "definitions": "curate.stages.generators.template.definitions:DEFINITIONS",
        # a term's blank before a number's: blind audits (seeds 46, 47) judged 11 of 13 term
        # blanks good, 7 of 9 number blanks trivial (a year, a step, a version)
        "terms": "curate.stages.generators.template.terms:TERMS",
        "numbers": "curate.stages.generators.template.numbers:NUMBERS",
        "glosses": "curate.stages.generators.template.glosses:GLOSSES",
        "contents": "curate.stages.generators.template.contents:CONTENTS",
        "index": "curate.stages.generators.template.index:INDEX",
        "sections": "curate.stages.generators.template.sections:SECTIONS",
        "titles": "curate.stages.generators.template.titles:TITLES",
        "long_words": "curate.stages.generators.template.terms:LONG_WORDS",
    },
)
_WORD = re.compile(r"\w+")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# a character the page's font may draw as a box: private use, unassigned, the replacement
# character, an emoji ("@catalyst 🐦" in a slide's title, blind audit, seed 47)
UNDRAWABLE = re.compile(r"[\ue000-\uf8ff\ufffd\U0001f000-\U0001faff\U000f0000-\U0010ffff]")
# a digit set as a superscript or subscript beside a plain one ("1¹" for the page's "1½"): a
# fraction or an exponent the text layer flattened, not what the page shows
GARBLED_SCRIPT = re.compile(r"\d[⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]|[⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]\d")
# read-outs (titles, headings) a sample may have, of its questions: blind audits judge every
# read-out weak (seed 66: all 8 weak items of 40 were titles read out, at a cap of 0.2; seeds
# 73-76: 1 to 4 of 40 slide titles read out at 0.1). None but where nothing else was kept.
READ_OUT_SHARE = 0.0
# candidate kinds whose answer stands on the line the question names: a label's value, a blank
ASKED_BY_ITS_LINE = frozenset(
    {"key_value", "key_value_ko_eun", "key_value_ko_neun", "key_value_ja", "key_value_zh"}
    | {"number", "term", "long_word"}
)


def _kinds() -> list[QuestionKind]:
    return [kind for _, kind in QUESTION_KINDS.items()]


def _owners() -> dict[str, QuestionKind]:
    """Candidate kind -> the question kind that asks it, in the order candidates are preferred.
    Two question kinds asking the same candidate kind is an error, not a silent takeover."""
    owners: dict[str, QuestionKind] = {}
    for kind in _kinds():
        for name in kind.asks:
            if name in owners:
                raise ValueError(
                    f"candidate kind {name!r} is asked by two question kinds "
                    f"({owners[name].label!r} and {kind.label!r}); give one another name"
                )
            owners[name] = kind
    return owners


def _question(candidate: Candidate, n: int, rng: random.Random) -> str:
    template = rng.choice(_owners()[candidate.kind].asks[candidate.kind])
    return template.format(n=n, **candidate.fields)


def _pick(
    candidates: list[Candidate], limit: int, rng: random.Random, seen: set[str]
) -> list[Candidate]:
    """Up to `limit` candidates with answers new to the sample: one of each kind in order of
    preference, then round again; which one of a kind is chosen by the seeded generator."""
    by_kind: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, []).append(candidate)
    for group in by_kind.values():
        rng.shuffle(group)
    owners = _owners()
    unknown = sorted(set(by_kind) - set(owners))
    if unknown:  # a rule found candidates of a kind no QuestionKind asks
        raise ValueError(f"no question kind asks candidates of kind {unknown}")
    kinds = [kind for kind in owners if kind in by_kind]
    picked: list[Candidate] = []
    while len(picked) < limit and any(by_kind.values()):
        for kind in kinds:
            if owners[kind].cloze and any(owners[c.kind].cloze for c in picked):
                by_kind[kind].clear()  # one blank per image: a second is as mechanical
            if owners[kind].once and any(owners[c.kind] is owners[kind] for c in picked):
                by_kind[kind].clear()
            while by_kind[kind] and len(picked) < limit:
                candidate = by_kind[kind].pop(0)
                key = normalize(candidate.answer)
                if key not in seen:
                    seen.add(key)
                    picked.append(candidate)
                    break
    return picked


def _pages(sample: SampleRecord) -> list[PageView]:
    """The sample's images as the question kinds see them, each with what its source declares
    of it: its title (a slide's title placeholder), its one-level bulleted lists and the
    sub-points under a point; and how the next page opens, where it is the document's next."""
    titles = {c.image_index: c.text for c in sample.context if c.kind == "title"}
    lists: dict[tuple[str, int], list[tuple[str, ...]]] = {}
    for item in sample.context:
        if item.kind in ("list", "sublist"):
            lists.setdefault((item.kind, item.image_index), []).append(tuple(item.text.split("\n")))
    pages = [
        PageView(
            blocks,
            size[1],
            i + 1,
            titles.get(i),
            tuple(lists.get(("list", i), ())),
            tuple(lists.get(("sublist", i), ())),
        )
        for i, (blocks, size) in enumerate(
            zip(sample.image_blocks, sample.image_sizes, strict=True)
        )
    ]
    for page, after, (i, j) in zip(
        pages, pages[1:], itertools.pairwise(sample.page_indices), strict=False
    ):
        if j == i + 1 and after.content:  # the next page of the document
            page.next_page_opens = min(after.content, key=lambda b: (b.bbox[1], b.bbox[0])).text
    return pages


def _candidates(page: PageView) -> list[Candidate]:
    """What every kind finds on the page, but for answers that stand on a word the OCR was not
    sure of (a character it scored low: "Segtenber", "19.1cn"), on a logo the text layer
    reads flat ("LATEX" for LaTeX), on a control character a font's encoding left where
    the page shows a dash or a quote, on a character that may show as a box (an emoji), or on
    a fraction it flattened ("1¹" for "1½")."""
    kinds = _kinds()
    unsure = {w for block in page.blocks for u in block.unsure for w in _WORD.findall(normalize(u))}

    def sound(c: Candidate) -> bool:
        return (
            not (_words(c) & unsure)
            and not FLAT_LOGO.search(c.answer)
            and not GARBLED_SCRIPT.search(c.answer)
            and not any(
                CONTROL.search(text) or UNDRAWABLE.search(text)
                for text in (c.answer, *c.fields.values())
            )
        )

    first = [(k, c) for k in kinds if not k.last_resort for c in k.find(page) if sound(c)]
    found = [c for _, c in first]
    # nothing but a title to read out (what the filters left): the last resorts are tried
    if not any(not k.read_out for k, _ in first):
        found += [c for k in kinds if k.last_resort for c in k.find(page) if sound(c)]
    return found


def _words(candidate: Candidate) -> set[str]:
    """The words an answer stands on: its own and its figures'."""
    return {
        w for text in (candidate.answer, *candidate.figures) for w in _WORD.findall(normalize(text))
    }


def _on_page(candidate: Candidate, page: PageView) -> bool:
    """The answer is copied from the page; a worked-out one, the figures it is computed from."""
    if candidate.worked_out:
        return all(is_grounded(text, page.text) for text in candidate.figures)
    return is_grounded(candidate.answer, page.text) and all(
        is_grounded(text, page.text) for text in candidate.figures
    )


def _choose(
    pages: list[PageView],
    candidates: dict[int, list[Candidate]],
    options: GeneratorOptions,
    rng: random.Random,
    answers: set[str],
) -> dict[int, list[Candidate]]:
    """Each image's content questions (not read-outs), most valuable first."""
    owners = _owners()
    return {
        page.n: _pick(
            [c for c in candidates[page.n] if not owners[c.kind].read_out],
            options.max_qa_per_image,
            rng,
            answers,
        )
        for page in pages
    }


def _read_outs(
    pages: list[PageView],
    candidates: dict[int, list[Candidate]],
    asked: dict[int, int],
    options: GeneratorOptions,
    rng: random.Random,
    answers: set[str],
):
    """Read-outs of titles and headings, the barest images first, while they stay within
    READ_OUT_SHARE of the sample's questions (one, where no content question was kept: it
    keeps the images, and the cap holds for the rest)."""
    kept = sum(asked.values())
    room = int(kept * READ_OUT_SHARE / (1 - READ_OUT_SHARE)) if kept else 1
    owners = _owners()
    for page in sorted(pages, key=lambda p: asked[p.n]):
        if room <= 0:
            return
        if asked[page.n] >= options.max_qa_per_image:
            continue
        pool = [c for c in candidates[page.n] if owners[c.kind].read_out]
        (candidate,) = _pick(pool, 1, rng, answers) or [None]
        if candidate is not None:
            room -= 1
            yield page, candidate


def review(candidate: Candidate, question: str, page: PageView) -> str | None:
    """The checks LLM items pass (generators/checks.py), on a template item: None when it
    passes, else the reject reason. A question that is none, an answer the page does not give
    (or figures it does not print), an answer that only echoes the question; for a copied value
    or a blank, the question's words by the answer."""
    if not is_question(question):
        return RejectReason.NOT_A_QUESTION
    if not _on_page(candidate, page):
        return RejectReason.UNGROUNDED
    if not candidate.worked_out and echoes(question, candidate.answer):
        return RejectReason.ANSWER_OFF_QUESTION
    if candidate.kind in ASKED_BY_ITS_LINE:
        lines = [block.text for block in page.blocks]
        if not answer_fits_question(question, candidate.answer, lines):
            return RejectReason.ANSWER_OFF_QUESTION
    return None


def review_follow_up(candidate: Candidate, question: str, page: PageView) -> str | None:
    """A follow-up must use the answer, say more than where it is, and state no figure or
    name the page lacks (a computed one aside)."""
    explain = candidate.explain or ""
    if not builds_on(explain, candidate.answer) and not candidate.worked_out:
        return RejectReason.SELF_EXPLAIN_OFF_ANSWER
    if location_only(explain, candidate.answer, question):
        return RejectReason.LOCATION_ONLY
    source = page.text + "\n" + " ".join(derived_numbers(candidate.figures)) + "\n" + question
    if not claims_grounded(explain, source + " " + candidate.answer):
        return RejectReason.UNGROUNDED
    return None


def _ask(
    page: PageView,
    candidate: Candidate,
    rng: random.Random,
    questions: set[str],
    rejected: list[QAItem],
) -> list[QAItem]:
    """The candidate's pair and its follow-up, those of them that pass the checks; the rest
    go to `rejected` with their reason. A question asked already in the sample is not asked."""
    question = _question(candidate, page.n, rng)
    evidence = candidate.evidence.text
    item = QAItem(
        "extractive", question, candidate.answer, page.n - 1, evidence, NAME, PROMPT_VERSION
    )
    if normalize(question) in questions:
        return []
    questions.add(normalize(question))
    reason = review(candidate, question, page)
    if reason:
        rejected.append(replace(item, reject_reason=reason))
        return []
    if not candidate.explain:
        return [item]
    follow_up = rng.choice(_owners()[candidate.kind].follow_up(candidate.kind))
    turn = QAItem(
        "self_explain", follow_up, candidate.explain, page.n - 1, evidence, NAME, PROMPT_VERSION
    )
    reason = review_follow_up(candidate, follow_up, page)
    if reason:
        rejected.append(replace(turn, reject_reason=reason))
        return [item]
    return [item, turn]


def generate_template_qa(sample: SampleRecord, options: GeneratorOptions) -> SampleRecord:
    """The sample with template QA and its conversation (no QA at all when nothing fits).
    Every item passes the checks LLM items pass; one that does not is kept in `rejected_qa`
    with its reason."""
    # seeded by what the sample holds, not where its file lives: the same pages give the same
    # questions on every machine and under every path
    pages_held = (sample.source_sha256 or sample.sample_id, *(str(i) for i in sample.page_indices))
    rng = random.Random(stable_id(str(options.seed), *pages_held))
    rejected: list[QAItem] = []
    questions: set[str] = set()
    pages = _pages(sample)
    candidates = {page.n: _candidates(page) for page in pages}
    answers: set[str] = set()
    chosen = _choose(pages, candidates, options, rng, answers)
    turns = {
        page.n: [t for c in chosen[page.n] for t in _ask(page, c, rng, questions, rejected)]
        for page in pages
    }
    asked = {n: sum(t.kind == "extractive" for t in held) for n, held in turns.items()}
    for page, candidate in _read_outs(pages, candidates, asked, options, rng, answers):
        turns[page.n][:0] = _ask(page, candidate, rng, questions, rejected)  # a title first
    qa = [turn for page in pages for turn in turns[page.n]]
    if options.unanswerable:  # drawn apart, so that turning it on changes nothing else
        misses = random.Random(stable_id("unanswerable", str(options.seed), *pages_held))
        qa.extend(near_misses(pages, candidates, options.unanswerable, misses))
    qa.extend(cross_image_qa(pages, options.cross_image_questions, rng))
    return replace(
        sample,
        qa=qa,
        rejected_qa=rejected,  # as the LLM backend: a sample generated again starts afresh
        conversations=build_conversation(qa, sample.num_images),
        generator=NAME,
    )


def why_no_qa(sample: SampleRecord) -> str:
    """Which rules were tried on which images, for a sample that got no question."""
    pages = [p for p in _pages(sample) if p.text.strip()]
    if not pages:
        return "no text on any image (after OCR)"
    tried = ", ".join(kind.label for kind in _kinds())
    lines = sum(len(p.content) for p in pages)
    skipped = sum(len(p.blocks) - len(p.content) for p in pages)
    return (
        f"no question fits: tried {tried} on {len(pages)} image(s) with {lines} content line(s) "
        f"({skipped} running header, watermark, code, contents or chart line(s) left out)"
    )
