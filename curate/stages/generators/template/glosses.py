"""The English name a Chinese or Japanese page gives a term in brackets where it uses it:
"不安定版(unstable)", "虚拟机（Virtual Machine）", "バグ追跡システム(BTS)".
CJK technical writing glosses its terms this way; the question asks the gloss of the term."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import HANGUL

_CJK = r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
GLOSSED = re.compile(
    rf"(?P<before>[^{_CJK}]{{0,2}})(?P<term>[{_CJK}]+)\s?[(（]"
    r"(?P<gloss>[A-Za-z][A-Za-z'’]*(?:[ -][A-Za-z][A-Za-z'’]*){0,3})[)）]"
)
_HIRAGANA = re.compile(r"[\u3040-\u309f]")
# what a bracket after a term says that is no name of it: "(e.g.", "(see", "(cf"
_NOT_A_NAME = frozenset("e g eg ie i cf see etc vs ex".split())
TERM_LENGTH = (2, 10)  # characters


def term_of(run: str, before: str, gloss: str) -> str | None:
    """The term a gloss names, from the run of CJK characters before its bracket and the two
    characters before that run. Japanese: the run's tail after its last hiragana, since
    hiragana writes particles and endings ("...後でテスト版" -> "テスト版"). A run with no
    hiragana (all Chinese, or kanji and katakana) only where a stop or a space stands before
    it: nothing else marks where its first word starts (a line's start may be where a word
    wrapped), and after a Latin word the term goes on from it ("Debian セキュリティ追跡
    システム"). Where the start is found after a particle, a gloss of several words may name
    more than the term ("移植作業者のアップロード(porter upload)"): only a one-word gloss is
    taken there. Korean: none, since the gloss may name the words before the bracket's word
    too ("여닫는 부호(delimiters)", "가로가 긴 페이지 레이아웃(landscape)"), and nothing tells
    how many (a blind audit found three such)."""
    if re.search(r"[A-Za-z0-9]\s?$", before) or HANGUL.search(run):
        return None
    term = _HIRAGANA.split(run)[-1]
    if term != run and (" " in gloss or run[: -len(term)].endswith(("い", "な"))):
        return None  # "長い説明文(long description)": an adjective goes with the term
    if term == run and not re.search(r"[\s、。，・「『（(：:；]$", before):
        return None
    low, high = TERM_LENGTH
    return term if low <= len(term) <= high else None


def find_glosses(page: PageView) -> list[Candidate]:
    found: list[Candidate] = []
    glosses: dict[str, list[str]] = {}
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM, BlockRole.CAPTION):
            continue
        if page.cites(block):
            continue
        for match in GLOSSED.finditer(block.text):
            term, gloss = term_of(match["term"], match["before"], match["gloss"]), match["gloss"]
            words = re.findall(r"[a-z]+", gloss.lower())
            if term is None or any(w in _NOT_A_NAME for w in words):
                continue
            glosses.setdefault(term, []).append(normalize(gloss))
            kind = "gloss_abbreviation" if gloss.isupper() else "gloss"
            found.append(Candidate(kind, {"term": term}, gloss, block))
    # a term glossed two ways has no one answer; one glossed again and again is the document's
    # convention (a manual writes "安定版(stable)" on page after page), asked once at most where
    # it is glossed once, so that the same fact is not asked on every page
    once = {t for t, g in glosses.items() if len(g) == 1}
    seen: set[str] = set()
    unique = []
    for candidate in found:
        term = candidate.fields["term"]
        if term in once and term not in seen:
            seen.add(term)
            unique.append(candidate)
    return unique


GLOSSES = QuestionKind(
    "term glossed in English",
    find_glosses,
    {
        "gloss": (
            'What English term does image {n} give for "{term}"?',
            'According to image {n}, what is "{term}" in English?',
        ),
        "gloss_abbreviation": (
            'What abbreviation does image {n} give for "{term}"?',
            'According to image {n}, how is "{term}" abbreviated?',
        ),
    },
    last_resort=True,
)
