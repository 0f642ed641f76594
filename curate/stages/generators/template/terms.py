"""A distinctive term (an identifier, an acronym) of a sentence, blanked; a name (a capitalised
word inside a sentence) where a page offers nothing better."""

from __future__ import annotations

import re

from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.acronyms import spelled_out
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    CJK,
    CJK_NAME,
    CJK_TERM,
    CODE_TERM,
    KATAKANA_TERM,
    LONG_WORD,
    REFERENCE,
    TERM,
    cloze_of,
    is_prose,
    long_enough,
    trivial,
)


def find_terms(page: PageView, pattern: re.Pattern = TERM, kind: str = "term") -> list[Candidate]:
    """A distinctive term (an identifier, an acronym) in a sentence, blanked."""
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM) or not long_enough(
            block.text
        ):
            continue
        if not is_prose(block.text) or page.cites(block):
            continue  # code, a formula, a reference: no blank to fill in
        blank = next(
            (
                (match.group(), cloze)
                for pattern_here in _patterns_for(block.text, pattern)
                for match in pattern_here.finditer(block.text)
                if (cloze := _cloze_for(page, block, match))
            ),
            None,
        )
        if blank:
            answer, cloze = blank
            named = kind == "long_word" and CJK.search(block.text)
            found.append(Candidate("cjk_name" if named else kind, {"cloze": cloze}, answer, block))
    return found


def _patterns_for(text: str, pattern: re.Pattern) -> tuple[re.Pattern, ...]:
    """In CJK text a term stands right against its words ("Non-Maintainer Upload (NMU) と判別
    される", "... (eps)나 PDF를"), on a line of mostly Latin letters too: Latin letters only,
    then a command or an option, then (Japanese) a katakana compound."""
    if pattern is TERM and CJK.search(text):
        return (CJK_TERM, CODE_TERM, KATAKANA_TERM)
    if pattern is LONG_WORD and CJK.search(text):
        return (CJK_NAME,)
    return (pattern,)


def _cloze_for(page: PageView, block: TextBlock, match: re.Match) -> str | None:
    """The matched word's blank in its sentence, or None where it makes no question."""
    text, term = block.text, match.group()
    if match.start() == 0 or trivial(term) or not page.unique(term):
        return None
    if match.re is KATAKANA_TERM and not _katakana_word(text, match.start(), match.end()):
        return None
    if _one_of_listed_calls(text, match) or _one_of_like_terms(text, match):
        return None  # "struc_foo(), ___(), and ...": one of a list of function names
    if _ITEM_BEFORE.search(text, 0, match.start()) and _NEXT_ITEM.match(text, match.end()):
        return None  # "번역자 : 김강수, 이기황, ___, 샘처럼": any name of a list would do (seed 75)
    before = text[: match.start()].rstrip()
    if before.endswith("(") and spelled_out(before[:-1], term):
        return None  # "Content Security Policy (___)": the words before spell it out
    if match.re is CJK_NAME and not _names_alone(page, block, match):
        return None
    if match.re is LONG_WORD and not _stands_alone(text, match.start(), match.end()):
        return None
    return cloze_of(page, block, match.start(), match.end())


def _one_of_listed_calls(text: str, match: re.Match) -> bool:
    """A function's name with its brackets, in a list of them ("struc_foo(), ___(), and
    ..."); one alone in its sentence ("along with ___():") is a fact of the page (tuning run:
    a paper's pages on R functions got no question)."""
    call = re.match(r"\s*\([^)]*\)", text[match.end() :])
    if call is None:
        return False
    after, before = text[match.end() + call.end() :], text[: match.start()]
    return bool(
        re.match(r"\s*(?:[,、]|and\b|or\b)", after)
        or re.search(r"(?:[,、]|\band|\bor)\s*$", before)
    )


_NEXT_ITEM = re.compile(r"\s*[,、]\s*([^\s,、，;:)）]+)")
_ITEM_BEFORE = re.compile(r"([^\s,、，;:(（]+)\s*[,、]\s*$")


def _one_of_like_terms(text: str, match: re.Match) -> bool:
    """The term is an item of a comma-separated run with a term of its own kind and shape
    next to it ("___, \\beta, \\gamma": the others give it away, blind audit, seed 72;
    "-a, ___, -c"). A Chinese "，" parts clauses, not items ("git pull ，Git 能 ...")."""
    term = match.group()
    after = _NEXT_ITEM.match(text, match.end())
    before = _ITEM_BEFORE.search(text, 0, match.start())
    return any(
        m and match.re.fullmatch(item := m.group(1).rstrip(".")) and _shape(item) == _shape(term)
        for m in (after, before)
    )


def _shape(term: str) -> str:
    """What a term opens on: a backslash, a dash, a capital or a small letter."""
    first = term[:1]
    return first if first in "\\-" else "A" if first.isupper() else "a"


def _names_alone(page: PageView, block: TextBlock, match: re.Match) -> bool:
    """A name in Latin letters in CJK text says a fact of its own: not a work a citation points
    to ("Zeileis (2002)", "Local Guide [5]"), not the first word of a name that goes on on the
    next line ("원래 Leslie" / "Lamport가", blind audit, seed 59), not one name of a list of
    names or of alternatives ("번역자 : 김강수, 이기황, ___, 샘처럼": any would do, seed 56;
    "xz あるいは ___ あるいは bzip"), not a gloss in brackets of the CJK word before it
    ("수식모드(math ___)", blind audit, seed 64), not a word in lower case with no CJK text
    beside it (a word of an English sentence in a Japanese page), not the words an
    abbreviation right after it spells ("___ (CWE)": the abbreviation's own question), not the
    first words of a label that goes on in lower case ("Replace Indentation Tab by Spaces")."""
    text, name = block.text, match.group()
    if re.match(r"\s*\[\d|\W*\(?(1[5-9]|20)\d\d\b", text[match.end() :]):
        return False
    before, after = text[: match.start()].rstrip(), text[match.end() :]
    if _GLOSS.search(before):
        return False  # "수식모드(math ___)": the CJK word before the bracket gives it away
    if name.islower() and not (_CJK_BEFORE.search(before) or _CJK_AFTER.match(after)):
        return False  # "you're encouraged to ___ up with ... パッケージトラッカー": English
    if name[0].isupper() and re.search(r"(?<![A-Za-z])[A-Z][A-Za-z0-9+#.]*[^\S\n]*$", before):
        return False  # "使用VS ___": the last word of a name ("VS Code", blind audit, seed 76)
    if re.match(r"[^\S\n]+[a-z]+\b", after) or re.search(
        r"[A-Z]\w*[^\S\n]+[a-z]+[^\S\n]+$", before + " "
    ):
        return False  # "勾选 ___ by Spaces": a piece of a longer label (blind audit, seed 73)
    if _ALTERNATIVE_BEFORE.search(before) or _ALTERNATIVE_AFTER.match(after):
        return False  # "xz あるいは ___ あるいは bzip": any of them would do
    listed = before.endswith((",", "、", "，"))
    if listed and (_LIST_GOES_ON.match(after) or _LATIN_BEFORE_COMMA.search(before)):
        return False  # "김강수, 이기황, ___, 샘처럼", "prerm, postrm, ___)"
    following = _LATIN_AFTER_COMMA.match(after)  # a clause goes on after "，" in Chinese
    if (following and following.group(1).islower() == name[0].islower()) or (
        before.endswith(("(", "（")) and _LIST_GOES_ON.match(after)
    ):
        return False  # "( ___, postinst, prerm, ...)", "그리고 ___, lzma"; not "___ ，Git 能"
    sentence, _, end = page.sentence_around(block, match.start(), match.end())
    if re.match(r"[^\S\n]*\n\s*[A-Z]", sentence[end:]):
        return False
    short = re.match(r"\s*[(（]([A-Z][A-Za-z]{1,9})[)）]", sentence[end:])
    return not (short and spelled_out(name, short.group(1)))


_LIST_GOES_ON = re.compile(r"\s*[,、，]")
# an English gloss in brackets right after a CJK word: "수식모드(math mode)"
_GLOSS = re.compile(rf"{CJK.pattern}\s*[(（][^)）]*$")
_CJK_OR_ITS_MARKS = r"[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff01-\uff60]"  # "，" "（" too
_CJK_BEFORE = re.compile(rf"{_CJK_OR_ITS_MARKS}$")
_CJK_AFTER = re.compile(rf"[^\S\n]*{_CJK_OR_ITS_MARKS}")
_LATIN_AFTER_COMMA = re.compile(r"\s*[,、]\s*([A-Za-z])")
_LATIN_BEFORE_COMMA = re.compile(r"[A-Za-z0-9][\w.+#-]*\s*[,、，]$")
_OR = r"(?:あるいは|または|もしくは|或者|或是|还是|或|또는|혹은|이나)"  # "vim 이나 ___" (seed 78)
_ALTERNATIVE_BEFORE = re.compile(rf"[A-Za-z0-9]\S*\s*{_OR}$")
_ALTERNATIVE_AFTER = re.compile(rf"\s*{_OR}\s*[A-Za-z]")
_IN_COMPOUND = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def _katakana_word(text: str, start: int, end: int) -> bool:
    """The katakana run is a word of its own: no kanji, Latin letter or digit right against
    it (spaces aside), which would make it a piece of a compound ("機能 ___ 制御" for
    "機能レベルアクセス制御", "Debian ___" for "Debian コミュニティガイドライン": tuning run),
    and not at the line's end, where it may go on on the next line ("イ" / "ンセンティブ")."""
    before, after = text[:start].rstrip()[-1:], text[end:].lstrip()[:1]
    return bool(after) and not _IN_COMPOUND.match(before) and not _IN_COMPOUND.match(after)


_YEAR_AFTER = re.compile(r"^\W*(?:\S+\s+){0,4}?\(?(1[5-9]|20)\d\d\b")


def _stands_alone(text: str, start: int, end: int) -> bool:
    """A word among lower-case words (three either side): not one word of a title, a name or a
    byline ("Achim ___, Kurt Hornik", "A Language and ___ for Statistical Computing"), not an
    author a citation names ("___ and Heagerty 2007"), not "Figure" or "Table"."""
    before, after = text[:start].split()[-3:], text[end:].split()[:3]
    capital = [w for w in before + after if w.strip("“\"'(,.;:")[:1].isupper()]
    # a capitalised Latin word right against it, even glued to CJK text before it ("填写在LaTeX
    # ___ 中": a label's second word, blind audit, seed 47)
    beside = re.search(r"[A-Za-z][\w-]*\s*$", text[:start])
    return (
        not capital
        and not (beside and re.search(r"[A-Z]", beside.group()))
        and not _YEAR_AFTER.match(text[end:])
        and not REFERENCE.search(text[start:end])
    )


def find_long_words(page: PageView) -> list[Candidate]:
    """The last resort of a text-rich page: a name inside a sentence, blanked (in CJK text, a
    name written in Latin letters)."""
    return find_terms(page, LONG_WORD, "long_word")


TERMS = QuestionKind(
    "distinctive term",
    find_terms,
    {
        "term": (
            'Which term completes "{cloze}" on image {n}?',
            'On image {n}, what term is missing from "{cloze}"?',
        )
    },
    cloze=True,
)
LONG_WORDS = QuestionKind(
    "name inside a sentence",
    find_long_words,
    {
        "long_word": (  # "name" read oddly for a word such as "Unicode" (seed 47)
            'On image {n}, what word is missing from "{cloze}"?',
            'Which word completes "{cloze}" on image {n}?',
        ),
        "cjk_name": (  # a name or a term in Latin letters ("Sublime Text", "Checkout")
            'On image {n}, which term completes "{cloze}"?',
            'What term in Latin letters is missing from "{cloze}" on image {n}?',
        ),
    },
    last_resort=True,
    cloze=True,
)
