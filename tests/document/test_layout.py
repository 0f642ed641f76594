"""Roles from the layout: what a page's lines are, before any question is written about them."""

import pymupdf
from pptx import Presentation
from pptx.util import Inches, Pt

from curate.core.config import RenderOptions
from curate.schemas import BlockRole, PageRecord, TextBlock
from curate.stages.generators.grounding import is_grounded
from curate.stages.generators.template import PageView
from curate.stages.sources import render_document


def _roles(path, **options) -> list[dict[str, BlockRole]]:
    pages = [
        p
        for p in render_document(str(path), RenderOptions(dpi=72, **options))
        if isinstance(p, PageRecord)
    ]
    return [{b.text: b.role for b in page.text_blocks} for page in pages]


def write_paper_pdf(path):
    """A title page: title, authors and affiliations set large, a bold "Abstract", body text;
    a numbered bold section heading; a call-out sentence in large type with tight leading; and
    two columns where a bold label on the right shares its row with prose on the left."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((150, 90), "Harbour Traffic Control", fontsize=24)
    page.insert_text((200, 125), "Ana Silva and Bo Jensen", fontsize=13)
    page.insert_text((220, 145), "Port Authority of Lisbon", fontsize=13)
    page.insert_text((270, 185), "Abstract", fontsize=10, fontname="hebo")
    body = [
        "Pilots board each vessel before it enters the inner harbour and stay",
        "on the bridge until the ship is moored alongside its assigned berth.",
        "Tugs wait at the breakwater until the pilot signals them to push.",
    ]
    for i, line in enumerate(body * 3):
        page.insert_text((60, 210 + 14 * i), line, fontsize=10)
    page.insert_text((60, 360), "7.5.1.3 HMAC-SHA1", fontsize=11, fontname="hebo")
    for i, line in enumerate(body):
        page.insert_text((60, 380 + 14 * i), line, fontsize=10)
    callout = [
        "The harbour handled more ships",
        "this year than in any year of",
        "its long history.",
    ]
    for i, line in enumerate(callout):  # 18 pt type on 17 pt leading: the boxes overlap
        page.insert_text((60, 450 + 17 * i), line, fontsize=18)
    for i, line in enumerate(
        ["Our pilots know every", "shoal of the estuary and", "every berth by name."]
    ):
        page.insert_text((60, 560 + 14 * i), line, fontsize=10)
    page.insert_text((330, 574), "BY REVENUE", fontsize=9, fontname="hebo")
    page.insert_text((330, 600), "7,92,756 crore", fontsize=20)
    # a bullet glyph written apart from its text, as LibreOffice writes a deck's bullets
    page.insert_text((60, 700), "•", fontsize=10, fontname="helv")
    page.insert_text((84, 700), "Tugs are booked a day ahead", fontsize=10, fontname="tiro")
    doc.save(path)
    return path


def test_front_matter_call_outs_and_numbered_headings(tmp_path):
    roles = _roles(write_paper_pdf(tmp_path / "paper.pdf"))[0]
    assert roles["Harbour Traffic Control"] == BlockRole.TITLE
    # authors and affiliations are set large but open no section
    assert roles["Ana Silva and Bo Jensen"] == BlockRole.PARAGRAPH
    assert roles["Port Authority of Lisbon"] == BlockRole.PARAGRAPH
    assert roles["Abstract"] == BlockRole.HEADING
    # a section number does not make a heading "mostly digits"
    assert roles["7.5.1.3 HMAC-SHA1"] == BlockRole.HEADING
    # a sentence set large over three tightly led lines is a call-out, not three headings
    assert {roles[line] for line in ("The harbour handled more ships", "its long history.")} == {
        BlockRole.PARAGRAPH
    }
    # a bold label alone in its column is a heading though prose shares its row
    assert roles["BY REVENUE"] == BlockRole.HEADING
    # the glyph joins the text beside it: one list item, no line that is only a bullet
    items = [text for text, role in roles.items() if role == BlockRole.LIST_ITEM]
    assert [t for t in items if t.endswith("Tugs are booked a day ahead")] == items != []
    assert all(len(text) > 1 for text in roles)


def test_a_slide_table_is_cells_and_only_the_title_is_the_title(tmp_path):
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    slide.shapes.title.text = "Is this a backwards slide?"
    slide.shapes.title.top = Inches(6)
    shape = slide.shapes.add_table(3, 3, Inches(1), Inches(1.5), Inches(8), Inches(1.5))
    for r, row in enumerate([["Berth", "A", "B"], ["North", "12", "14"], ["South", "9", "17"]]):
        for c, text in enumerate(row):
            shape.table.cell(r, c).text = text
            shape.table.cell(r, c).text_frame.paragraphs[0].runs[0].font.size = Pt(28)
    # a stale frame (Google Slides exports): narrower than its columns, taller than its rows
    shape.width, shape.height = Inches(3), Inches(5.5)
    label = slide.shapes.add_textbox(Inches(8.5), Inches(4), Inches(1), Inches(0.6))
    label.text_frame.text = "a"  # a chart's label, a word of the title
    body = deck.slides.add_slide(deck.slide_layouts[1])
    body.shapes.title.text = "Berth plan"
    frame = body.placeholders[1].text_frame
    frame.text = "Dredging in March"
    sub = frame.add_paragraph()
    sub.text, sub.level = "North quay first", 1
    deck.save(tmp_path / "deck.pptx")
    table_slide, bullet_slide = _roles(tmp_path / "deck.pptx")
    assert table_slide["Is this a backwards slide?"] == BlockRole.TITLE
    # "A" is a word of the title, but a header cell of the table
    assert table_slide["A"] == BlockRole.TABLE_CELL
    assert table_slide["17"] == BlockRole.TABLE_CELL  # in the last column, outside the frame
    assert table_slide["a"] != BlockRole.TITLE
    # LibreOffice sets bullet glyphs as lines of their own; they join the text beside them
    items = [t for t, role in bullet_slide.items() if role == BlockRole.LIST_ITEM]
    assert any(t.endswith("North quay first") for t in items), bullet_slide
    assert all(len(t) > 2 for t in bullet_slide), "no bullet glyph stands alone"


def test_a_line_belongs_to_the_heading_of_its_own_column():
    def block(text, x0, y0, role=BlockRole.PARAGRAPH):
        return TextBlock(text, (x0, y0, x0 + 200, y0 + 12), "native", role=role)

    founder = block("Founder", 40, 40, BlockRole.HEADING)
    revenue = block("By revenue", 330, 100, BlockRole.HEADING)
    quote = block("I would like the story of Reliance to be told", 40, 120)
    figure = block("7,92,756 crore", 330, 130)
    page = PageView([founder, revenue, quote, figure], height=842, n=1)
    assert page.heading_above(quote).text == "Founder"
    assert page.heading_above(figure).text == "By revenue"


def test_a_title_wrapped_over_three_lines_is_one_grounded_answer():
    lines = ["AutoGen: Enabling Next-", "Gen LLM Applications via", "Multi-Agent Conversation"]
    blocks = [
        TextBlock(text, (260, 195 + 119 * i, 1680, 305 + 119 * i), "native", role=BlockRole.TITLE)
        for i, text in enumerate(lines)
    ]
    page = PageView(blocks, height=1080, n=1)
    title = "AutoGen: Enabling Next-Gen LLM Applications via Multi-Agent Conversation"
    assert [h.text for h in page.headings] == [title]
    assert is_grounded(title, page.text)  # the page's line-break hyphen reads as "Next-Gen"


def _line(text: str, x: float, y: float, width: float = 300) -> TextBlock:
    return TextBlock(text, (x, y, x + width, y + 20), "ocr")


def test_ocr_lines_of_two_columns_are_read_column_by_column_and_a_table_row_by_row():
    """OCR gives boxes only; a two-column scan read row by row across the page interleaved
    its columns ("...temporary ap-" / "cepted service." / "pointment: Provided, ...")."""
    from curate.document.layout import reading_order

    left = [f"left column line {i} of prose" for i in range(6)]
    right = [f"right column line {i} of prose" for i in range(6)]
    page = [_line("A Title Across Both Columns", 100, 20, 500)]
    page += [_line(t, 50, 80 + 24 * i) for i, t in enumerate(left)]  # rows line up exactly
    page += [_line(t, 360, 80 + 24 * i) for i, t in enumerate(right)]
    page += [_line("7", 340, 400, 20)]  # a page number in the gutter's line, below the text
    order = [b.text for b in reading_order(sorted(page, key=lambda b: (b.bbox[1], b.bbox[0])))]
    assert order == ["A Title Across Both Columns", *left, *right, "7"]

    cells = [["Vessel", "Length", "Crew"], ["Aurora", "112", "14"], ["Borealis", "98", "11"]]
    table = [
        _line(c, 50 + 120 * j, 80 + 24 * i, 60)
        for i, row in enumerate(cells)
        for j, c in enumerate(row)
    ]
    assert [b.text for b in reading_order(table)] == [c for row in cells for c in row]


def test_running_lines_are_found_in_the_margins_and_at_one_spot_of_most_slides():
    """Running headers repeat in the top or bottom band; a deck's banner ("ASVS 4.0" down the
    side of every slide) repeats at one spot in the middle of the page, and was asked as
    content. A line at that spot on a few slides only, or anywhere else, is content."""
    from curate.document.layout import RunningLines

    running = RunningLines()
    for page in range(6):
        running.add_page(
            [
                ("Chapter 2 · page %d" % (page + 1), (72, 20, 300, 32)),  # top band
                ("ASVS 4.0", (10, 300, 60, 312)),  # the banner, mid-page
                (f"Requirement V{page}.1 is verified by the tester", (72, 300, 500, 312)),
                ("Agenda", (72, 100, 200, 120)) if page < 2 else ("Findings", (72, 140, 200, 160)),
            ],
            792,
        )
    assert running.is_running("Chapter 2 · page 9", (72, 20, 300, 32), 792)
    assert running.is_running("ASVS 4.0", (12, 302, 60, 314), 792)
    assert not running.is_running("ASVS 4.0", (300, 500, 360, 512), 792)  # elsewhere
    assert not running.is_running("Agenda", (72, 100, 200, 120), 792)  # on 2 of 6 slides
    assert not running.is_running(
        "Requirement V1.1 is verified by the tester", (72, 300, 500, 312), 792
    )


def test_a_chapter_title_heading_a_few_pages_of_a_long_book_is_running():
    """Blind audit, seed 43: a Korean book heads each even page with its chapter's title, on 8
    of its 150 pages; below 30% of them, it was asked as "the first heading". The same text
    at the top of 3 pages is running; at the top of 2 (a heading that opens a page), not."""
    from curate.document.layout import RunningLines

    running = RunningLines()
    for page in range(150):
        top = "큰 규모의 글쓰기" if 40 <= page < 56 and page % 2 == 0 else f"Section {page}"
        opening = "Introduction" if page in (3, 90) else f"Text of page {page}"
        running.add_page([(top, (72, 20, 300, 32)), (opening, (72, 40, 300, 52))], 792)
    assert running.is_running("큰 규모의 글쓰기", (72, 20, 300, 32), 792)
    assert not running.is_running("Introduction", (72, 40, 300, 52), 792)
