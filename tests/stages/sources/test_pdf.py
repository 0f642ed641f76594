import importlib.util
import io
import re
import subprocess
import sys

import pymupdf
import pytest
from documents import (
    REPO,
    REPORT_PAGES,
    write_corrupt_pdf,
    write_encrypted_pdf,
    write_huge_page_pdf,
    write_image_only_pdf,
    write_text_pdf,
    write_text_pdf_bytes,
    write_zero_page_pdf,
)
from PIL import Image

from curate.core.config import RenderOptions
from curate.schemas import Failure, PageRecord
from curate.schemas.reasons import FailureReason
from curate.stages.sources import render_document


def _render(path, **options):
    items = list(render_document(str(path), RenderOptions(**options)))
    pages = [i for i in items if isinstance(i, PageRecord)]
    failures = [i for i in items if isinstance(i, Failure)]
    return pages, failures


def test_pages_have_images_text_and_boxes_inside_the_image(tmp_path):
    pages, failures = _render(write_text_pdf(tmp_path / "r.pdf"), dpi=100)
    assert failures == []
    assert [p.page_index for p in pages] == list(range(len(REPORT_PAGES)))
    for page, lines in zip(pages, REPORT_PAGES, strict=True):
        image = Image.open(io.BytesIO(page.image.bytes))
        assert image.format == "PNG" and image.size == (page.width, page.height)
        assert page.width == pytest.approx(595 * 100 / 72, abs=1)
        assert [b.text for b in page.text_blocks] == lines
        assert page.text_source == "native" and not page.needs_ocr
        for block in page.text_blocks:
            x0, y0, x1, y1 = block.bbox
            assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
    # the heading is drawn first and biggest: its box is the tallest on the page
    first = pages[0].text_blocks
    assert max(first, key=lambda b: b.bbox[3] - b.bbox[1]).text == REPORT_PAGES[0][0]


def test_ligatures_come_out_as_their_letters(tmp_path):
    """A PDF font's "ﬃ" glyph maps to U+FB03; QA built on it would read "Eﬃcient"."""
    doc = pymupdf.open()
    page = doc.new_page()
    writer = pymupdf.TextWriter(page.rect)
    writer.append((72, 72), "E\ufb03cient o\ufb00ers \ufb01nal \ufb02ow", font=pymupdf.Font("tiro"))
    writer.write_text(page)
    doc.save(tmp_path / "ligatures.pdf")
    (rendered,) = render_document(str(tmp_path / "ligatures.pdf"), RenderOptions(dpi=72))
    assert rendered.text == "Efficient offers final flow"
    (block,) = rendered.text_blocks
    assert block.bbox[2] > block.bbox[0] + 100  # the line keeps its box


def test_ids_and_hash_are_stable_across_renders(tmp_path):
    path = write_text_pdf(tmp_path / "r.pdf")
    first, _ = _render(path)
    second, _ = _render(path)
    assert [p.page_id for p in first] == [p.page_id for p in second]
    assert [p.image for p in first] == [p.image for p in second]
    assert len({p.page_id for p in first}) == len(first)


EXAMPLES = REPO / "examples"


def test_page_images_hold_the_rendered_pixels_in_files_the_size_of_mupdfs(tmp_path):
    """PNGs are written on helper threads by OpenCV, not by MuPDF (curate/stages/sources/encode.py):
    the same pixels, and files no more than 5% larger (zlib levels 1 to 3 give +55% here)."""
    colour = pymupdf.open()
    page = colour.new_page(width=300, height=200)
    page.draw_rect(pymupdf.Rect(20, 20, 140, 90), color=(1, 0, 0), fill=(1, 0.6, 0))
    page.insert_text((30, 150), "blue on white", color=(0, 0, 1), fontsize=20)
    colour.save(tmp_path / "colour.pdf")
    ours = theirs = 0
    for path in [*sorted(EXAMPLES.glob("*.pdf")), tmp_path / "colour.pdf"]:
        pages, failures = _render(path, dpi=144)
        assert failures == [] and pages
        with pymupdf.open(path) as doc:
            for page in pages:
                zoom = page.render_dpi / 72
                pixmap = doc[page.page_index].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom))
                reference = pixmap.tobytes("png")
                decoded = Image.open(io.BytesIO(page.image.bytes))
                assert decoded.mode == "RGB"
                assert decoded.tobytes() == Image.open(io.BytesIO(reference)).tobytes()
                ours, theirs = ours + len(page.image.bytes), theirs + len(reference)
    assert ours <= 1.05 * theirs


def test_greyscale_pixmaps_are_written_as_they_are():
    from curate.core.fingerprints import perceptual_hash
    from curate.stages.sources.encode import pixels, png

    doc = pymupdf.open(stream=write_text_pdf_bytes([["Grey", "a line of text"]]), filetype="pdf")
    pixmap = doc[0].get_pixmap(colorspace=pymupdf.csGRAY, dpi=50)
    image = pixels(pixmap.samples_mv, pixmap.width, pixmap.height, pixmap.n, pixmap.stride)
    decoded = Image.open(io.BytesIO(png(image)))
    assert decoded.mode == "L" and decoded.tobytes() == pixmap.samples
    assert perceptual_hash(image) == perceptual_hash(png(image))


def test_a_page_whose_image_cannot_be_written_fails_alone(tmp_path, monkeypatch):
    import curate.stages.sources.encode as encode

    doc = pymupdf.open()
    for width in (300, 200, 300):  # the middle page's image is the one that fails
        doc.new_page(width=width, height=300).insert_text((20, 50), f"width {width}")
    doc.save(tmp_path / "three.pdf")
    real = encode.png

    def png(image):
        if image.shape[1] == 200:
            raise MemoryError("no room for the PNG")
        return real(image)

    monkeypatch.setattr(encode, "png", png)
    items = list(render_document(str(tmp_path / "three.pdf"), RenderOptions(dpi=72)))
    assert [type(i).__name__ for i in items] == ["PageRecord", "Failure", "PageRecord"]
    assert [items[0].page_index, items[2].page_index] == [0, 2]
    assert items[1].reason == FailureReason.PAGE_RENDER_ERROR
    assert items[1].item_id.endswith("-00001") and "no room for the PNG" in items[1].detail


def test_pages_wait_for_the_helpers_once_their_pixels_pass_the_budget(monkeypatch):
    """Memory per document stays bounded: a page's pixels are held until its PNG is written,
    and no more than IN_FLIGHT_BYTES wait (a page larger than that waits alone)."""
    import numpy as np

    import curate.stages.sources.encode as encode

    page = np.full((100, 100, 3), 255, np.uint8)
    monkeypatch.setattr(encode, "IN_FLIGHT_BYTES", int(2.5 * page.nbytes))
    waiting, out = [], []
    with encode.PageEncoder() as encoder:
        for index in range(6):
            encoder.add(index, page.copy(), "phash")
            out += [index for index, _ in encoder.finished()]
            waiting.append(index + 1 - len(out))
        encoder.add("huge", np.zeros((200, 200, 3), np.uint8), None)
        huge = list(encoder.finished())
        out += [index for index, _ in huge]
        out += [index for index, _ in encoder.finished(everything=True)]
    assert waiting == [1, 2, 2, 2, 2, 2]
    assert out == [0, 1, 2, 3, 4, 5, "huge"]  # in order; the huge one right after it was added
    data, phash = huge[-1][1]
    assert Image.open(io.BytesIO(data)).size == (200, 200) and phash is None


def test_each_pages_text_is_read_once_and_gives_the_same_blocks_as_reading_it_again(
    tmp_path, monkeypatch
):
    """The document pass keeps lines and roles for the render pass, within `KEPT_LINES`."""
    import curate.stages.sources.pdf.roles as roles

    path = write_text_pdf(tmp_path / "r.pdf")
    reads = []
    read_lines = roles.read_lines
    monkeypatch.setattr(
        roles, "read_lines", lambda page: reads.append(page.number) or read_lines(page)
    )

    def render():
        reads.clear()
        pages, failures = _render(path)
        assert failures == []
        return [(p.text_blocks, p.sections, p.needs_ocr) for p in pages]

    kept = render()
    assert sorted(reads) == list(range(len(REPORT_PAGES)))
    assert [b.role for b in kept[0][0]][0] == "title"
    for room in (0, len(REPORT_PAGES[0])):  # none kept; only the first page's lines fit
        monkeypatch.setattr(roles, "KEPT_LINES", room)
        assert render() == kept
        assert len(reads) == 3 * len(REPORT_PAGES) - (2 if room else 0)


def test_text_an_opaque_box_covers_is_not_the_pages_text(tmp_path):
    """A report's cover hid its section tab under a white page-sized box drawn after it; the
    text is in the file but not on the image, so no question may ask about it."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(60, 150, 400, 200), color=None, fill=(0.9, 0.9, 1))  # background
    page.insert_text((72, 60), "Corporate Overview", fontsize=14)
    page.draw_rect(pymupdf.Rect(50, 40, 300, 70), color=None, fill=(1, 1, 1))  # covers it
    page.insert_text((72, 120), "Annual Report of the Northwind Cooperative", fontsize=18)
    page.insert_text((72, 180), "Revenue grew by eleven percent over the year.", fontsize=11)
    path = tmp_path / "cover.pdf"
    doc.save(path)
    (rendered,), failures = _render(path)
    assert failures == []
    assert [b.text for b in rendered.text_blocks] == [
        "Annual Report of the Northwind Cooperative",
        "Revenue grew by eleven percent over the year.",
    ]


def test_text_a_picture_pasted_over_it_hides_is_not_the_pages_text(tmp_path):
    """A slide's point lay under a table pasted as a picture, and was asked about (blind
    audits, seeds 46 and 48). A picture with transparency, or a scan the size of the page,
    hides nothing."""
    import io

    from PIL import Image

    def png(mode, colour) -> bytes:
        buffer = io.BytesIO()
        Image.new(mode, (300, 40), colour).save(buffer, format="PNG")
        return buffer.getvalue()

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Points the slide shows", fontsize=14)
    page.insert_text((72, 200), "But not yet in the list", fontsize=14)
    page.insert_text((72, 300), "A point under a shadow", fontsize=14)
    page.insert_image(pymupdf.Rect(60, 180, 360, 220), stream=png("RGB", "orange"))
    page.insert_image(pymupdf.Rect(60, 280, 360, 320), stream=png("RGBA", (0, 0, 0, 60)))
    scan = doc.new_page()
    scan.insert_text((72, 100), "Text of a scanned page", fontsize=14)
    scan.insert_image(scan.rect, stream=png("RGB", "white"))
    path = tmp_path / "pasted.pdf"
    doc.save(path)
    pages, failures = _render(path)
    assert failures == []
    assert [[b.text for b in p.text_blocks] for p in pages] == [
        ["Points the slide shows", "A point under a shadow"],
        ["Text of a scanned page"],
    ]


def test_underscores_drawn_as_rules_are_read_as_underscores():
    """texinfo draws "_" in its slanted font as a short rule on the baseline, and the text
    layer has a space there: the nettle manual's `struct sha512_224_ctx` read `sha512 224 ctx`,
    and questions blanked "224" out of it. Underlines and dashes drawn as lines stay as they are.
    """
    from curate.stages.sources.pdf.lines import read_lines

    page = pymupdf.open().new_page()
    font, size = pymupdf.Font("tiro"), 11

    def words(y, parts, rule):  # words with a gap after each but the last, `rule` drawn in it
        x = 72
        for i, word in enumerate(parts):
            page.insert_text((x, y), word, fontname="tiro", fontsize=size)
            x += font.text_length(word, size)
            if i < len(parts) - 1:
                page.draw_line((x + 0.5, y + rule), (x + 4.5, y + rule), width=0.4)
                x += 5

    words(100, ["struct", "sha512", "224", "ctx"], rule=0)  # on the baseline: underscores
    words(130, ["pages", "10", "12"], rule=-2.8)  # at mid-height: dashes, not underscores
    page.insert_text((72, 160), "underlined words stay words", fontname="tiro", fontsize=size)
    page.draw_line((72, 161.5), (72 + font.text_length("underlined words", size), 161.5))
    texts = [line.text for line in read_lines(page)]
    assert texts == ["struct_sha512_224_ctx", "pages 10 12", "underlined words stay words"]


def test_accents_set_apart_from_their_letters_read_as_accented_letters():
    """TeX's old fonts set "ö" as "¨" then "o", and the nettle manual's author read
    "Niels M¨oller". A hat over a formula's letter and an acute used as an apostrophe stay."""
    from curate.stages.sources.pdf.lines import UnderscoreRules, _line_text, read_lines

    page = pymupdf.open().new_page()
    lines = ["Niels M¨oller, Micha¨el and Jos´e", "it´s 2¨x"]
    for i, line in enumerate(lines):
        page.insert_text((72, 100 + 30 * i), line, fontname="tiro", fontsize=11)
    texts = [line.text for line in read_lines(page)]
    assert texts == ["Niels Möller, Michaël and José", "it´s 2¨x"]
    # beyond Latin-1, which the built-in PDF fonts hold
    spans = [{"font": "CMR10", "text": "S˜ao Paulo, ˆq and xˆ2", "size": 10, "flags": 0}]
    assert _line_text(spans, UnderscoreRules([])) == "São Paulo, ˆq and xˆ2"


@pytest.mark.parametrize(
    "text, read",
    [
        ("A uni\x1ced approach", "A unified approach"),  # T1: fi at 0x1c
        ("the \x1crst half", "the first half"),
        ("\x1ductuation and e\x1bect", "fluctuation and effect"),
        ("su\x1ecient, ba\x1fe", "sufficient, baffle"),
        ("o\x0ber and \x0cnd", "offer and find"),  # OT1: ff at 0x0b, fi at 0x0c
        ("a \x1c b", "a b"),  # beside no letter: no ligature, dropped as before
        ("x\x0c2", "x 2"),
    ],
)
def test_ligatures_tex_set_on_control_code_points_read_as_their_letters(text, read):
    """Blind audit, seed 43: a TeX paper's Type3 fonts put fi on 0x1c, which the text layer
    passed on and splitting on whitespace dropped: "A uni ed approach", "the rst half"."""
    from curate.stages.sources.pdf.lines import UnderscoreRules, _line_text

    spans = [{"font": "Type3 (17 0 R)", "text": text, "size": 10, "flags": 0}]
    assert _line_text(spans, UnderscoreRules([])) == read


def test_a_raised_exponent_keeps_its_caret():
    """Blind audit, seed 43: a table's row "(π^π)^π" was asked as "(ππ)π", which means
    something else. A raised Greek letter, or anything raised after a bracket, is written
    after a caret; the LaTeX logo's raised A and a footnote's raised star stay as they were."""
    from curate.stages.sources.pdf.lines import UnderscoreRules, _line_text

    def span(text, raised=False):
        return {"font": "CMMI10", "text": text, "size": 7 if raised else 10, "flags": int(raised)}

    power = [span("("), span("π"), span("π", True), span(")"), span("π", True)]
    assert _line_text(power, UnderscoreRules([])) == "(π^π)^π"
    assert _line_text([span("L"), span("A", True), span("TEX")], UnderscoreRules([])) == "LATEX"
    assert _line_text([span("Aligon"), span("∗", True)], UnderscoreRules([])) == "Aligon∗"
    assert _line_text([span("laws"), span("10", True)], UnderscoreRules([])) == "laws¹⁰"


def test_text_struck_through_is_left_out_and_underlined_text_stays():
    """Blind audit, seed 44: a slide's title struck through ("What makes it interesting?",
    withdrawn, drawn as LibreOffice draws a strike: a stroke through the middle of the line)
    was asked as the slide's title."""
    from curate.stages.sources.pdf.lines import read_lines

    page = pymupdf.open().new_page()
    for i, text in enumerate(["What makes it interesting?", "COOL features", "Underlined"]):
        page.insert_text((72, 100 + 40 * i), text, fontname="helv", fontsize=20)
    width = pymupdf.get_text_length("What makes it interesting?", "helv", 20)
    page.draw_line((72, 93), (72 + width, 93), width=2)  # through the middle: struck
    page.draw_line((72, 182), (72 + 100, 182), width=1)  # on the baseline: an underline
    assert [line.text for line in read_lines(page)] == ["COOL features", "Underlined"]


def test_the_rupee_foradian_font_reads_as_the_rupee_sign(shared_corpus):
    """Indian reports set ₹ in Rupee Foradian, which draws it on the grave accent's code point:
    the Reliance report's "₹17,81,841 crore" read "`17,81,841 crore". Other fonts keep "`"."""
    from curate.stages.sources.pdf.lines import UnderscoreRules, _line_text, read_lines

    doc = pymupdf.open(shared_corpus / "pdf" / "report_reliance-annual-2021-22-excerpt.pdf")
    texts = [line.text for line in read_lines(doc[1])]
    assert "₹17,81,841 crore" in texts and not any("`" in text for text in texts)
    spans = [
        {"font": "ABCDEF+Rupee_Foradian", "text": "`", "size": 10, "flags": 0},
        {"font": "Courier", "text": "`7", "size": 10, "flags": 0},
    ]
    assert _line_text(spans, UnderscoreRules([])) == "₹`7"


def test_a_raised_footnote_mark_reads_as_superscript_digits(shared_corpus):
    """The Federal Register sets footnote marks small and raised: "flight control laws 10
    associated with MCAS" was blanked as "laws ___ associated" with the answer 10."""
    from curate.stages.sources.pdf.lines import UnderscoreRules, _line_text, read_lines

    doc = pymupdf.open(shared_corpus / "pdf" / "report_federal-register-2020-17221-faa-ad.pdf")
    texts = [line.text for line in read_lines(doc[2])]
    assert "flight control laws¹⁰ associated with" in texts
    word, mark = {"text": "laws ", "size": 9.0, "flags": 4}, {"text": "10", "size": 6.4}
    assert _line_text([word, {**mark, "flags": 5}], UnderscoreRules([])) == "laws¹⁰"
    assert _line_text([word, {**mark, "flags": 4}], UnderscoreRules([])) == "laws 10"  # not raised
    assert _line_text([word, {**mark, "size": 9.0, "flags": 5}], UnderscoreRules([])) == "laws 10"


def test_korean_word_gaps_read_as_spaces(shared_corpus):
    """Korean TeX sets word spaces as gaps with no space glyph: the LaTeX guide read
    "대학의컴퓨터실에는이미LATEX이". A letter-spaced heading ("서  문") stays one word, and
    Japanese and Chinese text gets no spaces."""
    from curate.stages.sources.pdf.lines import read_lines

    doc = pymupdf.open(shared_corpus / "pdf" / "manual_lshort-korean.pdf")
    texts = [line.text for line in read_lines(doc[5])]
    assert "서문" in texts
    assert any(
        t.startswith("능하다. 대학의 컴퓨터실에는 이미 LATEX이 설치되어 있어서") for t in texts
    )
    chinese = pymupdf.open(shared_corpus / "pdf" / "guide_install-latex-chinese.pdf")
    assert not any(
        re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", line.text)
        for page in chinese.pages(0, 4)
        for line in read_lines(page)
    )


def test_image_only_pages_are_flagged_for_ocr(tmp_path):
    pages, failures = _render(write_image_only_pdf(tmp_path / "scan.pdf"))
    assert failures == [] and len(pages) == 2
    assert all(p.needs_ocr and p.text_source == "none" and not p.text_blocks for p in pages)


def test_rotated_page_boxes_follow_the_rendered_image(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Rotated heading text", fontsize=20)
    page.set_rotation(90)
    doc.save(tmp_path / "rot.pdf")
    (page,), _ = _render(tmp_path / "rot.pdf", dpi=72)
    assert (page.width, page.height) == (842, 595)  # A4 landscape after rotation
    x0, y0, x1, y1 = page.text_blocks[0].bbox
    assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
    assert (y1 - y0) > (x1 - x0)  # horizontal text on a 90-degree page runs vertically


@pytest.mark.parametrize(
    ("writer", "reason"),
    [
        (write_encrypted_pdf, FailureReason.ENCRYPTED_DOCUMENT),
        (write_corrupt_pdf, FailureReason.CORRUPT_DOCUMENT),
        (write_zero_page_pdf, FailureReason.EMPTY_DOCUMENT),
    ],
)
def test_bad_documents_become_failures_not_exceptions(tmp_path, writer, reason):
    pages, failures = _render(writer(tmp_path / "bad.pdf"))
    assert pages == []
    assert [f.reason for f in failures] == [reason]
    assert failures[0].source_uri.endswith("bad.pdf") and failures[0].detail


def test_missing_unsupported_and_oversized_files(tmp_path):
    _, failures = _render(tmp_path / "nope.pdf")
    assert [f.reason for f in failures] == [FailureReason.FILE_NOT_FOUND]
    (tmp_path / "notes.txt").write_text("hello")
    _, failures = _render(tmp_path / "notes.txt")
    assert [f.reason for f in failures] == [FailureReason.UNSUPPORTED_FORMAT]
    assert ".pdf" in failures[0].detail
    _, failures = _render(write_text_pdf(tmp_path / "r.pdf"), max_file_mb=0.0001)
    assert [f.reason for f in failures] == [FailureReason.FILE_TOO_LARGE]


def test_huge_page_is_rendered_under_the_pixel_cap(tmp_path):
    (page,), failures = _render(
        write_huge_page_pdf(tmp_path / "plan.pdf"), max_pixels_per_page=4_000_000
    )
    assert failures == []
    assert page.width * page.height <= 4_000_000
    assert page.render_dpi < 144
    assert page.text_blocks[0].text == "Site plan, sheet A1"


def test_page_cap_renders_the_first_pages_and_records_the_rest(tmp_path):
    pages, failures = _render(write_text_pdf(tmp_path / "r.pdf"), max_pages_per_document=2)
    assert [p.page_index for p in pages] == [0, 1]
    assert [f.reason for f in failures] == [FailureReason.TOO_MANY_PAGES]
    assert "first 2 of 5" in failures[0].detail


def test_document_timeout_stops_and_says_what_was_skipped(tmp_path):
    pages, failures = _render(write_text_pdf(tmp_path / "r.pdf"), document_timeout_s=1e-9)
    assert pages == []
    assert [f.reason for f in failures] == [FailureReason.DOCUMENT_TIMEOUT]
    assert "pages 0..4 not rendered" in failures[0].detail


def test_shared_corpus_pdfs_render_every_page(shared_corpus):
    paths = sorted((shared_corpus / "pdf").glob("*.pdf"))
    assert paths, "../shared/corpus/pdf holds no PDF"
    for path in paths:
        expected = pymupdf.open(path).page_count
        pages, failures = _render(path, dpi=72)
        assert failures == [], path
        assert [p.page_index for p in pages] == list(range(expected))
        assert sum(len(p.text) for p in pages) > 500, path  # both have real text layers


@pytest.mark.skipif(
    importlib.util.find_spec("pymupdf.layout") is None, reason="pymupdf has no layout package"
)
def test_curate_imports_pymupdf_without_its_layout_model_which_stays_importable():
    """pymupdf 2 loads an ONNX layout model on import (0.45 s, 55 MB per process) that curate
    never uses; a user who wants it can still import it."""
    code = (
        "import sys, curate.stages.sources; print('pymupdf.layout' in sys.modules); "
        "import pymupdf.layout, pymupdf; print(callable(pymupdf._get_layout))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "True"]


def test_ruled_tables_do_not_depend_on_what_else_imported_pymupdf(shared_corpus):
    """find_tables() defers to PyMuPDF's layout model when `pymupdf.layout` is loaded: a plain
    `import pymupdf` elsewhere in the process (a notebook, a test helper) found a second table
    in this guide (page 35), so a resumed run differed from an uninterrupted one."""
    script = (
        "import sys\n"
        "if sys.argv[1] == 'plain': import pymupdf\n"
        "from curate.core.config import RenderOptions\n"
        "from curate.stages.sources import render_document\n"
        "pages = [p for p in render_document(sys.argv[2], RenderOptions(dpi=36))\n"
        "         if hasattr(p, 'text_blocks')]\n"
        "print([p.page_index for p in pages if any(b.cell for b in p.text_blocks)])\n"
    )
    pdf = shared_corpus / "pdf" / "guide_install-latex-chinese.pdf"
    found = {
        how: subprocess.run(
            [sys.executable, "-c", script, how, str(pdf)], capture_output=True, text=True
        ).stdout
        for how in ("curate", "plain")
    }
    assert found["curate"] == found["plain"] == "[41]\n", found


def test_a_bold_heading_wrapped_in_a_narrow_column_keeps_its_second_line(tmp_path):
    """The Federal Register's three columns stand 12 points apart: the second line of the
    bold heading "Related Service Information Under 1 / CFR Part 51" had the next column's
    text on its visual row, was read as body text, and was asked as the paragraph's start."""
    from curate.schemas import BlockRole

    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    body = "the operator shall keep the records of each"
    for i in range(30):  # two columns of text to the left, the paragraph's last line short
        page.insert_text((40, 80 + 11 * i), body, fontname="helv", fontsize=9)
        line = "records." if i == 0 else body
        page.insert_text((228, 80 + 11 * i), line, fontname="helv", fontsize=9)
    heading = ("Related Service Information Under 1", "CFR Part 51")
    page.insert_text((416, 80), heading[0], fontname="hebo", fontsize=9)
    page.insert_text((416, 91), heading[1], fontname="hebo", fontsize=9)
    page.insert_text((416, 104), "The FAA reviewed the service", fontname="helv", fontsize=9)
    page.insert_text((416, 115), "information of the manufacturer.", fontname="helv", fontsize=9)
    path = tmp_path / "columns.pdf"
    doc.save(path)
    (rendered,), failures = _render(path)
    assert failures == []
    roles = {b.text: b.role for b in rendered.text_blocks}
    assert roles["Related Service Information Under 1"] == BlockRole.HEADING
    assert roles["CFR Part 51"] == BlockRole.HEADING
    assert roles["The FAA reviewed the service"] == BlockRole.PARAGRAPH


def test_words_set_in_a_symbol_font_are_marked_unsure():
    """TeX's LASY10 draws □ on the code point of "2", and the text layer reads "2": a blank
    asked "2" for the box (blind audit, seed 49). Words in a symbol font are never answers."""
    from curate.stages.sources.pdf.lines import read_lines

    doc = pymupdf.open()
    page = doc.new_page()
    x = 72
    for text, font in [("In the second example the box ", "helv"), ("2", "symb"), (" is", "helv")]:
        page.insert_text((x, 100), text, fontname=font, fontsize=11)
        x += pymupdf.get_text_length(text, fontname=font, fontsize=11)
    page.insert_text((72, 130), "There are 2 examples on the page.", fontname="helv", fontsize=11)
    lines = {line.text: line.unsure for line in read_lines(page)}
    assert [unsure for text, unsure in lines.items() if "box" in text] == [("2",)]
    assert [unsure for text, unsure in lines.items() if "examples" in text] == [()]
