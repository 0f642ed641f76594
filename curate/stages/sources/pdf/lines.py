"""A PDF page's text as the page shows it: lines with their font facts, from PyMuPDF's spans.

What the text layer says is not always what the page shows: text an opaque box hides, an
underscore TeX draws as a rule, accents set apart from their letters, the rupee sign in an old
font, a bullet set as a line of its own, a footnote mark set small and raised, Korean words
set apart by a gap instead of a space character. Each is read here as a reader sees it.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from curate.stages.sources.mupdf import pymupdf
from curate.stages.sources.pdf.tables import has_rules, ruled_cells


@dataclass
class Line:
    """A native text line with what its spans say about it; the box in points, as rendered."""

    text: str
    bbox: tuple[float, float, float, float]
    size: float  # the line's main font size (by characters)
    bold: float  # share of characters in bold
    mono: float  # share of characters in a monospaced font
    horizontal: bool  # runs left to right on the rendered page
    faint: bool  # a light colour (watermarks are often pale)
    cell: tuple[int, int, int] | None = None  # (table, row, column) in a ruled table
    unsure: tuple[str, ...] = ()  # words set in a symbol font: what the page shows may differ


_MONO = re.compile(r"mono|courier|consol|typewriter|code", re.IGNORECASE)
# fonts that draw symbols on the code points of letters and digits, with no Unicode map: TeX's
# LASY10 draws □ for "2" ("두 번째 예제에서 ___ 가" asked 2 for the box: blind audit, seed 49),
# MSAM/MSBM, Dingbats, Symbol, Wingdings
_SYMBOL_FONT = re.compile(
    r"^(?:[A-Z]{6}\+)?(?:lasy|msam|msbm|wasy|cmex|dingbat|zapfding|symbol|wingding|webding|"
    r"marvosym|bbding|pzd)",
    re.IGNORECASE,
)
# Ligatures expanded: the page shows "Efficient", and QA must not carry U+FB03 ("Eﬃcient"),
# which tokenises oddly and never matches what a model reads or a user types.
TEXT_FLAGS = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_PRESERVE_LIGATURES


def covered_text(page: pymupdf.Page, drawings: list[dict]) -> list[pymupdf.Rect]:
    """Boxes of text that an opaque rectangle or picture drawn after it covers: text in the
    file that the rendered page does not show (a report's cover hid its section tab under a
    white page-sized box; a slide's point lay under a table pasted as a picture, and was asked
    about: blind audits, seeds 46 and 48), which no question may ask about.

    Drawing order only finds candidates: a chart's white plot area drawn after its axis labels
    still showed them (a blend mode), so a box counts as hidden only if it renders as one flat
    colour; a picture with no transparency (mask) hides what it covers most of.
    """
    covers = [  # one rectangle per path: a path of several can be a frame (even-odd, a hole)
        (drawing["seqno"], drawing["items"][0][1])
        for drawing in drawings
        if drawing.get("fill") is not None
        and (1.0 if drawing.get("fill_opacity") is None else drawing["fill_opacity"]) >= 0.99
        and len(drawing["items"]) == 1
        and drawing["items"][0][0] == "re"
    ]
    pictures = _opaque_pictures(page)
    if not covers and not pictures:
        return []
    last = max(seqno for seqno, _ in covers + pictures)
    hidden = []
    for span in page.get_texttrace():
        if span["seqno"] >= last:
            continue
        box = pymupdf.Rect(span["bbox"])
        if box.is_empty:  # nothing to render, nothing to ask about
            continue
        if any(seqno > span["seqno"] and rect.contains(box) for seqno, rect in covers):
            if page.get_pixmap(clip=box, dpi=144).is_unicolor:
                hidden.append(box)
                continue
        if any(
            seqno > span["seqno"] and (rect & box).get_area() >= 0.6 * box.get_area()
            for seqno, rect in pictures
        ):
            hidden.append(box)
    return hidden


def _opaque_pictures(page: pymupdf.Page) -> list[tuple[int, pymupdf.Rect]]:
    """(drawing order, box) of each picture drawn without transparency, not a scan or a
    background as large as most of the page (a scanned page's text layer may be drawn
    before its image, and is the text that image shows)."""
    if not page.get_images():
        return []
    masked = [pymupdf.Rect(i["bbox"]) for i in page.get_image_info() if i.get("has-mask")]
    most = 0.6 * page.rect.get_area()
    return [
        (seqno, pymupdf.Rect(rect))
        for seqno, (kind, rect) in enumerate(page.get_bboxlog())
        if kind == "fill-image"
        and pymupdf.Rect(rect).get_area() < most
        and not any(max(abs(a - b) for a, b in zip(rect, m, strict=True)) < 1 for m in masked)
    ]


class Strikes:
    """Horizontal strokes drawn on the page (lines, and filled rectangles thinner than 3 pt),
    by the height of their middle: a chart holds thousands."""

    def __init__(self, drawings: list[dict]):
        found = []
        for drawing in drawings:
            for item in drawing["items"]:
                if item[0] == "l" and abs(item[1].y - item[2].y) < 0.1 and drawing.get("color"):
                    found.append(pymupdf.Rect(item[1], item[2]).normalize())
                elif item[0] == "re" and drawing.get("fill") is not None and item[1].height < 3:
                    found.append(pymupdf.Rect(item[1]))
        self.strokes = sorted(found, key=lambda r: (r.y0 + r.y1) / 2)
        self.middles = [(r.y0 + r.y1) / 2 for r in self.strokes]

    def through(self, bbox: Sequence[float]) -> bool:
        """A stroke runs through the middle of the line, over most of its width: text struck
        through, which a slide shows as withdrawn ("~~What makes it interesting?~~" was read
        as the slide's title)."""
        x0, y0, x1, y1 = bbox
        height, width = y1 - y0, max(x1 - x0, 1e-6)
        low = bisect.bisect_left(self.middles, y0 + 0.3 * height)
        high = bisect.bisect_right(self.middles, y0 + 0.7 * height)
        return any(min(s.x1, x1) - max(s.x0, x0) >= 0.8 * width for s in self.strokes[low:high])


class UnderscoreRules:
    """Short horizontal strokes and hairline boxes, by height on the page: where TeX draws "_"
    as a rule (texinfo's slanted and roman fonts), the text layer has a space, and
    `sha512_224_ctx` in the image reads `sha512 224 ctx` in the text."""

    def __init__(self, drawings: list[dict]):
        rules = []
        for drawing in drawings:
            for item in drawing["items"]:
                if item[0] == "l" and abs(item[1].y - item[2].y) < 0.1:
                    rules.append(pymupdf.Rect(item[1], item[2]).normalize())
                elif item[0] == "re" and drawing.get("fill") is not None and item[1].height < 1:
                    rules.append(pymupdf.Rect(item[1]))
        self.rules = sorted((r for r in rules if r.width <= 30), key=lambda r: r.y0)
        self.heights = [r.y0 for r in self.rules]

    def under(self, span: dict) -> bool:
        """A space span with a rule on its baseline, about one character wide, inside its box
        (a dash drawn as a line sits higher; an underline is longer)."""
        box, size, baseline = pymupdf.Rect(span["bbox"]), span["size"], span["origin"][1]
        low = bisect.bisect_left(self.heights, baseline - 0.1 * size)
        high = bisect.bisect_right(self.heights, baseline + 0.3 * size)
        return any(
            0.2 * size <= rule.width <= 1.2 * size
            and box.x0 - 0.1 * size <= rule.x0
            and rule.x1 <= box.x1 + 0.1 * size
            for rule in self.rules[low:high]
        )


def _line_text(spans: list[dict], rules: UnderscoreRules) -> str:
    parts: list[str] = []
    largest = max((s["size"] for s in spans if s["text"].strip()), default=0)
    for span in spans:
        if rules.rules and not span["text"].strip() and rules.under(span):
            parts.append("_")
        elif _raised(span, largest) and (
            span["text"].strip().isdigit() or _exponent(span["text"], "".join(parts))
        ):
            while parts and not parts[-1].strip():
                parts.pop()  # "laws¹⁰", not "laws 10": the mark stands against its word
            if parts:
                parts[-1] = parts[-1].rstrip()
            raised = span["text"].strip()
            parts.append(raised.translate(_SUPERSCRIPT) if raised.isdigit() else f"^{raised}")
        else:
            parts.append(_span_text(span))
    return _ACCENTED.sub(_compose, " ".join("".join(parts).split()))


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _raised(span: dict, largest: float) -> bool:
    """Text the font sets smaller and raised: a footnote mark or an exponent. Digits are
    written as superscript digits ("laws¹⁰ associated", "10⁶"), so that no question reads
    "laws 10" as a quantity; an `_exponent` after a caret."""
    text = span["text"].strip()
    return bool(span["flags"] & 1) and bool(text) and span["size"] < 0.85 * largest


_GREEK = re.compile("^[\u0370-\u03ff]+$")


def _exponent(raised: str, before: str) -> bool:
    """A raised Greek letter, or anything raised after a bracket, is an exponent: "(π^π)^π",
    never "(ππ)π". Raised Latin letters stay as they are: the A of the LaTeX logo, an
    ordinal's "st", a footnote's "a" or "∗"."""
    return bool(_GREEK.match(raised.strip())) or before.rstrip().endswith((")", "]"))


# TeX's old fonts set an accent as a glyph of its own before the letter, and the text layer
# keeps it apart: "Niels M¨oller", "Micha¨el". Between two letters it is read as the accented
# letter; elsewhere (a hat over a formula's "ˆq") it stays, and so does an acute accent used
# as an apostrophe ("it´s").
_SPACING_ACCENTS = {
    "\u00a8": "\u0308",  # diaeresis
    "\u00b4": "\u0301",  # acute
    "\u02c6": "\u0302",  # circumflex
    "\u02dc": "\u0303",  # tilde
    "\u02da": "\u030a",  # ring
    "\u02c7": "\u030c",  # caron
    "\u02d8": "\u0306",  # breve
}
_ACCENTED = re.compile(f"(?<=[^\\W\\d_])([{''.join(_SPACING_ACCENTS)}])([^\\W\\d_])")


def _compose(match: re.Match) -> str:
    if match[1] == "\u00b4" and match[2] not in "aeiouyAEIOUY":
        return match[0]
    letter = unicodedata.normalize("NFC", match[2] + _SPACING_ACCENTS[match[1]])
    return letter if len(letter) == 1 else match[0]


# TeX's fonts without a Unicode map set the ligatures ff, fi, fl, ffi, ffl on control code
# points (T1: 0x1b-0x1f; OT1: 0x0b-0x0f), which the text layer passes on: "uni\x1ced", and
# "uni ed" once control characters are dropped. Beside a letter they are read as the letters.
_LIGATURES = {
    chr(start + i): letters
    for start in (0x1B, 0x0B)
    for i, letters in enumerate(("ff", "fi", "fl", "ffi", "ffl"))
}
_LIGATURE = re.compile(
    "(?<=[^\\W\\d_])[\x0b-\x0f\x1b-\x1f](?!\\d)|[\x0b-\x0f\x1b-\x1f](?=[^\\W\\d_])"
)


def _span_text(span: dict) -> str:
    """The span's text as its font shows it: ligatures TeX set on control code points as
    their letters (`_LIGATURES`). Rupee Foradian, used for the rupee sign in Indian reports
    written before Unicode had one, draws ₹ on the grave accent's code point."""
    text = span["text"]
    text = _LIGATURE.sub(lambda m: _LIGATURES[m[0]], text)
    if "`" in text and "rupeeforadian" in re.sub(r"[^a-z]", "", span["font"].lower()):
        return text.replace("`", "₹")
    return text


def read_lines(page: pymupdf.Page) -> list[Line]:
    """The page's text lines that the page shows, in reading order, with their font facts."""
    rotate = page.rotation_matrix
    lines = []
    content = page.get_text("dict", flags=TEXT_FLAGS, sort=True)
    if any(_HANGUL.search(s["text"]) for s in _spans(content)):
        content = _spaced(page.get_text("rawdict", flags=TEXT_FLAGS, sort=True))
    drawings = page.get_drawings()
    hidden = covered_text(page, drawings)
    rules = UnderscoreRules(drawings)
    strikes = Strikes(drawings)
    for block in content["blocks"]:
        for line in block.get("lines", []):
            spans = [s for s in line["spans"] if s["text"].strip()]
            text = _line_text(line["spans"], rules)
            if not text or not spans:
                continue
            x0, y0, x1, y1 = line["bbox"]
            centre = pymupdf.Point((x0 + x1) / 2, (y0 + y1) / 2)
            if hidden and any(box.contains(centre) for box in hidden):
                continue
            if strikes.strokes and strikes.through(line["bbox"]):
                continue  # withdrawn: shown struck through
            chars = [len(s["text"]) for s in spans]
            total = sum(chars) or 1
            sizes = Counter()
            for span, n in zip(spans, chars, strict=True):
                sizes[round(span["size"], 1)] += n
            dx, dy = line["dir"]
            turned = pymupdf.Point(dx, dy) * rotate - pymupdf.Point(0, 0) * rotate
            colour = spans[0]["color"]
            box = pymupdf.Rect(line["bbox"]) * rotate
            lines.append(
                Line(
                    text=text,
                    bbox=(box.x0, box.y0, box.x1, box.y1),
                    size=sizes.most_common(1)[0][0],
                    bold=sum(
                        n
                        for s, n in zip(spans, chars, strict=True)
                        if s["flags"] & 16 or "bold" in s["font"].lower()
                    )
                    / total,
                    mono=sum(
                        n
                        for s, n in zip(spans, chars, strict=True)
                        if s["flags"] & 8 or _MONO.search(s["font"])
                    )
                    / total,
                    horizontal=abs(turned.y) < 0.05 * max(abs(turned.x), 1e-6),
                    faint=min((colour >> 16) & 255, (colour >> 8) & 255, colour & 255) >= 0xB0,
                    unsure=tuple(
                        word
                        for span in spans
                        if _SYMBOL_FONT.search(span["font"])
                        for word in re.findall(r"\w+", span["text"])
                    ),
                )
            )
    lines = _with_bullets(lines)
    if has_rules(drawings):
        for index, cell in ruled_cells(page, [(line.text, line.bbox) for line in lines]).items():
            lines[index] = replace(lines[index], cell=cell)
    return lines


_HANGUL = re.compile("[\uac00-\ud7a3]")
WORD_GAP = 0.15  # of the font size: a gap between two glyphs that reads as a space


def _spans(content: dict):
    for block in content["blocks"]:
        for line in block.get("lines", []):
            yield from line["spans"]


def _spaced(content: dict) -> dict:
    """A page's characters (rawdict) as spans of text, with a space where a Korean word ends
    in a gap: Korean TeX sets word spaces as gaps with no space glyph, and the text layer read
    "텍스트와언어의구조" for "텍스트와 언어의 구조". Chinese and Japanese use no word spaces,
    so only a gap beside a Hangul syllable counts, and only one wider than the line's usual
    gap (a heading set letter-spaced, "서  문", stays one word)."""
    for block in content["blocks"]:
        for line in block.get("lines", []):
            chars = [c for span in line["spans"] for c in span["chars"]]
            gaps = sorted(b["bbox"][0] - a["bbox"][2] for a, b in itertools.pairwise(chars))
            usual = gaps[len(gaps) // 2] if gaps else 0.0
            last = None  # the line's previous character
            for span in line["spans"]:
                text = []
                for char in span["chars"]:
                    if last is not None and " " not in (last["c"], char["c"]):
                        gap = char["bbox"][0] - last["bbox"][2]
                        hangul = _HANGUL.match(last["c"]) or _HANGUL.match(char["c"])
                        wide = WORD_GAP * span["size"]
                        if hangul and gap > wide and gap > usual + wide:
                            text.append(" ")
                    text.append(char["c"])
                    last = char
                span["text"] = "".join(text)
    return content


_BULLET_ONLY = re.compile(r"^[•◦▪▫●○■□‣⁃∙·➢►✓✔–-]$")


def _with_bullets(lines: list[Line]) -> list[Line]:
    """A bullet glyph set as a line of its own (LibreOffice's PDFs) joins the text beside it."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        after = lines[i + 1] if i + 1 < len(lines) else None
        if (
            after is not None
            and _BULLET_ONLY.match(line.text)
            and after.bbox[0] >= line.bbox[2] - 1
            and line.bbox[1] <= (after.bbox[1] + after.bbox[3]) / 2 <= line.bbox[3] + 2
        ):
            box = (
                line.bbox[0],
                min(line.bbox[1], after.bbox[1]),
                after.bbox[2],
                max(line.bbox[3], after.bbox[3]),
            )
            out.append(replace(after, text=f"{line.text} {after.text}", bbox=box))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def invisible_share(page: pymupdf.Page) -> float:
    """Share of the page's characters drawn invisibly (render mode 3): an OCR layer over a scan."""
    trace = page.get_texttrace()
    total = sum(len(t["chars"]) for t in trace)
    return sum(len(t["chars"]) for t in trace if t["type"] == 3) / total if total else 0.0
