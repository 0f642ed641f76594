"""The text rules the template questions share, each a named, documented function or pattern:
what a label, a number, a term, a sentence, a blank and a reference look like."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from curate.core.text import normalize
from curate.schemas import TextBlock
from curate.stages.generators.grounding import occurs

if TYPE_CHECKING:  # the page view uses these rules too
    from curate.stages.generators.template.page import PageView

# a label starts with a letter: not a footnote marker ("¹Corresponding author. Email: ...")
KEY_VALUE = re.compile(
    r"^(?P<key>[^\W\d_¹²³⁰⁴-⁹][\w ()/&'’.-]{0,40}?)\s*(?::\s+|：\s*)(?P<value>\S.{0,90})$"
)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
HANGUL = re.compile(r"[\uac00-\ud7af]")  # Korean
KANA = re.compile(r"[\u3040-\u30ff]")  # Japanese
# what opens a Japanese or Korean clause's continuation, never a label
_PARTICLE = re.compile(r"^[のはがをにでともへや、。]|^(그리고|하지만|또는)")


def is_cjk(text: str) -> bool:
    """Mostly Chinese, Japanese or Korean: words run on without spaces."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(bool(CJK.match(ch)) for ch in letters) >= 0.5 * len(letters)


def unspaced(text: str) -> bool:
    """Chinese or Japanese: words run on without spaces. (Korean, mostly Hangul, puts spaces
    between its words, and blanks are cut at them like English.)"""
    letters = [ch for ch in text if ch.isalpha()]
    hangul = sum("\uac00" <= ch <= "\ud7af" for ch in letters)
    return is_cjk(text) and hangul < 0.5 * len(letters)


# what a number in CJK text refers to, not states: "1.4절" (section), "5장" (chapter),
# "12쪽"/"ページ"/"页" (page), "5단계" (step), "表 3", "그림 2", "第3章"; also one of a few
# ("표 6.1과 ___", "___와 5단계": blind audits, seeds 46 and 47); and a date's month or day
# ("___ 月30 日"), which the page states in passing
_CJK_AND = r"\s*(?:과|와|및|,|、|和|与|と|や|~|-)\s*"
CJK_REFERENCE_AFTER = re.compile(
    rf"^(?:{_CJK_AND}[\d.]+)*\s*(절|장|쪽|페이지|항|단계|번째|章|節|节|页|頁|ページ|行目)"
    r"|^\s*(年|月|日|년|월)"
)
CJK_REFERENCE_BEFORE = re.compile(
    rf"(표|그림|図|表|图|第|式|식|부록|付録|附录)\s*(?:[\d.]+{_CJK_AND})*$|(年|월)\s*$"
)


def cjk_label(key: str) -> bool:
    """A CJK label is a few characters ("価格", "발행일"), not a clause cut at a colon (one that
    ends on its verb: "그대로 입력해도 잘 처리한다"), nor one character broken off the line
    above ("さ"), nor two sentences ("进行下载. 具体用法是")."""
    size = len(key.replace(" ", ""))
    return (
        2 <= size <= 12
        and not _PARTICLE.match(key)
        and not re.search(r"[.。，、!?！？]", key)
        and not re.search(r"(다|요|です|ます|する)$", key)  # "잘 처리한다": a clause, verb last
    )


NOT_A_KEY = re.compile(
    r"^(https?|ftp|mailto|file|chapter|section|part|page|figure|table|note|see)\b", re.I
)
# a byline's label: who wrote, translated or edited a section is incidental to what it says,
# and its "value" is often a note ("글쓴이: 역자가 한국어판을 위해 추가", added for this
# edition) or a run of names ("번역자: 김강수, 이기황, ...", asked as what the translator is:
# blind audit, seed 72)
BYLINE = re.compile(
    r"^(authors?|by|written by|translat(ed by|ors?)|edit(ed by|ors?)|글쓴이|저자|지은이|역자|"
    r"옮긴이|번역자?|편집자?|감수자?|作者|译者|编者|翻译|著者|訳者|翻訳|編者|編集)$",
    re.I,
)
# a page's or figure's annotation, not part of the section it happens to stand under
ANNOTATION = re.compile(r"^(notes?|sources?|n\.b\.)\s*[:.]", re.I)
URL = re.compile(r"\b(https?|ftp)\s?:|://|\bwww\.", re.I)
# words whose period does not end a sentence
# words a period follows without ending the sentence ("St. Louis": blind audit, seed 47, a
# quote cut at "ST.")
ABBREVIATIONS = frozenset(
    """al cf eq eqs etc fig figs no nos p pp sec vs st mt ft dr mr mrs ms jr sr vol inc corp
    ltd dept approx ave""".split()
)
TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
ADDRESS = re.compile(r"::|\b[0-9a-f]{1,4}(:[0-9a-f]{1,4}){2,}\b", re.I)
# a number on its own: not part of a version ("1.0.8"), a time ("10:30"), a code ("U+0030",
# "RFC-3066"), a word, a formula ("gK−1"), a footnote marker ("Chi Wang*1") or "§6.1"
NUMBER = re.compile(
    r"(?<![\w.,+:−*†‡§⁰¹²³⁴⁵⁶⁷⁸⁹-])\d(?:\d|,(?=\d))*(?:\.\d+)?%?(?![\w⁰¹²³⁴⁵⁶⁷⁸⁹]|[.:]\d|-\w)"
)
# the same in text written without spaces, where a number stands right against its words
CJK_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,+:−*†‡§⁰¹²³⁴⁵⁶⁷⁸⁹-])\d(?:\d|,(?=\d))*(?:\.\d+)?%?"
    r"(?![A-Za-z0-9_⁰¹²³⁴⁵⁶⁷⁸⁹]|[.:]\d|-\w)"
)
# what stands before a number that only points elsewhere: "[31]", "(12)", "page 67",
# "Section 7.5", "Fig. 8", "listing 5", "et al., 2009", and the rest of a list: "Figs. 7 and 8"
REFERENCE = re.compile(
    r"([\[(]|\b(pages?|p\.|pp\.|sections?|sec\.|chapters?|figures?|figs?\.|tables?|listings?|"
    r"equations?|eqs?\.|appendix|appendices|refs?\.|et al\.,?|see|examples?|definitions?|"
    r"theorems?|lemmas?|propositions?|corollar(y|ies)|properties|property|remarks?|algorithms?|"
    r"steps?|exemple|tableau|équation|théorème|définition|lemme|propriétés?|corollaires?|"
    r"abbildung|tabelle|kapitel|seite|beispiel|rfc|pkcs\s*#?|iso|fips|ieee|ecma|versions?|"
    r"releases?|cfr|u\.s\.c\.|"
    r"#|no\.|nos\.))(\s*[\w.]+\s*(,|\band\b|&|\bor\b|\bto\b|–|"
    r"\bthrough\b))*\s*$",
    re.IGNORECASE,
)
# an identifier or an acronym standing free (not an option "-fkvsVL", a tag "<eq>"); a long
# word only where a page offers nothing better
TERM = re.compile(
    r"(?<![\w<\[/:-])(?:[A-Za-z][A-Za-z0-9]*_[\w]+|[a-z]+[A-Z]\w+|[A-Z]{2,}\w*|[A-Z][a-z]+[A-Z]\w*"
    r"|[a-z]\w{3,}(?=\(\)))(?![\w>\]/:-])"  # or a function written with its brackets
)
# the same in CJK text, where a term stands right against its words: Latin letters only, so
# that "PostScript와" is asked as "PostScript" ("\w" takes Hangul and kana in)
CJK_TERM = re.compile(
    r"(?<![A-Za-z0-9_<\[/:-])(?:[A-Za-z]+_[A-Za-z0-9_]+|[a-z]+[A-Z][A-Za-z0-9_]+|"
    r"[A-Z]{2,}[A-Za-z0-9]*|[A-Z][a-z]+[A-Z][A-Za-z0-9_]*)(?![A-Za-z0-9_>\]/:-])"
)
# a program's name for something, in CJK text: a LaTeX command ("\caption", "\label과", not
# a path's "C:\Documents") or a command-line option ("-d 옵션", "--list"); in text written in
# another script these are the distinctive words, as identifiers are in English
CODE_TERM = re.compile(
    r"(?<![A-Za-z0-9_\\:/.~-])(?:\\[A-Za-z]{3,}|--?[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![A-Za-z0-9_\\{\[-])"
)
# a loanword or a compound of them, written in katakana ("パッケージメンテナ",
# "セッショントークン"): Japanese text's terms; six characters or more, since shorter ones are
# mostly everyday words ("サービス", "ビジネス")
KATAKANA_TERM = re.compile(r"(?<![ァ-ヺー・])[ァ-ヺ][ァ-ヺー・]{5,}(?![ァ-ヺー・])")
# a name: a capitalised word inside a sentence ("designed by Schneier"), not a common word
# ("determined", "efficiently"), whose blank anyone fills in
LONG_WORD = re.compile(r"(?<![\w<\[/:-])(?<![.!?:]\s)[A-Z][a-z]{5,}(?![\w>\]/:-])")
# the same in CJK text: a name written in Latin letters, a capitalised word or a few of them
# ("Vim", "Sublime Text", "Visual Studio Code"), which stands out from its script as a name
CJK_NAME = re.compile(
    r"(?<![A-Za-z0-9_<\[/:.-])(?:[A-Z][A-Za-z0-9+#]{2,}(?:[^\S\n]+[A-Z][A-Za-z0-9+#]*){0,3}"
    r"|[a-z][a-z0-9]{3,})"  # or a program's or package's name in lower case ("latexmk")
    r"(?![A-Za-z0-9_>\]/:-])"
)
STOP = frozenset(
    "a an the and or of in on at to for by with is are was be it its if either not as that this"
    "".split()
)
CONTINUES = frozenset("unless except where when which that than but nor so because while".split())
# a formula: its subscripts and exponents read as plain digits ("x(N−1)W +D"); U+2212 is a
# minus sign, which prose does not use
MATH = re.compile(r"[=∈∉≤≥≠·×÷∑∏√∫±→←⊕⊗∀∃−]")
BULLET_MARK = re.compile(r"^[•◦▪▫●○■□‣⁃∙·➢►✓✔–—*-]\s*")
# what opens a list's item: a bullet, or a number or a letter and a stop ("3.", "(b)")
ITEM_MARK = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·➢►✓✔–—*-]|\(?(?:\d{1,2}|[a-z])[.)])\s*")


# an entry of a reference list: "Therneau TM (2020). survival: ...", "Zeileis, A. and ...",
# "[12] ..."; its years and titles are no facts of the page (nor are the names and grants an
# acknowledgements section thanks, under the headings below)
REFERENCE_ENTRY = re.compile(
    r"^(\[\d+\]|[A-Z][\w'’-]+,? (?:[A-Z]{1,2}\.?,? ?){1,3}(?:\(\d{4}\)|,|and\b|&)|"
    r"[A-Z][\w'’-]+ [A-Z]{1,2} \(\d{4}\))"
)
REFERENCE_HEADINGS = re.compile(
    r"^(\d+(\.\d+)*\.?\s*)?(references|bibliography|literature|literatur|bibliographie|"
    r"références|works cited|参考文献|参考书目|參考書目|참고\s*문헌|문헌\s*목록|"
    r"acknowledge?ments?|remerciements|danksagung|謝辞|致谢|감사의\s*글)\s*$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(1[5-9]|20)\d\d")


def in_citation(text: str, start: int, end: int) -> bool:
    """The number at [start:end] is a year a citation gives: inside brackets ("(Smith,
    2010)", "Vissel 2010)"), after an author's name and a comma ("Kacprzyk, 2007"), after
    "et al." ("Bernstein et al. in 2011"), or in a book's entry (an edition, an ISBN)."""
    if not _YEAR.fullmatch(text[start:end].rstrip(",.;")):
        return False
    before, after = text[:start], text[end:]
    opened = before.rfind("(") > before.rfind(")")
    return (
        opened
        or after.lstrip()[:1] in (")", "]", ";")
        or bool(re.search(r"[A-Z][\w'’-]+,?\s*(et al\.?,?\s*)?$", before))
        or bool(re.search(r"\bet al\.?,?\s*(in\s*)?$", before))
        # a book's entry: "Reading, Massachusetts, second edition, 1994, ISBN ..." (seed 47)
        or bool(re.search(r"\b(ISBN|ISSN|DOI)\b|\bedition\b", text, re.IGNORECASE))
    )


# text a template or an author left to be replaced: never a fact of the page
PLACEHOLDER = re.compile(
    r"lorem ipsum|\bclick to (add|edit)\b|\b(sub)?topic \d+ of (sub)?topic \d+\b|"
    r"\b(your|insert|add) (text|title|subtitle|content) here\b|^\s*text here\s*$",
    re.IGNORECASE,
)


_STREET = re.compile(
    r"\s+(?:[A-Z][\w.]+\s+){1,3}(Street|St\.|Avenue|Ave\.|Road|Rd\.|Boulevard|Blvd\.|Lane|"
    r"Drive|Way|Place|Square|Suite|Floor)\b"
)


def part_of_range(text: str, start: int, end: int) -> bool:
    """The number is one end of a range or a fraction ("20–25", "1/4", "between 1.5 and 2",
    "7 and 14, respectively"), a term of a formula ("3.4 +b1"), a label in brackets
    ("(stratégie 2)") or a street number ("51 Franklin Street"): blanked alone, it asks half a
    fact, or none."""
    before, after = text[:start], text[end:]
    return bool(
        re.match(r"\s*[–—-]\s*\d", after)
        or re.match(r"\s*(and|or|to)\s+[-+]?\d", after)
        or re.search(r"\d\s+(and|or|to)\s*$", before)
        or re.match(r"\s*[+*=×÷^]", after)  # "3.4 +b1": a formula
        or re.search(r"[+*=×÷^]\s*$", before)
        or re.search(r"\d\s*[–—-]\s*$", before)
        or re.search(r"/\s*$", before)
        or re.match(r"\s*/", after)
        or (re.match(r"\s*\)", after) and re.search(r"\(\s*\w+\s*$", before))
        or re.match(_STREET, after)
    )


_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()


# units written in capitals: a number before them is a quantity, not part of a name
_CAPITAL_UNITS = frozenset(
    "KB MB GB TB PB KW MW GW KWH MWH GWH PPM USD EUR GBP INR JPY CNY CHF DPI RPM BPM".split()
)


def part_of_name(text: str, start: int, end: int) -> bool:
    """The number is part of a name: joined to a word by a dash ("737 MAX–8", "COVID-19"),
    right after a capitalised word that is no month ("Windows 10", "OWASP Top 10", "Flight
    043"), right before a word in capitals that is no unit ("737 MAX"), the title number of a
    legal citation ("14 CFR 25.1707", "49 U.S.C. 106"), or a journal's volume ("Probability, 2
    (4), 1–21")."""
    # the word before: after a space, or right against a CJK character ("与Windows 10 类似")
    before = re.search(
        r"(^|[.!?:]\s+|\s|(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]))"
        r"([A-Z][A-Za-z0-9_]*)\s?$",
        text[:start],
    )
    named = (
        before is not None
        and before.group(2).lower() not in _MONTHS
        and before.group(1).strip() == ""  # "In 2011, ..." opens a sentence: no name
        and before.start(2) > 0
    )
    after = re.match(r"\s([A-Z]{2,})\b", text[end:])
    model = after is not None and after.group(1) not in _CAPITAL_UNITS  # "737 MAX", "Boeing 747 SP"
    return bool(
        named
        or model
        or re.search(r"[A-Za-z][–—-]\s*$", text[:start])
        or re.match(r"\s*(CFR|U\.\s?S\.\s?C\.)", text[end:])
        or re.match(r"\s*\(\d+\)[,:]", text[end:])
    )


# TeX's logos set letters raised and lowered ("LaTeX", "ArabTeX", "TeXShop", "HLaTeX"), and
# the text layer reads them flat, as capitals: "LATEX", "ArabTEX", "TEXShop", "HLATEX" (blind
# audit, seed 74) are not what a reader sees
FLAT_LOGO = re.compile(
    r"(?<![A-Z])(?:LA)?TEX(?![A-Z])|TEX(?=[A-Z][a-z])|(?<![A-Za-z])[A-Z]{1,4}(?:LA)?TEX(?![A-Za-z])"
)


# capitals that stress a word rather than name something: the blank says nothing of the page
EMPHASIS = frozenset(
    """MUST SHALL SHOULD MAY NOT REQUIRED RECOMMENDED OPTIONAL REALLY ALWAYS NEVER ONLY ALL
    NOTE WARNING IMPORTANT CAUTION TRUE FALSE NULL YES NO AND OR""".split()
)


def trivial(answer: str) -> bool:
    """A blank any reader fills without the page: 0 or 1 (a return value, a flag), a word in
    capitals for stress ("you MUST use"), or an acronym of two or three letters that its
    sentence gives away ("click ___" OK, "number of ___ cycles" CPU, "___ Code" VS: blind
    audits, seeds 43 and 44)."""
    answer = answer.strip()
    return answer in ("0", "1") or answer in EMPHASIS or bool(re.fullmatch(r"[A-Z]{2,3}", answer))


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


# characters: a CJK sentence this long is quoted whole around its blank (about the 6 to 30
# words of `WHOLE_SENTENCE_WORDS`; a Chinese or Japanese word is two or three characters)
CJK_WHOLE_SENTENCE = (8, 90)


def unwrap_cjk(text: str) -> str:
    """A CJK paragraph's lines joined as the page reads them: no space where a line breaks
    between CJK characters ("依\n存関係"), one between Latin words ("the upload\nurgency")."""
    return re.sub(
        r"\s*\n\s*",
        lambda m: (
            ""
            if CJK.match(m.string[m.start() - 1 : m.start()] or " ")
            or CJK.match(m.string[m.end() : m.end() + 1] or " ")
            else " "
        ),
        text,
    )


def cjk_cloze_of(page: PageView, block: TextBlock, start: int, end: int) -> str | None:
    """`cloze_of` for text without spaces between words: the blank in its whole sentence when
    the page holds it whole and it is not long; None otherwise, or when the blank fits more
    than one place. Blind audits judged a few characters cut at both ends ("るのに、crontab
    ___ で手軽に使") as mechanical as their English kind."""
    sentence, s, e = page.sentence_around(block, start, end)
    low, high = CJK_WHOLE_SENTENCE
    if not sentence or not low <= len(sentence) <= high or "-\n" in sentence:
        return None
    before, after = unwrap_cjk(sentence[:s]).strip(), unwrap_cjk(sentence[e:]).strip()
    if len(before) < 2:
        return None  # "5. ..." or a sentence's first word: nothing before it to go on
    flat = page.norm.replace(" ", "")
    pattern = (
        re.escape(normalize(before).replace(" ", ""))
        + r"\S+?"
        + re.escape(normalize(after).replace(" ", ""))
    )
    if len(re.findall(pattern, flat)) != 1:
        return None
    return BULLET_MARK.sub("", f"{before} ___ {after}").strip()


def cloze_of(page: PageView, block: TextBlock, start: int, end: int) -> str | None:
    """The blank's whole sentence with [start:end] blanked; None when the page does not hold
    the sentence whole, the blank could be filled in at more than one place on the page (an
    ambiguous cloze), or the quote gives the answer away (`gives_away`)."""
    if unspaced(block.text):
        cloze = cjk_cloze_of(page, block, start, end)
    else:
        # a blank is quoted in its whole sentence or not at all: blind audits judged a few
        # words cut at both ends ("Measure optical density at ___ nm every 30") mechanical
        cloze = _whole_sentence_cloze(page, block, start, end) or None
    if cloze and (in_path(block.text, start, end) or gives_away(page, block, start, end, cloze)):
        return None
    if cloze and cloze.rstrip().endswith(("?", "？")):
        return None  # "How do you protect access to ___ (pages)?": a question asked back (a
        # slide's box heading, blind audit, seed 78), no fact stated
    if cloze and POINTS_ELSEWHERE.search(cloze):
        return None  # "更多内容参考 ___ 上的讨论": where to read on, no fact (blind audit, seed 70)
    # a footnote's mark after CJK text, before the closing stop, is not part of the quote
    # ("新安装¹⁵.", seed 75); after a Latin letter it may be a unit's power ("m²")
    return cloze and re.sub(rf"(?<={CJK.pattern})[¹²³⁴⁵⁶⁷⁸⁹⁰]+(?=[.。!?！？]?$)", "", cloze)


# a sentence that sends the reader elsewhere: what it names is a pointer, not a fact of the page
POINTS_ELSEWHERE = re.compile(
    r"\b(?:see|refer to|cf\.)\s+(?:___|section|chapter|page)\b|(?<!供)参考(?!文献)|参见|详见|參閱"
    r"|を参照(?:してくだ|のこと|。)|참고하|참조하|(?:참고|참조)\s*[)）]"
    r"|见(?:本|第|附录|下文|上文)|这里引用",
    re.IGNORECASE,
)


def in_path(text: str, start: int, end: int) -> bool:
    """The blank is a piece of a path or of a pair written with a slash: "C:\\texlive\\___",
    "TCP/___". Blind audit, seed 43: a trivial blank, and no fact of the page."""
    return text[:start].rstrip().endswith(("\\", "/")) or text[end:].lstrip().startswith(
        ("\\", "/")
    )


def _sibling_in(command: str, cloze: str) -> bool:
    """A command or an option of the quote holds the blank's name or starts as it does ("\\,,
    ___, \\qquad" for \\quad, "\\widehat ... ___" for \\widetilde: blind audits, seeds 53
    and 55): its sibling in a list of them gives it away."""
    name = command.lstrip("\\-").lower()
    for other in CODE_TERM.findall(cloze):
        word = other.lstrip("\\-").lower()
        if word != name and (name in word or word[:4] == name[:4] and len(name) >= 4):
            return True
    return False


_GLOSSED = re.compile(r"[^\s(（]\s?[(（]\s*$")  # a word, then an opening bracket


def gives_away(page: PageView, block: TextBlock, start: int, end: int, cloze: str) -> bool:
    """The quote or the page fills the blank in: the answer stands in the quote again ("...
    ___ ... not more than 99"); a word of the quote is spelled nearly like it ("BZ2_bzReadOpen
    / ___" for BZ2_bzWriteOpen, "___ and ...Decompress" for ...Compress); a bracket beside it
    restates it ("오픈타입(___)", "___(오픈타입)" for OpenType); or the answer and the word beside
    it are printed elsewhere on the page ("Windows ___" where "Windows 10" stands again). Blind
    audits judged such blanks trivial."""
    answer = normalize(block.text[start:end])
    quote = normalize(cloze.replace("___", " "))
    if occurs(answer, quote):  # at token boundaries, CJK ones too ("99를")
        return True
    if CODE_TERM.fullmatch(block.text[start:end]) and _sibling_in(block.text[start:end], cloze):
        return True
    if _GLOSSED.search(block.text[:start]) and re.match(r"\s*[)）]", block.text[end:]):
        return True  # "오픈타입(___)": the bracket restates the word before it
    gloss = re.match(r"\s?[(（]([^()（）]{1,30})[)）]", block.text[end:])
    if gloss and CJK.search(gloss.group(1)):
        return True  # "___(오픈타입)": the CJK gloss after it spells it
    if len(answer) >= 6 and any(
        fuzz.ratio(answer, word) >= 75 for word in re.findall(r"\w{4,}", quote)
    ):
        return True
    before = re.search(r"(\S+)\s*$", block.text[:start])
    after = re.match(r"\s*(\S+)", block.text[end:])
    phrases = [f"{before.group(1)} {answer}"] if before else []
    phrases += [f"{answer} {after.group(1)}"] if after else []
    return any(page.norm.count(normalize(p)) >= 2 for p in phrases)


WHOLE_SENTENCE_WORDS = (6, 30)  # a sentence this long is quoted whole around its blank


def _whole_sentence_cloze(page: PageView, block: TextBlock, start: int, end: int) -> str | None:
    """The blank in its whole sentence, when the page holds the sentence whole and it is not
    long: a quotation a reader takes in, not a few words cut at both ends. "" when the blank
    fits more than one place; None when the sentence cannot be quoted whole."""
    sentence, s, e = page.sentence_around(block, start, end)
    low, high = WHOLE_SENTENCE_WORDS
    if not sentence or not low <= len(sentence.split()) <= high or "-\n" in sentence:
        return None
    before, after = " ".join(sentence[:s].split()), " ".join(sentence[e:].split())
    if URL.search(sentence) or before[-1:] in "\"“'‘" or not ITEM_MARK.sub("", before):
        return ""  # in quotation marks; "5. Make sure ...": a list's number, not a fact; "• ___
        # checking for ...": a list item's first word, nothing before it to go on
    # as many words as the blank takes ("Sublime Text")
    blank = r"\S+" + r"\s+\S+" * (len(sentence[s:e].split()) - 1)
    pattern = (re.escape(normalize(before)) + r"\s*" if before else "") + blank
    if after:
        pattern += r"\s*" + re.escape(normalize(after))
    if len(re.findall(pattern, page.norm)) != 1:
        return ""
    if any(
        len(side.split()) >= 4 and page.norm.count(normalize(side)) > 1 for side in (before, after)
    ):
        return ""  # the sentence recurs with another word in the blank (XDG_DATA_HOME, ..._CACHE_
        # HOME, ..._CONFIG_HOME in three entries: blind audit, seed 49), its line broken elsewhere
    # no space where the page sets none: a call's brackets ("shading2_fun()")
    glue = "" if after[:1] in ("", ",", ";", ":", ".", ")") or sentence[e : e + 1] == "(" else " "
    return BULLET_MARK.sub("", f"{before} ___{glue}{after}".strip())


def ends_sentence(word: str) -> bool:
    """ "brotherhood." or a lone "." does; "Fig.", "e.g.", "U.S." and an initial "J." do not."""
    core = word.rstrip("\"”’')]¹²³⁴⁵⁶⁷⁸⁹⁰")  # "다.²": a footnote's mark after the stop
    if core.endswith(("!", "?")):
        return True
    stem = core[:-1].lstrip("(\"“‘'[") if core.endswith(".") else None
    if stem is None:
        return False
    return stem == "" or (
        (len(stem) > 1 or bool(CJK.match(stem)))  # "J." is an initial; "다." ends a line
        and stem.lower() not in ABBREVIATIONS
        and not re.fullmatch(r"(\w\.)+\w?", stem)
    )


def long_enough(text: str, words: int = 6) -> bool:
    """A sentence long enough to cut a blank from: `words` words, three CJK characters
    counting as one (text written without spaces between words)."""
    return len(text.split()) + len(CJK.findall(text)) // 3 >= words


# a line of program text set as running text: a C prototype's "const void *cipher, ...",
# braces and semicolons, "->"
CODE_LIKE = re.compile(
    r"[{};]|->|\b(const|void|struct|unsigned|size_t|u?int\d*_t)\b|\w \*\w|\w\*\s*\w+[,)]"
)


def is_prose(text: str) -> bool:
    """A sentence of words a blank can be cut from: no formula, no program text, mostly
    letters."""
    chars = text.replace(" ", "")
    return (
        not MATH.search(text)
        and not CODE_LIKE.search(text)
        and sum(ch.isalpha() for ch in chars) >= 0.6 * max(len(chars), 1)
    )


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


def sentence_spans(paragraph: str) -> list[tuple[int, int]]:
    """Where a paragraph's whole sentences stand: not the first when the paragraph opens
    mid-sentence (in lower case: it goes on from another column or page), nor the last when
    it does not end. A period ends a sentence as `ends_sentence` reads it ("J. Bernstein" does
    not)."""
    if re.search(r"[。！？]", paragraph):
        spans = [m.span() for m in re.finditer(r"[^。！？]+[。！？]", paragraph)]
    else:
        words = list(re.finditer(r"\S+\s*", paragraph))
        spans, start = [], 0
        for i, word in enumerate(words):
            following = words[i + 1].group() if i + 1 < len(words) else ""
            opens = (
                not following
                or following[:1] in '"“('
                or following[:1].isupper()
                or bool(CJK.match(following[:1]))  # "配置安装. 如果 ...": no capitals in CJK
                # "유지된다.² math mode 내에서 ...": a Korean sentence ends on its stop
                or bool(re.search(r"[가-힣]\.[¹²³⁴⁵⁶⁷⁸⁹⁰]*$", word.group().strip()))
            )
            if ends_sentence(word.group().strip()) and opens:
                spans.append((start, word.end()))
                start = word.end()
        if paragraph[:1].islower() and spans and not is_cjk(paragraph):
            spans = spans[1:]  # a CJK sentence may open on a command ("git mv 명령은 ...")
    found = []
    for start, end in spans:
        text = paragraph[start:end]
        start += len(text) - len(text.lstrip())
        end -= len(text) - len(text.rstrip())
        end -= len(paragraph[start:end]) - len(paragraph[start:end].rstrip("¹²³⁴⁵⁶⁷⁸⁹⁰"))
        if paragraph[start:end].endswith((".", "。", "!", "?", "！", "？")):
            found.append((start, end))
    return found
