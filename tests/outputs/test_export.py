"""Exports: every format round-trips images and turns, validators catch broken files, tiles and
the dataset card follow their rules, and `--to-hub` makes one commit against a recording Hub."""

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace

import datasets
import pytest
import yaml
from hub_server import HubServer
from PIL import Image

from curate.document.conversation import build_conversation
from curate.outputs.export import FORMATS, ExportOptions, export_dataset, get_exporter, read_samples
from curate.outputs.export.tiles import best_grid, plan_tiles

pytestmark = pytest.mark.slow


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def samples(curated_output):
    found = list(read_samples(str(curated_output)))
    assert found and any(s.num_images >= 3 for s in found)
    return found


def _canonical(exported):
    """Order- and id-independent view of exported samples: image hashes and turns."""
    return sorted(
        (tuple(sha(b) for b in e.images), tuple((t.role, t.content) for t in e.turns))
        for e in exported
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_round_trips_images_and_turns(fmt, curated_output, samples, tmp_path):
    """Export, validate with the format's rules, read back, compare with what the format promises
    to keep of each sample (all images and turns, or a documented split of them)."""
    options = ExportOptions(tiles=True)
    report = export_dataset(str(curated_output), str(tmp_path), fmt, options)
    assert report.errors == []
    assert report.result.samples == len(samples) == report.stats.samples
    exporter = get_exporter(fmt)
    expected = [e for sample in samples for e in exporter.expected(sample, options)]
    assert expected and _canonical(exporter.read(str(tmp_path))) == _canonical(expected)
    kept_images = {sha(b) for e in expected for b in e.images}
    if fmt != "llavar2":  # llavar2 keeps only images with an extractive block (documented)
        assert kept_images == {sha(i.bytes) for s in samples for i in s.images}
    assert (tmp_path / "README.md").is_file()


def test_llava_json_opens_like_llava_loaders_do(curated_output, samples, tmp_path):
    """LLaVA's dataset class: `image` is a path (one image) or a list, opened in the folder."""
    one = next(s for s in samples if len(s.images) > 1)  # sample order varies between runs
    single = replace(
        one,
        sample_id="single",
        images=one.images[:1],
        image_sizes=one.image_sizes[:1],
        image_blocks=one.image_blocks[:1],
        qa=[q for q in one.qa if q.image_index == 0],
    )
    single.conversations = build_conversation(single.qa, 1)
    exporter = get_exporter("llava")
    exporter.write([single, one], str(tmp_path), ExportOptions())
    assert exporter.validate(str(tmp_path)) == []
    records = json.loads((tmp_path / "data.json").read_text())
    assert isinstance(records[0]["image"], str) and isinstance(records[1]["image"], list)
    for record in records:
        files = [record["image"]] if isinstance(record["image"], str) else record["image"]
        images = [Image.open(tmp_path / "images" / f).convert("RGB") for f in files]
        tokens = sum(
            t["value"].count("<image>") for t in record["conversations"] if t["from"] == "human"
        )
        assert tokens == len(images) and all(i.size[0] > 0 for i in images)
        assert [t["from"] for t in record["conversations"]][:2] == ["human", "gpt"]


def test_hf_export_loads_in_datasets_with_a_list_of_images(curated_output, samples, tmp_path):
    export_dataset(str(curated_output), str(tmp_path), "hf", ExportOptions(tiles=True))
    ds = datasets.load_dataset(
        "parquet", data_files=str(tmp_path / "data" / "*.parquet"), split="train"
    )
    assert isinstance(ds.features["images"], datasets.List)
    assert isinstance(ds.features["images"].feature, datasets.Image)
    by_id = {s.sample_id: s for s in samples}
    for row in ds:
        sample = by_id[row["id"]]
        assert [im.size for im in row["images"]] == [tuple(s) for s in sample.image_sizes]
        grids = row["tile_grid"]
        assert row["num_tiles"] == sum(r * c for r, c in grids) + len(grids) <= 50
        parts = [p for m in row["messages"] for p in m["content"]]
        assert sum(p["type"] == "image" for p in parts) == sample.num_images


def _drop_first_image_part(record):
    for message in record["messages"]:
        for part in message["content"]:
            if part["type"] == "image":
                message["content"].remove(part)
                return


@pytest.mark.parametrize(
    ("fmt", "file", "break_it", "message"),
    [
        (
            "llava",
            "data.json",
            lambda r: r[0]["conversations"][0].update(value="no placeholder"),
            "placeholders for",
        ),
        (
            "llava",
            "data.json",
            lambda r: r[0]["conversations"][0].update({"from": "system"}),
            "unknown speaker",
        ),
        ("llava", "data.json", lambda r: r.append(dict(r[0])), "duplicate id"),
        (
            "sharegpt",
            "data.jsonl",
            lambda r: r[0]["images"].append("missing.png"),
            "missing from images/",
        ),
        ("messages", "data.jsonl", lambda r: _drop_first_image_part(r[0]), "placeholders for"),
        ("messages", "data.jsonl", lambda r: r[0]["messages"].pop(0), "must alternate"),
    ],
)
def test_validators_reject_broken_exports_with_a_clear_message(
    fmt, file, break_it, message, curated_output, tmp_path
):
    export_dataset(str(curated_output), str(tmp_path), fmt)
    path = tmp_path / file
    if file.endswith(".jsonl"):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        break_it(records)
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        records = json.loads(path.read_text())
        break_it(records)
        path.write_text(json.dumps(records))
    errors = get_exporter(fmt).validate(str(tmp_path))
    assert errors and any(message in e for e in errors), errors


def test_tile_plan_is_the_one_leopards_loader_computes():
    """Grids Leopard's own loader computed for 2, 3 and 4 A4 pages at 150 dpi (issue: seed
    training formats): [5,3] x2, [5,3] x3 and [3,3] x4. The rest follow its documented rules
    (round(), one tile counts as none, a budget of M minus the images, the grid that keeps the
    most pixels)."""
    a4 = (1240, 1754)
    assert plan_tiles([a4] * 2).grids == [(5, 3)] * 2
    assert plan_tiles([a4] * 3).grids == [(5, 3)] * 3
    four = plan_tiles([a4] * 4)  # 60 wanted > 46: scaled to 11 each, 3x3 keeps the most
    assert four.grids == [(3, 3)] * 4 and four.num_tiles == 4 * 9 + 4 <= 50
    assert plan_tiles([(300, 300)]).grids == [(0, 0)]  # one tile wanted: the global view only
    assert plan_tiles([a4] * 8).num_tiles <= 50
    assert best_grid(3000, 300, 6) == (1, 6) and best_grid(300, 3000, 6) == (6, 1)
    assert best_grid(1000, 1000, 5) == (2, 2)  # square: 2x2 keeps more than 1x5
    assert plan_tiles([(100, 100)] * 60).num_tiles == 60  # more images than M: cannot fit, reported
    assert plan_tiles([(3640, 364)], tile_size=364, max_tiles=50).grids == [(1, 10)]


def test_dataset_card_has_metadata_counts_scores_and_drop_reasons(curated_output, tmp_path):
    export_dataset(str(curated_output), str(tmp_path), "hf", repo_id="me/docs")
    text = (tmp_path / "README.md").read_text()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*.parquet"
    assert "visual-question-answering" in meta["task_categories"]
    manifest = json.loads((curated_output / "manifest.json").read_text())
    assert f"| samples | {manifest['counts']['samples']} |" in body
    for reason in manifest["failures_by_reason"]:
        assert f"| {reason} |" in body  # dead-letter reasons are listed
    assert "| mifd |" in body and "```yaml" in body


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=300,
    )


def test_to_hub_preuploads_then_makes_one_commit_with_every_shard_and_the_card(
    curated_output, tmp_path
):
    secret = "hf_test_secret_token_123"
    with HubServer() as hub:
        env = {
            "HF_ENDPOINT": hub.url,
            "HF_TOKEN": secret,
            "HF_HUB_OFFLINE": "0",
            "HF_HUB_DISABLE_XET": "1",  # the LFS protocol: hf_xet's CAS cannot be served locally
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
        out = tmp_path / "hf"
        done = _cli(
            "export",
            curated_output,
            "-f",
            "hf",
            "-o",
            out,
            "--to-hub",
            "me/docs",
            "--private",
            "--revision",
            "v1",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        recorded = hub.recorded
    assert secret not in done.stdout + done.stderr
    assert "one commit" in done.stderr
    assert recorded.repos["me/docs"]["visibility"] == "private" and recorded.branches == [
        ("me/docs", "v1")
    ]
    assert len(recorded.commits) == 1
    commit = recorded.commits[0]
    shards = sorted(p.relative_to(out).as_posix() for p in (out / "data").glob("*.parquet"))
    assert shards and sorted(commit["lfs"]) == shards and commit["revision"] == "v1"
    for shard in shards:  # every shard's bytes reached LFS storage before the commit named them
        assert recorded.lfs_objects[commit["lfs"][shard]] == (out / shard).read_bytes()
    assert commit["files"]["README.md"] == (out / "README.md").read_bytes()
    methods = [(m, p.split("?")[0]) for m, p, _ in recorded.requests]
    assert methods.index(("POST", "/api/datasets/me/docs/commit/v1")) == len(methods) - 1
    writes = [h for m, p, h in recorded.requests if p.startswith(("/api/repos/", "/api/datasets/"))]
    assert writes and all(
        {k.lower(): v for k, v in h.items()}["authorization"] == f"Bearer {secret}" for h in writes
    )


def test_export_errors_say_what_to_do(curated_output, tmp_path):
    done = _cli("export", curated_output, "-f", "parquet2", "-o", tmp_path / "x")
    assert done.returncode == 2 and "choose one of: hf, llava, sharegpt, messages" in done.stderr
    done = _cli("export", tmp_path / "nothing", "-f", "hf", "-o", tmp_path / "y")
    assert done.returncode == 2 and "no Parquet shards" in done.stderr
    done = _cli(
        "export",
        curated_output,
        "-f",
        "hf",
        "-o",
        tmp_path / "z",
        "--to-hub",
        "me/docs",
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 2 and "unset it to upload" in done.stderr
