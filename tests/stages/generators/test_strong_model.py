"""The strong-model simulation (benchmarks/strong_model.py) on its tuning scenarios: replies
written by hand as GPT-4o would write them for real corpus pages, with wrong ones planted. The
checks must keep the good items and reject the planted ones of the classes they claim to catch.
(Its measuring scenarios are for the benchmark's figures only.)"""

from __future__ import annotations

import sys

from conftest import SHARED_CORPUS
from documents import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import pytest  # noqa: E402
import strong_model  # noqa: E402

pytestmark = pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="needs ../shared/corpus")


@pytest.fixture(scope="module")
def judged():
    results = strong_model.simulate(strong_model.scenarios("tune"))
    return [(task, item, kept) for _, task, item, kept in results]


def _share(judged, task, good):
    chosen = [kept for t, item, kept in judged if t == task and bool(item.get("good")) == good]
    assert chosen, (task, good)
    return sum(chosen) / len(chosen)


def test_a_strong_models_good_items_reach_the_data(judged):
    assert _share(judged, "extractive", good=True) >= 0.9
    assert _share(judged, "self_explain", good=True) >= 0.9
    assert _share(judged, "cross_image", good=True) >= 0.8


def test_its_planted_near_misses_are_rejected(judged):
    """Every planted extractive error (an answer one character off, an answer to another
    question, an invented or cut one, a running header), and the follow-ups that only locate,
    copy the page or get the arithmetic wrong, and cross-image items one image answers."""
    caught = {
        "extractive": {"near_miss", "wrong_question", "invented", "header_footer", "cut"},
        "self_explain": {"location_only", "repeats_line", "wrong_arithmetic"},
        "cross_image": {"single_image", "invented_fact"},
    }
    through = [
        (task, item.get("class"), item.get("question"))
        for task, item, kept in judged
        if kept and not item.get("good") and item.get("class") in caught.get(task, ())
    ]
    assert sorted(through) == sorted(NEED_A_SECOND_READING + NOT_CAUGHT)


# Planted in the Japanese deck, let through by the rules alone, and rejected with --llm-verify:
# a risk's name cut before its head noun (in Japanese any character may end a word, so no rule
# sees where the name stops), and a cross-image answer whose every word is on the pages though
# its link between them is invented.
NEED_A_SECOND_READING = [
    ("extractive", "cut", "A9:2017 のリスク名は何ですか？"),
    (
        "cross_image",
        "invented_fact",
        "2ページ目の A1 インジェクションは、1ページ目の格付表で悪用のしやすさがどのレベルと"
        "評価されていますか？",
    ),
]
# Not caught at all: the padding citation of slide 1 shares the word "risk" (リスク) with a
# question slide 2 answers alone, and a second reading finds nothing false in it.
NOT_CAUGHT = [("cross_image", "single_image", "A2:2017 のリスク名は何ですか？")]


def test_with_a_second_reading_no_planted_item_gets_through_but_one():
    """With --llm-verify, what no rule can see (reasoning that is wrong though every word is
    on the page, a wrong conclusion from real facts, a caption with two values swapped) is
    rejected by the reading a strong model gives (its verdicts written by hand), and the good
    items still reach the data."""
    results = strong_model.simulate(strong_model.scenarios("tune"), verify=True)
    judged = [(task, item, kept) for _, task, item, kept in results]
    through = [
        (t, item.get("class"), item.get("question"))
        for t, item, kept in judged
        if kept and not item.get("good")
    ]
    assert sorted(through) == sorted(NOT_CAUGHT)
    for task in ("extractive", "self_explain", "cross_image"):
        assert _share(judged, task, good=True) >= 0.9
