"""A blind audit of template QA, as a trainer judges it, on documents no rule was tuned on.

    .venv/bin/python benchmarks/qa_audit.py --set measure --seed 1 --out /tmp/audit-1
    # label /tmp/audit-1/items/*.png against /tmp/audit-1/RUBRIC.md into labels.jsonl, then
    .venv/bin/python benchmarks/qa_audit.py --seed 1 --out /tmp/audit-1 --labels L  # no re-run
    .venv/bin/python benchmarks/qa_audit.py --docs a.pdf b.pptx --out /tmp/audit-x  # any documents

The shared corpus is split in two (`TUNE`, `MEASURE` below): rules may be developed on the
first; the second is looked at only through seeded random samples like this one, and an error
found there is fixed as a class, never as the sampled item. Then a new seed is drawn.

It runs `curate run` (template generator, local runner) on the set, then:
1. draws `--n` extractive pairs (with their follow-ups) and `--cross` cross-image items at
   random with `--seed`, and draws each as a picture: the page image(s) beside the question,
   answer and follow-up, with nothing about the rule that made it (items/*.png, items.jsonl);
2. prints measures taken over every question of the set: heading read-outs, table questions
   on pages with a table, duplicates within a document, cross-image questions that compare or
   aggregate, CJK text pages with QA;
3. with `--labels`, the rates of the labels (good / weak / defective, follow-ups that explain);
   given two labellings of the same items by labellers who did not see each other's, how
   often they agree, and Cohen's kappa: the rubric's weak line is a judgement call, and one
   labeller's rates alone can mislead.
Goals (issue 32): defective <= 5%, weak <= 20%, follow-ups that explain >= 80%, heading
read-outs <= 20%, a table question on every page with a well-formed table, duplicates <= 2%,
cross-image questions that compare or aggregate >= 50%, CJK text pages with QA >= 80%.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import json
import random
import re
import shutil
import threading
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image, ImageDraw, ImageFont

from curate.core.config import load_config
from curate.core.text import normalize
from curate.jobs import Inputs, plan_job, run_job

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
# Rules may be developed on these (earlier sessions looked at most of them).
TUNE = [
    "pdf/manual_nettle-crypto.pdf",
    "pdf/paper_french-olap.pdf",
    "pdf/report_reliance-annual-2021-22-excerpt.pdf",
    "pdf/table_fbi-nics-background-checks-2015-11.pdf",
    "pdf/report_federal-register-2020-17221-faa-ad.pdf",
    "pdf/manual_developers-reference-japanese.pdf",
    "pdf/paper_vcd-strucplot.pdf",
    "pdf/paper_sandwich-clustered-covariances.pdf",
    "slides/autogen-paper-deck.pptx",
    "slides/nasa-gsfc-science-directorate-orgchart.pptx",
    "slides/sample-presentation-bullets-table.pptx",
    "slides/udhr-english-spanish.pptx",
    "slides/deck_owasp-top10-2017-japanese.pptx",
    "slides/diagrams_owasp-asvs-1.0.odp",
    "images/page_autogen-arxiv-first-page.jpg",
    "images/page_game-rules-DA-1p.jpg",
    "images/page_layoutparser-paper-table.jpg",
    "images/page_paper-chart-and-table.jpg",
    "images/page_two-column-paper.jpg",
    "images/table_multi-row-column-cells.png",
    "images/text_chinese-simplified.jpeg",
    "images/text_english-korean-instructions.png",
    "images/text_japanese-vertical.jpeg",
    "images/scan_fraktur-wanderungen-preface.png",
    "web/wikipedia-microsoft-article/index.html",
    "web/sqlite-docs-tables/fileformat2.html",
]
# Looked at only through seeded samples: never tune a rule on what these print.
MEASURE = [
    "pdf/manual_fontconfig-user.pdf",
    "pdf/manual_bzip2.pdf",
    "pdf/spec_crc-doc.pdf",
    "pdf/table_senate-expenditures-excerpt.pdf",
    "pdf/table_usda-ag-energy-roundup-2017-02-24.pdf",
    "pdf/manual_lshort-korean.pdf",
    "pdf/guide_install-latex-chinese.pdf",
    "pdf/paper_strucchange-intro.pdf",
    "slides/talk_owasp-top10-2013.pptx",
    "slides/talk_owasp-asvs-webinar-2020.pptx",
    "images/photo_blackletter-page-1555-leptonica.jpg",
    "web/postgresql15-datatype-docs/datatype.html",
]
SETS = {"tune": TUNE, "measure": MEASURE}
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

RUBRIC = """# Rubric: would a trainer put this item in a LLaVAR-2 or Leopard training set?

Each picture shows one or more page images (numbered as the question numbers them) and, below,
a question (Q), its answer (A), and where there is one, a follow-up question (Q2) and its
answer (A2). Judge only what you see on the images.

**pair** (Q and A together):
- `good`: a natural, unambiguous question about the content of the page; the answer is right,
  complete and exactly what the page says or implies; worth training on.
- `weak`: right, but of little value: a bare read-out of a title or heading, an odd or
  mechanical phrasing, a trivial blank, a question about something incidental.
- `defective`: the answer is wrong, cut, merged with other text, or an OCR error; the question
  has several right answers or does not fit its answer; it asks about a running header or
  footer, page furniture, placeholder text or a table's header taken as content.

**follow_up_explains** (Q2 and A2; `null` when there is no follow-up): `true` only when A2
explains or reasons about the fact (what it means, which row and column give it, the
computation that gives it, what the section is about); `false` when it only says where the
answer sits on the page, or repeats the line it was copied from.

**cross** items (questions over several images): label `pair` the same way; a cross item is
`good` only when it needs the facts of more than one image and its answer follows from them.

Write one JSON object per line to labels.jsonl:
{"id": "A07", "pair": "weak", "follow_up_explains": false, "note": "a heading read-out"}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(paths: list[str], out: Path) -> list[dict]:
    """curate run over the set (webpages served from 127.0.0.1); the kept and dropped samples."""
    servers, inputs = [], []
    try:
        for path in paths:
            if path.startswith("web/"):
                folder, name = (CORPUS / path).parent, (CORPUS / path).name
                servers.append(serve(folder))
                inputs.append(f"http://127.0.0.1:{servers[-1].server_address[1]}/{name}")
            else:
                inputs.append(str(CORPUS / path))
        config = load_config(
            overrides={"web.allow_private_hosts": True, "web.politeness_delay_s": 0}
        )
        run_job(plan_job("run", Inputs(tuple(inputs)), str(out), config), runner="local")
    finally:
        for server in servers:
            server.shutdown()
    rows = pq.read_table(out / "data").to_pylist()
    return rows + pq.read_table(out / "dropped").to_pylist()


# ------------------------------------------------------------------------------ measures

HEADING = re.compile(r"\b(title|heading)\b.*\bimage \d+|image \d+.*\b(title|heading)\b", re.I)


def read_out(question: str) -> bool:
    """A title or heading asked back: "what is the first heading?", and "under which heading
    does the text say "..."?" too."""
    return bool(HEADING.search(question) or re.search(r"which section opens", question, re.I))


TABLE = re.compile(r"\btable\b(?! of contents)|\brow\b.*\bcolumn\b|\bcolumn\b", re.I)
AGGREGATE = re.compile(
    r"\b(larger|largest|smaller|smallest|more|fewer|less|higher|highest|lower|lowest|"
    r"difference|total|sum|how many|both|increase|decrease|change|compare|than)\b",
    re.I,
)


PROSE_MARK = re.compile(r"[、。，]|[.,;] \S")
IMAGE_REFERENCE = re.compile(r"\bimages? \d+(?: and \d+)?\b")


def well_formed_table(blocks: list[dict]) -> bool:
    """A table with a named header over two rows or more: every column past the first named,
    with a few words (or characters) in each name and each row's label, and no sentence
    punctuation in them (prose wrapped in ruled boxes, as slides set it, is no table); not a
    grid of symbols, whose "names" are glyphs."""
    tables = defaultdict(dict)
    for b in blocks:
        if b.get("cell"):
            table, row, column = b["cell"]
            tables[table].setdefault((row, column), []).append(b["text"])
    for cells in tables.values():
        rows = 1 + max(r for r, _ in cells)
        columns = 1 + max(c for _, c in cells)
        names = [" ".join(cells.get((0, c), [])) for c in range(1, columns)]
        labels = [" ".join(cells.get((r, 0), [])) for r in range(1, rows)]
        short = all(n and len(n.split()) <= 6 and len(n) <= 24 for n in names)
        # names in words: a grid of symbols (a LaTeX manual's tables of glyphs) names nothing
        worded = all(sum(ch.isalpha() for ch in n) >= 2 for n in names)
        prose = any(PROSE_MARK.search(x) for x in names + labels)
        if (
            rows >= 3
            and columns >= 2
            and short
            and worded
            and all(len(x) <= 24 for x in labels)
            and not prose
        ):
            return True
    return False


def is_cjk(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def cjk_text(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    cjk = sum(is_cjk(ch) for ch in letters)
    return cjk >= 40 and cjk >= 0.5 * len(letters)


def measures(rows: list[dict]) -> dict:
    kept = [r for r in rows if not r["drop_reason"]]
    extractive = [(r, q) for r in kept for q in r["qa"] if q["kind"] == "extractive"]
    cross = [q for r in kept for q in r["qa"] if q["kind"] == "cross_image"]
    follow = [q for r in kept for q in r["qa"] if q["kind"] == "self_explain"]
    # the same question and answer within a document, whichever images they name
    asked = Counter(
        (r["doc_id"], IMAGE_REFERENCE.sub("", normalize(q["question"])), normalize(q["answer"]))
        for r, q in [
            *extractive,
            *((r, q) for r in kept for q in r["qa"] if q["kind"] == "cross_image"),
        ]
    )
    table_pages = with_table_question = 0
    cjk_pages = cjk_with_qa = 0
    for row in rows:
        asked_on = defaultdict(list)
        for q in row["qa"]:
            if q["kind"] == "extractive":
                asked_on[q["image_index"]].append(q["question"])
        for index, blocks in enumerate(row["image_blocks"]):
            if well_formed_table(blocks):
                table_pages += 1
                with_table_question += any(TABLE.search(q) for q in asked_on[index])
            if cjk_text(row["image_texts"][index]):
                cjk_pages += 1
                cjk_with_qa += bool(asked_on[index])
    n = max(len(extractive), 1)
    return {
        "samples kept": len(kept),
        "samples dropped": len(rows) - len(kept),
        "extractive pairs": len(extractive),
        "follow-ups": len(follow),
        "heading read-outs": sum(read_out(q["question"]) for _, q in extractive) / n,
        "table questions": sum(bool(TABLE.search(q["question"])) for _, q in extractive) / n,
        "pages with a well-formed table": table_pages,
        "... of them with a table question": with_table_question / max(table_pages, 1),
        "QA asked again within a document": sum(c - 1 for c in asked.values()) / n,
        "cross-image questions": len(cross),
        "... that compare or aggregate": sum(bool(AGGREGATE.search(q["question"])) for q in cross)
        / max(len(cross), 1),
        "CJK text pages": cjk_pages,
        "... with QA": cjk_with_qa / max(cjk_pages, 1),
    }


# --------------------------------------------------------------------------------- sample


def draw(item: dict, row: dict, path: Path) -> None:
    """The item's page image(s) at the top, its turns below, as one PNG."""
    indices = [item["image"]] if item["image"] >= 0 else list(range(len(row["images"])))
    width = 1100 if len(indices) == 1 else 520
    pictures = []
    for index in indices:
        with Image.open(io.BytesIO(row["images"][index]["bytes"])) as image:
            image = image.convert("RGB")
            image.thumbnail((width, 1400))
            pictures.append((index, image.copy()))
    font = ImageFont.truetype(FONT, 20)
    small = ImageFont.truetype(FONT, 16)
    lines = []
    for label, text in item["turns"]:
        wrapped = wrap(f"{label}: {text}", font, 1100)
        wrapped[0] = wrapped[0][len(label) + 2 :]
        lines += [(label + ": " + wrapped[0], True)] + [("      " + w, False) for w in wrapped[1:]]
        lines.append(("", False))
    per_row = 1 if len(pictures) == 1 else 2
    tiles = [pictures[i : i + per_row] for i in range(0, len(pictures), per_row)]
    tile_height = [max(p.height for _, p in tile) + 30 for tile in tiles]
    canvas = Image.new(
        "RGB", (max(1140, per_row * (width + 20)), sum(tile_height) + 26 * len(lines) + 40), "white"
    )
    pen = ImageDraw.Draw(canvas)
    y = 10
    for tile, height in zip(tiles, tile_height, strict=True):
        x = 10
        for index, picture in tile:
            pen.text((x, y), f"image {index + 1}", fill="blue", font=small)
            canvas.paste(picture, (x, y + 24))
            pen.rectangle((x, y + 24, x + picture.width, y + 24 + picture.height), outline="grey")
            x += width + 20
        y += height
    y += 10
    for text, strong in lines:
        pen.text((10, y), text, fill="black" if strong else "#333333", font=font)
        y += 26
    canvas.save(path)


def wrap(text: str, font, width: int) -> list[str]:
    """Lines of at most `width` pixels in `font`: broken at spaces, and anywhere in a run
    without spaces (a CJK sentence) that is wider than a line."""
    lines, line = [], ""
    for piece in re.findall(r"\S+\s*", text) or [""]:
        if font.getlength(line + piece.rstrip()) <= width:
            line += piece
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        for ch in piece:  # a run wider than a line: broken between characters
            if font.getlength(line + ch) > width and line.strip():
                lines.append(line.rstrip())
                line = ""
            line += ch
    return [*lines, line.rstrip()]


def sample_items(rows: list[dict], n: int, cross: int, seed: int) -> list[tuple[dict, dict]]:
    kept = sorted((r for r in rows if not r["drop_reason"]), key=lambda r: r["sample_id"])
    pairs, crosses = [], []
    for row in kept:
        qa = row["qa"]
        for i, q in enumerate(qa):
            if q["kind"] == "extractive":
                turns = [("Q", q["question"]), ("A", q["answer"])]
                if i + 1 < len(qa) and qa[i + 1]["kind"] == "self_explain":
                    turns += [("Q2", qa[i + 1]["question"]), ("A2", qa[i + 1]["answer"])]
                pairs.append(({"image": q["image_index"], "turns": turns, "kind": "pair"}, row))
            elif q["kind"] == "cross_image":
                turns = [("Q", q["question"]), ("A", q["answer"])]
                crosses.append(({"image": -1, "turns": turns, "kind": "cross"}, row))
    rng = random.Random(seed)
    chosen = rng.sample(pairs, min(n, len(pairs))) + rng.sample(crosses, min(cross, len(crosses)))
    rng.shuffle(chosen)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=SETS, default="measure")
    parser.add_argument(
        "--docs", nargs="+", help="documents to run on instead of a set (paths or corpus names)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=40, help="extractive pairs drawn")
    parser.add_argument("--cross", type=int, default=10, help="cross-image items drawn")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--labels",
        type=Path,
        nargs="+",
        help="labels.jsonl: print the label rates (of the run in --out); two or more files of "
        "the same items, by labellers who did not see each other's: their agreement too",
    )
    parser.add_argument("--reuse", action="store_true", help="use the run already in --out")
    args = parser.parse_args()
    run_dir = args.out / "run"
    if not args.reuse and not args.labels:  # labels are of the items already drawn: kept
        shutil.rmtree(args.out, ignore_errors=True)
        args.out.mkdir(parents=True)
        run(args.docs or SETS[args.set], run_dir)
    rows = pq.read_table(run_dir / "data").to_pylist()
    rows += pq.read_table(run_dir / "dropped").to_pylist()
    for name, value in measures(rows).items():
        print(f"{name:45s} {value:.3f}" if isinstance(value, float) else f"{name:45s} {value}")
    if not args.labels:  # the labelled items stay as they were drawn
        items = sample_items(rows, args.n, args.cross, args.seed)
        folder = args.out / "items"
        folder.mkdir(exist_ok=True)
        with open(args.out / "items.jsonl", "w") as handle:
            for number, (item, row) in enumerate(items, start=1):
                item_id = f"A{number:02d}"
                draw(item, row, folder / f"{item_id}.png")
                record = {"id": item_id, "kind": item["kind"], "turns": item["turns"]}
                record["source"] = row["source_uri"].rsplit("/", 1)[-1]
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        (args.out / "RUBRIC.md").write_text(RUBRIC)
        print(f"{len(items)} items drawn with seed {args.seed}: {folder}")
    if args.labels:
        kinds = {
            json.loads(line)["id"]: json.loads(line)["kind"]
            for line in (args.out / "items.jsonl").read_text().splitlines()
        }
        for path in args.labels:
            print(f"{path}:")
            report_labels(read_labels(path), kinds)
        if len(args.labels) > 1:
            print(agreement([read_labels(path) for path in args.labels], kinds))


def read_labels(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def agreement(labellings: list[list[dict]], kinds: dict[str, str]) -> str:
    """How often labellers gave a pair the same label, and Cohen's kappa (agreement beyond
    what each labeller's own rates give by chance) for the first two."""
    by_id = [{label["id"]: label["pair"] for label in labels} for labels in labellings]
    ids = [i for i in kinds if kinds[i] == "pair" and all(i in labels for labels in by_id)]
    same = sum(len({labels[i] for labels in by_id}) == 1 for i in ids) / max(len(ids), 1)
    first, second = ([labels[i] for i in ids] for labels in by_id[:2])
    chance = (
        sum(first.count(k) * second.count(k) for k in ("good", "weak", "defective"))
        / max(len(ids), 1) ** 2
    )
    pairwise = sum(a == b for a, b in zip(first, second, strict=True)) / max(len(ids), 1)
    kappa = (pairwise - chance) / (1 - chance) if chance < 1 else 1.0
    return f"labellers agree on {same:.1%} of {len(ids)} pairs; Cohen's kappa {kappa:.2f}"


def report_labels(labels: list[dict], kinds: dict[str, str]) -> None:
    """The label rates of one labelling: pairs, cross items, follow-ups that explain."""
    for kind in ("pair", "cross"):
        chosen = [label for label in labels if kinds.get(label["id"]) == kind]
        counts = Counter(label["pair"] for label in chosen)
        total = max(len(chosen), 1)
        rates = ", ".join(
            f"{k} {counts[k] / total:.1%} ({counts[k]})" for k in ("good", "weak", "defective")
        )
        print(f"{kind}: {len(chosen)} labelled: {rates}")
    follow = [
        label["follow_up_explains"]
        for label in labels
        if label.get("follow_up_explains") is not None
    ]
    if follow:
        print(f"follow-ups that explain: {sum(follow) / len(follow):.1%} of {len(follow)}")


if __name__ == "__main__":
    main()
