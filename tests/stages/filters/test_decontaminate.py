"""Decontamination: a benchmark's pages and questions are found in curate's data however they
were altered, and nothing is found where there is no overlap.

The benchmark is built here, as issue 35 asks: every page of the shipped examples rendered
again at another DPI and then re-compressed, resized, cropped 2% a side or turned a quarter,
plus questions copied from curate's own output with light edits. The data is a real `curate
run` of the examples (the session's `curated_output`). The unrelated data is the third-party
corpus in ../shared/corpus.
"""

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pymupdf
import pytest
from documents import slide
from PIL import Image

from curate.core.config import DecontaminateOptions, benchmark_spec
from curate.core.stage import Drop, Keep, run_item
from curate.schemas import ImageData, QAItem, SampleRecord, TextBlock
from curate.schemas.reasons import SampleDropReason
from curate.stages.filters.benchmarks import BenchmarkItem, read_benchmark
from curate.stages.filters.contamination import (
    BenchmarkIndex,
    IndexBuilder,
    prepare_indexes,
    qa_grams,
    sample_matches,
)
from curate.stages.filters.decontaminate import Decontaminate

REPO = Path(__file__).resolve().parents[3]
OPTIONS = DecontaminateOptions()
ALTERATIONS = ("dpi", "jpeg", "resized", "cropped", "turned")


def _encode(image: Image.Image, fmt: str = "PNG", **settings) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, fmt, **settings)
    return buffer.getvalue()


def altered(page: pymupdf.Page) -> dict[str, bytes]:
    """One page as a benchmark would hold it: rendered at 110 DPI (curate's run used 72), then
    each alteration on top."""
    pixmap = page.get_pixmap(dpi=110)
    image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    w, h = image.size
    return {
        "dpi": _encode(image),
        "jpeg": _encode(image, "JPEG", quality=35),
        "resized": _encode(image.resize((w * 6 // 10, h * 6 // 10), Image.LANCZOS)),
        "cropped": _encode(image.crop((w // 50, h // 50, w - w // 50, h - h // 50))),
        "turned": _encode(image.rotate(90, expand=True), "JPEG", quality=80),
    }


def lightly_edited(question: str, answer: str) -> tuple[str, str]:
    """How a benchmark may hold a question copied from curate: other case and punctuation, a
    prefix, numbers grouped the other way."""
    question = "Q: " + question.lower().replace("?", " ?").replace(",", "")
    return question, answer.upper().replace("12,400", "12400") + "."


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory, samples_by_id) -> Path:
    """A LLaVA JSON benchmark: five altered copies of every page of the examples, and one
    record per extractive question of the curated data, lightly edited."""
    folder = tmp_path_factory.mktemp("bench")
    (folder / "images").mkdir()
    records = []
    for pdf in sorted((REPO / "examples").glob("*.pdf")):
        for number, page in enumerate(pymupdf.open(pdf)):
            for kind, data in altered(page).items():
                extension = "png" if data.startswith(b"\x89PNG") else "jpg"
                name = f"{pdf.stem}-{number}-{kind}.{extension}"
                (folder / "images" / name).write_bytes(data)
                records.append(
                    {
                        "id": name,
                        "image": name,
                        "conversations": [
                            {"from": "human", "value": "<image>\nWhat does the page show?"},
                            {"from": "gpt", "value": "A page of a document."},
                        ],
                    }
                )
    for sample in samples_by_id.values():
        for qa in sample.qa:
            if qa.kind == "extractive":
                question, answer = lightly_edited(qa.question, qa.answer)
                records.append(
                    {
                        "id": f"{sample.sample_id}/{qa.question}",
                        "conversations": [
                            {"from": "human", "value": question},
                            {"from": "gpt", "value": answer},
                        ],
                    }
                )
    (folder / "bench.json").write_text(json.dumps(records))
    return folder / "bench.json"


@pytest.fixture(scope="module")
def index(benchmark) -> BenchmarkIndex:
    builder = IndexBuilder(OPTIONS)
    for item in read_benchmark(str(benchmark)):
        builder.add(item)
    return BenchmarkIndex.from_builder("examples-bench", builder)


@pytest.mark.slow
def test_every_altered_copy_of_every_page_and_every_edited_question_is_caught(samples_by_id, index):
    checked = 0
    for sample in samples_by_id.values():
        if sample.source_uri.endswith(("blank.pdf", "zz-copy.pdf")):
            continue
        images = [image.bytes for image in sample.images]
        pairs = [(qa.question, qa.answer) for qa in sample.qa]
        matches = sample_matches({"examples-bench": index}, images, pairs, [], OPTIONS)
        stem = Path(sample.source_uri).stem
        for position, page in enumerate(sample.page_indices):
            found = {m.item_id for m in matches if m.image_index == position}
            expected = {f"{stem}-{page}-{kind}" for kind in ALTERATIONS}
            assert {name.rsplit(".", 1)[0] for name in found} >= expected, (stem, page, found)
            checked += 1
        extractive = [qa for qa in sample.qa if qa.kind == "extractive"]
        asked = {m.item_id for m in matches if m.kind == "qa_ngram"}
        for qa in extractive:
            assert f"{sample.sample_id}/{qa.question}" in asked, (qa.question, qa.answer)
    assert checked >= 10


@pytest.mark.slow
def test_nothing_in_an_unrelated_corpus_matches(shared_corpus, index):
    """The corpus's PDFs (two pages of each, with their text layer) share no page and no
    question with the examples: not one match, of any kind."""
    pages = 0
    for pdf in sorted((shared_corpus / "pdf").glob("*.pdf")):
        document = pymupdf.open(pdf)
        if document.needs_pass:
            continue
        for page in list(document)[:2]:
            data = page.get_pixmap(dpi=72).tobytes("png")
            text = page.get_text()
            assert sample_matches({"b": index}, [data], [], [text], OPTIONS) == [], pdf.name
            pages += 1
    assert pages >= 20


SLIDES = [
    ("Fleet Review", ["Tugs: 4 in service", "Pilot boats: 2", "Dredger back in May"]),
    ("Berth Plan", ["North berth: containers", "South berth: bulk cargo", "East quay closed"]),
    ("Budget 2025", ["Cranes: 9.8 million", "Dredging: 4.2 million", "Lighting: 0.3 million"]),
    ("Safety", ["Incidents: 3", "Inspections: 112", "Floodlights added: 14"]),
]


def test_slides_of_one_template_match_only_their_own_copies():
    """Slides that share a template and differ in their words are different pages: each
    matches its own re-compressed copy and no other slide."""
    builder = IndexBuilder(OPTIONS)
    for title, bullets in SLIDES:
        image = Image.open(io.BytesIO(slide(title, bullets)))
        builder.add(BenchmarkItem(title, [_encode(image, "JPEG", quality=40)]))
    index = BenchmarkIndex.from_builder("slides", builder)
    for title, bullets in SLIDES:
        found = [item for item, _, _ in index.match_image(slide(title, bullets), OPTIONS)]
        assert found == [title]


@pytest.mark.parametrize(
    "benchmark_qa, sample_qa, matched",
    [
        # the same question and answer, edited: case, punctuation, numbers' grouping
        (
            ("What was the total cargo volume in 2024?", "12,400 tonnes"),
            ("what was the total cargo volume in 2024", "12400 Tonnes."),
            True,
        ),
        # a generic question with another answer is not the benchmark's item
        (
            ("What is the date mentioned in this letter?", "March 5, 1965"),
            ("What is the date mentioned in this letter?", "June 1, 2001"),
            False,
        ),
        # ... nor an answer that shares its first word or the whole part of a number
        (
            ("What is the date mentioned in this letter?", "March 5, 1965"),
            ("What is the date mentioned in this letter?", "March 12, 2001"),
            False,
        ),
        (
            ("What is the operating margin in the report?", "12.9%"),
            ("What is the operating margin in the report?", "12.7%"),
            False,
        ),
        (
            ("What is the operating margin in the report?", "12.7%"),
            ("what is the operating margin in the report", "12.7 %"),
            True,
        ),
        # a short QA counts whole (six words or more) ...
        (("Who signed the lease?", "Mary Jones"), ("Who signed the lease? Mary Jones", ""), True),
        # ... and not when it is shorter than that
        (("Who signed?", "Mary Jones"), ("Who signed?", "Mary Jones"), False),
        # eight words in a row that reach into the answer, inside a longer sample turn
        (
            ("Which port handled the most ships last year?", "The port of Rotterdam"),
            ("In image 2, which port handled the most ships last year?", "Rotterdam port"),
            False,
        ),
        (
            ("Which port handled the most ships last year?", "The port of Rotterdam"),
            ("Image 2: which port handled the most ships last year", "the port of Rotterdam"),
            True,
        ),
    ],
)
def test_qa_matches_need_the_answer_too(benchmark_qa, sample_qa, matched):
    builder = IndexBuilder(OPTIONS)
    builder.add(BenchmarkItem("q1", [], [benchmark_qa]))
    index = BenchmarkIndex.from_builder("b", builder)
    found = index.match_text([sample_qa], [], OPTIONS)
    assert bool([m for m in found if m[1] == "qa_ngram"]) is matched, found


def test_page_text_matches_a_long_benchmark_answer_by_13_words():
    answer = (
        "The dredging programme finished in March and cost 4.2 million dollars overall, "
        "paid from reserves."
    )
    assert qa_grams("What did the dredging cost?", answer, 8)
    builder = IndexBuilder(OPTIONS)
    builder.add(BenchmarkItem("long", [], [("What did the dredging cost?", answer)]))
    index = BenchmarkIndex.from_builder("b", builder)
    page = "Berth Occupancy\nThe dredging programme finished in March and cost 4.2 million\n"
    page += "dollars overall, paid from reserves. Next year: none."
    assert [kind for _, kind, _ in index.match_text([], [page], OPTIONS)] == ["text_ngram"]
    twelve = "finished in March and cost 4.2 million dollars overall, paid from"
    assert index.match_text([], [twelve], OPTIONS) == []


# ------------------------------------------------------------------------ benchmark formats


def _png(text: str) -> bytes:
    document = pymupdf.open()
    page = document.new_page(width=300, height=200)
    page.insert_text((20, 100), text, fontsize=20)
    return page.get_pixmap(dpi=72).tobytes("png")


def test_benchmarks_are_read_from_parquet_save_to_disk_and_image_folders(tmp_path):
    """DocVQA-like rows (an image struct, a question, a list of answers), a datasets folder
    saved with save_to_disk, and a plain folder of images."""
    import datasets

    rows = {
        "questionId": [7, 8],
        "question": ["What is the fiscal year?", "How many ships?"],
        "answers": [["2024", "FY 2024"], ["1,284"]],
        "image": [{"bytes": _png("one"), "path": "a.png"}, {"bytes": _png("two"), "path": None}],
    }
    pq.write_table(pa.table(rows), tmp_path / "val.parquet")
    items = list(read_benchmark(str(tmp_path / "val.parquet")))
    assert [i.item_id for i in items] == ["7", "8"]
    assert items[0].pairs == [
        ("What is the fiscal year?", "2024"),
        ("What is the fiscal year?", "FY 2024"),
    ]
    assert [len(i.images) for i in items] == [1, 1]

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "image": datasets.Image(),
            "texts": [{"user": datasets.Value("string"), "assistant": datasets.Value("string")}],
        }
    )
    saved = datasets.Dataset.from_dict(
        {
            "id": ["c1"],
            "image": [{"bytes": _png("three"), "path": None}],
            "texts": [[{"user": "What is shown?", "assistant": "The word three."}]],
        },
        features=features,
    )
    saved.save_to_disk(str(tmp_path / "cauldron"))
    (item,) = read_benchmark(str(tmp_path / "cauldron"))
    assert item.item_id == "c1" and item.pairs == [("What is shown?", "The word three.")]
    assert item.images[0][:4] == b"\x89PNG"

    (tmp_path / "pics" / "sub").mkdir(parents=True)
    (tmp_path / "pics" / "sub" / "p.png").write_bytes(_png("four"))
    (tmp_path / "pics" / "notes.txt").write_text("not an image")
    (picture,) = read_benchmark(str(tmp_path / "pics"))
    assert picture.item_id == "sub/p.png" and picture.pairs == []


def test_names_and_paths_of_benchmarks():
    assert benchmark_spec("docvqa=/data/docvqa/val.json") == ("docvqa", "/data/docvqa/val.json")
    assert benchmark_spec("/data/chartqa.parquet") == ("chartqa", "/data/chartqa.parquet")
    assert benchmark_spec("gs://bucket/infovqa/") == ("infovqa", "gs://bucket/infovqa/")
    with pytest.raises(ValueError, match="given twice"):
        DecontaminateOptions(against=["a/val.json", "b/val.json"])
    for bad in ("=bench/", "my bench=bench/", "docvqa="):
        with pytest.raises(ValueError, match="give NAME=PATH"):
            DecontaminateOptions(against=[bad])


def test_the_index_is_built_once_and_reused(tmp_path, benchmark):
    options = DecontaminateOptions(against=[f"ex={benchmark}"])
    (folder,) = prepare_indexes(options, str(tmp_path)).values()
    meta = Path(folder) / "meta.json"
    built = meta.stat().st_mtime_ns
    assert prepare_indexes(options, str(tmp_path)) == {"ex": folder}
    assert meta.stat().st_mtime_ns == built
    assert json.loads(meta.read_text())["items"] > 60


# ------------------------------------------------------------------------------ the stage


def _sample(images: list[bytes], qa: list[tuple[str, str]], text: str = "") -> SampleRecord:
    blocks = [[TextBlock(text, (0, 0, 10, 10))] if text else [] for _ in images]
    return SampleRecord(
        sample_id="s1",
        doc_id="d",
        source_uri="x.pdf",
        source_sha256="",
        source_type="pdf",
        page_ids=[f"p{i}" for i in range(len(images))],
        page_indices=list(range(len(images))),
        images=[ImageData(data, f"{i}.png") for i, data in enumerate(images)],
        image_sizes=[(300, 200)] * len(images),
        image_blocks=blocks,
        qa=[QAItem("extractive", q, a, 0) for q, a in qa],
    )


def test_the_stage_drops_or_marks_a_matched_sample_and_keeps_a_clean_one(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "page.png").write_bytes(_png("contaminated"))
    options = DecontaminateOptions(against=[f"pics={folder}"])
    indexes = prepare_indexes(options, str(tmp_path / "out"))
    stage = Decontaminate(options, indexes)
    stage.setup()
    (outcome,) = run_item(stage, _sample([_png("clean page"), _png("contaminated")], []))
    assert isinstance(outcome, Drop) and outcome.reason == SampleDropReason.BENCHMARK_OVERLAP
    (match,) = outcome.item.benchmark_matches
    assert (match.benchmark, match.item_id, match.kind, match.image_index) == (
        "pics",
        "page.png",
        "image_exact",
        1,
    )
    assert outcome.detail == "pics item page.png: image_exact (image 2)"
    (kept,) = run_item(stage, _sample([_png("clean page")], [("What is here?", "Nothing")]))
    assert isinstance(kept, Keep) and kept.item.benchmark_matches == []

    marking = Decontaminate(options.model_copy(update={"mark_only": True}), indexes)
    marking.setup()
    (marked,) = run_item(marking, _sample([_png("contaminated")], []))
    assert isinstance(marked, Keep) and marked.item.benchmark_matches[0].kind == "image_exact"


def test_an_exact_copy_does_not_hide_near_copies_in_other_items():
    """A benchmark may hold a page twice: as it is, and re-compressed in another item. Both
    are found; the exact one as image_exact."""
    page = slide("Fleet Review", ["Tugs: 4 in service", "Pilot boats: 2"])
    builder = IndexBuilder(OPTIONS)
    builder.add(BenchmarkItem("as-is", [page]))
    builder.add(BenchmarkItem("jpeg", [_encode(Image.open(io.BytesIO(page)), "JPEG", quality=40)]))
    builder.add(BenchmarkItem("other", [slide("Safety", ["Incidents: 3", "Inspections: 112"])]))
    index = BenchmarkIndex.from_builder("b", builder)
    found = [(item, kind) for item, kind, _ in index.match_image(page, OPTIONS)]
    assert found == [("as-is", "image_exact"), ("jpeg", "image_near")]
