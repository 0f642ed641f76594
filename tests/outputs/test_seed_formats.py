"""The seed projects' own formats: each validator enforces its loader's rules and rejects
deliberate violations with a clear message; Leopard's shards are read with the real `wids`."""

import ast
import io
import json
import pickle
import tarfile

import pytest
from PIL import Image

from curate.outputs.export import ExportOptions, export_dataset, get_exporter
from curate.outputs.export.leopard import dump_images, literal_problems, load_images

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


def test_leopard_shards_load_the_way_leopards_llava_recipe_loads_them(export, samples_by_id):
    """The steps of `get_sft_dataset` and `make_sample` in Leopard's LLaVA-SigLIP recipe
    (Pai-Megatron-Patch/megatron_patch/data/llava/mm_pretrain_dataset.py, tencent-ailab/Leopard
    at 36c5f61), written here from their rules, with the real `wids`."""
    wids = pytest.importorskip("wids")
    out, report = export("leopard", tiles=True)
    shardlist = json.loads((out / "shardlist_fix_oridata.json").read_text())
    localname = {k["url"]: f"{out}/{k['url']}" for k in shardlist}  # iterated as a plain list
    assert shardlist == json.loads((out / "shardlist.json").read_text())  # the Idefics2 recipe's
    dataset = wids.ShardListDataset(shardlist, localname=lambda url: localname[url], keep=True)
    entries = json.loads((out / "data_json.json").read_text())
    assert len(dataset) == len(entries) == report.result.samples
    for i, entry in enumerate(entries):
        assert entry["image"].split("/")[0]  # PackedShardListDataset's image_dir
        row = dataset[i]
        assert row["__key__"] == entry["id"]  # data_json.json follows the shards' global order
        images = pickle.loads(row[".input_image"].getvalue())  # noqa: S301 - as make_sample does
        opened = [Image.open(image).convert("RGB") for image in images]
        conversations = eval(row[".conversations"].read().decode("utf-8"), {"__builtins__": {}})  # noqa: S307
        sample = samples_by_id[entry["id"]]
        assert [im.size for im in opened] == [tuple(s) for s in sample.image_sizes]
        assert [t["value"] for t in conversations] == [t.content for t in sample.conversations]
        assert sum(t["value"].count("<image>") for t in conversations) == len(images)
        grids = entry["tile_grid"]
        assert entry["num_tiles"] == sum(r * c for r, c in grids) + len(grids) <= 50


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
            dump_images(load_images(data)[:1]) if name == f"{key}.input_image" else data
        )
    )
    _rejects("leopard", out, "placeholders for 1 images")
    rewrite(  # raw bytes: PIL would take each for a file name
        lambda name, data: pickle.dumps(load_images(data)) if name == f"{key}.input_image" else data
    )
    _rejects("leopard", out, "io.BytesIO")
    rewrite(lambda name, data: data)
    _edit_json(out / "data_json.json", lambda entries: entries.reverse())
    _rejects("leopard", out, "global order")
    _edit_json(
        out / "data_json.json", lambda entries: (entries.reverse(), entries[0].update(num_tiles=51))
    )
    _rejects("leopard", out, "51 tiles > the budget of 50")
    _edit_json(out / "data_json.json", lambda entries: entries[0].update(image=["a/b.png"]))
    _rejects("leopard", out, "`image` must be a string")
    _edit_json(out / "shardlist.json", lambda shards: None)
    (out / "shardlist.json").write_text(json.dumps({"shardlist": []}))
    _rejects("leopard", out, "shardlist.json must be a plain JSON list")
    assert literal_problems("[{'from': 'human', 'value': null}]") == [
        "bare name 'null' (JSON true/false/null are not Python)"
    ]
    assert (
        literal_problems(repr([{"from": "gpt", "value": "true, false and null are fine in text"}]))
        == []
    )
    assert ast.literal_eval(repr([{"value": 'it\'s "quoted"\n'}]))[0]["value"] == 'it\'s "quoted"\n'


def test_demon_instances_load_the_way_cheetahs_dataset_loads_them(export):
    """The steps of `IDataset.__getitem__` and the placeholder assertion in Cheetah's i4 script
    (Cheetah/i4_cheetah_llama2.py and cheetah/conversation, DCDmllm/Cheetah at 619bd61),
    written here from their rules."""
    out, _ = export("demon")
    dataset_dir = out / "core"
    core = json.loads((dataset_dir / "core.json").read_text())
    img_dir = dataset_dir / "images"
    several = 0
    for ann in core["data"]:
        context = core["metadata"]["task_instruction"][ann["task_instruction_id"]]
        context += ann["task_instance"]["context"]
        for i in range(len(ann["task_instance"]["images_path"])):
            context = context.replace("{image#%d}" % (i + 1), "<ImageHere>")  # noqa: UP031
        raw_img_list = [img_dir / p for p in ann["task_instance"]["images_path"]]
        assert all(Image.open(path).size[0] > 0 for path in raw_img_list)
        assert len(context.split("<ImageHere>")) == len(raw_img_list) + 1
        several += len(raw_img_list) > 1
    assert several  # multi-image instances are among them


def test_llavar2_has_one_image_per_record_in_blocks_of_four(export, samples_by_id):
    out, report = export("llavar2")
    records = json.loads((out / "data.json").read_text())
    assert records and all(isinstance(r["image"], str) for r in records)
    for record in records:
        turns = record["conversations"]
        assert len(turns) % 4 == 0 and turns[0]["value"].startswith("<image>\n")
        sample_id, number = record["id"].rsplit("-", 1)
        sample = samples_by_id[sample_id]
        explained = [  # extractive pairs with their self-explain turn: LLaVAR-2's blocks
            q
            for q, follow in zip(sample.qa, sample.qa[1:])
            if q.kind == "extractive"
            and follow.kind == "self_explain"
            and q.image_index == int(number) - 1
        ]
        assert [t["value"] for t in turns[1::4]] == [q.answer for q in explained]
    qa = [q for s in samples_by_id.values() for q in s.qa]
    cross = sum(q.kind == "cross_image" for q in qa)
    assert report.result.skipped["needs_several_images"] == cross > 0  # counted, documented
    alone = sum(
        q.kind == "extractive" and (follow is None or follow.kind != "self_explain")
        for s in samples_by_id.values()
        for q, follow in zip(s.qa, [*s.qa[1:], None])
    )
    assert report.result.skipped["extractive_without_self_explain"] == alone > 0


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
        (
            "demon",
            "core/core.json",
            lambda c: c["data"][-1]["task_instance"]["images_path"].append("extra.png"),
            "image placeholders for",
        ),
        (
            "demon",
            "core/core.json",
            lambda c: c["data"][-1]["task_instance"].update(
                images_path=["images/" + p for p in c["data"][-1]["task_instance"]["images_path"]]
            ),
            "Cheetah joins images_path onto it",
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


def test_sharegpt_registers_itself_for_llama_factory(export):
    """LLaMA-Factory's sharegpt rules (data/dataset_info.json's documented keys): the entry
    names a file in dataset_dir, its columns and tags name the records' keys, and images
    resolve against media_dir, given here as <folder>/images as the card says."""
    out, _ = export("sharegpt")
    ((name, entry),) = json.loads((out / "dataset_info.json").read_text()).items()
    assert entry["formatting"] == "sharegpt" and name in (out / "README.md").read_text()
    tags, columns = entry["tags"], entry["columns"]
    lines = (out / entry["file_name"]).read_text().splitlines()
    for record in (json.loads(line) for line in lines if line.strip()):
        turns = record[columns["messages"]]
        roles = [t[tags["role_tag"]] for t in turns]
        assert set(roles) <= {tags["user_tag"], tags["assistant_tag"]} and roles[0] == "human"
        paths = record[columns["images"]]
        assert all((out / "images" / path).is_file() for path in paths)
        assert sum(t[tags["content_tag"]].count("<image>") for t in turns) == len(paths)
    (out / "dataset_info.json").unlink()
    _rejects("sharegpt", out, "dataset_info.json must register")


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        ("leopard", "shardlist_fix_oridata.json"),
        ("demon", "--i4-dir"),
        ("llava", "need LLaVA-NeXT"),
        ("llamafactory", "media_dir"),
        ("sharegpt", "media_dir: <this folder>/images"),
    ],
)
def test_every_card_says_how_to_train_with_it(export, fmt, said):
    out, _ = export(fmt)
    card = (out / "README.md").read_text()
    block = card.split("## Train with it", 1)[1].split("\n## ", 1)[0]
    assert said in block
