import io

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
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
)


def _png(color: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _page() -> PageRecord:
    return PageRecord(
        page_id="d-00000", doc_id="d", source_uri="/x.pdf", source_sha256="ab" * 32,
        source_type="pdf", page_index=0, page_count=2, render_dpi=144.0, width=40, height=30,
        image=ImageData(_png("red"), "d-00000.png"), text_blocks=[TextBlock("Total: 5", (1.0, 2.0, 30.0, 9.0))],
        text_source="native", context=[ContextItem("notes", "speaker notes")],
    )


def _sample() -> SampleRecord:
    return SampleRecord(
        sample_id="s1", doc_id="d", source_uri="/x.pdf", source_sha256="ab" * 32,
        source_type="pdf", page_ids=["d-00000", "d-00001"], page_indices=[0, 1],
        images=[ImageData(_png("red"), "a.png"), ImageData(_png("blue", (20, 50)), "b.png")],
        image_sizes=[(40, 30), (20, 50)],
        image_blocks=[[TextBlock("Total: 5", (1.0, 2.0, 30.0, 9.0))], []],
        qa=[QAItem("extractive", "What is the total?", "5", 0, "Total: 5", "template", "v1",
                   Scores(ifd=0.5))],
        conversations=[Turn("user", "<image>\n<image>\nWhat is the total?"), Turn("assistant", "5")],
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
    assert pq.read_schema(tmp_path / "s.parquet").metadata[b"curate.schema_version"] == SCHEMA_VERSION.encode()
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "s.parquet"), split="train")
    images = ds[0]["images"]
    assert [im.size for im in images] == [(40, 30), (20, 50)]
    assert ds[0]["scores"]["mifd"] == 0.25 and ds[0]["scores"]["vfd"] is None
    assert ds[0]["qa"][0]["scores"]["ifd"] == 0.5
