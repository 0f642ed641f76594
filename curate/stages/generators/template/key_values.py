"""A value printed after its label ("Total revenue: 18.4 million euros")."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView, is_label
from curate.stages.generators.template.rules import (
    ADDRESS,
    BYLINE,
    CONTINUES,
    HANGUL,
    KANA,
    KEY_VALUE,
    MATH,
    NOT_A_KEY,
    STOP,
    TIME,
    cjk_label,
    is_cjk,
    trimmed,
)


def find_key_values(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM):
            continue
        match = KEY_VALUE.match(block.text.strip())
        if not match or TIME.search(block.text) or ADDRESS.search(block.text):
            continue
        if page.continues(block) or page.cites(block) or page.runs_on(block):
            continue  # "... if you know either k or x: those ..." is a sentence, not a label
        if _wraps_on(page, block):
            continue  # "AGENCY: Federal Aviation" / "Administration (FAA), DOT.": cut short
        key, value = match["key"].strip(), trimmed(match["value"])
        if is_cjk(key) and not cjk_label(key):
            continue  # "のパッチシステムを使う必要があります": a clause, not a label
        if is_cjk(value) and value.endswith("。"):
            continue  # "行にあります。": a sentence's end, not a label's value
        if sum(ch.isalpha() for ch in key) < 2:
            continue  # "E: N": a legend's letter, not a label
        words = key.split()
        if (
            sum(w.lower() in STOP for w in words) >= 0.5 * len(words)  # a phrase, not a label
            or MATH.search(value)
            or NOT_A_KEY.match(key)
            or BYLINE.match(key.strip())
            or re.search(r"\d$", key)  # "Listing 6", "Step 3": an enumerator, not a field
            or re.match(r"(//|https?:|www\.)", value)  # a URL is an address, not a value
            or re.fullmatch(r"[A-Za-z]+[a-z][A-Z]\w*", key)  # "CertUtil: -hashfile ...": a
            or value.startswith("-")  # program's name and its output, not a label and value
            or len(words) > 4
            or len(value.split()) > 12
            or not value
            or value.split()[-1].lower() in STOP | CONTINUES  # "..., 1963, unless": cut short
            or match["value"].rstrip().endswith((",", "-", "‐", "–", "—"))  # "FAA–": cut
            or re.match(r"(the|a|an)\s", key, re.I)  # "The Boeing Company: ...": a sentence's
        ):  # subject ("what is the "The Boeing Company"?"), not a label
            continue
        if _contact(key) and block.bbox[1] > 0.75 * page.height:
            continue  # an e-mail or phone line at the foot: the page's contact furniture
        if _labels(page, key) > 1:
            continue  # "doi: ..." under each of three references: which one is asked?
        if is_cjk(key):  # asked in the label's language; the follow-up would be English
            found.append(Candidate(_cjk_kind(key, page.text), {"key": key}, value, block))
            continue
        explain = None if _contact(key) else _meaning(page, block, key, value)
        found.append(Candidate("key_value", {"key": key}, value, block, explain))
    return found


def _cjk_kind(key: str, page_text: str) -> str:
    """A CJK label's candidate kind, by its language ("번역자" is asked in Korean; "技術面" in
    Japanese on a page written in kana and kanji); a Korean label ending on a consonant takes
    은, else 는."""
    if HANGUL.search(key):
        last = key.strip()[-1]
        final = "\uac00" <= last <= "\ud7af" and (ord(last) - 0xAC00) % 28
        return "key_value_ko_eun" if final else "key_value_ko_neun"
    japanese = KANA.search(key + page_text)
    return "key_value_ja" if japanese else "key_value_zh"


# labels of contact details: what they give belongs to whoever publishes the page, not to the
# section they happen to stand under
_CONTACT = re.compile(
    r"^(e-?mail|phone|tel(ephone)?|fax|mobile|web(site)?|contact|address|url)\b", re.I
)


def _contact(key: str) -> bool:
    return bool(_CONTACT.match(key.strip()))


def _labels(page: PageView, key: str) -> int:
    """How many times the page writes the label with its colon, at a line's start or inside
    it ("... 1-38. doi:10.18637/..." in each reference of a list)."""
    return len(re.findall(rf"(?<!\w){re.escape(normalize(key))}\s?:", page.norm))


def _wraps_on(page: PageView, block: TextBlock) -> bool:
    """The value goes on to the next line: the line fills its column (it was wrapped), and
    the line right below it, as wide, is no label of its own."""
    index = next((i for i, b in enumerate(page.blocks) if b is block), -1)
    if index < 0 or index + 1 >= len(page.blocks) or block.text.rstrip().endswith((".", ";")):
        return False
    below = page.blocks[index + 1]
    height = block.bbox[3] - block.bbox[1]
    width, below_width = block.bbox[2] - block.bbox[0], below.bbox[2] - below.bbox[0]
    return (
        0 <= below.bbox[1] - block.bbox[3] < height
        and min(block.bbox[2], below.bbox[2]) > max(block.bbox[0], below.bbox[0])
        and width >= 0.8 * below_width
        and not KEY_VALUE.match(below.text.strip())
        and below.role not in (BlockRole.TITLE, BlockRole.HEADING)
    )


def _meaning(page: PageView, block: TextBlock, key: str, value: str) -> str | None:
    """Whose value it is: the section it stands under names what the label describes ("18.4
    million euros is the total revenue given for Third Quarter 2025"); None with no section."""
    heading = page.heading_above(block)
    if heading is None or is_label(heading.text) or normalize(heading.text) == normalize(key):
        return None
    name = key if key.isupper() or key[:2].isupper() else key[0].lower() + key[1:]
    return (
        f'On image {page.n}, the label "{key}" stands under the heading "{heading.text}", so '
        f'{value} is the {name} given for "{heading.text}".'
    )


KEY_VALUES = QuestionKind(
    "labelled value",
    find_key_values,
    {
        "key_value": (
            'According to image {n}, what is the "{key}"?',
            'What does image {n} list as the "{key}"?',
            'What "{key}" does image {n} give?',
        ),
        "key_value_ko_eun": ("이미지 {n}에 따르면 {key}은 무엇입니까?",),
        "key_value_ko_neun": ("이미지 {n}에 따르면 {key}는 무엇입니까?",),
        "key_value_ja": ("画像{n}によると、{key}は何ですか？",),
        "key_value_zh": ("根据图{n}，{key}是什么？",),
    },
    follow_ups={"": ("What does that value describe?", "Whose value is that?")},
)
