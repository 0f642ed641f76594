"""The checks an LLM's QA must pass before it is kept; each failure has its reject reason.

An LLM that is weak, or wrong for once, writes text that looks right. These checks look for the
mistakes that matter to a trainer, using the page text as the truth:

- `answer_fits_question`: an extractive answer must sit in the page text *next to words of the
  question*, not merely somewhere on the page ("Who hit Louisiana?" -> "Katrina" passes only if
  the line around "Katrina" speaks of hitting Louisiana).
- `claims_grounded`: every number and capitalised name a caption, explanation or answer states
  is in the page text (or its human-written context). Nothing invented.
- `builds_on` and `location_only`: a self-explain turn must use the extracted answer and say
  something about it, not only where it stands on the page.
- `cited_images`: a cross-image item counts the images in which one of its cited facts is found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from curate.core.text import normalize
from curate.document.layout import tables_of
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.grounding import grounding_score, occurs, rejoined

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
_NAME = re.compile(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")

STOPWORDS = frozenset(
    """a an the and or but if of in on at to for from by with without about into over under
    above below between through during before after as is are was were be been being has have
    had do does did this that these those it its they them their there here what which who whom
    whose when where why how many much more most less least some any all each every no not only
    than then so such can could should would may might must will shall also very just one two
    i you he she we me my your our his her us""".split()
)
# Words a question uses to point at a part of the page rather than at its content.
STRUCTURAL = frozenset(
    """page pages image images document text title heading headings header caption figure table
    tables column columns row rows section chapter line lines label value values name names
    number numbers total date author list item entry according given shown stated mentioned
    written say says said state states main first last follow follows missing blank fill
    complete completes stand stands short slide slides subsection subsections contents
    paragraph contain contains containing""".split()
)
# Words a caption uses about any page ("a report page headed X shows ...").
DESCRIPTIVE = frozenset(
    """report slide slides form manual describe describes headed shows show lists contains contain
    includes include gives give presents present provides provide overview summary details detail
    information content contents titled presentation cell cells identifier identifiers""".split()
)
# Counts a caption gives of what it sees ("a table of six columns and three rows").
COUNTS = frozenset("three four five six seven eight nine ten eleven twelve dozen several".split())
# Words that say where something is; a self-explain made only of these says nothing else.
LOCATION = STRUCTURAL | frozenset(
    """top bottom left right middle center centre near next beside under above below upper lower
    appears appear located locate found find listed shown see seen sits placed part side area
    box region second third fourth corner end beginning start body sentence sentences paragraph
    paragraphs passage slide bullet point begins beginning opens""".split()
)
# a quotation that only points at a place: "in the sentence beginning \"AutoGen serves ...\""
_QUOTED_PLACE = re.compile(
    r"\b(?:beginning|begins|starting|starts|opening|opens|reads|reading)(?:\s+with)?\s*[:,]?\s*"
    r"(?:\"[^\"]*\"|“[^”]*”|‘[^’]*’)",
    re.IGNORECASE,
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str, ignore: frozenset[str] = STOPWORDS) -> set[str]:
    """Stemmed, case-folded words that carry meaning; CJK text contributes its characters.
    A word is ignored when it, or its stem, is in `ignore` ("figures" like "figure")."""
    ignored = _stems(ignore)
    words = set()
    text = re.sub(r"n['’]t\b", " not", text)  # "Didn't Change" is "did not change"
    for word in _WORD.findall(normalize(text)):
        if _CJK.search(word):
            words.update(ch for ch in word if _CJK.match(ch))
        elif len(word) > 1 and word not in ignore and _stem(word) not in ignored:
            words.add(_stem(word))
    return words


@functools.cache
def _stems(words: frozenset[str]) -> frozenset[str]:
    return frozenset(_stem(word) for word in words)


def numbers(text: str) -> set[str]:
    """The numbers in a text, normalised ("1,284" -> "1284", "12.50" -> "12.5")."""
    found = set()
    for number in _NUMBER.findall(normalize(text)):
        found.add(number.rstrip("0").rstrip(".") if "." in number else number.lstrip("0") or "0")
    return found


NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "hundred": "100",
    "thousand": "1000",
}
_NUMBER_WORD = re.compile(rf"\b({'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)


def source_numbers(text: str) -> set[str]:
    """The numbers a source states: as `numbers`, and also its number words ("five" is 5) and
    its decimals split by the text layer ("467. 9" is 467.9). Only a source reads number
    words: in a claim, "one of the rules" states no number."""
    found = numbers(text) | numbers(rejoined(normalize(text)))
    return found | {NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text)}


# a numbered part named by its number: the page may print "2 Basic Idea" for "Section 2"
_NUMBERED_PART = re.compile(
    r"\b(?:sections?|chapters?|figures?|figs?\.|tables?|appendix|slides?|pages?|steps?|items?|"
    r"parts?|equations?|eqs?\.)\s+(?=\d)",
    re.IGNORECASE,
)


_PART_NUMBER = re.compile(rf"{_NUMBERED_PART.pattern}(\d+(?:\.\d+)*)", re.IGNORECASE)


def _without_parts(claim: str, source: str) -> str:
    """The claim without the numbered parts it names ("Section 4") that the source prints: by
    their number alone ("4 Method"), or as the head of a subsection's number (a contents page
    lists 4.6 and 4.7, not 4). A part the source lacks keeps its number, for the number check
    to fail."""
    known = source_numbers(source)

    def named(match: re.Match) -> str:
        number = match.group(1)
        printed = number in known or re.search(rf"(?<![\d.]){re.escape(number)}\.\d", source)
        return " " if printed else match.group(1)

    return _PART_NUMBER.sub(named, claim)


def names(text: str) -> set[str]:
    """Capitalised words and runs of them: the names a text states. A lone capitalised word
    that opens a sentence ("Together, ...") is ordinary capitalisation, not a name."""
    found = set()
    for match in _NAME.finditer(text):
        before = text[: match.start()].rstrip()
        opens_sentence = not before or before[-1] in ".!?:;\n\"'("
        words = match.group().split()
        if opens_sentence and len(words) == 1:
            continue
        words = [w for w in words if w.lower() not in STOPWORDS]
        if words and not (len(words) == 1 and len(words[0]) < 2):
            found.add(" ".join(words))
    return found


_IMAGE_REFERENCE = re.compile(r"\bimages?\s+\d+(?:\s*(?:,|and|or)\s*\d+)*", re.IGNORECASE)


def claims_grounded(claim: str, source: str) -> bool:
    """Every number and capitalised name in `claim` occurs in `source` (normalised, as whole
    words). References to images ("image 2") are not claims."""
    claim = _without_parts(_IMAGE_REFERENCE.sub(" ", claim), source)
    if not numbers(claim) <= source_numbers(source):
        return False
    haystack = normalize(source)
    for name in names(claim):
        for word in name.split():
            word = re.sub(r"['’]s$", "", word)  # "AutoGen's" names AutoGen
            singular = re.sub(r"(?<=[A-Z]{2})s$", "", word)  # "MELs" names MEL
            if not any(_named_in(normalize(w), haystack) for w in {word, singular}):
                return False
    return True


_LATIN = rf"[^\W{_CJK.pattern[1:-1]}]"  # a word character of no CJK script
_OF_A_PLACE = re.compile(r"(?:ian|an|n|ese|ish)$")


def _named_in(word: str, haystack: str) -> bool:
    """The word is in the text, as a word of its own (a CJK character beside it ends it:
    "のHTTP ヘッダ"), or is the adjective of a place the text names ("Indian" of India,
    "Canadian" of Canada, "Chinese" of China)."""
    if re.search(rf"(?<!{_LATIN}){re.escape(word)}(?!{_LATIN})", haystack):
        return True
    suffix = _OF_A_PLACE.search(word)
    if suffix is None or len(word) < 6:
        return False
    stem = word[: suffix.start()]
    return re.search(rf"(?<!\w){re.escape(stem)}\w{{0,2}}(?!\w)", haystack) is not None


def arithmetic_checked(claim: str, source: str) -> bool:
    """`claims_grounded`, but a number the source lacks may be worked out from two the claim
    states that the source has: their sum, difference, ratio or percentage, as rounded to the
    places the claim gives it ("2.25 times", "1.7%", "1961 ... 1979: 18 years"). A wrong sum
    or ratio is none of these, and fails. A count of the items the claim itself lists
    ("GRI Standards, NVGs and UN SDGs ... so 3 + 13") is grounded by that list."""
    if not equations_hold(claim):
        return False
    claim = _without_parts(claim, source)
    claim = _COUNTING_ONE.sub(" ", claim)  # "1999 − 1991 + 1": counting both ends
    stated = numbers(_IMAGE_REFERENCE.sub(" ", claim))
    known = source_numbers(source) | {str(n) for n in listed_counts(claim)}
    grounded = sorted(float(n) for n in stated & known if _is_float(n))
    for number in stated - known:
        if not _worked_out(number, grounded):
            return False
    # the names still need the source; a number inside a name ("CL-1") stays with it
    rest = re.sub(r"(?<![\w-])\d(?:[\d,.]*\d)?", " ", claim)
    return claims_grounded(rest, source)


_LIST_END = re.compile(r"^(?:and|or)\s|\s(?:and|or)\s")


def listed_counts(text: str) -> set[int]:
    """How many items each list in the text has, for lists of three or more short items
    ("A, B and C", "A, B, and C"): a count a writer may state of them."""
    counts = set()
    for clause in re.split(r"[;:.()\n]", text):
        run = 0  # short items before this one, since the last long or numeric part
        for part in re.split(r",\s*", clause):
            words = part.split()
            ends = _LIST_END.search(part) is not None
            if ends and run:
                counts.add(run + (1 if part.lstrip().startswith(("and ", "or ")) else 2))
            short = 0 < len(words) <= 5 and not re.search(r"\d", part)
            run = run + 1 if short and not ends else 0
    return {n for n in counts if n >= 3}


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_FIGURE = r"\d[\d,]*(?:\.\d+)?"
_OPERATORS = {"−": "-", "–": "-", "×": "*", "x": "*", "÷": "/"}  # as Python writes them
_OPERATOR = r"(?:[+\-−–×*÷/]|(?<=\s)x(?=\s))"
_EQUATION = re.compile(
    rf"(?<![\w.,])({_FIGURE}(?:\s*{_OPERATOR}\s*{_FIGURE})+)\s*(=|≈|~)\s*(?:about\s+)?"
    rf"({_FIGURE})(\s*%)?"
)


def equations_hold(claim: str) -> bool:
    """Every sum the claim writes out ("192 − 168 = 32", "200 ÷ 30 ≈ 6.7") gives what it says,
    to the places its result is written; a result that happens to be printed elsewhere on the
    page is no proof of a wrong sum."""
    for match in _EQUATION.finditer(claim):
        left, sign, result, percent = match.groups()
        terms = re.split(rf"\s*({_OPERATOR})\s*", left)
        expression = "".join(
            _OPERATORS.get(term, term.replace(",", "")) for term in terms if term.strip()
        )
        try:
            value = eval(expression, {"__builtins__": {}})  # digits and + - * / only
        except (SyntaxError, ZeroDivisionError):
            continue
        places = len(result.split(".")[1]) if "." in result else 0
        target = float(result.replace(",", ""))
        slack = (1.0 if sign == "=" else 2.0) * 0.5 * 10 ** (-places) + 1e-9
        values = (value, 100 * value) if percent else (value,)
        if not any(abs(v - target) <= slack for v in values):
            return False
    return True


_COUNTING_ONE = re.compile(r"(?<=\d)\s*[+−-]\s*1(?![\d.,]*\d)(?=\s*=)")
_YEARS = (1000, 2100)


def _worked_out(number: str, values: Sequence[float]) -> bool:
    """`number` is a sum, difference, ratio or percentage of two of `values`, rounded as it is
    written; or, of two years, how many years they span counting both ("1991 to 1999" is
    nine years of data)."""
    if not _is_float(number):
        return False
    target = float(number)
    places = len(number.split(".")[1]) if "." in number else 0
    tolerance = 0.5 * 10 ** (-places) + 1e-9
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            results = [a + b, abs(a - b)]
            if all(_YEARS[0] <= v <= _YEARS[1] and v.is_integer() for v in (a, b)):
                results.append(abs(a - b) + 1)
            if min(a, b) > 0:
                results += [a / b, b / a, 100 * a / b, 100 * b / a]
            if any(abs(target - value) <= tolerance for value in results):
                return True
    return False


def _same_case(answer: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(answer.strip())}(?!\w)", text) is not None


def _places(lines: Sequence[str], answer: str, threshold: float) -> list[tuple[str, str]]:
    """(the text the answer is found in, that text with the line before and after) for every
    place it is found; two or three joined lines when it spans a line break. Only the most
    exact matches count: the same case first ("MATCH" is not "<match>"), then normalised, then
    fuzzy ("MATCH" is not found inside "matching" when it stands on its own somewhere)."""
    for found in (_same_case, occurs, lambda a, t: grounding_score(a, t) >= threshold):
        for size in (1, 2, 3):
            places = [
                (" ".join(lines[i : i + size]), " ".join(lines[max(0, i - 1) : i + size + 1]))
                for i in range(len(lines) - size + 1)
                if found(answer, " ".join(lines[i : i + size]))
            ]
            if places:
                return places
    return []


def answer_fits_question(
    question: str,
    answer: str,
    lines: Sequence[str],
    threshold: float = 90.0,
    cells: Sequence[tuple[str, str]] = (),
    section: Sequence[str] = (),
) -> bool:
    """The answer is on the page and the question's words are around it: any of them on the
    answer's own line ("Who is the author?" and "Author: Marta Keller"), or two of its content
    words on the lines beside it (a table's label above its value), or one code name
    ("DES3_KEY_SIZE" above "DES key size, 24."). A title word next door is not enough to tie
    "How many pages are in the guide?" to "Volume 2".

    A question whose only words are structural ("What is the title?") fits any grounded answer.
    When the answer is a table cell, its row and column are its neighbourhood (`cells`: each
    holding cell's column header and row label, from `table_neighbourhood`): a slide's or PDF's
    table comes out one cell per line, far from the words that name it. A cell is asked by its
    column (the level-2 row of another column holds another rating); by its row alone only
    where its column's header says nothing ("Value"). When it is a heading,
    the question may name it by what its section is about (`section`: the first lines under
    each heading that holds it, from `section_neighbourhood`).
    """
    answer_words = content_words(answer)
    asked = content_words(question) - answer_words
    specific = content_words(question, STOPWORDS | STRUCTURAL) - answer_words
    places = _places(lines, answer, threshold)
    if not places:
        return False
    if not specific:
        return True
    # a word the answer shares with the question counts where the line says it apart from the
    # answer ("Edition: Second edition, 2024" for "what follows the label Edition?")
    shared = content_words(question) & answer_words
    for column, row in cells:
        named = content_words(column, STOPWORDS | STRUCTURAL)
        if (asked & named) or (not named and asked & content_words(row)):
            return True
    if any(specific & content_words(body) for body in section):
        return True
    code_names = {
        word
        for word in specific
        if re.search(r"_|[a-z]\d|\d[a-z]", word) and not re.fullmatch(r"\d+(?:st|nd|rd|th)", word)
    }  # "des3_key_size", "sha256"; not "2nd"
    figures = numbers(question) - numbers(answer)  # "subsection 5.2", "level 1"
    if any(figures & numbers(line) for line, _ in places):
        return True
    return any(
        asked & content_words(line)
        or shared & content_words(_without(line, answer))
        or len(specific & content_words(near)) >= 2
        or code_names & content_words(near)
        for line, near in places
    )


def section_neighbourhood(answer: str, blocks: Sequence[TextBlock], depth: int = 4) -> list[str]:
    """For each heading that says the answer, the first `depth` lines of its section: what a
    question asking for the heading by its subject ("the section on triple DES") names."""
    key = normalize(answer).strip(" .,;:")
    found = []
    for i, block in enumerate(blocks):
        if block.role == BlockRole.HEADING and key and key in normalize(block.text):
            body = []
            for after in blocks[i + 1 :]:
                if after.role == BlockRole.HEADING or len(body) == depth:
                    break
                body.append(after.text)
            found.append(" ".join(body))
    return found


def table_neighbourhood(answer: str, blocks: Sequence[TextBlock]) -> list[tuple[str, str]]:
    """For each table cell that says the answer, the words that name it: (its column's header
    cell, its row's first cell). Where no table the page found holds it, a cell of a table
    the text layer gives as loose lines (a slide's rating grid, printed program output) is
    named by the words above it in its column and before it in its row (`aligned_cells`)."""
    key = normalize(answer).strip(" .,;:")
    found = []
    for table in tables_of(blocks):
        for row, column in table.cells:
            if key and normalize(table.text(row, column)).strip(" .,;:") == key:
                found.append((table.text(0, column), table.text(row, 0)))
    return found or aligned_cells(answer, blocks)


_LABEL = re.compile(r"^(?:[A-ZÀ-Þ&]{2,}(?:\s+[A-ZÀ-Þ&]+){0,3}|[^:]{1,40}:)$")  # EXPORTS; Name:
_SENTENCE = re.compile(r"[^\W\d_]{2,}(?:\s+[^\W\d_]{2,}){3}")  # four words in a row
_SPAN = re.compile(r"\S+")


def _spans(block: TextBlock) -> list[tuple[str, float, float]]:
    """A line's words with where each lies across the line (characters taken as equally
    wide: exact for printed program output, near enough for a cell's few words)."""
    x0, _, x1, _ = block.bbox
    width = (x1 - x0) / max(1, len(block.text))
    return [
        (m.group(), x0 + m.start() * width, x0 + m.end() * width)
        for m in _SPAN.finditer(block.text)
    ]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Two spans across the page overlap by half the narrower one."""
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared >= 0.5 * min(a[1] - a[0], b[1] - b[0]) > 0


def aligned_cells(
    answer: str, blocks: Sequence[TextBlock], depth: int = 4
) -> list[tuple[str, str]]:
    """For each line that holds the answer as a cell (the whole line, or one of the values of
    a line that is no sentence), the words that name it: (of the `depth` lines above it that
    reach into its column, with no gap between them, the words there; the words before it on
    its row)."""
    key = normalize(answer).strip(" .,;:")
    found = []
    for block in blocks:
        text = normalize(block.text).strip(" .,;:")
        if not key or key not in text or _SENTENCE.search(block.text):
            continue
        start = text.find(key)
        if (start and not text[start - 1].isspace()) or (
            start + len(key) < len(text) and not text[start + len(key)].isspace()
        ):
            continue  # a piece of a value, not a cell
        x0, top, x1, bottom = block.bbox
        width = (x1 - x0) / max(1, len(text))
        column = (x0 + start * width, x0 + (start + len(key)) * width)
        above = sorted(
            (b for b in blocks if (b.bbox[1] + b.bbox[3]) / 2 < top and b is not block),
            key=lambda b: -b.bbox[3],
        )
        words, edge = [], top
        for b in above:
            spans = [w for w, *span in _spans(b) if _overlap(column, tuple(span))]
            if spans:
                if edge - b.bbox[3] > 3 * (bottom - top) or depth == 0:
                    break  # the column ends at a gap: what is higher up heads something else
                words, edge, depth = words + spans, b.bbox[1], depth - 1
                if len(words) == len(spans) and _LABEL.match(b.text.strip()):
                    break  # a tile's label right above its value ("EXPORTS" / "₹2,54,970 crore")
        row = [
            w for b in blocks
            if min(b.bbox[3], bottom) - max(b.bbox[1], top) > 0.5 * (bottom - top)
            for w, _, right in _spans(b) if right <= column[0] + 1
        ]  # fmt: skip
        found.append((" ".join(words), " ".join(row)))
    return found


def _without(line: str, answer: str) -> str:
    """The line with the answer taken out of it (case aside)."""
    return re.sub(re.escape(answer.strip()), " ", line, count=1, flags=re.IGNORECASE)


_ASKING = re.compile(
    r"^(what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|should|"
    r"would|will|name|list|give|describe|explain|identify|find|state|according|in|on|from|for|"
    r"compare|summari[sz]e|fill|complete)\b",
    re.IGNORECASE,
)


def word_count(text: str, figures: bool = True) -> float:
    """The words of a text (with its numbers, unless `figures` is off); in CJK text, which
    puts no spaces between words (mostly of two characters), a character counts half a word."""
    count = 0.0
    for word in _WORD.findall(text):
        if figures or any(ch.isalpha() for ch in word):
            cjk = len(_CJK.findall(word))
            count += 0.5 * cjk + (len(word) > cjk)
    return count


def _tokens(text: str) -> list[str]:
    """A text's words, each CJK character one token (for comparing where answers stop)."""
    return re.findall(rf"{_CJK.pattern}|[^\s{_CJK.pattern[1:-1]}]+", text)


def is_question(text: str) -> bool:
    """Three words or more, asked: ending with "?" (or the full-width "？" of CJK text) or
    opening as a question or a request does. ("1", "4," or "The first content slide" is not a
    question.)"""
    asked = text.rstrip().endswith(("?", "？")) or bool(_ASKING.match(text.strip()))
    return word_count(text, figures=False) >= 3 and asked


_IDENTIFIER = re.compile(r"^\S*(?:\w[/.:_<>\\]+\w|[<>])\S*$")  # a path, file or code name


def echoes(question: str, answer: str) -> bool:
    """The answer mostly repeats the question's own words: no answer at all. A path, file
    or code name the question does not spell out is an answer of its own, whatever words
    it is made of ("<nettle/des.h>" for "In which header file does Nettle define DES?")."""
    if _IDENTIFIER.match(answer.strip()) and normalize(answer) not in normalize(question):
        return False
    words = content_words(answer, STOPWORDS | STRUCTURAL)
    return bool(words) and len(words & content_words(question)) >= 0.8 * len(words)


def mostly_from(text: str, source: str, share: float = 0.6) -> bool:
    """Most of the text's own content words (structural ones aside) occur in the source: a
    caption describes the page in its words, rather than echoing the prompt ("2 to 4 sentences
    for this page") or describing another page."""
    words = content_words(text, STOPWORDS | STRUCTURAL | DESCRIPTIVE | COUNTS)
    return bool(words) and len(words & content_words(source)) >= share * len(words)


def builds_on(explanation: str, answer: str) -> bool:
    """The explanation uses the answer: verbatim, or most of its content words and numbers
    ("5.2 turns to Petersen's ..." uses "5.2. Petersen (2009)")."""
    if grounding_score(answer, explanation) >= 100:
        return True
    words = content_words(answer) | numbers(answer)
    used = words & (content_words(explanation) | numbers(explanation))
    return bool(words) and len(used) >= max(1, 0.6 * len(words))


_ASKS_WHERE = re.compile(
    r"^\W*(?:where\b.*\b(?:mention|mentions|mentioned|appear|appears|given|shown|found|"
    r"located|stated|written|listed|placed|printed)\b|(?:in|on) which (?:part|section|"
    r"paragraph|page|line|box|column|row|sentence)\b)"
    # "where on the page" in Japanese, Chinese and Korean, wherever the sentence puts it
    r"|どこ[にで](?:は|も)?(?:書|記載|記述|載|挙げ|示|述べ|言及|出て|あり)"
    r"|どの(?:部分|欄|節|項|ページ|行|段落|箇所)に(?:書|記載|載|挙げ|示|あり)"
    r"|在哪(?:里|儿)?(?:提到|写|列出|出现|说明|给出)|哪(?:一|个)?(?:部分|节|页|段|行)(?:提到|写|列出)"
    r"|어디에(?:서)?\s*(?:나와|쓰여|언급|적혀|나타|있)",
    re.IGNORECASE,
)


def location_only(explanation: str, answer: str, question: str = "") -> bool:
    """A follow-up that asks where the answer is ("Where is X mentioned?": its answer, however
    dressed with the names of sections, is a place), or says nothing but the answer, the
    question's words and where things are; a quotation that only says where a sentence begins
    is where, too ("in the sentence beginning \"AutoGen ...\"")."""
    if _ASKS_WHERE.search(question):
        return True
    said = content_words(_QUOTED_PLACE.sub(" ", explanation), STOPWORDS | LOCATION)
    said -= content_words(answer) | content_words(question)
    return len(said) < 3


def cited_images(
    evidence: Iterable[tuple[int, str]], image_texts: Sequence[str], threshold: float
) -> set[int]:
    """The 1-based images in which a cited fact is found (each fact checked against its image)."""
    found = set()
    for image, fact in evidence:
        if 1 <= image <= len(image_texts) and fact.strip():
            if grounding_score(fact, image_texts[image - 1]) >= threshold:
                found.add(image)
    return found


def used_images(evidence: Iterable[tuple[int, str]], cited: set[int], said: str) -> set[int]:
    """The cited images whose fact the question or answer uses: a number of it, or a word of it
    that the other cited facts lack. A second citation that only pads an item one image
    answers ("Rolling CRC" beside "CRCs were proposed ... in 1961") is not used; the same
    fact found on two images, asked about as such, is."""
    words, figures = content_words(said), numbers(said)
    facts = [(image, fact) for image, fact in evidence if image in cited]
    used = set()
    for i, (image, fact) in enumerate(facts):
        others = set().union(*(content_words(f) for j, (_, f) in enumerate(facts) if j != i))
        mine = content_words(fact)
        own = mine - others - numbers(fact)
        # the same fact on two images ("Shri Mukesh D. Ambani" quoted on both) is used twice
        again = any(content_words(f) == mine for j, (_, f) in enumerate(facts) if j != i)
        if numbers(fact) & figures or own & words or (again and mine & words):
            used.add(image)
    return used


def identifiers_on_page(answer: str, text: str) -> bool:
    """Every number, code or one-letter mark the answer names something by is on the page as
    it stands, not merely close: a fuzzy match takes "Section 102(b)" for the page's 102(c),
    "₹7,92,758" for its ₹7,92,756."""
    for token in re.findall(r"\(\w\)|\S*\d\S*", normalize(answer)):
        token = token.strip(".,;:!?\"'")
        if token and not occurs(token, text):
            return False
    return True


def cut_short(answer: str) -> bool:
    """The answer stops at a word broken over two lines ("04191ea8-", "Inter-"): the page's
    phrase goes on on the next line."""
    return bool(re.search(r"\w-$", answer.rstrip()))


def furniture_only(answer: str, blocks: Sequence) -> bool:
    """Every line of the image that holds the answer is a running header, footer or page
    number (the source marked it so): "Thursday, August 6, 2020" of a journal's header."""
    key = normalize(answer).strip(" .,;:")
    holding = [b for b in blocks if key and key in normalize(b.text)]
    return bool(holding) and all(b.role == BlockRole.HEADER_FOOTER for b in holding)


def copies_page(explanation: str, text: str, words: int = 8) -> bool:
    """A follow-up that is a passage of the page, copied: it repeats, it does not explain."""
    return word_count(explanation) >= words and grounding_score(explanation, text) >= 95


def derived_numbers(facts: Iterable[str]) -> set[str]:
    """Numbers a comparison or total may state: the facts' own, and sums and differences of two."""
    values = []
    for fact in facts:
        for number in numbers(fact):
            try:
                values.append(float(number))
            except ValueError:
                pass
    derived = set()
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            for value in (a + b, abs(a - b), sum(values)):
                derived.add(f"{round(value, 6):g}")
    return derived


def answers_agree(first: str, second: str) -> bool:
    """Two short answers say the same: equal after normalising, one inside the other, or close.
    Answers that carry numbers or identifiers agree only on every one of them ("Section
    102(b)" is not 102(c), "Article 18" not 11); one inside the other counts only where it
    is most of it ("Article 18" and "18"; not "coint.res" of "coint.res + diff.income"), and
    not where the shorter stops two words or more before the longer's end (a name cut short)."""
    a, b = normalize(first).strip(" .,;:"), normalize(second).strip(" .,;:")
    if not a or not b:
        return False
    if _identifiers(a) != _identifiers(b):
        return False
    if a == b:
        return True
    if grounding_score(a, b) >= 100 or grounding_score(b, a) >= 100:
        shorter, longer = sorted((_tokens(a), _tokens(b)), key=len)
        rest = word_count(" ".join(longer[len(shorter) :]))
        if longer[: len(shorter)] == shorter and rest >= 2:
            return False  # "New York State" of "New York State Department of Health": cut short
        return word_count(" ".join(shorter)) >= 0.5 * word_count(" ".join(longer))
    return min(grounding_score(a, b), grounding_score(b, a)) >= 90


def _identifiers(text: str) -> list[str]:
    """The numbers and one-letter marks ("(c)", "§ 5") an answer names something by."""
    return sorted(re.findall(r"\d+(?:[.,]\d+)*|\(\w\)", text))
