"""Offline, deterministic QA from page text and layout: the generator every new user sees first.

Per image, extractive questions come from the page's structure, as the sources marked it (roles,
tables): its title and headings, labelled values, table cells by row and column and the
largest or smallest value of a column, numbers in sentences that only one place on the page
matches, the section a fact stands under, and distinctive terms. Running headers, watermarks,
code, tables of contents and chart text are never asked about. Each answer is copied verbatim,
and followed by a self-explain turn that points at what a reader can see: the label, the row and
column, the heading, where on the page. Per sample, cross-image questions compare values found
on different images, order sections, or find where a section continues.

Each kind of question is a `QuestionKind` in `QUESTION_KINDS` (a registry, as engines and
backends are): where it finds candidates on a page and how it asks them. Its place in the
registry is its priority when a page offers more candidates than questions.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from curate.core.config import GeneratorOptions
from curate.core.registry import Registry
from curate.core.text import normalize
from curate.document.conversation import build_conversation
from curate.document.layout import Table, is_content, tables_of
from curate.schemas import BlockRole, QAItem, SampleRecord, TextBlock, stable_id
from curate.stages.generators.base import no_service
from curate.stages.generators.grounding import is_grounded

NAME = "template"
PROMPT_VERSION = "template-v7"

# a label starts with a letter: not a footnote marker ("¹Corresponding author. Email: ...")
_KEY_VALUE = re.compile(
    r"^(?P<key>[^\W\d_¹²³⁰⁴-⁹][\w ()/&'’.-]{0,40}?)\s*:\s+(?P<value>\S.{0,90})$"
)
_NOT_A_KEY = re.compile(
    r"^(https?|ftp|mailto|file|chapter|section|part|page|figure|table|note|see)\b", re.I
)
# a page's or figure's annotation, not part of the section it happens to stand under
_ANNOTATION = re.compile(r"^(notes?|sources?|n\.b\.)\s*[:.]", re.I)
_URL = re.compile(r"\b(https?|ftp)\s?:|://|\bwww\.", re.I)
# words whose period does not end a sentence
_ABBREVIATIONS = frozenset("al cf eq eqs etc fig figs no nos p pp sec vs".split())
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_ADDRESS = re.compile(r"::|\b[0-9a-f]{1,4}(:[0-9a-f]{1,4}){2,}\b", re.I)
# a number on its own: not part of a version ("1.0.8"), a time ("10:30"), a code ("U+0030",
# "RFC-3066"), a word, a formula ("gK−1"), a footnote marker ("Chi Wang*1") or "§6.1"
_NUMBER = re.compile(r"(?<![\w.,+:−*†‡§-])\d[\d,]*(?:\.\d+)?%?(?![\w]|[.:]\d|-\w)")
# what stands before a number that only points elsewhere: "[31]", "(12)", "page 67",
# "Section 7.5", "Fig. 8", "listing 5", "et al., 2009", and the rest of a list: "Figs. 7 and 8"
_REFERENCE = re.compile(
    r"([\[(]|\b(pages?|p\.|pp\.|sections?|sec\.|chapters?|figures?|figs?\.|tables?|listings?|"
    r"equations?|eqs?\.|appendix|appendices|refs?\.|et al\.,?|see|examples?|definitions?|"
    r"theorems?|lemmas?|propositions?|steps?|exemple|tableau|équation|théorème|définition|lemme|"
    r"abbildung|tabelle|kapitel|seite|beispiel))(\s*[\w.]+\s*(,|\band\b|&|\bor\b|\bto\b|–))*\s*$",
    re.IGNORECASE,
)
# an identifier or an acronym standing free (not an option "-fkvsVL", a tag "<eq>"); a long
# word only where a page offers nothing better
_TERM = re.compile(
    r"(?<![\w<\[/:-])(?:[A-Za-z]+_[\w]+|[a-z]+[A-Z]\w+|[A-Z]{2,}\w*|[A-Z][a-z]+[A-Z]\w*)(?![\w>\]/:-])"
)
_LONG_WORD = re.compile(r"(?<![\w<\[/:-])[A-Za-z]{10,}(?![\w>\]/:-])")
_STOP = frozenset(
    "a an the and or of in on at to for by with is are was be it its if either not as that this"
    "".split()
)
_CONTINUES = frozenset("unless except where when which that than but nor so because while".split())
# a formula: its subscripts and exponents read as plain digits ("x(N−1)W +D"); U+2212 is a
# minus sign, which prose does not use
_MATH = re.compile(r"[=∈∉≤≥≠·×÷∑∏√∫±→←⊕⊗∀∃−]")
_BULLET_MARK = re.compile(r"^[•◦▪▫●○■□‣⁃∙·➢►✓✔–—*-]\s*")
_GENERIC_HEADINGS = {
    "contents",
    "table of contents",
    "index",
    "references",
    "bibliography",
    "abstract",
    "appendix",
    "acknowledgements",
    "acknowledgments",
    "notes",
    "summary",
}

# Several phrasings per kind of candidate, chosen deterministically per sample and seed.
_PHRASINGS = {
    "title": (
        "What is the title of image {n}?",
        "Which title is printed at the top of image {n}?",
        "What does the title of image {n} say?",
    ),
    "heading": (
        "What is the first heading on image {n}?",
        "Which heading comes first on image {n}?",
        "What heading opens the text of image {n}?",
    ),
    "key_value": (
        'According to image {n}, what is given for "{key}"?',
        'What does image {n} list as the "{key}"?',
        'On image {n}, what value follows the label "{key}"?',
        'What is the "{key}" stated on image {n}?',
    ),
    "table_cell": (
        'In the table on image {n}, what is the "{column}" of "{row}"?',
        'What value does the table on image {n} give for "{row}" under "{column}"?',
        'Look at the table on image {n}: which entry stands in the row "{row}" and the column '
        '"{column}"?',
    ),
    "table_max": (
        'In the table on image {n}, which row has the highest "{column}"?',
        'Which entry of the table on image {n} has the largest "{column}" value?',
    ),
    "table_min": (
        'In the table on image {n}, which row has the lowest "{column}"?',
        'Which entry of the table on image {n} has the smallest "{column}" value?',
    ),
    "number": (
        'On image {n}, which number completes "{cloze}"?',
        'What number is missing from "{cloze}" on image {n}?',
        'Fill in the blank from image {n}: "{cloze}"',
    ),
    "term": (
        'Which term completes "{cloze}" on image {n}?',
        'On image {n}, what term is missing from "{cloze}"?',
    ),
    "long_word": (
        'On image {n}, what word is missing from "{cloze}"?',
        'Which word completes "{cloze}" on image {n}?',
    ),
    "section": (
        'Under which heading does image {n} say "{snippet}"?',
        'In which section of image {n} is "{snippet}" written?',
    ),
}
FOLLOW_UP = (
    "How do you know?",
    "Where on the page is that shown?",
    "What on the image supports that answer?",
    "How can a reader check that on the image?",
    "Why is that the answer?",
)


@dataclass
class Candidate:
    """What a question kind found on a page: its kind (a key of the QuestionKind's `asks`),
    what the question names (`{subject}` in a phrasing), the answer as printed, the line it is
    read from, and what the self-explain turn says about it."""

    kind: str
    subject: str  # what the question names: a label, a column, a cloze, a row and column
    answer: str
    evidence: TextBlock  # the line the answer is read from
    explain: str  # what a reader sees there, for the self-explain turn


def _a_heading(text: str) -> bool:
    """Words that can name a section: not generic, not a sentence's tail, mostly letters."""
    key = normalize(text).strip(" .:")
    name = re.sub(r"^\d+(\.\d+)*\.?\s", "", text)  # a section number does not count
    letters = sum(ch.isalpha() for ch in name)
    fragment = text[:1].islower() and text.rstrip().endswith((".", ","))
    return (
        key not in _GENERIC_HEADINGS
        and not fragment
        and letters >= 0.5 * len(name.replace(" ", ""))
    )


def _a_label(text: str) -> bool:
    """A heading that ends with a colon introduces what follows it ("Affiliation:", "FOR
    FURTHER INFORMATION CONTACT:"): a label of the text below, not the name of a section, and
    asked as one it is answered with its colon."""
    return text.rstrip().endswith(":")


def _wraps(line: TextBlock, below: TextBlock) -> bool:
    """The line below carries the same heading on: same role and size, right under it, in
    the same column."""
    height = below.bbox[3] - below.bbox[1]
    return (
        line.role == below.role
        and 0 <= below.bbox[1] - line.bbox[3] < 1.2 * height
        and abs((line.bbox[3] - line.bbox[1]) - height) < 0.15 * height
        and min(line.bbox[2], below.bbox[2]) > max(line.bbox[0], below.bbox[0])
    )


def _join_wrapped(first: str, second: str) -> str:
    """Two lines of one heading: "Next-" + "Gen" is "Next-Gen" (normalize() reads the page's
    line-break hyphen the same way, so the answer stays verbatim)."""
    if re.search(r"\w-$", first) and second[:1].isalnum():
        return first + second
    return f"{first} {second}"


def _position(block: TextBlock, height: int) -> str:
    centre = (block.bbox[1] + block.bbox[3]) / 2 / max(height, 1)
    return (
        "near the top"
        if centre < 1 / 3
        else "in the middle"
        if centre < 2 / 3
        else "near the bottom"
    )


def _trim(answer: str) -> str:
    """An answer without the punctuation that follows it in its sentence ("2019," -> "2019")."""
    return answer.strip().rstrip(",;:.").strip()


class PageView:
    """One image's lines, with the structure the template questions need."""

    def __init__(self, blocks: list[TextBlock], height: int, n: int):
        self.blocks, self.height, self.n = blocks, height, n
        self.text = "\n".join(b.text for b in blocks)
        self.norm = normalize(self.text)
        self.content = [b for b in blocks if is_content(b)]
        self.headings = self._headings()
        self.tables = [t for t in tables_of(blocks) if t.rows >= 2 and t.columns >= 2]

    def _headings(self) -> list[TextBlock]:
        """Title and heading lines, a heading wrapped over several lines joined into one; not
        generic ones ("Contents"), fragments of a sentence, or codes (a UUID)."""
        found: list[TextBlock] = []
        last_line: list[TextBlock] = []  # per heading found, the line it ends with
        lines = sorted(
            (b for b in self.blocks if b.role in (BlockRole.TITLE, BlockRole.HEADING)),
            key=lambda b: (b.bbox[1], b.bbox[0]),
        )
        for block in lines:
            into = next(
                (i for i in range(len(found) - 1, -1, -1) if _wraps(last_line[i], block)), None
            )
            if into is None:
                found.append(block)
                last_line.append(block)
                continue
            head = found[into]
            box = (
                min(head.bbox[0], block.bbox[0]),
                head.bbox[1],
                max(head.bbox[2], block.bbox[2]),
                block.bbox[3],
            )
            found[into] = replace(head, text=_join_wrapped(head.text, block.text), bbox=box)
            last_line[into] = block
        return [h for h in found if _a_heading(h.text)]

    def continues(self, block: TextBlock) -> bool:
        """The line carries on a sentence from the line before it: it starts in lower case
        after no stop, or that line ends on a word no sentence ends with ("Alice and")."""
        index = next((i for i, b in enumerate(self.blocks) if b is block), 0)
        if index == 0:
            return False
        before = self.blocks[index - 1].text.split()
        if before and before[-1].lower() in _STOP | _CONTINUES:
            return True
        ends = before and before[-1].endswith((".", ":", ";", "!", "?"))
        return block.text[:1].islower() and not ends

    def hyphen_before(self, block: TextBlock) -> bool:
        """The line starts with the tail of a word broken on the line before."""
        index = next((i for i, b in enumerate(self.blocks) if b is block), 0)
        return index > 0 and bool(re.search(r"\w-$", self.blocks[index - 1].text.rstrip()))

    def heading_above(self, block: TextBlock) -> TextBlock | None:
        """The nearest heading above the line in its own column."""
        above = [
            h
            for h in self.headings
            if h.bbox[3] <= block.bbox[1] + 1
            and min(h.bbox[2], block.bbox[2]) > max(h.bbox[0], block.bbox[0])
        ]
        return max(above, key=lambda h: h.bbox[3]) if above else None

    def unique(self, phrase: str) -> bool:
        key = normalize(phrase)
        return bool(key) and self.norm.count(key) == 1

    def where(self, block: TextBlock) -> str:
        heading = self.heading_above(block)
        under = f', under the heading "{heading.text}"' if heading else ""
        return f"{_position(block, self.height)} of image {self.n}{under}"


def _titles(page: PageView) -> list[Candidate]:
    if not page.headings:
        return []
    top = page.headings[0]
    if _a_label(top.text):
        return []
    where = _position(top, page.height)
    if top.role == BlockRole.TITLE:
        see = f"It is the title, set in large type {where} of image {page.n}."
        kind = "title" if (top.bbox[1] + top.bbox[3]) / 2 < page.height / 3 else "heading"
        return [Candidate(kind, "", top.text, top, see)]
    below = any(b.bbox[1] >= top.bbox[3] - 1 for b in page.content if b is not top)
    introduces = ", above the text it introduces" if below else ""
    see = f"It is the first heading of image {page.n}, {where}{introduces}."
    return [Candidate("heading", "", top.text, top, see)]


def _key_values(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM):
            continue
        match = _KEY_VALUE.match(block.text.strip())
        if not match or _TIME.search(block.text) or _ADDRESS.search(block.text):
            continue
        if page.continues(block):
            continue  # "... if you know either k or x: those ..." is a sentence, not a label
        key, value = match["key"].strip(), _trim(match["value"])
        words = key.split()
        if (
            sum(w.lower() in _STOP for w in words) >= 0.5 * len(words)  # a phrase, not a label
            or _MATH.search(value)
            or _NOT_A_KEY.match(key)
            or re.search(r"\d$", key)  # "Listing 6", "Step 3": an enumerator, not a field
            or re.match(r"(//|https?:|www\.)", value)  # a URL is an address, not a value
            or len(words) > 4
            or len(value.split()) > 12
            or not value
            or value.split()[-1].lower() in _STOP | _CONTINUES  # "..., 1963, unless": cut short
            or match["value"].rstrip().endswith((",", "-"))
        ):
            continue
        see = f'Image {page.n} gives "{value}" right after the label "{key}", {page.where(block)}.'
        found.append(Candidate("key_value", key, value, block, see))
    return found


def _numeric(text: str) -> float | None:
    match = re.fullmatch(r"[-+(]?[$€£]?([\d,]*\.?\d+)\)?\s*%?", text.strip())
    if not match:
        return None
    try:
        return float(match.group(1).replace(",", ""))
    except ValueError:
        return None


def _tables(page: PageView) -> list[Candidate]:
    found = []
    for table in page.tables:
        header = [table.text(0, c) for c in range(table.columns)]
        if not all(any(ch.isalpha() for ch in name) for name in header[1:]):
            continue  # without a header of names ("0", or none known) a cell cannot be asked for
        for row in range(1, table.rows):
            label = table.text(row, 0)
            if not label or _numeric(label) is not None:
                continue
            for column in range(1, table.columns):
                value, name = table.text(row, column), header[column]
                blocks = table.blocks(row, column)
                if not value or not name or not blocks or normalize(value) == normalize(name):
                    continue
                see = f'It is the cell in the row "{label}" and the column "{name}"'
                see += f" of the table on image {page.n}."
                found.append(
                    Candidate("table_cell", f"{label}\x00{name}", _trim(value), blocks[0], see)
                )
        found += _extremes(page, table, header)
    return found


def _extremes(page: PageView, table: Table, header: list[str]) -> list[Candidate]:
    """Which row has the largest (smallest) value of a numeric column: a relation, not a lookup."""
    found = []
    for column in range(1, table.columns):
        values = [
            (table.text(r, 0), _numeric(table.text(r, column)), r) for r in range(1, table.rows)
        ]
        values = [(label, v, r) for label, v, r in values if label and v is not None]
        if len(values) < 3 or not header[column]:
            continue
        for kind, pick in (("table_max", max), ("table_min", min)):
            best = pick(v for _, v, _ in values)
            winners = [(label, r) for label, v, r in values if v == best]
            if len(winners) != 1:
                continue
            label, row = winners[0]
            word = "largest" if kind == "table_max" else "smallest"
            see = (
                f'In the "{header[column]}" column of the table on image {page.n}, "{label}" has '
                f"{table.text(row, column)}, the {word} value of its {len(values)} rows."
            )
            found.append(Candidate(kind, header[column], label, table.blocks(row, 0)[0], see))
    return found


def _cloze(page: PageView, block: TextBlock, start: int, end: int) -> str | None:
    """The line with [start:end] blanked, cut to a few words either side; None when the blank
    could be filled in at more than one place on the page (an ambiguous cloze)."""
    words_before = block.text[:start].split()
    if words_before and page.hyphen_before(block):
        words_before = words_before[1:]  # "nitions" is the tail of "défi-" on the line above
    before, after = _same_sentence(words_before[-6:], block.text[end:].split()[:3])
    if len(before) < 2 or block.text[:start].rstrip()[-1:] in "\"“'‘":
        return None  # a quoted word: the blank would sit inside the quotation marks
    pattern = re.escape(normalize(" ".join(before))) + r"\s*\S+"
    if after:
        pattern += r"\s*" + re.escape(normalize(" ".join(after)))
    if len(re.findall(pattern, page.norm)) != 1:
        return None
    cloze = " ".join(before) + " ___" + (" " + " ".join(after) if after else "")
    if _URL.search(cloze):
        return None  # a piece of an address ("http ://www.univ-tours.fr/˜ ___") is no fact
    return _BULLET_MARK.sub("", cloze)


def _same_sentence(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """The words around a blank that belong to its own sentence: "another in a spirit of
    ___ ." rather than "... ___ . \"Todos los" (a slide's English, then its Spanish)."""
    ends = [i for i, word in enumerate(before) if _ends_sentence(word)]
    if ends:
        before = before[ends[-1] + 1 :]
    ends = [i for i, word in enumerate(after) if _ends_sentence(word)]
    if ends:
        after = after[: ends[0] + 1]
    return before, after


def _ends_sentence(word: str) -> bool:
    """ "brotherhood." or a lone "." does; "Fig.", "e.g.", "U.S." and an initial "J." do not."""
    core = word.rstrip("\"”’')]")
    if core.endswith(("!", "?")):
        return True
    stem = core[:-1].lstrip("(\"“‘'[") if core.endswith(".") else None
    if stem is None:
        return False
    return stem == "" or (
        len(stem) > 1
        and stem.lower() not in _ABBREVIATIONS
        and not re.fullmatch(r"(\w\.)+\w?", stem)
    )


def _prose(text: str) -> bool:
    """A sentence of words a blank can be cut from: no formula, mostly letters."""
    chars = text.replace(" ", "")
    return not _MATH.search(text) and sum(ch.isalpha() for ch in chars) >= 0.6 * max(len(chars), 1)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


def _sentence(text: str, at: int) -> str:
    """The sentence of a paragraph (a web page's block) that holds position `at`: what a
    self-explain turn quotes, rather than the whole paragraph."""
    if len(text.split()) <= 30:
        return text
    start = 0
    for end in _SENTENCE_END.finditer(text):
        if end.start() >= at:
            return text[start : end.start()].strip()
        start = end.end()
    return text[start:].strip()


def _numbers(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM, BlockRole.CAPTION):
            continue
        if (
            len(block.text.split()) < 6
            or _KEY_VALUE.match(block.text.strip())
            or not _prose(block.text)
        ):
            continue
        for match in _NUMBER.finditer(block.text):
            if _REFERENCE.search(block.text[: match.start()]):
                continue  # "[31]": a citation or a page reference, not a fact
            if block.text[match.end() : match.end() + 1] == "-":
                continue  # "64-bit", "64-" broken at the line's end: part of a word
            answer = _trim(match.group())
            cloze = _cloze(page, block, match.start(), match.end())
            if cloze and answer:
                quote = _sentence(block.text, match.start())
                see = f'The sentence {page.where(block)} reads "{quote}".'
                found.append(Candidate("number", cloze, answer, block, see))
                break
    return found


def _terms(page: PageView, pattern: re.Pattern = _TERM, kind: str = "term") -> list[Candidate]:
    """A distinctive term (an identifier, an acronym) in a sentence, blanked."""
    found = []
    for block in page.content:
        if (
            block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM)
            or len(block.text.split()) < 6
        ):
            continue
        if not _prose(block.text):
            continue  # code or a formula: no blank to fill in
        for match in pattern.finditer(block.text):
            if match.start() == 0 or not page.unique(match.group()):
                continue
            cloze = _cloze(page, block, match.start(), match.end())
            if cloze:
                quote = _sentence(block.text, match.start())
                see = f'The sentence {page.where(block)} reads "{quote}".'
                found.append(Candidate(kind, cloze, match.group(), block, see))
                break
    return found


def _long_words(page: PageView) -> list[Candidate]:
    """The last resort of a text-rich page: a long word of a sentence, blanked."""
    return _terms(page, _LONG_WORD, "long_word")


def _sections(page: PageView) -> list[Candidate]:
    """Which heading a sentence stands under: a relation between a fact and the page's structure."""
    found = []
    if len(page.headings) < 2:
        return found  # with one heading, "under which heading" is the title question again
    for block in page.content:
        if (
            block.role != BlockRole.PARAGRAPH
            or len(block.text.split()) < 5
            or not block.text[:1].isupper()
            or not _prose(block.text)
            or _ANNOTATION.match(block.text)  # "Note: All figures are for the year ..."
        ):
            continue
        heading = page.heading_above(block)
        snippet = " ".join(block.text.split()[:8])
        if heading and not _a_label(heading.text) and page.unique(snippet):
            see = f'The line "{_sentence(block.text, 0)}" stands below the heading "{heading.text}"'
            see += f" on image {page.n}."
            found.append(Candidate("section", snippet, heading.text, heading, see))
    return found


@dataclass(frozen=True)
class QuestionKind:
    """One kind of template question: where on a page it finds candidates, and how each kind
    of candidate it finds is asked. Candidates are preferred in the order of the registry, then
    of `asks`; a kind marked `last_resort` is tried only on a page no other kind found anything
    on."""

    label: str  # what it looks for, as `why_no_qa` names it
    find: Callable[[PageView], list[Candidate]]
    asks: dict[str, tuple[str, ...]]  # candidate kind -> its phrasings
    last_resort: bool = False


def _kind(label, find, *kinds, last_resort=False) -> QuestionKind:
    return QuestionKind(label, find, {k: _PHRASINGS[k] for k in kinds}, last_resort)


TITLES = _kind("title or heading", _titles, "title", "heading")
KEY_VALUES = _kind("labelled value", _key_values, "key_value")
TABLES = _kind("table", _tables, "table_cell", "table_max", "table_min")
NUMBERS = _kind("number in an unambiguous sentence", _numbers, "number")
SECTIONS = _kind("section of a sentence", _sections, "section")
TERMS = _kind("distinctive term", _terms, "term")
LONG_WORDS = _kind("long word of a sentence", _long_words, "long_word", last_resort=True)

QUESTION_KINDS = Registry(
    "question kind",
    {
        name: f"{__name__}:{name.upper()}"
        for name in ("titles", "key_values", "tables", "numbers", "sections", "terms", "long_words")
    },
)


def _kinds() -> list[QuestionKind]:
    return [kind for _, kind in QUESTION_KINDS.items()]


def _asks() -> dict[str, tuple[str, ...]]:
    """Candidate kind -> phrasings, in the order candidates are preferred."""
    return {name: phrasings for kind in _kinds() for name, phrasings in kind.asks.items()}


def _question(candidate: Candidate, n: int, rng: random.Random) -> str:
    kind, subject = candidate.kind, candidate.subject
    template = rng.choice(_asks()[kind])
    if kind == "table_cell":
        row, column = subject.split("\x00")
        return template.format(n=n, row=row, column=column)
    fields = {"subject": subject, "key": subject, "column": subject, "cloze": subject}
    fields["snippet"] = subject
    return template.format(n=n, **fields)


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
    preferred = list(_asks())
    unknown = sorted(set(by_kind) - set(preferred))
    if unknown:  # a rule found candidates of a kind no QuestionKind asks
        raise ValueError(f"no question kind asks candidates of kind {unknown}")
    kinds = [kind for kind in preferred if kind in by_kind]
    picked: list[Candidate] = []
    while len(picked) < limit and any(by_kind.values()):
        for kind in kinds:
            while by_kind[kind] and len(picked) < limit:
                candidate = by_kind[kind].pop(0)
                key = normalize(candidate.answer)
                if key not in seen:
                    seen.add(key)
                    picked.append(candidate)
                    break
    return picked


def _pages(sample: SampleRecord) -> list[PageView]:
    return [
        PageView(blocks, size[1], i + 1)
        for i, (blocks, size) in enumerate(
            zip(sample.image_blocks, sample.image_sizes, strict=True)
        )
    ]


def generate_template_qa(sample: SampleRecord, options: GeneratorOptions) -> SampleRecord:
    """The sample with template QA and its conversation (no QA at all when nothing fits)."""
    rng = random.Random(stable_id(str(options.seed), sample.sample_id))
    qa: list[QAItem] = []
    answers: set[str] = set()
    questions: set[str] = set()
    pages = _pages(sample)
    for page in pages:
        kinds = _kinds()
        candidates = [c for k in kinds if not k.last_resort for c in k.find(page)]
        candidates = candidates or [c for k in kinds if k.last_resort for c in k.find(page)]
        for candidate in _pick(candidates, options.max_qa_per_image, rng, answers):
            question = _question(candidate, page.n, rng)
            if not is_grounded(candidate.answer, page.text) or normalize(question) in questions:
                continue  # never emit an answer the page does not contain, nor a repeat
            questions.add(normalize(question))
            qa.append(
                QAItem(
                    "extractive",
                    question,
                    candidate.answer,
                    page.n - 1,
                    candidate.evidence.text,
                    NAME,
                    PROMPT_VERSION,
                )
            )
            qa.append(
                QAItem(
                    "self_explain",
                    rng.choice(FOLLOW_UP),
                    candidate.explain,
                    page.n - 1,
                    candidate.evidence.text,
                    NAME,
                    PROMPT_VERSION,
                )
            )
    qa.extend(_cross_image(pages, options.cross_image_questions, rng))
    return replace(
        sample, qa=qa, conversations=build_conversation(qa, sample.num_images), generator=NAME
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


# ----------------------------------------------------------------------------------- cross-image


def _labelled_numbers(page: PageView) -> dict[str, tuple[str, float]]:
    """Normalised label -> (label as written, value) for "label: number" lines and table cells."""
    found: dict[str, tuple[str, float]] = {}
    for candidate in _key_values(page):
        value = _numeric(candidate.answer)
        if value is not None:
            found[normalize(candidate.subject)] = (candidate.subject, value)
    for table in page.tables:
        for row in range(1, table.rows):
            for column in range(1, table.columns):
                value = _numeric(table.text(row, column))
                label = f"{table.text(row, 0)} {table.text(0, column)}".strip()
                if value is not None and table.text(row, 0):
                    found.setdefault(normalize(label), (label, value))
    return found


def _cross_image(pages: list[PageView], limit: int, rng: random.Random) -> list[QAItem]:
    if len(pages) < 2 or limit == 0:
        return []
    found: list[QAItem] = []
    numbers = [_labelled_numbers(p) for p in pages]
    for i in range(len(pages)):
        for j in range(i + 1, len(pages)):
            for key in sorted(set(numbers[i]) & set(numbers[j])):
                (label, a), (_, b) = numbers[i][key], numbers[j][key]
                if a == b:
                    continue
                bigger = i if a > b else j
                question = (
                    f'Which image gives the larger "{label}": image {i + 1} or image {j + 1}?'
                )
                answer = (
                    f"Image {bigger + 1}. Image {i + 1} gives {_shown(a)} and image {j + 1} gives "
                    f"{_shown(b)} "
                    f'for "{label}".'
                )
                found.append(
                    QAItem(
                        "cross_image",
                        question,
                        answer,
                        -1,
                        f"{label}: {a} | {b}",
                        NAME,
                        PROMPT_VERSION,
                    )
                )
    heads = [(p.n, h) for p in pages for h in p.headings[:1] if not _a_label(h.text)]
    for (m, first), (k, second) in zip(heads, heads[1:], strict=False):
        if m != k and normalize(first.text) != normalize(second.text):
            pair = [first.text, second.text]
            rng.shuffle(pair)
            question = f'Which section comes first in the document: "{pair[0]}" or "{pair[1]}"?'
            answer = f'"{first.text}", on image {m}; "{second.text}" follows on image {k}.'
            found.append(
                QAItem(
                    "cross_image",
                    question,
                    answer,
                    -1,
                    f"{first.text} | {second.text}",
                    NAME,
                    PROMPT_VERSION,
                )
            )
    for previous, page in zip(pages, pages[1:], strict=False):
        opens = page.headings and (  # a new heading at the top, or a slide's own title
            (page.headings[0].bbox[1] + page.headings[0].bbox[3]) / 2 < page.height / 3
            or any(h.role == BlockRole.TITLE for h in page.headings)
        )
        sections = [h for h in previous.headings if h.role == BlockRole.HEADING]
        last = sections[-1] if sections and not _a_label(sections[-1].text) else None
        # text that starts low on a page (a manual's copyright page) continues nothing
        body = [
            b for b in page.blocks if b.role not in (BlockRole.HEADER_FOOTER, BlockRole.WATERMARK)
        ]
        top = min(((b.bbox[1] + b.bbox[3]) / 2 for b in body), default=page.height)
        if last and not opens and page.content and top < page.height / 3:
            question = f"The text at the top of image {page.n} continues which section of image "
            question += f"{previous.n}?"
            answer = f'The section "{last.text}", the last heading on image {previous.n}.'
            found.append(
                QAItem("cross_image", question, answer, -1, last.text, NAME, PROMPT_VERSION)
            )
    rng.shuffle(found)
    found.sort(
        key=lambda q: 0 if q.question.startswith("Which image gives") else 1
    )  # comparisons first
    return found[:limit]


def _shown(value: float) -> str:
    return f"{value:g}"


class TemplateGenerator:
    """The offline backend: no model, no network, deterministic per seed."""

    name = NAME
    concurrency = 1
    serve = staticmethod(no_service)

    def __init__(self, options: GeneratorOptions, service: None = None):
        self.options = options

    def setup(self) -> None:
        pass

    def teardown(self) -> None:
        pass

    def generate(self, sample: SampleRecord) -> SampleRecord:
        return generate_template_qa(sample, self.options)

    def why_no_qa(self, sample: SampleRecord) -> str:
        return why_no_qa(sample)
