"""PDF pages to images plus their native text lines, with boxes, via PyMuPDF.

A bad document never raises: it yields a Failure with the reason, and a page that fails to
render yields a Failure for that page while the rest of the document goes on.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from curate.core.config import RenderOptions
from curate.core.fingerprints import hash_name
from curate.core.text import normalize
from curate.document.layout import (
    DOT_LEADERS,
    RunningLines,
    grid_tables,
    is_caption,
    is_list_item,
    toc_rows,
    visual_rows,
    with_cells,
)
from curate.io import storage
from curate.schemas import (
    BlockRole,
    ContextItem,
    Failure,
    ImageData,
    PageRecord,
    TextBlock,
    stable_id,
)
from curate.schemas.reasons import FailureReason
from curate.stages.sources.checks import check_input_file
from curate.stages.sources.encode import PageEncoder, pixels
from curate.stages.sources.mupdf import pymupdf

PDF_EXTENSIONS = frozenset({".pdf"})
STAGE = "render"
# A text layer where more than this share of characters is U+FFFD (broken font maps) is unusable.
MAX_REPLACEMENT_SHARE = 0.3
# The document pass keeps up to this many lines (about 1 KB each), with their roles, for the
# render pass; pages past it are read again rather than held (a 2000-page manual).
KEPT_LINES = 20_000

pymupdf.TOOLS.mupdf_display_errors(False)  # errors are reported as Failure rows instead


_TRUNCATED = (
    "the PDF ends early (no %%EOF trailer): the download or copy was cut off; fetch it again"
)


def is_truncated(uri: str) -> bool:
    """A PDF cut off in transfer: no end-of-file marker in its last kilobyte, though what is
    there looks like PDF (objects), not garbage."""
    try:
        with storage.open_file(uri, "rb") as handle:
            head = handle.read(4096)
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 1024))
            tail = handle.read()
    except OSError:
        return False
    return b"%%EOF" not in tail and b" obj" in head


def render_pdf_pages(
    uri: str, options: RenderOptions, hash_method: str | None = None
) -> Iterator[PageRecord | Failure]:
    """Yield one PageRecord per page of the PDF at `uri`, or Failures explaining what went wrong.
    With `hash_method` ("phash" or "dhash"), each page's `phash` is computed from its pixels."""

    def failure(reason: str, detail: str, item_id: str = uri) -> Failure:
        return Failure(item_id=item_id, source_uri=uri, stage=STAGE, reason=reason, detail=detail)

    problem = check_input_file(uri, options, STAGE)
    if problem:
        yield problem
        return

    sha256 = storage.sha256_of(uri)
    try:
        doc = _open(uri)
    except Exception as err:  # PyMuPDF raises several types for damaged files
        if is_truncated(uri):
            yield failure(FailureReason.TRUNCATED_DOCUMENT, _TRUNCATED)
        else:
            yield failure(FailureReason.CORRUPT_DOCUMENT, f"cannot open as PDF: {err}")
        return
    yield from render_open_document(doc, uri, sha256, options, hash_method=hash_method)


@dataclass
class PageHints:
    """What a deck knows about a slide that its PDF does not say: the title, and the regions
    (in PDF points) holding a chart or a table."""

    title: str | None = None
    figures: list[tuple[float, float, float, float]] = field(default_factory=list)
    tables: list[tuple[float, float, float, float]] = field(default_factory=list)


def render_open_document(
    doc: pymupdf.Document,
    uri: str,
    sha256: str,
    options: RenderOptions,
    source_type: str = "pdf",
    context: dict[int, list[ContextItem]] | None = None,
    hints: dict[int, PageHints] | None = None,
    hash_method: str | None = None,
) -> Iterator[PageRecord | Failure]:
    """Pages of an opened PDF, with the provenance of the original input (a PDF, or a deck
    converted to PDF), optional human-written context and layout hints per page index.

    A quick text-only pass reads the whole document first: its body font size, the lines that
    repeat as running headers and footers, and the pages that open a section. Then each page
    is rendered with its lines' roles. With `hash_method`, its perceptual hash is taken from
    the rendered pixels, which saves dedup decoding the PNG again. PNG and hash are made on
    helper threads while the next pages render (sources/encode.py), so pages come out a few
    pages behind.
    """

    def failure(reason: str, detail: str, item_id: str = uri) -> Failure:
        return Failure(item_id=item_id, source_uri=uri, stage=STAGE, reason=reason, detail=detail)

    with doc, PageEncoder() as encoder:
        if doc.needs_pass and not doc.authenticate(""):
            yield failure(FailureReason.ENCRYPTED_DOCUMENT, "password-protected; decrypt it first")
            return
        if doc.page_count == 0:
            if is_truncated(uri):
                yield failure(FailureReason.TRUNCATED_DOCUMENT, _TRUNCATED)
            else:
                yield failure(FailureReason.EMPTY_DOCUMENT, "the PDF has no pages")
            return
        doc_id = stable_id(uri, sha256)
        to_render = min(doc.page_count, options.max_pages_per_document)
        if doc.page_count > to_render:
            yield failure(
                FailureReason.TOO_MANY_PAGES,
                f"rendered the first {to_render} of {doc.page_count} pages "
                f"(render.max_pages_per_document)",
            )
        hints = hints or {}
        try:
            profile = read_profile(doc, to_render, hints)
        except Exception as err:  # a text layer PyMuPDF cannot read: render without roles
            profile = DocumentProfile(detail=f"no layout: {err}")
        started = time.monotonic()

        def finished(everything: bool = False) -> Iterator[PageRecord | Failure]:
            """Pages whose PNG and hash the helpers made, in order (sources/encode.py)."""
            for page, result in encoder.finished(everything):
                if isinstance(result, Exception):
                    detail = f"page {page.page_index}: {result}"
                    yield failure(FailureReason.PAGE_RENDER_ERROR, detail, item_id=page.page_id)
                else:
                    data, page.phash = result
                    page.phash_method = page.phash and hash_name(hash_method)
                    page.image = ImageData(data, page.image.path)
                    yield page

        for index in range(to_render):
            elapsed = time.monotonic() - started
            if elapsed > options.document_timeout_s:
                yield from finished(everything=True)
                yield failure(
                    FailureReason.DOCUMENT_TIMEOUT,
                    f"stopped after {elapsed:.0f} s at page {index} of {to_render} "
                    f"(render.document_timeout_s); pages {index}..{to_render - 1} not rendered",
                )
                return
            page_id = f"{doc_id}-{index:05d}"
            try:
                page, image = _render_page(
                    doc,
                    index,
                    options,
                    uri,
                    sha256,
                    doc_id,
                    page_id,
                    profile,
                    hints.get(index),
                )
                page.source_type = source_type
                page.context = list((context or {}).get(index, []))
                encoder.add(page, image, hash_method)
            except Exception as err:
                yield from finished(everything=True)
                yield failure(
                    FailureReason.PAGE_RENDER_ERROR, f"page {index}: {err}", item_id=page_id
                )
            yield from finished()
        yield from finished(everything=True)


def _open(uri: str) -> pymupdf.Document:
    if storage.is_local(uri):
        return pymupdf.open(storage.normalize_uri(uri), filetype="pdf")
    with storage.open_file(uri) as handle:
        return pymupdf.open(stream=handle.read(), filetype="pdf")


def render_zoom(width_pt: float, height_pt: float, options: RenderOptions) -> float:
    """Scale factor from PDF points to pixels: the requested DPI, lowered to fit the pixel cap."""
    zoom = options.dpi / 72.0
    pixels = width_pt * height_pt * zoom * zoom
    if pixels > options.max_pixels_per_page:
        zoom *= math.sqrt(options.max_pixels_per_page / pixels)
    return zoom


def _render_page(
    doc: pymupdf.Document,
    index: int,
    options: RenderOptions,
    uri: str,
    sha256: str,
    doc_id: str,
    page_id: str,
    profile: DocumentProfile,
    hints: PageHints | None,
) -> tuple[PageRecord, np.ndarray]:
    """The page's record, its image and hash still to make, and the pixels to make them of."""
    page = doc.load_page(index)
    rect = page.rect
    zoom = render_zoom(rect.width, rect.height, options)
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    blocks = page_blocks(page, profile, hints, zoom)
    usable = _usable_text(blocks)
    source = "native" if blocks else "none"
    if blocks and page.get_images() and _invisible_share(page) >= 0.8:
        source = "ocr_layer"  # a scan with someone else's OCR behind it: checked by the OCR stage
    record = PageRecord(
        page_id=page_id,
        doc_id=doc_id,
        source_uri=uri,
        source_sha256=sha256,
        source_type="pdf",
        page_index=index,
        page_count=doc.page_count,
        render_dpi=round(zoom * 72.0, 3),
        width=pixmap.width,
        height=pixmap.height,
        image=ImageData(b"", f"{page_id}.png"),  # the PNG and hash come from a helper thread
        text_blocks=blocks,
        text_source=source,
        needs_ocr=len(usable) < options.min_text_chars,
        sections=list(profile.sections),
    )
    return record, pixels(pixmap.samples_mv, pixmap.width, pixmap.height, pixmap.n, pixmap.stride)


# ------------------------------------------------------------------------------------ layout


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


_MONO = re.compile(r"mono|courier|consol|typewriter|code", re.IGNORECASE)
# Ligatures expanded: the page shows "Efficient", and QA must not carry U+FB03 ("Eﬃcient"),
# which tokenises oddly and never matches what a model reads or a user types.
TEXT_FLAGS = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_PRESERVE_LIGATURES


def covered_text(page: pymupdf.Page, drawings: list[dict]) -> list[pymupdf.Rect]:
    """Boxes of text that an opaque rectangle drawn after it covers: text in the file that the
    rendered page does not show (a report's cover hid its section tab under a white page-sized
    box), which no question may ask about.

    Drawing order only finds candidates: a chart's white plot area drawn after its axis labels
    still showed them (a blend mode), so a candidate counts as hidden only if its box renders
    as one flat colour.
    """
    covers = [  # one rectangle per path: a path of several can be a frame (even-odd, a hole)
        (drawing["seqno"], drawing["items"][0][1])
        for drawing in drawings
        if drawing.get("fill") is not None
        and (1.0 if drawing.get("fill_opacity") is None else drawing["fill_opacity"]) >= 0.99
        and len(drawing["items"]) == 1
        and drawing["items"][0][0] == "re"
    ]
    if not covers:
        return []
    last = max(seqno for seqno, _ in covers)
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
    return hidden


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
    parts = [
        "_" if rules.rules and not s["text"].strip() and rules.under(s) else _span_text(s)
        for s in spans
    ]
    return _ACCENTED.sub(_compose, " ".join("".join(parts).split()))


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


def _span_text(span: dict) -> str:
    """The span's text as its font shows it. Rupee Foradian, used for the rupee sign in Indian
    reports written before Unicode had one, draws ₹ on the grave accent's code point."""
    text = span["text"]
    if "`" in text and "rupeeforadian" in re.sub(r"[^a-z]", "", span["font"].lower()):
        return text.replace("`", "₹")
    return text


def read_lines(page: pymupdf.Page) -> list[Line]:
    """The page's text lines that the page shows, in reading order, with their font facts."""
    rotate = page.rotation_matrix
    lines = []
    content = page.get_text("dict", flags=TEXT_FLAGS, sort=True)
    drawings = page.get_drawings()
    hidden = covered_text(page, drawings)
    rules = UnderscoreRules(drawings)
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
                )
            )
    return _with_bullets(lines)


_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s")  # "3.4.1. BZ2_bzReadOpen": a section, not a title
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


@dataclass
class DocumentProfile:
    """What the whole document says about its pages' lines."""

    body_size: float = 0.0
    running: RunningLines = field(default_factory=RunningLines)
    sections: list[int] = field(default_factory=list)
    detail: str = ""
    # Pages' blocks (boxes in points) as the second pass found them, until rendered.
    blocks: dict[int, list[TextBlock]] = field(default_factory=dict, repr=False)

    def take_blocks(self, index: int) -> list[TextBlock] | None:
        """The page's blocks if this pass kept them, let go of here (each page renders once)."""
        return self.blocks.pop(index, None)


def read_profile(doc: pymupdf.Document, pages: int, hints: dict[int, PageHints]) -> DocumentProfile:
    """Two quick passes over the text: the body font size and the running lines, then the
    pages whose top opens a section (a heading in their upper third, or a new slide title).

    Each page's text is read once: the lines of the first pass, then their roles from the
    second, are kept for the render pass, up to `KEPT_LINES` (reading a page's text costs
    about a tenth of rendering it, and it was read three times).
    """
    profile = DocumentProfile()
    sizes: Counter = Counter()
    kept: dict[int, list[Line]] = {}
    room = KEPT_LINES
    for index in range(pages):
        page = doc.load_page(index)
        lines = read_lines(page)
        if len(lines) <= room:
            kept[index] = lines
            room -= len(lines)
        profile.running.add_page(((line.text, line.bbox) for line in lines), page.rect.height)
        for line in lines:
            sizes[line.size] += len(line.text)
    profile.body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    previous_title = None
    for index in range(pages):
        page = doc.load_page(index)
        lines = kept.pop(index, None)
        blocks = line_roles(
            read_lines(page) if lines is None else lines,
            profile,
            hints.get(index),
            page.rect.height,
        )
        if lines is not None:
            profile.blocks[index] = blocks
        title = (hints.get(index) or PageHints()).title
        opens = any(
            b.role in (BlockRole.TITLE, BlockRole.HEADING)
            and (b.bbox[1] + b.bbox[3]) / 2 < page.rect.height / 3
            for b in blocks
        )
        if title is not None:  # a deck: a new slide title opens a section
            opens = title != previous_title
            previous_title = title
        if opens:
            profile.sections.append(index)
    return profile


def line_roles(
    lines: list[Line], profile: DocumentProfile, hints: PageHints | None, page_height: float
) -> list[TextBlock]:
    """The lines as text blocks (boxes in points) with their roles; tables by geometry."""
    hints = hints or PageHints()
    body = profile.body_size or (statistics.median([line.size for line in lines]) if lines else 0.0)
    blocks = [TextBlock(line.text, line.bbox, "native") for line in lines]
    rows = visual_rows(blocks)
    toc = {id(b) for i in toc_rows(rows) for b in rows[i]}
    alone = {id(b) for row in rows for b in row if _stands_alone(b, row)}
    title = normalize(hints.title) if hints.title else None
    marked = []
    for line, block in zip(lines, blocks, strict=True):
        text = line.text.strip()
        centre = ((line.bbox[0] + line.bbox[2]) / 2, (line.bbox[1] + line.bbox[3]) / 2)
        words = len(text.split())
        if not line.horizontal or (line.faint and body and line.size >= 1.4 * body):
            role = BlockRole.WATERMARK
        elif any(
            x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1 for x0, y0, x1, y1 in hints.figures
        ):
            role = BlockRole.FIGURE
        elif any(
            x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1 for x0, y0, x1, y1 in hints.tables
        ):
            role = BlockRole.PARAGRAPH  # a cell of a table the deck declares; see below
        elif profile.running.is_running(text, line.bbox, page_height):
            role = BlockRole.HEADER_FOOTER
        elif id(block) in toc or DOT_LEADERS.match(text):
            role = BlockRole.TOC
        elif title and _part_of(normalize(text), title):
            role = BlockRole.TITLE
        elif line.mono >= 0.8:
            role = BlockRole.CODE
        elif is_caption(text):
            role = BlockRole.CAPTION
        elif is_list_item(text):
            role = BlockRole.LIST_ITEM
        elif _heading(line, text, words, body, id(block) in alone):
            big = body and line.size >= 1.6 * body and not _NUMBERED.match(text)
            role = BlockRole.TITLE if big and centre[1] < page_height / 3 else BlockRole.HEADING
        else:
            role = BlockRole.PARAGRAPH
        marked.append(replace(block, role=role))
    marked = _call_outs(lines, marked)
    if not title:  # a deck's title comes from its slide, with no front matter under it
        marked = _front_matter(lines, marked)
    plain = [b for b in marked if b.role == BlockRole.PARAGRAPH]
    in_hinted = [
        [
            b
            for b in plain
            if x0 <= (b.bbox[0] + b.bbox[2]) / 2 <= x1 and y0 <= (b.bbox[1] + b.bbox[3]) / 2 <= y1
        ]
        for x0, y0, x1, y1 in hints.tables
    ]
    tables = [
        t for cells in in_hinted for t in grid_tables(visual_rows(cells), min_rows=2, strict=False)
    ]
    tables += grid_tables(
        visual_rows([b for b in plain if not any(b in cells for cells in in_hinted)])
    )
    return with_cells(marked, tables)


def _stands_alone(block: TextBlock, row: list[TextBlock]) -> bool:
    """Nothing else on its visual row nearby: a line of its own in its column (the next
    column is further than three line heights away)."""
    reach = 3 * (block.bbox[3] - block.bbox[1])
    return all(
        other is block
        or other.bbox[0] - block.bbox[2] > reach
        or block.bbox[0] - other.bbox[2] > reach
        for other in row
    )


def _part_of(line: str, title: str) -> bool:
    """The line is a line of the slide's title: whole words of it, not a table's "A"."""
    if not line or (len(line) < 3 and line != title):
        return False
    before = r"(?<!\w)" if line[0].isalnum() else ""
    after = r"(?!\w)" if line[-1].isalnum() else ""
    return re.search(before + re.escape(line) + after, title) is not None


def _heading(line: Line, text: str, words: int, body: float, alone: bool) -> bool:
    """A short line of words (no address in it), set larger than the body text or bold on a
    line of its own."""
    name = _NUMBERED.sub("", text)  # "7.5.1.3 HMAC-SHA1": the number does not count
    letters = sum(ch.isalpha() for ch in name)
    if (
        not (1 <= words <= 14)
        or letters < 2
        or not body
        or letters < 0.5 * len(name.replace(" ", ""))
    ):
        return False
    if is_list_item(text) or re.search(r"https?://|www\.|@\w", text):
        return False
    if line.size >= 1.15 * body:
        return True
    return alone and line.bold >= 0.9 and words <= 10 and not text.endswith((".", ",", ";"))


def _call_outs(lines: list[Line], blocks: list[TextBlock]) -> list[TextBlock]:
    """Consecutive heading lines of one size form a run: a run of more than 14 words is a
    sentence set large (a call-out), not a heading; a short run keeps its first line's role."""
    out = list(blocks)
    i = 0
    while i < len(out):
        if out[i].role not in (BlockRole.TITLE, BlockRole.HEADING):
            i += 1
            continue
        j = i + 1
        while (
            j < len(out)
            and out[j].role in (BlockRole.TITLE, BlockRole.HEADING)
            and abs(lines[j].size - lines[i].size) <= 0.5
            and -0.5 * (lines[j].bbox[3] - lines[j].bbox[1])  # tight leading: boxes overlap
            <= lines[j].bbox[1] - lines[j - 1].bbox[3]
            < 0.7 * (lines[j].bbox[3] - lines[j].bbox[1])
        ):
            j += 1
        words = sum(len(out[k].text.split()) for k in range(i, j))
        role = BlockRole.PARAGRAPH if words > 14 else out[i].role
        for k in range(i, j):
            out[k] = replace(out[k], role=role)
        i = j
    return out


def _front_matter(lines: list[Line], blocks: list[TextBlock]) -> list[TextBlock]:
    """The plain lines set large right under a title (authors, affiliations) are not
    headings: they introduce no section."""
    out = list(blocks)
    k = next((i for i, b in enumerate(out) if b.role == BlockRole.TITLE), None)
    if k is None:
        return out
    while k < len(out) and out[k].role == BlockRole.TITLE:
        k += 1
    while k < len(out) and out[k].role == BlockRole.HEADING and lines[k].bold < 0.5:
        out[k] = replace(out[k], role=BlockRole.PARAGRAPH)
        k += 1
    return out


def page_blocks(
    page: pymupdf.Page, profile: DocumentProfile, hints: PageHints | None, zoom: float
) -> list[TextBlock]:
    """Native text, one block per line with its role, boxes in rendered-image pixels."""
    blocks = profile.take_blocks(page.number)
    if blocks is None:
        blocks = line_roles(read_lines(page), profile, hints, page.rect.height)
    return [replace(b, bbox=tuple(v * zoom for v in b.bbox)) for b in blocks]


def extract_text_lines(page: pymupdf.Page, zoom: float) -> list[TextBlock]:
    """Native text lines with roles from this page alone (no document context)."""
    return page_blocks(page, DocumentProfile(), None, zoom)


def _invisible_share(page: pymupdf.Page) -> float:
    """Share of the page's characters drawn invisibly (render mode 3): an OCR layer over a scan."""
    trace = page.get_texttrace()
    total = sum(len(t["chars"]) for t in trace)
    return sum(len(t["chars"]) for t in trace if t["type"] == 3) / total if total else 0.0


def _usable_text(blocks: list[TextBlock]) -> str:
    text = "".join("".join(b.text.split()) for b in blocks)
    if text and text.count("\ufffd") / len(text) > MAX_REPLACEMENT_SHARE:
        return ""
    return text.replace("\ufffd", "")
