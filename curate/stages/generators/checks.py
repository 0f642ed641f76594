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
    claim = _NUMBERED_PART.sub(" ", _IMAGE_REFERENCE.sub(" ", claim))  # its number must be there
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


_OF_A_PLACE = re.compile(r"(?:ian|an|n|ese|ish)$")


def _named_in(word: str, haystack: str) -> bool:
    """The word is in the text, or is the adjective of a place the text names ("Indian" of
    India, "Canadian" of Canada, "Chinese" of China)."""
    if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", haystack):
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
    stated = numbers(_IMAGE_REFERENCE.sub(" ", claim))
    known = source_numbers(source) | {str(n) for n in listed_counts(claim)}
    grounded = sorted(float(n) for n in stated & known if _is_float(n))
    for number in stated - known:
        if not _worked_out(number, grounded):
            return False
    rest = re.sub(r"\d[\d,.]*", " ", claim)  # the names still need the source
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


def _worked_out(number: str, values: Sequence[float]) -> bool:
    """`number` is a sum, difference, ratio or percentage of two of `values`, rounded as it is
    written."""
    if not _is_float(number):
        return False
    target = float(number)
    places = len(number.split(".")[1]) if "." in number else 0
    tolerance = 0.5 * 10 ** (-places) + 1e-9
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            results = [a + b, abs(a - b)]
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
    cells: Sequence[str] = (),
) -> bool:
    """The answer is on the page and the question's words are around it: any of them on the
    answer's own line ("Who is the author?" and "Author: Marta Keller"), or two of its content
    words on the lines beside it (a table's label above its value). A title word next door is
    not enough to tie "How many pages are in the guide?" to "Volume 2".

    A question whose only words are structural ("What is the title?") fits any grounded answer.
    When the answer is a table cell, its row and column are its neighbourhood (`cells`: each
    holding cell's column header and row label, from `table_neighbourhood`): a slide's or PDF's
    table comes out one cell per line, far from the words that name it.
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
    if any(asked & content_words(names) for names in cells):
        return True
    figures = numbers(question) - numbers(answer)  # "subsection 5.2", "level 1"
    if any(figures & numbers(line) for line, _ in places):
        return True
    return any(
        asked & content_words(line)
        or shared & content_words(_without(line, answer))
        or len(specific & content_words(near)) >= 2
        for line, near in places
    )


def table_neighbourhood(answer: str, blocks: Sequence[TextBlock]) -> list[str]:
    """For each table cell that says the answer, the words that name it: its column's header
    cell and its row's first cell."""
    key = normalize(answer).strip(" .,;:")
    found = []
    for table in tables_of(blocks):
        for row, column in table.cells:
            if key and normalize(table.text(row, column)).strip(" .,;:") == key:
                found.append(f"{table.text(0, column)} {table.text(row, 0)}".strip())
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


def is_question(text: str) -> bool:
    """Three words or more, asked: ending with "?" or opening as a question or a request does.
    ("1", "4," or "The first content slide" is not a question.)"""
    words = sum(1 for word in _WORD.findall(text) if any(ch.isalpha() for ch in word))
    return words >= 3 and (text.rstrip().endswith("?") or bool(_ASKING.match(text.strip())))


def echoes(question: str, answer: str) -> bool:
    """The answer mostly repeats the question's own words: no answer at all."""
    words = content_words(answer, STOPWORDS | STRUCTURAL)
    return bool(words) and len(words & content_words(question)) >= 0.8 * len(words)


def mostly_from(text: str, source: str, share: float = 0.6) -> bool:
    """Most of the text's own content words (structural ones aside) occur in the source: a
    caption describes the page in its words, rather than echoing the prompt ("2 to 4 sentences
    for this page") or describing another page."""
    words = content_words(text, STOPWORDS | STRUCTURAL | DESCRIPTIVE | COUNTS)
    return bool(words) and len(words & content_words(source)) >= share * len(words)


def builds_on(explanation: str, answer: str) -> bool:
    """The explanation uses the answer: verbatim, or most of its content words."""
    if grounding_score(answer, explanation) >= 100:
        return True
    words = content_words(answer)
    return bool(words) and len(words & content_words(explanation)) >= max(1, 0.6 * len(words))


_ASKS_WHERE = re.compile(
    r"^\W*(?:where\b.*\b(?:mention|mentions|mentioned|appear|appears|given|shown|found|"
    r"located|stated|written|listed|placed|printed)\b|(?:in|on) which (?:part|section|"
    r"paragraph|page|line|box|column|row|sentence)\b)",
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
    return len(explanation.split()) >= words and grounding_score(explanation, text) >= 95


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
        shorter, longer = sorted((a.split(), b.split()), key=len)
        if longer[: len(shorter)] == shorter and len(longer) - len(shorter) >= 2:
            return False  # "New York State" of "New York State Department of Health": cut short
        return len(shorter) >= 0.5 * len(longer)
    return min(grounding_score(a, b), grounding_score(b, a)) >= 90


def _identifiers(text: str) -> list[str]:
    """The numbers and one-letter marks ("(c)", "§ 5") an answer names something by."""
    return sorted(re.findall(r"\d+(?:[.,]\d+)*|\(\w\)", text))
