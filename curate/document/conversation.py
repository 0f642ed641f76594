"""Turn QA items into the chat `conversations` column that trainers read.

Image placeholders are interleaved: each `<image>` stands where its image is first needed, so a
question that walks through several images in sequence keeps them in that order (Cheetah/DEMON
style) instead of front-loading every image. Placeholders always come in image order, so the
k-th `<image>` is the k-th image of the sample, which is what LLaVA-style loaders assume.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from curate.schemas import IMAGE_PLACEHOLDER, QAItem, Turn

# How generated questions name an image ("image 2", "Image 3"); numbers are 1-based.
IMAGE_MENTION = re.compile(r"\bimage\s+(\d+)\b", re.IGNORECASE)
# How a question written about one page refers to it ("this page", "the slide")
_THIS_PAGE = re.compile(
    r"\b(?:this|the)\s+(?:document\s+)?(?:page|slide|image|screenshot)\b"
    r"(?!\s+(?:numbers?|counts?|headers?|footers?|titles?|layouts?)\b)",
    re.IGNORECASE,
)
_ASKS = re.compile(
    r"(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|does|do|did|can|could|"
    r"should|would|will|has|have|had)\b",
    re.IGNORECASE,
)


def name_image(question: str, image_index: int, num_images: int) -> str:
    """A question about one image of a multi-image sample, made to say which image it asks
    about. A question written for one page ("What is the title of this page?") is ambiguous
    once the sample shows four pages: "this page" becomes "image 2", or the question opens
    with "In image 2, ...". One-image samples, questions about all images and questions that
    already name an image are left as they are."""
    if num_images < 2 or image_index < 0 or IMAGE_MENTION.search(question):
        return question
    name = f"image {image_index + 1}"
    named, found = _THIS_PAGE.subn(name, question, count=1)
    if found:
        return named
    if _ASKS.match(question):
        return f"In {name}, {question[0].lower()}{question[1:]}"
    return f"In {name}: {question}"


def place_images(questions: Sequence[tuple[str, int]], num_images: int) -> list[str]:
    """Each (question, image_index) with `<image>` placeholders put where images are first needed.

    - An image named in the text ("image 2") gets its placeholder just before that mention.
    - A question grounded in one image (`image_index`) without naming it, or a question about
      all images (`image_index` -1, none named), gets the placeholders at its start.
    - Images before the one being placed are placed with it, so the order never changes. Images
      nobody asks about follow the last placed one: in its block of images, or, when that one
      stands before its mention ("<image> image 1"), at the end of that question, so the
      placeholder next to "image 1" is always image 1.
    """
    placed = 0
    out: list[str] = []
    for question, image_index in questions:
        mentions = [
            (m.start(), int(m.group(1)))
            for m in IMAGE_MENTION.finditer(question)
            if 1 <= int(m.group(1)) <= num_images
        ]
        named = {n for _, n in mentions}
        up_front = 0
        if image_index >= 0 and image_index + 1 not in named:
            up_front = image_index + 1
        elif image_index < 0 and not named:
            up_front = num_images
        text = ""
        if up_front > placed:
            text, placed = f"{IMAGE_PLACEHOLDER}\n" * (up_front - placed), up_front
        cursor = 0
        for start, n in mentions:
            if n > placed:
                text += question[cursor:start] + f"{IMAGE_PLACEHOLDER} " * (n - placed)
                cursor, placed = start, n
        out.append(text + question[cursor:])
    if 0 < placed < num_images:  # images nobody asked about: after the last placed one
        rest = f"\n{IMAGE_PLACEHOLDER}" * (num_images - placed)
        for i in range(len(out) - 1, -1, -1):
            at = out[i].rfind(IMAGE_PLACEHOLDER)
            if at >= 0:
                end = at + len(IMAGE_PLACEHOLDER)
                if out[i][end : end + 1] == "\n":  # a block of images opening the question
                    out[i] = out[i][:end] + rest + out[i][end:]
                else:  # just before "image k": keep that mention next to its own image
                    out[i] += rest
                break
    return out


def build_conversation(qa: Sequence[QAItem], num_images: int) -> list[Turn]:
    """User/assistant turns with exactly one `<image>` per image, in image order, interleaved."""
    questions = place_images([(item.question, item.image_index) for item in qa], num_images)
    turns: list[Turn] = []
    for question, item in zip(questions, qa, strict=True):
        turns.append(Turn(role="user", content=question))
        turns.append(Turn(role="assistant", content=item.answer))
    return turns


def split_placeholders(text: str) -> list[str | None]:
    """Text pieces with None where an `<image>` stands; empty pieces are left out."""
    parts: list[str | None] = []
    for i, piece in enumerate(text.split(IMAGE_PLACEHOLDER)):
        if i:
            parts.append(None)
        if piece:
            parts.append(piece)
    return parts
