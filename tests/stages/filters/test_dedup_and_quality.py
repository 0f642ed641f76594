"""Duplicates and cheap filters, on pages made here with a known duplicate structure.

The rule under test: pages with text merge only when their text is the same content (every
number equal, near-identical wording); pages without text merge by perceptual hash, whichever
way up. Every test runs the real stage logic: sketches of real rendered pages, LSH buckets,
verification and clusters (and, for the Beam test, the keyed-join transform).
"""

import io
import random
from dataclasses import replace

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from documents import (
    REPORT_PAGES,
    SCAN_PAGES,
    rasterize_pages,
    slide,
    write_scan_pdf,
    write_text_pdf,
)
from PIL import Image

from curate.core.config import DedupOptions, QualityOptions, RenderOptions
from curate.core.fingerprints import hash_name, perceptual_hash, rotation_hashes
from curate.core.stage import run_item
from curate.runners.beam.dedup import ConnectedComponents, DuplicateVerdicts
from curate.schemas import ImageData, PageRecord, QAItem, SampleRecord, TextBlock
from curate.schemas.reasons import RejectReason
from curate.stages.filters.dedup import (
    DeduplicatePages,
    HashPages,
    Work,
    band_bits,
    components,
    find_duplicates,
    representatives,
    sketch_page,
)
from curate.stages.filters.quality import is_blank, language_allowed, text_density
from curate.stages.generators.lengths import filter_qa_lengths
from curate.stages.sources import render_document

OPTIONS = DedupOptions()


def _edit(data: bytes, fmt="PNG", crop=0.0, turn=None, quality=50) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    if crop:
        image = image.crop((int(w * crop), int(h * crop), int(w * (1 - crop)), int(h * (1 - crop))))
    if turn is not None:
        image = image.transpose(turn)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _page(image: bytes, text: str = "", page_id: str = "p-0", source: str = "/p") -> PageRecord:
    with Image.open(io.BytesIO(image)) as opened:
        width, height = opened.size
    blocks = [TextBlock(text, (0, 0, 10, 10))] if text else []
    return PageRecord(
        page_id,
        source.strip("/"),
        source,
        "0",
        "pdf",
        0,
        1,
        96,
        width,
        height,
        ImageData(image, f"{page_id}.png"),
        text_blocks=blocks,
    )


def _dedup(pages: list[PageRecord]) -> dict[str, tuple[str, bool]]:
    """page id -> (kept page id, exact copy?) for the pages the stage drops."""
    return dict(find_duplicates([sketch_page(p) for p in pages], OPTIONS))


def test_a_deck_of_one_template_keeps_every_slide():
    slides = [
        (f"Quarterly review part {n}", f"Revenue grew {9 + n}% in region {region}")
        for n, region in ((1, "A"), (2, "B"), (3, "C"))
    ]
    pages = [
        _page(slide(title, [line]), f"{title} {line}", f"deck-{i}")
        for i, (title, line) in enumerate(slides)
    ]
    layouts = [sketch_page(page).hashes[0] for page in pages[:2]]
    assert (layouts[0] ^ layouts[1]).bit_count() <= 24  # a layout hash alone would merge
    assert _dedup(pages) == {}


def test_a_filled_in_template_keeps_every_page_and_costs_no_comparison():
    rng = random.Random(3)
    lines = [
        ["Delivery note", f"Order {1000 + i}", f"units: {rng.randint(1, 400)}"] for i in range(40)
    ]
    images = rasterize_pages(lines, dpi=48)
    pages = [_page(img, " ".join(t), f"form-{i}") for i, (img, t) in enumerate(zip(images, lines))]
    work = Work()
    assert dict(find_duplicates([sketch_page(p) for p in pages], OPTIONS, work)) == {}
    assert work.comparisons == 0  # different numbers never share a bucket


def test_near_copies_with_the_same_text_merge_and_reworded_slides_do_not():
    title, bullets = "Quarterly Results", ["Revenue up 12%", "Margin 18.4%", "Headcount 412"]
    text = " ".join([title, *bullets, "Harbour Authority Internal"])
    base = _page(slide(title, bullets), text, "base", "/a.pdf")
    copies = [
        _page(slide(title, bullets, dpi=144), text, "dpi", "/b.pdf"),
        _page(_edit(slide(title, bullets), crop=0.01), text.replace("  ", " "), "crop", "/c.pdf"),
        _page(_edit(slide(title, bullets), "JPEG"), "", "jpeg", "/d.pdf"),  # no text layer
    ]
    other = ["Revenue up 12%", "Margin 18.4%", "Headcount 412 staff"]
    reworded = _page(slide(title, other), text + " staff", "reworded", "/e.pdf")
    verdicts = _dedup([base, *copies, reworded])
    assert verdicts == {"crop": ("dpi", False), "jpeg": ("dpi", False), "base": ("dpi", False)}


def test_rotated_copies_of_a_scan_merge_and_other_scans_stay():
    scans = rasterize_pages(SCAN_PAGES)
    turns = [None, Image.ROTATE_90, Image.ROTATE_180, Image.ROTATE_270]
    pages = [
        _page(_edit(scans[0], "JPEG", turn=t), page_id=f"turned-{i}") for i, t in enumerate(turns)
    ]
    pages += [_page(scan, page_id=f"other-{i}") for i, scan in enumerate(scans[1:])]
    verdicts = _dedup(pages)
    assert set(verdicts) == {"turned-1", "turned-2", "turned-3"} or set(verdicts) == {
        "turned-0",
        "turned-2",
        "turned-3",
    }
    assert len({keep for keep, _ in verdicts.values()}) == 1


def test_a_text_less_near_copy_merges():
    scan = rasterize_pages([SCAN_PAGES[0]])[0]
    pages = [
        _page(scan, page_id="scan"),
        _page(_edit(scan, "JPEG", crop=0.01), page_id="reencoded-cropped"),
    ]
    assert _dedup(pages) == {"reencoded-cropped": ("scan", False)}


def test_a_large_jpeg_decoded_at_reduced_size_hashes_like_its_png():
    """Photos and scans of many megapixels are decoded at 1/2 to 1/8 size for the hash. That
    moves it 4 to 6 bits from the PNG's (2 to 4 at full size), well inside the 10 allowed."""
    scan = rasterize_pages([SCAN_PAGES[0]], dpi=300)[0]  # 2550 x 3300: decoded at 1/4
    png_hash = int(perceptual_hash(scan), 16)
    for quality in (90, 50):
        hashes = rotation_hashes(_edit(scan, "JPEG", quality=quality))
        assert (int(hashes[0], 16) ^ png_hash).bit_count() <= 6
    turned = rotation_hashes(_edit(scan, "JPEG", turn=Image.ROTATE_90))
    assert (int(turned[3], 16) ^ png_hash).bit_count() <= 6


def test_a_hash_of_another_method_or_version_is_made_again(tmp_path):
    """An older dataset's hashes (imagehash's, hash version 1) differ from this curate's by a
    few bits: comparing them with this job's would move pages across the dedup thresholds."""
    pdf = write_text_pdf(tmp_path / "text.pdf")
    page = next(iter(render_document(str(pdf), RenderOptions(dpi=72), hash_method="phash")))
    assert page.phash_method == hash_name("phash") == "phash/v2"
    fresh = page.phash
    for method in (None, "phash/v1", "dhash/v2"):
        old = replace(page, phash="f" * 64, phash_method=method)
        [outcome] = run_item(HashPages(DedupOptions()), old)
        assert (outcome.item.phash, outcome.item.phash_method) == (fresh, "phash/v2")
        assert sketch_page(old).hashes == (int(fresh, 16),)
    [outcome] = run_item(HashPages(DedupOptions(hash="dhash")), page)
    assert outcome.item.phash_method == "dhash/v2"
    assert outcome.item.phash == perceptual_hash(page.image.bytes, "dhash") != fresh


def test_exact_copies_across_documents_merge_and_the_first_document_stays_whole():
    images = rasterize_pages(REPORT_PAGES, dpi=48)
    texts = [" ".join(lines) for lines in REPORT_PAGES]
    pages = [
        _page(img, text, f"{doc}-{i}", f"/{doc}.pdf")
        for doc in ("b-copy", "a-original")
        for i, (img, text) in enumerate(zip(images, texts))
    ]
    verdicts = _dedup(pages)
    assert verdicts == {f"b-copy-{i}": (f"a-original-{i}", True) for i in range(len(images))}


def test_sparse_pages_of_one_layout_are_not_merged():
    """A text page and a scan of another page with the same four lines in the same places."""
    review = _page(rasterize_pages([REPORT_PAGES[1]])[0], " ".join(REPORT_PAGES[1]), "review")
    scan = _page(rasterize_pages([SCAN_PAGES[2]])[0], page_id="scan")  # no text before OCR
    assert _dedup([review, scan]) == {}


def test_banding_never_misses_a_pair_within_the_threshold():
    rng = random.Random(0)
    threshold = 24
    for _ in range(300):
        value = rng.getrandbits(256)
        flipped = value
        for bit in rng.sample(range(256), rng.randint(0, threshold)):
            flipped ^= 1 << bit
        assert (value ^ flipped).bit_count() <= threshold
        bands = range(threshold + 1)
        assert any(
            band_bits(value, i, threshold) == band_bits(flipped, i, threshold) for i in bands
        )


def test_clusters_keep_the_largest_image_deterministically():
    labels = components([("b", "c"), ("a", "b"), ("x", "y")])
    assert labels == {"a": "a", "b": "a", "c": "a", "x": "x", "y": "x"}
    members = [((-100,), "a", "d1"), ((-400,), "b", "d2"), ((-400,), "c", "d2")]
    assert dict(representatives(members)) == {"a": ("b", False), "c": ("b", True)}


def _beam_run(build, expected):
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        assert_that(build(pipeline), equal_to(expected))


def test_connected_components_on_beam_settle_chains_longer_than_its_rounds():
    chain = [(f"n{i:02d}", f"n{i + 1:02d}") for i in range(30)]  # 30 hops, 4 rounds
    edges = [*chain, ("x", "y"), ("y", "z"), ("n05", "m")]
    expected = components(edges)
    _beam_run(
        lambda p: p | beam.Create(edges) | ConnectedComponents(rounds=4), list(expected.items())
    )


def test_beam_verdicts_equal_the_in_process_ones():
    scans = rasterize_pages(SCAN_PAGES, dpi=48)
    reports = rasterize_pages(REPORT_PAGES, dpi=48)
    pages = [_page(_edit(scans[0], turn=Image.ROTATE_90), page_id="turned")]
    pages += [_page(img, page_id=f"scan-{i}") for i, img in enumerate(scans)]
    pages += [
        _page(img, " ".join(lines), f"{doc}-{i}", f"/{doc}.pdf")
        for doc in ("x", "y")
        for i, (img, lines) in enumerate(zip(reports, REPORT_PAGES))
    ]
    sketches = [(p.page_id, sketch_page(p)) for p in pages]
    expected = dict(DeduplicatePages(OPTIONS).verdicts(sketches))
    assert len(expected) == 1 + len(reports)
    _beam_run(
        lambda p: p | beam.Create(sketches) | DuplicateVerdicts(DeduplicatePages(OPTIONS)),
        list(expected.items()),
    )


@pytest.mark.parametrize("method", ["phash", "dhash"])
def test_the_renderer_hashes_pages_as_dedup_would_and_dedup_keeps_that_hash(tmp_path, method):
    """Hashing from the renderer's pixels must give the hash of the page's PNG, or pages
    rendered by curate would no longer match the same page as an image or a screenshot."""
    pdf = write_scan_pdf(tmp_path / "scan.pdf")  # pictures of text, then text pages
    write_text_pdf(tmp_path / "text.pdf")
    pages = [
        item
        for path in (pdf, tmp_path / "text.pdf")
        for item in render_document(str(path), RenderOptions(dpi=72), hash_method=method)
    ]
    assert len(pages) >= 4 and all(isinstance(page, PageRecord) for page in pages)
    for page in pages:
        assert page.phash == perceptual_hash(page.image.bytes, method)
        assert page.phash_method == hash_name(method)
    unhashed = next(iter(render_document(str(pdf), RenderOptions(dpi=72))))
    assert unhashed.phash is None

    hashed = replace(pages[0], image=ImageData(b"not an image", "x.png"))  # would not decode
    stage = HashPages(DedupOptions(hash=method))
    assert [outcome.item.phash for outcome in run_item(stage, hashed)] == [pages[0].phash]


def test_blank_pages_and_text_density():
    white = _png((600, 800))
    options = QualityOptions()
    assert is_blank(_page(white), options)
    assert not is_blank(_page(slide("Quarterly Results", ["Revenue up 12%"])), options)
    assert not is_blank(_page(white, "A page with real text on it"), options)
    dense = _page(white, "x" * 480)  # 480 chars on 0.48 megapixels
    assert text_density(dense) == pytest.approx(1000)


def _png(size) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _sample(qa, texts=("",)) -> SampleRecord:
    return SampleRecord(
        "s",
        "d",
        "/x",
        "",
        "pdf",
        [],
        [],
        [ImageData(b"", "")] * len(texts),
        [(1, 1)] * len(texts),
        [[TextBlock(t, (0, 0, 1, 1))] for t in texts],
        qa=qa,
    )


def test_qa_length_bounds_move_whole_pairs_to_rejected():
    qa = [
        QAItem("extractive", "What is the fiscal year?", "2024", 0),
        QAItem("self_explain", "How do you know?", "It is on line 2.", 0),
        QAItem("extractive", "Why?", "x" * 5000, 0),
        QAItem("self_explain", "Explain where that answer comes from.", "Somewhere.", 0),
    ]
    result = filter_qa_lengths(_sample(qa), QualityOptions())
    assert [q.question for q in result.qa] == ["What is the fiscal year?", "How do you know?"]
    assert [q.reject_reason for q in result.rejected_qa] == [RejectReason.QUESTION_LENGTH] * 2
    assert len(result.conversations) == 4


def test_language_allow_list():
    english = "The harbour handled more ships this year than in any year before, and cargo rose."
    french = (
        "Le port a accueilli plus de navires cette année que jamais auparavant, "
        "et le fret a augmenté."
    )
    options = QualityOptions(languages=["en"])
    assert language_allowed(_sample([], (english,)), options)
    assert not language_allowed(_sample([], (french,)), options)
    assert language_allowed(_sample([], (french,)), QualityOptions())  # off by default
