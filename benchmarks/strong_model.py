"""A strong model, simulated: how many of its good items reach the data, and how many of its
wrong ones the checks reject, per task (issue 33).

    .venv/bin/python benchmarks/strong_model.py [--split tune|measure|all] [--verify] [--show]

Nobody here can call GPT-4o, so its replies were written by hand, for real windows of
../shared/corpus (benchmarks/strong_model/<split>/<scenario>/items.json): what a careful
strong model answers to curate's own prompts, and wrong items planted among them, each with
its class (an answer one character off, an answer to another question, a follow-up that only
locates, wrong arithmetic, a cross-image item one image answers alone, ...). The items were
written by someone who had not read the checks, before any check was changed for them; the
`measure` scenarios are for measuring only, never for shaping a check.

The tests' fake OpenAI-compatible server (tests/fake_openai.py, on 127.0.0.1) answers each
request from those items, found by the page text in the prompt; curate's LLM generator runs
unchanged against it. Two passes: one where the endpoint gives only the good items, one where
it gives the planted ones (with the good extractive pairs, so planted follow-ups are asked).
With --verify the simulated model also gives the second readings: answers to the extractive
questions (`verify`), and the statements it finds false in captions, follow-ups and
cross-image answers (`check`, written for the planted items whose statements are false).
Prints, per task, good items kept and planted items rejected (by class), and with --show the
items the checks got wrong.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from curate.core.config import GeneratorOptions, LLMOptions, RenderOptions, SampleOptions
from curate.core.text import normalize
from curate.schemas import PageRecord, SampleRecord
from curate.stages.generators.llm import generate_llm_qa, shown_text
from curate.stages.generators.llm_client import LLMClient, LLMEndpoint
from curate.stages.samples import assemble_sample
from curate.stages.sources import render_document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
ITEMS = Path(__file__).parent / "strong_model"
sys.path.insert(0, str(ROOT / "tests"))
from fake_openai import FakeOpenAI, items_checked, page_text, pairs_asked  # noqa: E402

TASKS = ("caption", "extractive", "self_explain", "cross_image")


def scenarios(split: str, folder: Path = ITEMS) -> list[Path]:
    splits = ("tune", "measure") if split == "all" else (split,)
    return sorted(p.parent for s in splits for p in (folder / s).glob("*/items.json"))


def window(folder: Path) -> SampleRecord:
    """The scenario's pages, rendered and grouped as `curate run` does."""
    source = json.loads((folder / "source.json").read_text())
    pages = source["pages"]
    options = RenderOptions(max_pages_per_document=max(pages))
    rendered = [
        p
        for p in render_document(str(CORPUS / source["document"]), options)
        if isinstance(p, PageRecord) and p.page_index + 1 in pages
    ]
    return assemble_sample(rendered, SampleOptions(min_images=1, max_images=len(pages)))


def _key(text: str) -> str:
    return normalize(text)[:200]


class StrongModel:
    """The hand-written replies of every scenario, looked up by the page text a prompt shows.
    `planted` picks the pass: the good items only, or the planted ones."""

    def __init__(self, runs: list[tuple[SampleRecord, dict]], planted: bool, chars: int):
        self.planted = planted
        self.pages: dict[str, tuple[dict, int]] = {}
        for sample, items in runs:
            for i in range(sample.num_images):
                self.pages[_key(shown_text(sample.image_blocks[i], chars))] = (items, i + 1)

    @functools.cached_property
    def false(self) -> list[tuple[str, list[str]]]:
        """(the answer or caption, its false statements) for every planted item a careful
        reader finds false."""
        found = []
        for items in {id(items): items for items, _ in self.pages.values()}.values():
            planted = [c["text"] for cs in items["caption"].values() for c in cs
                       if not c.get("good")]  # fmt: skip
            for task in ("self_explain", "cross_image"):
                planted += [f"{i['question']}\n{i['answer']}" for i in items[task]
                            if not i.get("good")]  # fmt: skip
            for verdict in items.get("check", []):
                (said,) = [text for text in planted if verdict["about"] in text]
                found.append((normalize(said.split("\n")[-1]).rstrip("."), verdict["wrong"]))
        return found

    def _page(self, prompt: str) -> tuple[dict, int]:
        return self.pages.get(_key(page_text(prompt)), ({}, 0))

    def _wanted(self, item: dict) -> bool:
        return item.get("good", False) != self.planted

    def caption(self, prompt: str) -> dict:
        items, n = self._page(prompt)
        chosen = [c for c in items.get("caption", {}).get(str(n), []) if self._wanted(c)]
        return {"caption": chosen[0]["text"] if chosen else ""}

    def extractive(self, prompt: str) -> dict:
        items, n = self._page(prompt)
        pairs = items.get("extractive", {}).get(str(n), [])
        # the planted pass keeps the good pairs too: planted follow-ups are asked of them
        chosen = [p for p in pairs if self.planted or p.get("good")]
        return {"qa": [{"question": p["question"], "answer": p["answer"]} for p in chosen]}

    def self_explain(self, prompt: str) -> dict:
        items, _ = self._page(prompt)
        follow_ups = []
        for number, (question, _answer) in enumerate(pairs_asked(prompt), start=1):
            for follow in items.get("self_explain", []):
                if _same_question(follow["question_of_pair"], question) and self._wanted(follow):
                    follow_ups.append(
                        {"pair": number, "question": follow["question"], "answer": follow["answer"]}
                    )
                    break
        return {"follow_ups": follow_ups}

    def multi_image(self, prompt: str) -> dict:
        first = prompt.split("Image 1:\n", 1)[-1].split("\n\nImage 2:", 1)[0]
        for key, (items, _) in self.pages.items():
            if key.startswith(_key(first)[:100]):
                chosen = [c for c in items.get("cross_image", []) if self._wanted(c)]
                return {"questions": [{k: c[k] for k in ("question", "answer", "evidence")}
                                      for c in chosen]}  # fmt: skip
        return {"questions": []}

    def check(self, prompt: str) -> dict:
        """A second reading of captions, follow-ups and cross-image answers: the statements a
        careful model finds false. Written by hand (`check` in items.json) for the planted
        items whose statements are false, found by their answer; a true statement that only
        locates or repeats the page is not false."""
        checks = []
        for number, _question, answer in items_checked(prompt):
            answer = normalize(answer)
            wrong = [w for said, found in self.false for w in found if answer.startswith(said)]
            checks.append({"item": number, "wrong": wrong})
        return {"checks": checks}

    def verify(self, prompt: str) -> dict:
        """A second reading of the page: the answer a careful model gives to each question."""
        items, _ = self._page(prompt)
        known = items.get("verify", {})
        answers = []
        for line in prompt.split("Questions:", 1)[-1].splitlines():
            number, _, question = line.partition(". ")
            if not number.strip().isdigit():
                continue
            for written, answer in known.items():
                if _same_question(written, question):
                    answers.append({"pair": int(number), "answer": answer})
                    break
        return {"answers": answers}


def _reason(item: dict, sample: SampleRecord) -> str:
    """Why the generator rejected a hand-written item (by its question, or a caption's text)."""
    for q in sample.rejected_qa:
        if (q.kind == "caption" and "text" in item and _key(q.answer) == _key(item["text"])) or (
            "question" in item and _same_question(item["question"], q.question)
        ):
            return q.reject_reason or "?"
    return "not asked"


def judged(sample: SampleRecord, items: dict, planted: bool) -> list[tuple[str, dict, bool]]:
    """(task, hand-written item, kept) for every item the pass sent; a rejected item carries
    its reason under "_reason"."""
    kept = {(q.kind, _key(q.question)) for q in sample.qa}
    kept_captions = {(q.image_index + 1, _key(q.answer)) for q in sample.qa if q.kind == "caption"}
    found = []

    def sent(item: dict) -> bool:
        return item.get("good", False) != planted

    for n, captions in items.get("caption", {}).items():
        for caption in [c for c in captions if sent(c)][:1]:
            found.append(("caption", caption, (int(n), _key(caption["text"])) in kept_captions))
    for pairs in items.get("extractive", {}).values():
        for pair in pairs:
            if sent(pair):
                found.append(("extractive", pair, _kept_pair(pair, sample, kept)))
    for follow in items.get("self_explain", []):
        if sent(follow) and _asked(follow["question_of_pair"], sample):
            kept_it = ("self_explain", _key(follow["question"])) in kept
            found.append(("self_explain", follow, kept_it))
    for cross in items.get("cross_image", []):
        if sent(cross):
            found.append(("cross_image", cross, ("cross_image", _key(cross["question"])) in kept))
    for _, item, kept in found:
        if not kept:
            item["_reason"] = _reason(item, sample)
    return found


_PLACE = frozenset("the this a on in of slide page image document".split())


def _same_question(written: str, kept: str) -> bool:
    """The generator names the image in a question it accepts ("on the slide" -> "on image
    1"): the same question, but for the words that place it."""
    ours, theirs = (
        set(re.findall(r"\w+", normalize(text))) - _PLACE - set("0123456789")
        for text in (written, kept)
    )
    return bool(ours) and len(ours & theirs) >= 0.85 * len(ours | theirs)


def _kept_pair(pair: dict, sample: SampleRecord, kept: set) -> bool:
    return any(
        q.kind == "extractive" and normalize(q.answer) == normalize(pair["answer"].strip(" .,;:"))
        and _same_question(pair["question"], q.question)
        for q in sample.qa
    )  # fmt: skip


def _asked(question: str, sample: SampleRecord) -> bool:
    """The pair a follow-up belongs to was accepted, so the follow-up was asked."""
    return any(q.kind == "extractive" and _same_question(question, q.question) for q in sample.qa)


def simulate(folders: list[Path], verify: bool = False) -> list[tuple[str, str, dict, bool]]:
    """(scenario, task, item, kept) for every hand-written item, both passes."""
    runs = [(window(f), json.loads((f / "items.json").read_text())) for f in folders]
    results = []
    with FakeOpenAI() as fake:
        llm = LLMOptions(
            base_url=fake.base_url, model="fake-model", max_retries=2, timeout_s=10,
            structured_output="json_schema", verify=verify,
        )  # fmt: skip
        options = GeneratorOptions(
            backend="llm", max_qa_per_image=10, cross_image_questions=6, llm=llm
        )
        endpoint = LLMEndpoint(llm.base_url, llm.model, llm.structured_output, None)
        for planted in (False, True):
            model = StrongModel(runs, planted, llm.max_text_chars)
            fake.plant = {
                "caption": model.caption,
                "extractive": model.extractive,
                "self_explain": model.self_explain,
                "multi_image": model.multi_image,
                "verify": model.verify,
                "check": model.check,
            }
            client = LLMClient(llm, endpoint)
            for folder, (sample, items) in zip(folders, runs, strict=True):
                result = generate_llm_qa(sample, client, options)
                for task, item, kept in judged(result, items, planted):
                    results.append((folder.name, task, item, kept))
    return results


def report(results: list[tuple[str, str, dict, bool]], show: bool) -> None:
    print(f"{'task':14s} {'good kept':>14s} {'planted rejected':>18s}  planted classes let through")
    for task in TASKS:
        good = [kept for _, t, item, kept in results if t == task and item.get("good")]
        wrong = [(item, kept) for _, t, item, kept in results if t == task and not item.get("good")]
        through = Counter(item.get("class", "?") for item, kept in wrong if kept)
        total = Counter(item.get("class", "?") for item, _ in wrong)
        classes = ", ".join(f"{c} {through[c]}/{total[c]}" for c in sorted(total) if through[c])
        print(
            f"{task:14s} {sum(good):>6d} of {len(good):<5d} "
            f"{sum(not k for _, k in wrong):>8d} of {len(wrong):<6d}  {classes or '-'}"
        )
    if show:
        by_task = defaultdict(list)
        for scenario, task, item, kept in results:
            if kept != item.get("good", False):
                by_task[task].append((scenario, item))
        for task, wrong in by_task.items():
            print(f"\n{task}: judged wrongly")
            for scenario, item in wrong:
                what = (
                    f"good, rejected ({item.get('_reason')})"
                    if item.get("good")
                    else f"{item.get('class')}, kept"
                )
                text = item.get("question") or item.get("text")
                print(f"  [{scenario}] {what}: {text[:110]!r} -> {item.get('answer', '')[:80]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "measure", "all"), default="all")
    parser.add_argument("--verify", action="store_true", help="with llm.verify on")
    parser.add_argument("--show", action="store_true", help="list the items judged wrongly")
    parser.add_argument("--items", type=Path, default=ITEMS, help="another set of scenarios")
    parser.add_argument("--quote", type=int, default=0, help="quote N good items that were kept")
    parser.add_argument("--seed", type=int, default=0, help="which items --quote draws")
    args = parser.parse_args()
    folders = scenarios(args.split, args.items)
    print(f"{len(folders)} scenarios ({args.split}), llm.verify {'on' if args.verify else 'off'}")
    results = simulate(folders, args.verify)
    report(results, args.show)
    if args.quote:
        quote(results, args.quote, args.seed)


def quote(results: list[tuple[str, str, dict, bool]], n: int, seed: int) -> None:
    """N good items that reached the data, drawn at random with `seed`, as written."""
    import random

    kept = [(s, t, item) for s, t, item, k in results if k and item.get("good")]
    print(f"\n{n} of the {len(kept)} good items kept (seed {seed}):")
    for scenario, task, item in random.Random(seed).sample(kept, min(n, len(kept))):
        text = item.get("question") or item.get("text")
        answer = f" -> {item['answer']!r}" if item.get("answer") else ""
        print(f"  [{scenario}, {task}] {text!r}{answer}")


if __name__ == "__main__":
    main()
