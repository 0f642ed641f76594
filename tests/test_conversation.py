"""Interleaved image placeholders: one per image, in image order, where each is first needed."""

from curate.conversation import build_conversation, place_images, split_placeholders
from curate.schemas import QAItem


def test_a_named_image_gets_its_placeholder_just_before_the_mention():
    out = place_images([("Compare image 1 with image 2.", -1)], 2)
    assert out == ["Compare <image> image 1 with <image> image 2."]


def test_images_arrive_with_the_turn_that_first_needs_them():
    questions = [
        ("What is the title?", 0),  # grounded in image 1, not named
        ("How do you know?", 0),
        ("What does the table say?", 1),
        ("Which page mentions pumps?", -1),  # about all images
    ]
    out = place_images(questions, 3)
    assert out == [
        "<image>\nWhat is the title?",
        "How do you know?",
        "<image>\nWhat does the table say?",
        "<image>\nWhich page mentions pumps?",
    ]


def test_order_never_changes_and_skipped_images_travel_with_the_next_one():
    out = place_images([("According to image 3, what?", 2), ("And image 1?", 0)], 3)
    # images 1 and 2 come with image 3; the later mention of image 1 adds nothing
    assert out == ["According to <image> <image> <image> image 3, what?", "And image 1?"]


def test_images_nobody_asks_about_follow_the_last_placed_one():
    out = place_images([("On image 1, what?", 0)], 3)
    assert out == ["On <image> <image> <image> image 1, what?"]
    assert place_images([("What is this?", -1)], 2) == ["<image>\n<image>\nWhat is this?"]


def test_conversation_has_exactly_one_placeholder_per_image():
    qa = [QAItem("extractive", f"What is on image {n}?", "x", n - 1) for n in (2, 4)]
    turns = build_conversation(qa, 4)
    assert [t.role for t in turns] == ["user", "assistant"] * 2
    assert sum(t.content.count("<image>") for t in turns) == 4


def test_split_placeholders_keeps_the_text_exactly():
    text = "<image>\nOn <image> image 2, what?"
    parts = split_placeholders(text)
    assert parts == [None, "\nOn ", None, " image 2, what?"]
    assert "".join("<image>" if p is None else p for p in parts) == text
