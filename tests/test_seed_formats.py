"""The seed projects' own formats: each validator enforces its loader's rules and rejects
deliberate violations with a clear message; Leopard's shards are read with the real `wids`."""

import ast
import io
import json
import pickle
import tarfile

import pytest
from PIL import Image

from curate.export import ExportOptions, export_dataset, get_exporter
from curate.export.leopard import literal_problems, load_images

pytestmark = pytest.mark.slow


@pytest.fixture
def export(curated_output, tmp_path):
    def make(fmt, **options):
        report = export_dataset(str(curated_output), str(tmp_path), fmt, ExportOptions(**options))
        assert report.errors == [], report.errors
        return tmp_path, report

    return make


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _rejects(fmt, out, message):
    errors = get_exporter(fmt).validate(str(out))
    assert any(message in e for e in errors), errors


def test_leopard_shards_load_with_wids_and_eval_like_leopards_dataset(export, samples_by_id):
    wids = pytest.importorskip("wids")
    out, report = export("leopard", tiles=True)
    index = json.loads((out / "shardlist.json").read_text())
    assert [s["nsamples"] for s in index["shardlist"]] == [report.result.samples]
    dataset = wids.ShardListDataset(str(out / "shardlist.json"))
    entries = json.loads((out / "data_json.json").read_text())
    assert len(dataset) == len(entries) == report.result.samples
    for i, entry in enumerate(entries):
        row = dataset[i]
        assert row["__key__"] == entry["id"]  # data_json.json follows the shards' global order
        images = pickle.loads(row[".input_image"].read())  # what Leopard's loader does
        conversations = eval(row[".conversations"].read().decode("utf-8"), {"__builtins__": {}})  # noqa: S307
        sample = samples_by_id[entry["id"]]
        assert images == [i.bytes for i in sample.images] and all(
            Image.open(io.BytesIO(b)).size[0] > 0 for b in images
        )
        assert [t["value"] for t in conversations] == [t.content for t in sample.conversations]
        assert sum(t["value"].count("<image>") for t in conversations) == len(images)
        assert entry["num_tiles"] == sum(r * c for r, c in entry["tile_grid"]) <= 50


def test_leopard_validator_rejects_json_literals_wrong_counts_order_and_budget(export, tmp_path):
    out, _ = export("leopard")
    shard = out / "shard-00000.tar"
    with tarfile.open(shard) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    key = next(  # a sample with several images (samples come out in any order)
        m.name.split(".")[0]
        for m, data in members
        if m.name.endswith(".input_image") and len(load_images(data)) > 1
    )

    def rewrite(change):
        with tarfile.open(shard, "w") as tar:
            for member, data in members:
                data = change(member.name, data)
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))

    rewrite(
        lambda name, data: (
            data.replace(b"'human'", b"true", 1) if name == f"{key}.conversations" else data
        )
    )
    _rejects("leopard", out, "cannot be eval'd safely")
    rewrite(
        lambda name, data: (
            pickle.dumps(load_images(data)[:1]) if name == f"{key}.input_image" else data
        )
    )
    _rejects("leopard", out, "placeholders for 1 images")
    rewrite(lambda name, data: data)
    _edit_json(out / "data_json.json", lambda entries: entries.reverse())
    _rejects("leopard", out, "global order")
    _edit_json(
        out / "data_json.json", lambda entries: (entries.reverse(), entries[0].update(num_tiles=51))
    )
    _rejects("leopard", out, "51 tiles > the budget of 50")
    assert literal_problems("[{'from': 'human', 'value': null}]") == [
        "bare name 'null' (JSON true/false/null are not Python)"
    ]
    assert (
        literal_problems(repr([{"from": "gpt", "value": "true, false and null are fine in text"}]))
        == []
    )
    assert ast.literal_eval(repr([{"value": 'it\'s "quoted"\n'}]))[0]["value"] == 'it\'s "quoted"\n'


def test_llavar2_has_one_image_per_record_in_blocks_of_four(export, samples_by_id):
    out, report = export("llavar2")
    records = json.loads((out / "data.json").read_text())
    assert records and all(isinstance(r["image"], str) for r in records)
    for record in records:
        turns = record["conversations"]
        assert len(turns) % 4 == 0 and turns[0]["value"].startswith("<image>\n")
        sample_id, number = record["id"].rsplit("-", 1)
        sample = samples_by_id[sample_id]
        extractive = [
            q for q in sample.qa if q.kind == "extractive" and q.image_index == int(number) - 1
        ]
        assert [t["value"] for t in turns[1::4]] == [q.answer for q in extractive]
    cross = sum(q.kind == "cross_image" for s in samples_by_id.values() for q in s.qa)
    assert report.result.skipped["needs_several_images"] == cross > 0  # counted, documented


@pytest.mark.parametrize(
    ("fmt", "file", "change", "message"),
    [
        (
            "llavar2",
            "data.json",
            lambda r: r[0].update(image=[r[0]["image"]]),
            "must be a single path string",
        ),
        ("llavar2", "data.json", lambda r: r[0]["conversations"].pop(), "blocks of four"),
        (
            "llavar2",
            "data.json",
            lambda r: r[0]["conversations"][0].update(value="Q <image>"),
            "must start with <image>",
        ),
        (
            "llava-interleave",
            "data.json",
            lambda r: r[0].update(image=r[0]["image"][0]),
            "must be a list of paths",
        ),
        ("llava-interleave", "data.json", lambda r: r[0]["image"].pop(), "placeholders for"),
        ("llamafactory", "data.json", lambda r: r[0]["images"].pop(), "placeholders for"),
        (
            "llamafactory",
            "dataset_info.json",
            lambda i: i["curate"]["columns"].pop("images"),
            "columns must map",
        ),
        (
            "demon",
            "core/core.json",
            lambda c: c["metadata"].update(num_sample=1),
            "num_sample is 1",
        ),
        (
            "demon",
            "core/core.json",
            lambda c: c["data"][0]["task_instance"].update(context="See {image#9}"),
            "out of range",
        ),
        (
            "demon",
            "core/core.json",
            lambda c: c["data"][0]["task_instance"].update(context="<image> What?"),
            "references images as {image#N}",
        ),
    ],
)
def test_validators_reject_violations_with_a_clear_message(fmt, file, change, message, export):
    out, _ = export(fmt)
    _edit_json(out / file, change)
    _rejects(fmt, out, message)


def test_cauldron_has_no_image_tokens_and_rejects_them(export):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out, _ = export("cauldron")
    shard = sorted((out / "data").glob("*.parquet"))[0]
    table = pq.read_table(shard)
    assert table.column_names == ["images", "texts"]
    rows = table.to_pylist()
    assert all("<image>" not in t["user"] for r in rows for t in r["texts"])
    rows[0]["texts"][0]["user"] = "<image>" + rows[0]["texts"][0]["user"]
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    _rejects("cauldron", out, "no image tokens")


def test_llamafactory_registers_its_columns(export):
    out, _ = export("llamafactory")
    info = json.loads((out / "dataset_info.json").read_text())["curate"]
    assert info["formatting"] == "sharegpt" and info["columns"] == {
        "messages": "messages",
        "images": "images",
    }
    record = json.loads((out / "data.json").read_text())[0]
    assert all((out / p).is_file() for p in record["images"])
    assert sum(m["content"].count("<image>") for m in record["messages"]) == len(record["images"])
