"""Template QA quality on real documents: what a trainer would object to, counted.

    .venv/bin/python benchmarks/qa_quality.py [--corpus ../shared/corpus] [--show 20] [--keep DIR]

Runs `curate run` (template generator, local runner) over the corpus's PDFs, decks, scanned
images and saved webpage, then judges every extractive question with checks written here,
apart from the generator's own rules:

- verbatim: the answer occurs in its page's text (must stay 100%);
- duplicates: repeated (question, answer) pairs, over the whole output;
- heading defects: a "title"/"heading" answer that is rotated or faint text, repeats at the
  same spot on most pages of its document, starts with a bullet, or is not mostly letters;
- table defects: a table question whose answer is not a table cell, or whose column name
  is a number or a sentence;
- key:value defects: a label that is part of a URL, a time or an address, or a URL value;
- cloze defects: a number or term cut from a table of contents line, a footnote marker, a
  blank that fits more than one place on the page, or an answer ending in punctuation;
- coverage: images with usable text that got at least one question;
- variety: distinct question forms; cross-image questions that compare or order.
Targets: defects <= 5% per kind, duplicates <= 2%, coverage >= 90%, verbatim 100%.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import tempfile
import threading
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from curate.core.config import load_config
from curate.core.text import normalize
from curate.jobs import Inputs, plan_job, run_job

ROOT = Path(__file__).resolve().parents[1]
KIND_OF = [  # question form -> the rule family it belongs to; the first that matches
    ("cloze", re.compile(r"___")),
    ("section", re.compile(r"under which heading|in which section")),
    ("table", re.compile(r"\b(in|look at) the table\b|the table on image|entry of the table")),
    (
        "key_value",
        re.compile(r"what is given for|list as the|follows the label|is the \".*\" stated"),
    ),
    ("title", re.compile(r"\btitle\b|\bheading\b")),
]
FORMS = re.compile(r'"[^"]*"|image \d+')


def _as_read(text: str) -> str:
    """The page text as one reads it: lines run on, "Next-" at a line's end meets "Gen"."""
    return " ".join(re.sub(r"(?<=\w)-[ \t]*\n\s*(?=\w)", "-", text).split())


def _kind(question: str) -> str:
    for kind, pattern in KIND_OF:
        if pattern.search(question.lower()):
            return kind
    return "other"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the page's missing assets are expected
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


def defects(row: dict, qa: dict, repeated: Counter) -> list[str]:
    """The defects of one extractive question, by the rules in the module docstring."""
    found = []
    question, answer = qa["question"], qa["answer"]
    blocks = row["image_blocks"][qa["image_index"]]
    text = row["image_texts"][qa["image_index"]]
    same = [b for b in blocks if b["text"] == qa["evidence"]]
    headed = [b for b in same if b["role"] in ("title", "heading")]
    evidence = (headed or same or [None])[0]
    kind = _kind(question)
    if kind == "title":
        if evidence and evidence["role"] not in ("title", "heading"):
            found.append("heading: not a heading line")
        if repeated[(row["doc_id"], normalize(answer))] >= 3:
            found.append("heading: repeats on most pages (running header or watermark)")
        name = re.sub(r"^\d+(\.\d+)*\.?\s", "", answer)  # "7.2.1 AES": a numbered section
        if re.match(r"^\s*[•◦▪●○■\-*–]", answer) or sum(c.isalpha() for c in name) < 0.5 * len(
            name.replace(" ", "")
        ):
            found.append("heading: a bullet or not words")
    elif kind == "table":
        if evidence is None or evidence["cell"] is None:
            found.append("table: the answer is not a table cell")
        names = re.findall(r'"([^"]*)"', question)
        if any(re.fullmatch(r"[\d.,%]+", n) or len(n.split()) > 8 for n in names):
            found.append("table: a column or row named by a number or a sentence")
    elif kind == "key_value":
        label = (re.findall(r'"([^"]*)"', question) or [""])[0]
        if (
            re.search(r"https?|www|\d$", label, re.I)
            or re.match(r"(//|https?:)", answer)
            or re.match(r"^\d{2}\b", answer)
            and ":" in label
        ):
            found.append("key:value: a URL, time or address split at a colon")
    elif kind == "cloze":
        if evidence and evidence["role"] == "toc":
            found.append("cloze: from a table of contents")
        cloze = (re.findall(r'"([^"]*___[^"]*)"', question) or [""])[0]
        before, _, after = cloze.partition("___")
        pattern = (
            re.escape(normalize(before).strip())
            + r"\s*\S+\s*"
            + re.escape(normalize(after).strip())
        )
        if len(re.findall(pattern, normalize(text))) > 1:
            found.append("cloze: the blank fits more than one place")
        line = qa["evidence"]
        at = line.find(answer) if answer.isdigit() and len(answer) <= 2 else -1
        if at > 0 and (line[at - 1].isalpha() or line[at - 1] in ".)]"):  # stuck on: "year.7"
            found.append("cloze: a footnote marker")
        if answer[-1:] in ",.;:":
            found.append("cloze: trailing punctuation")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--show", type=int, default=0, help="print this many samples' QA to read")
    parser.add_argument("--keep", type=Path, help="keep the run's output here, to open its images")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="curate-qa-"))
    out = args.keep or work / "out"
    server = None
    try:
        inputs = [
            str(args.corpus / kind)
            for kind in ("pdf", "slides", "images")
            if (args.corpus / kind).is_dir()
        ]
        web = args.corpus / "web" / "wikipedia-microsoft-article"
        if web.is_dir():
            server, url = serve(web)
            inputs.append(url)
        config = load_config(
            overrides={"web.allow_private_hosts": True, "web.politeness_delay_s": 0}
        )
        report = run_job(plan_job("run", Inputs(tuple(inputs)), str(out), config), runner="local")
        rows = pq.read_table(out / "data").to_pylist()
        dropped = pq.read_table(out / "dropped").to_pylist()
    finally:
        if server:
            server.shutdown()
    print(
        f"{report.counters.get('documents', 0)} documents, {len(rows)} samples kept, "
        f"{len(dropped)} dropped "
        f"({Counter(r['drop_reason'] for r in dropped)})"
    )
    repeated = Counter()
    for row in rows + dropped:
        for blocks in row["image_blocks"]:
            for block in blocks:
                if block["role"] in ("title", "heading"):
                    repeated[(row["doc_id"], normalize(block["text"]))] += 1
    extractive = [(row, qa) for row in rows for qa in row["qa"] if qa["kind"] == "extractive"]
    verbatim = sum(
        " ".join(qa["answer"].split()) in _as_read(row["image_texts"][qa["image_index"]])
        for row, qa in extractive
    )
    pairs = Counter((normalize(qa["question"]), normalize(qa["answer"])) for _, qa in extractive)
    duplicates = sum(n - 1 for n in pairs.values())
    by_kind, bad = Counter(), Counter()
    examples: dict[str, list[str]] = {}
    for row, qa in extractive:
        kind = _kind(qa["question"])
        by_kind[kind] += 1
        for problem in defects(row, qa, repeated):
            bad[problem.split(": ")[0]] += 1
            examples.setdefault(problem, []).append(f"{qa['question']} -> {qa['answer']}")
    images = covered = 0
    for row in rows + [d for d in dropped if d["drop_reason"] == "no_qa_generated"]:
        asked = {qa["image_index"] for qa in row["qa"] if qa["kind"] == "extractive"}
        for i, blocks in enumerate(row["image_blocks"]):
            usable = sum(
                len(b["text"])
                for b in blocks
                if b["role"] not in ("header_footer", "watermark", "toc", "figure")
            )
            if usable >= 100:
                images += 1
                covered += i in asked
    forms = {FORMS.sub("…", qa["question"]) for _, qa in extractive}
    multi = [row for row in rows if row["num_images"] >= 2]
    relating = [
        row
        for row in multi
        if any(
            qa["kind"] == "cross_image"
            and re.match(
                r"Which (image gives the larger|section comes first)|The text at the top",
                qa["question"],
            )
            for qa in row["qa"]
        )
    ]
    total = max(len(extractive), 1)
    print(f"extractive questions: {len(extractive)} ({dict(by_kind)})")
    print(
        f"verbatim answers:     {verbatim}/{len(extractive)} = {verbatim / total:.1%}   (target "
        "100%)"
    )
    print(
        f"duplicate pairs:      {duplicates}/{len(extractive)} = {duplicates / total:.1%}   "
        "(target <= 2%)"
    )
    for family in ("heading", "table", "key:value", "cloze"):
        kind = {"heading": "title", "key:value": "key_value"}.get(family, family)
        n = by_kind.get(kind, 0)
        print(
            f"{family + ' defects:':<22}{bad[family]}/{n} = {bad[family] / max(n, 1):.1%}   "
            "(target <= 5%)"
        )
    for problem, seen in sorted(examples.items()):
        print(f"    {problem}: {len(seen)}, e.g. {seen[0]}")
    print(
        f"coverage:             {covered}/{images} text images with a question = "
        f"{covered / max(images, 1):.1%}   (target >= 90%)"
    )
    print(f"question forms:       {len(forms)}")
    print(
        f"compare/order:        {len(relating)}/{len(multi)} multi-image samples = "
        f"{len(relating) / max(len(multi), 1):.1%}"
    )
    for row in rows[: args.show]:
        print(f"\n== {Path(row['source_uri']).name} pages {[i + 1 for i in row['page_indices']]}")
        for qa in row["qa"]:
            print(f"  [{qa['kind']}] {qa['question']}\n      -> {qa['answer']}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
