"""Interleaved image placeholders: one per image, in image order, where each is first needed."""

from curate.document.conversation import (
    build_conversation,
    name_image,
    place_images,
    split_placeholders,
)
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
    # not between "On <image>" and "image 1": the placeholder before a mention is its image
    out = place_images([("On image 1, what?", 0)], 3)
    assert out == ["On <image> image 1, what?\n<image>\n<image>"]
    assert place_images([("What is this?", 0)], 2) == ["<image>\n<image>\nWhat is this?"]


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


def test_a_question_about_one_page_of_several_says_which_image_it_asks_about():
    """ "What is the title of this page?" beside four images has no single answer."""
    assert name_image("What is the title of this page?", 1, 4) == "What is the title of image 2?"
    assert name_image("What does the slide say about cost?", 0, 2) == (
        "What does image 1 say about cost?"
    )
    assert name_image("What is the fiscal year?", 2, 3) == "In image 3, what is the fiscal year?"
    assert name_image("Name the author.", 0, 2) == "In image 1: Name the author."
    # "the page number" is not a way to say "image 2"
    assert name_image("What is the page number?", 1, 2) == "In image 2, what is the page number?"
    # left alone: one image, a question about all images, an image already named
    assert name_image("What is the title of this page?", 0, 1) == "What is the title of this page?"
    assert name_image("Which page is longest?", -1, 3) == "Which page is longest?"
    assert name_image("What does image 3 show?", 0, 3) == "What does image 3 show?"
    question = name_image("What is the title of this page?", 1, 3)
    user, _ = build_conversation([QAItem("extractive", question, "Q3", 1)], 3)
    assert user.content == "What is the title of <image> <image> image 2?\n<image>"
