"""A term of a description list and what the list says of it. Manuals in every script list
their files, options and packages this way: a short name at the list's left edge, its
description indented below it or beside it (".sty" over "宏包文件。宏包的名称与文件名一致。",
"fontenc 폰트 인코딩을 지정한다."). The question names the term; the answer is its
description, whole.

Only a list of three entries or more, their terms at one left edge and each named once, is
asked: a lone name over an indented line is as often a code line and its comment."""

from __future__ import annotations

import re

from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    CJK,
    HANGUL,
    ITEM_MARK,
    KANA,
    MATH,
    URL,
    unwrap_cjk,
)

# a file's extension, an option, a package (in ASCII: "Modified는" is a word and its particle),
# or a few of them ("10pt, 11pt, 12pt", "-c, --stdout", "-k --keep": an option's names)
_NAME = r"(?:--?|\.|\\)?[A-Za-z0-9][A-Za-z0-9_.+#-]*"
TERM = re.compile(rf"{_NAME}(?:(?:,\s*|\s+(?=-)){_NAME}){{0,3}}")
# a term and its description on one line: a name, then CJK text (Latin text after a name gives
# no edge between the two)
BESIDE = re.compile(rf"^(?P<term>{_NAME})\s+(?P<description>[{CJK.pattern[1:-1]}].+)$")
MIN_ENTRIES = 3
INDENT = 6  # points: a description set at least this far right of its term's edge
EDGE = 3  # points: terms this close to one left edge are one list's
ANSWER_CHARS = (2, 60)  # a CJK description
ANSWER_WORDS = (2, 25)  # a Latin one
_APPROXIMATE = re.compile(r"[≈≃≅∼~]|[⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]")
_POINTER = re.compile(
    r"(?<=[。.！？])\s*(?:详见|参见|参看|詳しくは|자세한 내용은|see\b|cf\.).*$", re.I
)
_CONDITION = re.compile(r"(?:if|when|whenever|unless|returned|on)\b", re.I)


# what opens a clause that goes on from a name, not a description of it: a particle or a
# verb ("LaTeX 的三个标准文档类...", "Rebase 하는 것은 ...", "Git 是一个...")
_GOES_ON = re.compile(
    r"^(?:[的是在和与及或中对将把被为の、，,：:]|は|が|を|に|で|と|も|や"
    r"|[은는이가을를의에와과로도만]\s|하|된|되|한|할|했|으로|에서)"
)


def find_descriptions(page: PageView) -> list[Candidate]:
    found = []
    for entries in _lists(page):
        for term, description, block in entries:
            answer = whole_description(description)
            if answer is not None and _named_once(term, page):
                found.append(Candidate(_script(answer), {"term": term}, answer, block))
    return found


def _lists(page: PageView) -> list[list[tuple[str, str, TextBlock]]]:
    """The page's description lists: runs of entries, each opening on the line after the one
    before ends, their terms at one left edge; three entries or more, each term named once."""
    runs: list[list[tuple[str, str, TextBlock]]] = []
    last, edge = -2, None
    for start, end, left, entry in _entries(page):
        if start == last + 1 and edge is not None and abs(left - edge) <= EDGE:
            runs[-1].append(entry)
        else:
            runs.append([entry])
            edge = left
        last = end
    return [
        run
        for run in runs
        if len(run) >= MIN_ENTRIES and len({term for term, _, _ in run}) == len(run)
    ]


def _entries(page: PageView):
    """(index of its term's line, of its description's last line, the term's left edge,
    (term, its description's text, the description's first line)) of every entry."""
    content = {id(b) for b in page.content}
    prose = (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM)
    blocks = page.blocks
    i = 0
    while i < len(blocks):
        block = blocks[i]
        text = block.text.strip()
        beside = BESIDE.match(text) if id(block) in content and block.role in prose else None
        if beside and _names(beside["term"]) and not _GOES_ON.match(beside["description"]):
            more = _continued(blocks, i, block.bbox[0] + INDENT)
            description = "".join([beside["description"], *more])
            yield i, i + len(more), block.bbox[0], (beside["term"], description, block)
            i += 1 + len(more)
            continue
        below = blocks[i + 1] if i + 1 < len(blocks) else None
        height = block.bbox[3] - block.bbox[1]
        if (
            below is not None
            and TERM.fullmatch(text)
            and _names(text)
            and not _shares_description(blocks, i)
            and id(below) in content
            and below.role in prose
            and below.bbox[0] >= block.bbox[0] + INDENT
            and (
                0 <= below.bbox[1] - block.bbox[3] <= 1.5 * height  # indented below it
                or below.bbox[0] > block.bbox[2]
                and _same_line(block, below)  # beside it
            )
        ):
            more = _continued(blocks, i + 1, below.bbox[0] - EDGE)
            description = "".join([below.text, *more])
            yield i, i + 1 + len(more), block.bbox[0], (text, description, below)
            i += 2 + len(more)
            continue
        i += 1


def _names(term: str) -> bool:
    """A name: a letter in it ("6." numbers an item), and no stop at its end ("org." ends a web
    address broken over lines: blind audit, seed 70)."""
    return bool(re.search("[A-Za-z]", term)) and not term.endswith(".")


def _named_once(term: str, page: PageView) -> bool:
    """The term stands once on the page: one named again in another list or table
    ("\\footnotesize" in a list of sizes and a table of fonts: blind audit, seed 69) leaves
    "the list" open."""
    return len(re.findall(rf"(?<![\w\\.-]){re.escape(term)}(?![\w-])", page.text)) == 1


def _shares_description(blocks: list[TextBlock], i: int) -> bool:
    """The term right above blocks[i] at its edge has no description of its own: the terms
    share the one below ("SHA224_DIGEST_SIZE" / "SHA256_DIGEST_SIZE" / "SHA384_DIGEST_SIZE"
    over "The digest size for each variant")."""
    block = blocks[i]
    height = block.bbox[3] - block.bbox[1]
    # the line above (a "[Constant]" tag set right, on the term's line, may stand between)
    above = next((b for b in blocks[max(0, i - 3) : i][::-1] if not _same_line(block, b)), None)
    return (
        above is not None
        and _at_edge(above, block)
        and bool(TERM.fullmatch(above.text.strip()))
        and 0 <= block.bbox[1] - above.bbox[3] <= 0.6 * height  # the next line, no gap
    )


def _at_edge(a: TextBlock, b: TextBlock) -> bool:
    return abs(a.bbox[0] - b.bbox[0]) <= EDGE


def _continued(blocks: list[TextBlock], i: int, left: float) -> list[str]:
    """The pieces after blocks[i] that carry its description on, each with what joins it to
    the one before: the rest of a line the text layer split at a wide space (" "), then the
    lines right below, set at `left` or further right ("\n"), a further paragraph of the
    description too (a term at the list's edge opens the next entry). A description of two
    paragraphs was asked by its first sentence alone (bzip2's "-f --force": blind audit, seed
    77)."""
    pieces = []
    last = blocks[i]
    for below in blocks[i + 1 :]:
        height = last.bbox[3] - last.bbox[1]
        if _same_line(last, below) and 0 <= below.bbox[0] - last.bbox[2] + 1 <= 1.5 * height:
            pieces.append(" " + below.text)  # the line goes on to the right (not a table's
            # next column, further off: "Label  Model  Object" read as a term and its text)
        elif (
            below.bbox[0] >= left
            and 0 <= below.bbox[1] - last.bbox[3] <= 2 * height
            and not any(b.bbox[0] < left and _same_line(b, below) for b in blocks)
        ):  # not on the next term's line (nettle's "[Constant]" tag, set right of its term)
            pieces.append("\n" + below.text)
        else:
            break
        last = below
    return pieces


def _same_line(a: TextBlock, b: TextBlock) -> bool:
    middle = (b.bbox[1] + b.bbox[3]) / 2
    return a.bbox[1] <= middle <= a.bbox[3]


def whole_description(description: str) -> str | None:
    """The description, its lines joined, without its last stop: the question asks for the
    description, and a first sentence alone leaves out what the rest adds ("... 위치." without
    "크지 않은 떠다니는 개체에 유용하다.": blind audit, seed 68). None where it is too short or
    too long to be an answer, or not prose (a formula, an address, a list of its own)."""
    # Korean puts spaces between its words, and its lines break at them
    text = unwrap_cjk(re.sub(r"(?<=[\uac00-\ud7af])\s*\n\s*(?=\S)", " ", description.strip()))
    if "-\n" in description:
        return None  # a word broken at a line's end ("decompres-" / "sion"): not quoted whole
    if MATH.search(text) or _APPROXIMATE.search(text) or URL.search(text):
        return None  # "point ≈1/72 inch ≈¹": a unit's measure, set as a formula (seed 69)
    if re.match(r"[^。.!?！？]*[：:]", text):
        return None  # "文档类还提供了...命令：": a lead-in to what follows, not a description
    if ITEM_MARK.match(text) or _CONDITION.match(text):
        return None  # "1. 添加...": a list of its own; "if the library ...": when a function
        # returns the code, asked as what it is (and said again under every function)
    # a pointer after it ("详见 2.3 小节。", "See Section 4.") says where to read on, not what
    # the term is
    text = _POINTER.sub("", text)
    answer = text.rstrip("。.！？ ")
    if CJK.search(answer):  # a CJK description may name Latin things ("LaTeX 生成的...文件。")
        low, high = ANSWER_CHARS
        return answer if low <= len(answer) <= high else None
    low, high = ANSWER_WORDS
    return answer if low <= len(answer.split()) <= high else None


def _script(answer: str) -> str:
    """The candidate kind, by the language its description is written in."""
    if HANGUL.search(answer):
        return "description_ko"
    if KANA.search(answer):
        return "description_ja"
    return "description_zh" if CJK.search(answer) else "description"


DESCRIPTIONS = QuestionKind(
    "term of a description list",
    find_descriptions,
    {
        "description": (
            'How does the list on image {n} describe "{term}"?',
            'According to the list on image {n}, what is "{term}"?',
        ),
        "description_zh": ("根据图{n}中的列表，{term} 的说明是什么？",),
        "description_ja": ("画像{n}の一覧によると、{term}の説明は何ですか？",),
        "description_ko": ("이미지 {n}의 목록에서 {term}에 대한 설명은 무엇입니까?",),
    },
)
