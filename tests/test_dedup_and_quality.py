"""Near-duplicates and cheap filters, on images made here with known duplicate structure.

Bounds: on this set the 256-bit pHash at the default threshold (24) measured recall 15/16 (one
1%-cropped slide sits at distance 28) and precision 1.0 (slides of one template stay >= 36 bits
apart). We assert recall >= 0.85 and no template merge at all.
"""

import io
import itertools
import random

import pymupdf
import pytest
from PIL import Image

from curate.config import DedupOptions, QualityOptions
from curate.filters.dedup import (
    band_keys,
    candidate_pairs,
    clusters,
    hamming,
    perceptual_hash,
    representatives,
)
from curate.filters.quality import filter_qa_lengths, is_blank, language_allowed, text_density
from curate.schemas import ImageData, PageRecord, QAItem, SampleRecord, TextBlock
from curate.schemas.reasons import RejectReason

SLIDES = [
    ("Quarterly Results", ["Revenue up 12%", "Margin 18.4%", "Headcount 412"]),
    ("Safety Record", ["3 incidents", "112 inspections", "New floodlights"]),
    ("Outlook 2026", ["Two new berths", "Budget 9.8M", "Crane order"]),
    ("Fleet Summary", ["Aurora 112 m", "Borealis 98 m", "Cygnus 131 m"]),
]


def slide(title, bullets, footer="Harbour Authority | Internal", dpi=96) -> bytes:
    """One slide of a shared template: the same title bar and layout, different text."""
    doc = pymupdf.open()
    page = doc.new_page(width=960, height=540)
    page.draw_rect(pymupdf.Rect(0, 0, 960, 90), color=(0.1, 0.2, 0.5), fill=(0.1, 0.2, 0.5))
    page.insert_text((40, 60), title, fontsize=30, color=(1, 1, 1))
    for i, bullet in enumerate(bullets):
        page.insert_text((60, 150 + i * 50), "- " + bullet, fontsize=22)
    page.insert_text((40, 520), footer, fontsize=12)
    return page.get_pixmap(dpi=dpi).tobytes("png")


def _reencode(data: bytes, fmt="PNG", crop=0.0, quality=50) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    if crop:
        image = image.crop((int(w * crop), int(h * crop), int(w * (1 - crop)), int(h * (1 - crop))))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _find(hashes: dict[str, tuple[str, str]], options: DedupOptions) -> set[frozenset]:
    """Pairs in one cluster, found through band buckets only (no all-pairs comparison)."""
    buckets: dict[str, list] = {}
    for item, (value, text) in hashes.items():
        for key in band_keys(value, options.threshold):
            buckets.setdefault(key, []).append((item, value, text))
    pairs = [
        p
        for members in buckets.values()
        for p in candidate_pairs(members, options.threshold, options.threshold_without_text)
    ]
    found = set()
    for members in clusters(pairs).values():
        found.update(frozenset(p) for p in itertools.combinations(members, 2))
    return found


def test_near_duplicates_are_found_and_template_slides_are_not_merged():
    hashes, truth = {}, set()
    for title, bullets in SLIDES:
        text = " ".join([title, *bullets, "harbour authority internal"]).lower()
        base = slide(title, bullets)
        hashes[title] = (perceptual_hash(base), text)
        variants = {  # (image, its text layer: none for a recompressed picture)
            "dpi": (slide(title, bullets, dpi=144), text),
            "jpeg": (_reencode(base, "JPEG"), ""),
            "footer": (
                slide(title, bullets, footer="Harbour Authority | Printed 2025-02-01"),
                text.replace("internal", "printed 2025-02-01"),
            ),
            "crop": (_reencode(base, crop=0.01), text),  # a PDF page with a trimmed crop box
        }
        for name, (data, layer) in variants.items():
            hashes[f"{title}/{name}"] = (perceptual_hash(data), layer)
        group = [title, *(f"{title}/{n}" for n in variants)]
        truth.update(frozenset(p) for p in itertools.combinations(group, 2))
    found = _find(hashes, DedupOptions())
    true_positive = len(found & truth)
    recall, precision = true_positive / len(truth), true_positive / max(1, len(found))
    assert recall >= 0.85, recall
    assert precision == 1.0, found - truth
    templates = [t for t, _ in SLIDES]
    assert not any(frozenset(p) in found for p in itertools.combinations(templates, 2))


def test_banding_never_misses_a_pair_within_the_threshold():
    rng = random.Random(0)
    threshold = 24
    for _ in range(300):
        value = rng.getrandbits(256)
        flipped = value
        for bit in rng.sample(range(256), rng.randint(0, threshold)):
            flipped ^= 1 << bit
        a, b = f"{value:064x}", f"{flipped:064x}"
        assert hamming(a, b) <= threshold
        assert set(band_keys(a, threshold)) & set(band_keys(b, threshold))


def test_clusters_keep_the_largest_image_deterministically():
    groups = clusters([("b", "c"), ("a", "b"), ("x", "y")])
    assert groups == {"a": ["a", "b", "c"], "x": ["x", "y"]}
    kept = representatives(
        groups, {"a": (-100,), "b": (-400,), "c": (-400,), "x": (-1,), "y": (-1,)}
    )
    assert kept == {"a": "b", "c": "b", "y": "x"}  # b and c tie on size: the smaller id wins
    identical = [(f"p{i}", "f" * 64, "same text") for i in range(1000)]
    assert len(list(candidate_pairs(identical, 24))) == 999  # chained, not 499,500 comparisons


def test_sparse_pages_of_one_layout_are_not_merged(tmp_path):
    """Two different pages, same four lines in the same places: 22 bits apart, not duplicates."""
    from documents import REPORT_PAGES, SCAN_PAGES, rasterize_pages

    review, scan = rasterize_pages([REPORT_PAGES[1]])[0], rasterize_pages([SCAN_PAGES[2]])[0]
    options = DedupOptions()
    members = [
        ("review", perceptual_hash(review), " ".join(REPORT_PAGES[1]).lower()),
        ("scan", perceptual_hash(scan), ""),
    ]  # the scan has no text before OCR
    assert hamming(members[0][1], members[1][1]) <= options.threshold  # the hash alone would merge
    assert list(candidate_pairs(members, options.threshold, options.threshold_without_text)) == []
    text = [
        (m[0], m[1], " ".join(SCAN_PAGES[2]).lower() if m[0] == "scan" else m[2]) for m in members
    ]
    assert list(candidate_pairs(text, options.threshold, options.threshold_without_text)) == []


def _page(image: bytes, text: str = "") -> PageRecord:
    with Image.open(io.BytesIO(image)) as opened:
        width, height = opened.size
    blocks = [TextBlock(text, (0, 0, 10, 10))] if text else []
    return PageRecord(
        "p-0",
        "p",
        "/p",
        "0",
        "pdf",
        0,
        1,
        96,
        width,
        height,
        ImageData(image, "p-0.png"),
        text_blocks=blocks,
    )


def test_blank_pages_and_text_density():
    white = _png((600, 800))
    options = QualityOptions()
    assert is_blank(_page(white), options)
    assert not is_blank(_page(slide(*SLIDES[0])), options)
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
