"""Turn QA items into the chat `conversations` column that trainers read."""

from __future__ import annotations

from collections.abc import Sequence

from curate.schemas import IMAGE_PLACEHOLDER, QAItem, Turn

# The follow-up question of every self-explain turn, varied deterministically per sample.
EXPLAIN_QUESTIONS = (
    "How do you know? Point to where the answer appears.",
    "Explain where that answer comes from.",
    "Which part of the images supports that answer?",
)


def build_conversation(qa: Sequence[QAItem], num_images: int) -> list[Turn]:
    """User/assistant turns, one `<image>` placeholder per image at the start of the first turn."""
    turns: list[Turn] = []
    for i, item in enumerate(qa):
        question = item.question
        if i == 0:
            question = "\n".join([IMAGE_PLACEHOLDER] * num_images + [question])
        turns.append(Turn(role="user", content=question))
        turns.append(Turn(role="assistant", content=item.answer))
    return turns
