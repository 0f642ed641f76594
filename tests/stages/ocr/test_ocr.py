"""OCR against text we chose, rendered to pictures, plus the shared corpus's page images.

CER bound: on clean 144-DPI renders the bundled PP-OCR model measured CER <= 0.02
(benchmarks/ocr.py, docs/ocr.md); 0.08 leaves room for font and threading differences while
still failing on any real regression (a wrong engine setting or box mapping gives > 0.3).
"""

import io
import shutil
from dataclasses import replace

import numpy as np
import pytest
from documents import (
    REPORT_PAGES,
    SCAN_PAGES,
    png_claiming_size,
    rasterize_pages,
    write_scan_pdf,
    write_text_pdf,
)
from PIL import Image
from rapidfuzz.distance import Levenshtein

from curate.core.config import OcrOptions, RenderOptions
from curate.schemas import ImageData, PageRecord
from curate.schemas.reasons import FailureReason
from curate.stages.ocr import OcrInputError, OcrUnavailable, load_engine, ocr_page
from curate.stages.ocr.rotation import box_to_original, rotate_clockwise
from curate.stages.sources import render_document

CER_BOUND = 0.08


def cer(hypothesis: str, reference: str) -> float:
    hyp, ref = "".join(hypothesis.split()), "".join(reference.split())
    return Levenshtein.distance(hyp, ref) / max(1, len(ref))


@pytest.fixture(scope="module")
def rapid():
    return load_engine(OcrOptions(threads=2))


def _page_from_png(png: bytes, needs_ocr: bool = True) -> PageRecord:
    image = Image.open(io.BytesIO(png))
    return PageRecord(
        page_id="p-00000",
        doc_id="p",
        source_uri="/scan.png",
        source_sha256="0" * 64,
        source_type="image",
        page_index=0,
        page_count=1,
        render_dpi=144,
        width=image.width,
        height=image.height,
        image=ImageData(png, "p-00000.png"),
        needs_ocr=needs_ocr,
    )


def _rotated_png(png: bytes, degrees: int) -> bytes:
    """The page as a scanner fed sideways would give it: turned `degrees` counter-clockwise."""
    image = Image.open(io.BytesIO(png)).rotate(degrees, expand=True)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_rapidocr_reads_rendered_text_within_the_cer_bound(rapid):
    for png, lines in zip(rasterize_pages(REPORT_PAGES[:3]), REPORT_PAGES, strict=False):
        page = ocr_page(_page_from_png(png), rapid, OcrOptions())
        assert page.text_source == "ocr"
        assert cer(page.text, "\n".join(lines)) <= CER_BOUND, page.text
        for block in page.text_blocks:
            x0, y0, x1, y1 = block.bbox
            assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
            assert 0.5 <= block.confidence <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotated_scans_are_read_and_boxes_land_on_the_stored_image(rapid, degrees):
    (png,) = rasterize_pages(REPORT_PAGES[:1])
    upright = ocr_page(_page_from_png(png), rapid, OcrOptions())
    turned = _page_from_png(_rotated_png(png, degrees))
    page = ocr_page(turned, rapid, OcrOptions())
    assert cer(page.text, "\n".join(REPORT_PAGES[0])) <= CER_BOUND, page.text
    heading = max(page.text_blocks, key=lambda b: len(b.text))
    x0, y0, x1, y1 = heading.bbox
    assert 0 <= x0 < x1 <= turned.width and 0 <= y0 < y1 <= turned.height
    width, height = x1 - x0, y1 - y0
    if degrees in (90, 270):  # a horizontal line on a sideways page is a tall box
        assert height > width
    ref = max(upright.text_blocks, key=lambda b: len(b.text))
    assert sorted([width, height]) == pytest.approx(
        sorted([ref.bbox[2] - ref.bbox[0], ref.bbox[3] - ref.bbox[1]]), rel=0.15
    )


def test_box_mapping_inverts_each_rotation():
    image = np.zeros((40, 100, 3), np.uint8)  # height 40, width 100
    image[5:15, 60:90] = 255  # a bright box at x 60..90, y 5..15
    for degrees in (0, 90, 180, 270):
        rotated = rotate_clockwise(image, degrees)
        ys, xs = np.nonzero(rotated[:, :, 0])
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert box_to_original(box, degrees, 100, 40) == pytest.approx((60, 5, 90, 15)), degrees


def test_auto_leaves_text_layer_pages_untouched_and_reads_scans(tmp_path, rapid):
    options = OcrOptions(mode="auto")
    native = [p for p in render_document(str(write_text_pdf(tmp_path / "t.pdf")), RenderOptions())]
    scans = [p for p in render_document(str(write_scan_pdf(tmp_path / "s.pdf")), RenderOptions())]
    assert not any(p.needs_ocr for p in native) and all(p.needs_ocr for p in scans)
    from curate.stages.ocr import needs_ocr

    assert [needs_ocr(p, "auto") for p in native + scans] == [False] * len(native) + [True] * len(
        scans
    )
    assert [needs_ocr(p, "never") for p in scans] == [False] * len(scans)
    assert all(needs_ocr(p, "always") for p in native)
    assert ocr_page(native[0], rapid, OcrOptions(mode="always")).text_source == "ocr"
    page = ocr_page(scans[0], rapid, options)
    assert cer(page.text, "\n".join(SCAN_PAGES[0])) <= CER_BOUND


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png_claiming_size(100_000, 100_000), FailureReason.IMAGE_TOO_LARGE),
        (rasterize_pages(REPORT_PAGES[:1])[0][:2000], FailureReason.CORRUPT_IMAGE),  # truncated
        (b"not an image at all", FailureReason.CORRUPT_IMAGE),
    ],
)
def test_bad_images_raise_a_reason_for_the_dead_letter_output(rapid, data, reason):
    page = replace(
        _page_from_png(rasterize_pages(REPORT_PAGES[:1])[0]), image=ImageData(data, "p.png")
    )
    with pytest.raises(OcrInputError) as err:
        ocr_page(page, rapid, OcrOptions())
    assert err.value.reason == reason


def test_image_inputs_become_pages_and_bombs_are_refused(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_claiming_size(100_000, 100_000))
    (failure,) = render_document(str(tmp_path / "bomb.png"), RenderOptions())
    assert failure.reason == FailureReason.IMAGE_TOO_LARGE
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (failure,) = render_document(str(tmp_path / "broken.jpg"), RenderOptions())
    assert failure.reason == FailureReason.CORRUPT_IMAGE
    png = rasterize_pages(REPORT_PAGES[:1])[0]
    (tmp_path / "page.png").write_bytes(png)
    (page,) = render_document(str(tmp_path / "page.png"), RenderOptions())
    assert page.needs_ocr and page.image.bytes == png and page.source_type == "image"


def test_shared_corpus_page_images(shared_corpus, rapid):
    expected = {
        "page_game-rules-DA-1p.jpg": ["CREATURES", "Abomination"],
        "text_chinese-simplified.jpeg": ["肌肤"],
        "page_layoutparser-paper-table.jpg": ["LayoutParser"],
    }
    for name, words in expected.items():
        (page,) = render_document(str(shared_corpus / "images" / name), RenderOptions())
        text = ocr_page(page, rapid, OcrOptions(languages=["en", "zh"])).text
        for word in words:
            assert word in text, (name, word, text[:200])


def test_engines_that_cannot_run_say_what_to_use_instead():
    with pytest.raises(OcrUnavailable, match="tesseract"):
        load_engine(OcrOptions(languages=["ko"]))
    with pytest.raises(OcrUnavailable, match="rapidocr"):
        load_engine(OcrOptions(engine="paddleocr"))  # not installed by default


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_tesseract_reads_rendered_text_within_the_cer_bound():
    engine = load_engine(OcrOptions(engine="tesseract"))
    (png,) = rasterize_pages(REPORT_PAGES[:1])
    page = ocr_page(_page_from_png(png), engine, OcrOptions(engine="tesseract"))
    assert cer(page.text, "\n".join(REPORT_PAGES[0])) <= CER_BOUND, page.text
    with pytest.raises(OcrUnavailable, match="tesseract-ocr-"):
        load_engine(OcrOptions(engine="tesseract", languages=["xx"]))


class _SaysUpsideDown:
    """The real engine, with an orientation detector that wrongly says 180 degrees, as it did
    on an upright 330x502 scan of the corpus."""

    def __init__(self, engine):
        self.engine, self.name = engine, engine.name

    def recognize(self, image):
        return self.engine.recognize(image)

    def detect_rotation(self, image):
        return 180


def test_a_rotation_is_applied_only_when_the_turned_reading_is_clearly_better(rapid):
    png = rasterize_pages([REPORT_PAGES[0]], dpi=48)[0]  # a low-resolution upright scan
    with Image.open(io.BytesIO(png)) as image:
        assert image.width * image.height < 400_000
    page = ocr_page(_page_from_png(png), _SaysUpsideDown(rapid), OcrOptions())
    assert "Harbour Authority" in page.text  # read upright, not flipped into garbage
    turned = ocr_page(_page_from_png(_rotated_png(png, 180)), _SaysUpsideDown(rapid), OcrOptions())
    assert "Harbour Authority" in turned.text  # a page really upside down is still turned


def _scan_with_layer(path, image_text: str, layer_text: str):
    """A scanned page (an image of `image_text`) with an invisible OCR layer saying `layer_text`."""
    import pymupdf

    picture = Image.new("RGB", (1200, 600), "white")
    from PIL import ImageDraw, ImageFont

    font = ImageFont.load_default(size=48)
    ImageDraw.Draw(picture).text((80, 250), image_text, fill="black", font=font)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    doc = pymupdf.open()
    page = doc.new_page(width=600, height=300)
    page.insert_image(page.rect, stream=buffer.getvalue())
    page.insert_text((40, 150), layer_text, render_mode=3, fontsize=24)
    doc.save(path)
    return path


def test_a_wrong_embedded_ocr_layer_is_read_again_and_a_right_one_kept(tmp_path):
    from curate.core.stage import Keep
    from curate.stages.ocr import OcrPages

    wrong = _scan_with_layer(
        tmp_path / "wrong.pdf", "Total boxes: 28 crates", "Total boxes: 2 crates"
    )
    right = _scan_with_layer(
        tmp_path / "right.pdf", "Total boxes: 28 crates", "Total boxes: 28 crates"
    )
    stage = OcrPages(OcrOptions(threads=2))
    counts = {}
    stage.bind_counter(lambda name, value: counts.update({name: counts.get(name, 0) + value}))
    stage.setup()
    (bad,) = render_document(str(wrong), RenderOptions(dpi=72))
    (good,) = render_document(str(right), RenderOptions(dpi=72))
    assert bad.text_source == good.text_source == "ocr_layer" and not bad.needs_ocr
    (fixed,) = stage.process(bad)
    (kept,) = stage.process(good)
    assert isinstance(fixed, Keep) and fixed.item.text_source == "ocr" and "28" in fixed.item.text
    assert kept.item.text_source == "ocr_layer" and kept.item.text == good.text
    assert counts == {"pages.ocr_layer_replaced": 1, "pages.ocr_layer_kept": 1}


def test_the_engine_loads_on_the_first_page_that_needs_ocr_and_only_once(tmp_path):
    """Born-digital jobs must not pay the engine's start-up; scans load it once per worker."""
    from curate.stages.ocr import OcrPages

    stage = OcrPages(OcrOptions(threads=1))
    stage.setup()
    text_pdf = write_text_pdf(tmp_path / "t.pdf", REPORT_PAGES[:1])
    (digital,) = render_document(str(text_pdf), RenderOptions(dpi=72))
    assert [o.item.text for o in stage.process(digital)] == [digital.text]
    assert stage.engine is None
    scans = list(render_document(str(write_scan_pdf(tmp_path / "s.pdf")), RenderOptions(dpi=72)))
    read = [o.item for scan in scans[:2] for o in stage.process(scan)]
    engine = stage.engine
    assert engine is not None and all(page.text_source == "ocr" and page.text for page in read)
    assert stage.load() is engine
