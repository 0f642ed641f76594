"""Slide decks through headless LibreOffice, with python-pptx context."""

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from documents import make_deck
from pptx import Presentation

from curate.core.config import RenderOptions
from curate.schemas import Failure, PageRecord
from curate.schemas.reasons import FailureReason
from curate.stages.sources import render_document

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice is not installed"
)


def _render(path, **options):
    items = list(render_document(str(path), RenderOptions(dpi=72, **options)))
    return [i for i in items if isinstance(i, PageRecord)], [
        i for i in items if isinstance(i, Failure)
    ]


def _deck_of_points(path, slides, levels):
    """A deck of (title, points) slides, each point at its level in the body placeholder."""
    deck = Presentation()
    for (title, points), depth in zip(slides, levels, strict=True):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        frame = slide.placeholders[1].text_frame
        frame.text = points[0]
        for point, level in zip(points[1:], depth[1:], strict=True):
            paragraph = frame.add_paragraph()
            paragraph.text, paragraph.level = point, level
    deck.save(path)
    return path


def test_one_page_per_slide_with_titles_notes_and_alt_text(tmp_path):
    pages, failures = _render(make_deck(tmp_path / "deck.pptx"))
    assert failures == [] and len(pages) == 3
    assert all(p.source_type == "slides" and p.source_uri.endswith("deck.pptx") for p in pages)
    assert "Fleet Review" in pages[0].text and "121 ships" in pages[1].text
    context = [{c.kind: c.text for c in p.context} for p in pages]
    assert context[0] == {"title": "Fleet Review"}
    assert context[1]["notes"] == "Mention the dredging delay in March."
    assert context[2]["alt_text"] == "Two cranes at the north quay"


def test_sub_points_under_a_point_are_counted_under_it(tmp_path):
    """Three or more sub-points, all one level under a point ("Automatically provided
    credentials" over five kinds, blind audit, seed 72: the slide was only read out by its
    title), are counted under that point; not where a deeper level stands among them, nor
    where the point already says how many follow."""
    from curate.core.config import GeneratorOptions, SampleOptions
    from curate.stages.generators import generate_qa
    from curate.stages.samples import assemble_sample

    slides = [
        ("Harbour works", ["Works for 2026", "Dredge the basin", "Extend the quay", "Add cranes"]),
        ("Fleet", ["Vessels in service", "Tugs", "Pilot boats", "Dredgers", "Budget approved"]),
        ("Cargo", ["Bulk cargo", "Coal", "Iron ore", "Grain", "Maize"]),
        ("Steps", ["Three steps to follow", "Book a berth", "Declare cargo", "Pay the dues"]),
    ]
    levels = [[0, 1, 1, 1], [0, 1, 1, 1, 0], [0, 1, 1, 2, 1], [0, 1, 1, 1]]
    deck = _deck_of_points(tmp_path / "harbour.pptx", slides, levels)
    pages, failures = _render(deck)
    assert failures == []
    assert [[c.text for c in p.context if c.kind == "sublist"] for p in pages] == [
        ["\n".join(slides[0][1])],
        ["\n".join(slides[1][1][:4])],
        [],  # "Grain" has a sub-point of its own
        ["\n".join(slides[3][1])],
    ]
    asked = []
    for page in pages:
        sample = generate_qa(
            assemble_sample([page], SampleOptions(min_images=1)), GeneratorOptions()
        )
        asked.append([(q.question, q.answer) for q in sample.qa if "points" in q.question])
    assert [len(a) for a in asked] == [1, 1, 0, 0]
    assert '"Works for 2026"' in asked[0][0][0] and asked[0][0][1] == "3"
    assert '"Vessels in service"' in asked[1][0][0] and asked[1][0][1] == "3"


def test_a_smartart_diagrams_points_are_read_as_sub_points(shared_corpus):
    """python-pptx reads a SmartArt diagram as a frame with no text; its points are in the
    diagram's data part. A node with three or more points, none with points of its own, is
    declared as a sub-list; a deck's text boxes are still read as before."""
    from curate.stages.sources.slides import read_deck

    context, _ = read_deck(shared_corpus / "slides" / "deck_owasp-top10-2017-japanese.pptx")
    sublists = {
        index: [item.text.split("\n") for item in items if item.kind == "sublist"]
        for index, items in context.items()
    }
    assert [(s[0], len(s) - 1) for s in sublists[19]] == [
        ("はじめに", 4),
        ("リスクベースポートフォリオアプローチ", 4),
        ("強力な基礎の作り上げ", 3),
    ]
    assert len(sublists[20]) == 6 and ("デプロイ、テスト及び公開", 6) in [
        (s[0], len(s) - 1) for s in sublists[20]
    ]
    assert sublists[19][2][1].startswith("全ての開発チームが遵守すべき")  # in the diagram's order
    assert sum(len(found) for found in sublists.values()) == 9  # no other slide has a diagram


def test_shared_corpus_decks_have_a_page_per_slide(shared_corpus):
    decks = sorted((shared_corpus / "slides").glob("*.pptx"))
    assert decks, "../shared/corpus/slides holds no deck"
    for deck in decks:
        slides = len(Presentation(str(deck)).slides)
        pages, failures = _render(deck)
        assert failures == [], deck
        assert [p.page_index for p in pages] == list(range(slides)), deck


def test_corrupt_decks_and_timeouts_go_to_the_dead_letter_output(tmp_path):
    (tmp_path / "broken.pptx").write_bytes(b"PK\x03\x04 not really a deck" * 50)
    pages, failures = _render(tmp_path / "broken.pptx")
    assert pages == [] and [f.reason for f in failures] == [FailureReason.CONVERSION_FAILED]
    assert "could not convert" in failures[0].detail
    pages, failures = _render(make_deck(tmp_path / "slow.pptx"), conversion_timeout_s=0.05)
    assert pages == [] and [f.reason for f in failures] == [FailureReason.CONVERSION_TIMEOUT]
    left = subprocess.run(["pgrep", "-f", "curate-slides-"], capture_output=True, text=True).stdout
    assert left.strip() == "", "the timed-out LibreOffice was not killed"


def test_parallel_conversions_do_not_collide(tmp_path):
    decks = [
        make_deck(tmp_path / f"deck{i}.pptx", (f"Deck {i} A", f"Deck {i} B")) for i in range(3)
    ]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(_render, decks))
    for i, (pages, failures) in enumerate(results):
        assert failures == [] and len(pages) == 2 and f"Deck {i} A" in pages[0].text


def test_a_slides_flat_list_is_counted_where_the_deck_and_the_image_agree(tmp_path):
    """A slide's bullets are counted only where the deck declares one level of points and the
    image shows a bullet for each: not a list with sub-points (which count?)."""
    from curate.core.config import GeneratorOptions, SampleOptions
    from curate.stages.generators import generate_qa
    from curate.stages.samples import assemble_sample

    points = ["Dredge the north basin", "Extend the quay wall", "Add two cranes", "Pave berth 4"]
    slides = [("Works for 2026", points), ("Works for 2027", points)]
    deck = _deck_of_points(tmp_path / "works.pptx", slides, [[0, 0, 0, 0], [0, 1, 1, 0]])
    pages, failures = _render(deck)
    assert failures == []
    assert [[c.text for c in p.context if c.kind == "list"] for p in pages] == [
        ["\n".join(points)],
        [],  # sub-points: not declared as a list to count
    ]
    sample = generate_qa(
        assemble_sample(pages[:1], SampleOptions(min_images=1)), GeneratorOptions()
    )
    counted = [(q.question, q.answer) for q in sample.qa if q.question.startswith(("How", "On"))]
    counted = [(question, answer) for question, answer in counted if "points" in question]
    assert len(counted) == 1 and "Works for 2026" in counted[0][0] and counted[0][1] == "4"
    (explained,) = [q.answer for q in sample.qa if q.kind == "self_explain" and "Pave" in q.answer]
    assert all(point in explained for point in points)
