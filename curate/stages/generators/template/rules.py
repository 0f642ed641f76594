"""The text rules the template questions share, each a named, documented function or pattern:
what a label, a number, a term, a sentence, a blank and a reference look like."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from curate.core.text import normalize
from curate.schemas import TextBlock

if TYPE_CHECKING:  # the page view uses these rules too
    from curate.stages.generators.template.page import PageView

# a label starts with a letter: not a footnote marker ("¹Corresponding author. Email: ...")
KEY_VALUE = re.compile(r"^(?P<key>[^\W\d_¹²³⁰⁴-⁹][\w ()/&'’.-]{0,40}?)\s*:\s+(?P<value>\S.{0,90})$")
NOT_A_KEY = re.compile(
    r"^(https?|ftp|mailto|file|chapter|section|part|page|figure|table|note|see)\b", re.I
)
# a page's or figure's annotation, not part of the section it happens to stand under
ANNOTATION = re.compile(r"^(notes?|sources?|n\.b\.)\s*[:.]", re.I)
URL = re.compile(r"\b(https?|ftp)\s?:|://|\bwww\.", re.I)
# words whose period does not end a sentence
ABBREVIATIONS = frozenset("al cf eq eqs etc fig figs no nos p pp sec vs".split())
TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
ADDRESS = re.compile(r"::|\b[0-9a-f]{1,4}(:[0-9a-f]{1,4}){2,}\b", re.I)
# a number on its own: not part of a version ("1.0.8"), a time ("10:30"), a code ("U+0030",
# "RFC-3066"), a word, a formula ("gK−1"), a footnote marker ("Chi Wang*1") or "§6.1"
NUMBER = re.compile(r"(?<![\w.,+:−*†‡§-])\d[\d,]*(?:\.\d+)?%?(?![\w]|[.:]\d|-\w)")
# what stands before a number that only points elsewhere: "[31]", "(12)", "page 67",
# "Section 7.5", "Fig. 8", "listing 5", "et al., 2009", and the rest of a list: "Figs. 7 and 8"
REFERENCE = re.compile(
    r"([\[(]|\b(pages?|p\.|pp\.|sections?|sec\.|chapters?|figures?|figs?\.|tables?|listings?|"
    r"equations?|eqs?\.|appendix|appendices|refs?\.|et al\.,?|see|examples?|definitions?|"
    r"theorems?|lemmas?|propositions?|steps?|exemple|tableau|équation|théorème|définition|lemme|"
    r"abbildung|tabelle|kapitel|seite|beispiel))(\s*[\w.]+\s*(,|\band\b|&|\bor\b|\bto\b|–))*\s*$",
    re.IGNORECASE,
)
# an identifier or an acronym standing free (not an option "-fkvsVL", a tag "<eq>"); a long
# word only where a page offers nothing better
TERM = re.compile(
    r"(?<![\w<\[/:-])(?:[A-Za-z]+_[\w]+|[a-z]+[A-Z]\w+|[A-Z]{2,}\w*|[A-Z][a-z]+[A-Z]\w*)(?![\w>\]/:-])"
)
LONG_WORD = re.compile(r"(?<![\w<\[/:-])[A-Za-z]{10,}(?![\w>\]/:-])")
STOP = frozenset(
    "a an the and or of in on at to for by with is are was be it its if either not as that this"
    "".split()
)
CONTINUES = frozenset("unless except where when which that than but nor so because while".split())
# a formula: its subscripts and exponents read as plain digits ("x(N−1)W +D"); U+2212 is a
# minus sign, which prose does not use
MATH = re.compile(r"[=∈∉≤≥≠·×÷∑∏√∫±→←⊕⊗∀∃−]")
BULLET_MARK = re.compile(r"^[•◦▪▫●○■□‣⁃∙·➢►✓✔–—*-]\s*")


def trimmed(answer: str) -> str:
    """An answer without the punctuation that follows it in its sentence ("2019," -> "2019")."""
    return answer.strip().rstrip(",;:.").strip()


def numeric_value(text: str) -> float | None:
    match = re.fullmatch(r"[-+(]?[$€£]?([\d,]*\.?\d+)\)?\s*%?", text.strip())
    if not match:
        return None
    try:
        return float(match.group(1).replace(",", ""))
    except ValueError:
        return None


def cloze_of(page: PageView, block: TextBlock, start: int, end: int) -> str | None:
    """The line with [start:end] blanked, cut to a few words either side; None when the blank
    could be filled in at more than one place on the page (an ambiguous cloze)."""
    words_before = block.text[:start].split()
    if words_before and page.hyphen_before(block):
        words_before = words_before[1:]  # "nitions" is the tail of "défi-" on the line above
    before, after = within_sentence(words_before[-6:], block.text[end:].split()[:3])
    if len(before) < 2 or block.text[:start].rstrip()[-1:] in "\"“'‘":
        return None  # a quoted word: the blank would sit inside the quotation marks
    pattern = re.escape(normalize(" ".join(before))) + r"\s*\S+"
    if after:
        pattern += r"\s*" + re.escape(normalize(" ".join(after)))
    if len(re.findall(pattern, page.norm)) != 1:
        return None
    cloze = " ".join(before) + " ___" + (" " + " ".join(after) if after else "")
    if URL.search(cloze):
        return None  # a piece of an address ("http ://www.univ-tours.fr/˜ ___") is no fact
    return BULLET_MARK.sub("", cloze)


def within_sentence(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """The words around a blank that belong to its own sentence: "another in a spirit of
    ___ ." rather than "... ___ . \"Todos los" (a slide's English, then its Spanish)."""
    ends = [i for i, word in enumerate(before) if ends_sentence(word)]
    if ends:
        before = before[ends[-1] + 1 :]
    ends = [i for i, word in enumerate(after) if ends_sentence(word)]
    if ends:
        after = after[: ends[0] + 1]
    return before, after


def ends_sentence(word: str) -> bool:
    """ "brotherhood." or a lone "." does; "Fig.", "e.g.", "U.S." and an initial "J." do not."""
    core = word.rstrip("\"”’')]")
    if core.endswith(("!", "?")):
        return True
    stem = core[:-1].lstrip("(\"“‘'[") if core.endswith(".") else None
    if stem is None:
        return False
    return stem == "" or (
        len(stem) > 1
        and stem.lower() not in ABBREVIATIONS
        and not re.fullmatch(r"(\w\.)+\w?", stem)
    )


def is_prose(text: str) -> bool:
    """A sentence of words a blank can be cut from: no formula, mostly letters."""
    chars = text.replace(" ", "")
    return not MATH.search(text) and sum(ch.isalpha() for ch in chars) >= 0.6 * max(len(chars), 1)


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


def sentence_at(text: str, at: int) -> str:
    """The sentence of a paragraph (a web page's block) that holds position `at`: what a
    self-explain turn quotes, rather than the whole paragraph."""
    if len(text.split()) <= 30:
        return text
    start = 0
    for end in SENTENCE_END.finditer(text):
        if end.start() >= at:
            return text[start : end.start()].strip()
        start = end.end()
    return text[start:].strip()
