"""Near misses (`generator.unanswerable`): a question an image cannot answer, about a value
another image of the sample gives, answered by saying so."""

from __future__ import annotations

from dataclasses import replace

from documents import write_text_pdf

from curate.core.config import GeneratorOptions, RenderOptions, SampleOptions
from curate.core.text import normalize
from curate.schemas import PageRecord
from curate.stages.generators import generate_qa
from curate.stages.samples import assemble_sample
from curate.stages.sources import render_document

PAGES = [
    ["Harbour Authority Annual Review", "Fiscal year: 2024", "Ships handled: 1,284"],
    ["Safety Record", "Lost-time incidents: 3", "Inspections: 112"],
]


def _sample(tmp_path, pages=PAGES):
    path = write_text_pdf(tmp_path / "review.pdf", pages)
    rendered = [p for p in render_document(str(path), RenderOptions(dpi=72))]
    options = SampleOptions(min_images=1, max_images=4)
    return assemble_sample([p for p in rendered if isinstance(p, PageRecord)], options)


def test_each_image_is_asked_a_label_only_the_other_image_gives_and_answered_not_given(tmp_path):
    sample = _sample(tmp_path)
    texts = [normalize(t) for t in sample.image_texts]
    out = generate_qa(sample, GeneratorOptions(unanswerable=1.0))
    misses = [q for q in out.qa if q.kind == "unanswerable"]
    assert len(misses) == 2  # one per image, each borrowed from the other
    for item in misses:
        asked = int(item.question.split("image ")[1][0])
        label = item.question.split('"')[1]
        other = 3 - asked
        assert label.lower() not in texts[asked - 1]  # the image asked does not print it
        assert label.lower() in texts[other - 1]  # the other one does, with the value quoted
        value = item.answer.rsplit(" as ", 1)[1].rstrip(".")
        assert f"{label}: {value}".lower() == next(
            line.lower()
            for line in sample.image_texts[other - 1].splitlines()
            if line.startswith(label)
        )
        assert item.answer.startswith(f'Image {asked} does not give the "{label}"; image {other}')
        assert item.image_index == -1  # the answer needs both images
    # the near misses are the sample's conversation too, and the other QA is unchanged
    assert any("does not give" in turn.content for turn in out.conversations)
    plain = generate_qa(sample, GeneratorOptions())
    assert [q for q in out.qa if q.kind != "unanswerable"] == plain.qa
    assert not any(q.kind == "unanswerable" for q in plain.qa)


def test_no_near_miss_where_the_image_prints_the_label_or_the_sample_has_one_image(tmp_path):
    same_labels = [PAGES[0], ["Second Year", "Fiscal year: 2025", "Ships handled: 1,310"]]
    out = generate_qa(_sample(tmp_path, same_labels), GeneratorOptions(unanswerable=1.0))
    assert not [q for q in out.qa if q.kind == "unanswerable"]  # each image gives its own
    one = _sample(tmp_path, PAGES[:1])
    assert not [
        q
        for q in generate_qa(one, GeneratorOptions(unanswerable=1.0)).qa
        if q.kind == "unanswerable"
    ]


def test_the_share_of_images_asked_follows_the_option(tmp_path):
    sample = _sample(tmp_path)
    asked = 0
    for seed in range(40):
        out = generate_qa(
            replace(sample, sample_id=f"s{seed}"), GeneratorOptions(unanswerable=0.25, seed=seed)
        )
        asked += sum(q.kind == "unanswerable" for q in out.qa)
    assert 8 <= asked <= 32  # 80 images at a quarter: about 20


def _table_page(rows, n):
    from curate.schemas import BlockRole, TextBlock
    from curate.stages.generators.template.page import PageView

    blocks = [
        TextBlock(
            text,
            (50 + 200 * c, 100 + 30 * r, 200 + 200 * c, 120 + 30 * r),
            role=BlockRole.TABLE_CELL,
            cell=(0, r, c),
        )
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    return PageView(blocks, 800, n)


def test_a_table_is_asked_for_a_row_it_lacks_under_a_column_it_has():
    """The nearest miss: the same column, a row only the other image's table has."""
    import random

    from curate.stages.generators.template.tables import find_table_questions
    from curate.stages.generators.template.unanswerable import near_misses

    header = ["Port", "Ships", "Cargo"]
    first = _table_page([header, ["Hamburg", "812", "96"], ["Bremen", "403", "51"]], 1)
    second = _table_page([header, ["Rotterdam", "1,290", "140"], ["Ghent", "210", "30"]], 2)
    found = {p.n: find_table_questions(p) for p in (first, second)}
    for seed in range(5):
        (miss,) = near_misses([first, second], {1: [], 2: found[2]}, 1.0, random.Random(seed))
        row = miss.question.split('"')[3]
        column = miss.question.split('"')[1]
        assert row in {"Rotterdam", "Ghent"} and column in {"Ships", "Cargo"}
        value = {"Rotterdam": {"Ships": "1,290", "Cargo": "140"}}.get(row, {}).get(column)
        value = value or {"Ships": "210", "Cargo": "30"}[column]
        assert miss.answer == (
            f'The table on image 1 has no row "{row}", so it does not give its "{column}"; '
            f"the table on image 2 gives it as {value}."
        )
    # a table without the column is no near miss: the question would not fit it at all
    other = _table_page([["Port", "Berths"], ["Hamburg", "12"], ["Bremen", "7"]], 1)
    assert near_misses([other, second], {1: [], 2: found[2]}, 1.0, random.Random(0)) == []
