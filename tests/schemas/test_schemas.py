import dataclasses
import io
import pickle

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from curate.schemas import (
    PAGE_SCHEMA,
    SAMPLE_SCHEMA,
    SCHEMA_VERSION,
    ContextItem,
    ImageData,
    PageRecord,
    QAItem,
    SampleRecord,
    Scores,
    TextBlock,
    Turn,
    page_from_row,
    page_to_row,
    sample_from_row,
    sample_to_row,
    schema_for_kind,
)


def _png(color: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _page() -> PageRecord:
    return PageRecord(
        page_id="d-00000",
        doc_id="d",
        source_uri="/x.pdf",
        source_sha256="ab" * 32,
        source_type="pdf",
        page_index=0,
        page_count=2,
        render_dpi=144.0,
        width=40,
        height=30,
        image=ImageData(_png("red"), "d-00000.png"),
        text_blocks=[TextBlock("Total: 5", (1.0, 2.0, 30.0, 9.0))],
        text_source="native",
        context=[ContextItem("notes", "speaker notes")],
    )


def _sample() -> SampleRecord:
    return SampleRecord(
        sample_id="s1",
        doc_id="d",
        source_uri="/x.pdf",
        source_sha256="ab" * 32,
        source_type="pdf",
        page_ids=["d-00000", "d-00001"],
        page_indices=[0, 1],
        images=[ImageData(_png("red"), "a.png"), ImageData(_png("blue", (20, 50)), "b.png")],
        image_sizes=[(40, 30), (20, 50)],
        image_blocks=[[TextBlock("Total: 5", (1.0, 2.0, 30.0, 9.0))], []],
        qa=[
            QAItem(
                "extractive",
                "What is the total?",
                "5",
                0,
                "Total: 5",
                "template",
                "v1",
                Scores(ifd=0.5),
            )
        ],
        conversations=[
            Turn("user", "<image>\n<image>\nWhat is the total?"),
            Turn("assistant", "5"),
        ],
        scores=Scores(ifd=0.5, mifd=0.25),
    )


def test_page_round_trip_through_arrow():
    page = _page()
    table = pa.Table.from_pylist([page_to_row(page)], schema=PAGE_SCHEMA)
    back = page_from_row(table.to_pylist()[0])
    assert back == page
    assert table.column("text").to_pylist() == ["Total: 5"]


def test_sample_round_trip_through_arrow():
    sample = _sample()
    table = pa.Table.from_pylist([sample_to_row(sample)], schema=SAMPLE_SCHEMA)
    row = table.to_pylist()[0]
    assert row["image_texts"] == ["Total: 5", ""]
    assert row["num_images"] == 2
    assert sample_from_row(row) == sample


def test_schema_version_and_features_let_datasets_decode_images(tmp_path):
    table = pa.Table.from_pylist([sample_to_row(_sample())], schema=SAMPLE_SCHEMA)
    pq.write_table(table, tmp_path / "s.parquet")
    assert (
        pq.read_schema(tmp_path / "s.parquet").metadata[b"curate.schema_version"]
        == SCHEMA_VERSION.encode()
    )
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "s.parquet"), split="train")
    images = ds[0]["images"]
    assert [im.size for im in images] == [(40, 30), (20, 50)]
    assert ds[0]["scores"]["mifd"] == 0.25 and ds[0]["scores"]["vfd"] is None
    assert ds[0]["qa"][0]["scores"]["ifd"] == 0.5


def _example(annotation, seed: int):
    """A value of `annotation` unlike its default, so a field the converters dropped shows."""
    import dataclasses
    import typing

    from curate.schemas.columns import _hints, _unwrap_optional

    annotation = _unwrap_optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if dataclasses.is_dataclass(annotation):
        hints = _hints(annotation)
        return annotation(
            **{
                f.name: _example(hints[f.name], seed + i)
                for i, f in enumerate(dataclasses.fields(annotation))
            }
        )
    if origin is list:
        return [_example(args[0], seed + 1), _example(args[0], seed + 2)]
    if origin is tuple:
        return tuple(float(seed + i) if args[0] is float else seed + i for i in range(len(args)))
    return {
        str: f"v{seed}",
        int: seed + 7,
        float: seed + 0.5,
        bool: True,
        bytes: bytes([seed % 256]) * 3,
    }[annotation]


@pytest.mark.parametrize("kind", ["pages", "samples", "failures"])
def test_every_record_field_is_a_column_and_survives_parquet(kind, tmp_path):
    """Adding a field to a record adds its column and its conversion: a record with every field
    set (nested ones too) comes back equal from a Parquet file."""
    from curate.schemas.arrow import RECORDS
    from curate.schemas.columns import from_row, to_row

    cls, schema = RECORDS[kind], schema_for_kind(kind)
    assert {f.name for f in dataclasses.fields(cls)} <= set(schema.names)
    record = _example(cls, 1)
    pq.write_table(pa.Table.from_pylist([to_row(record)], schema=schema), tmp_path / "r.parquet")
    (row,) = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert from_row(cls, row) == record


def test_an_image_by_reference_pickles_as_its_uri_and_reads_back_on_use(tmp_path):
    """Beam pages cross shuffles without their pixels (issue 22): the bytes are written once,
    named by their digest, and read again only where they are used."""
    sample = _sample()
    inline = len(pickle.dumps(sample))
    for image in sample.images:
        image.by_reference(str(tmp_path / "images"))
    by_reference = pickle.dumps(sample)
    assert len(by_reference) < inline - sum(len(i.bytes) for i in sample.images) + 400
    assert len(list((tmp_path / "images").iterdir())) == 2  # one file per content

    back = pickle.loads(by_reference)
    assert all("bytes" not in image.__dict__ for image in back.images)  # nothing read yet
    assert [i.nbytes for i in back.images] == [len(i.bytes) for i in sample.images]
    assert back == sample  # reads the bytes back
    assert sample_to_row(back) == sample_to_row(sample)


def test_the_shard_writer_reads_images_by_reference_and_lets_them_go(tmp_path):
    from curate.core.config import WriterOptions
    from curate.outputs.writers.parquet import write_shard

    pages = []
    for index in range(5):
        page = dataclasses.replace(_page(), page_id=f"d-{index:05d}")
        page.image = ImageData(_png(("red", "blue", "green", "white", "black")[index]), "p.png")
        page.image.by_reference(str(tmp_path / "images"))
        pages.append(pickle.loads(pickle.dumps(page)))  # as a worker receives it
    info = write_shard(
        reversed(pages), PAGE_SCHEMA, str(tmp_path / "p.parquet"), WriterOptions(row_group_size=2)
    )
    assert info.rows == 5
    assert all("bytes" not in page.image.__dict__ for page in pages)  # read, then let go
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.column("page_id").to_pylist() == [f"d-{i:05d}" for i in range(5)]
    assert [row["bytes"] for row in table.column("image").to_pylist()] == [
        page.image.bytes for page in pages
    ]
    assert pq.ParquetFile(tmp_path / "p.parquet").metadata.num_row_groups == 3
