"""`demon`: the `core.json` layout of Cheetah's DEMON benchmark (interleaved instructions).

`core/core.json` holds `{"metadata": {...}, "data": [...]}` and the images sit in `core/images/`.
Each instance has `sample_id`, `task_instruction_id` (an index into `metadata.task_instruction`),
`task_instance: {context, images_path}` and `response`. Images are referenced inline in the
context as `{image#N}` (1-based, in `images_path` order), where the `<image>` placeholders stand.

Rules from Cheetah's own loader (`IDataset` and `split_data` in Cheetah/i4_cheetah_llama2.py,
DCDmllm/Cheetah at 619bd61): `images_path` entries are joined onto `core/images/`, so they are
file names relative to that folder; `{image#1}`..`{image#n}` become `<ImageHere>` and the model
asserts exactly one per listed image, so each instance lists the images its context references.

DEMON instances are single-turn, so a conversation of k turns becomes k instances
(`<sample_id>-<turn>`): each context is the dialogue so far (`User:` / `Assistant:` lines) plus
the next question, and its response the answer. The last instance holds the whole conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from curate.document.conversation import split_placeholders
from curate.io import storage
from curate.outputs.export.base import (
    BaseExporter,
    ExportedSample,
    ExportOptions,
    ExportResult,
    ImageFolder,
    read_bytes,
    read_json,
)
from curate.schemas import IMAGE_PLACEHOLDER, SampleRecord, Turn

CORE = "core"
CORE_FILE = "core/core.json"
IMAGE_DIR = "core/images"  # Cheetah joins images_path onto this
INSTRUCTIONS = [
    "Answer the question about the document images; images are referenced as {image#N}.",
]
ROLE_PREFIX = {"user": "User: ", "assistant": "Assistant: "}
REFERENCE = re.compile(r"\{image#(\d+)\}")
TURN_START = re.compile(r"^(User|Assistant): ", re.MULTILINE)


def _with_references(text: str, first: int) -> tuple[str, int]:
    """`<image>` placeholders -> `{image#N}`, numbered from `first`; returns (text, next number)."""
    out, number = [], first
    for piece in split_placeholders(text):
        if piece is None:
            out.append(f"{{image#{number}}}")
            number += 1
        else:
            out.append(piece)
    return "".join(out), number


def instances(sample: SampleRecord, image_paths: list[str]) -> list[dict]:
    turns = sample.conversations
    lines, number, out = [], 1, []
    for k, (user, answer) in enumerate(zip(turns[0::2], turns[1::2], strict=True)):
        question, number = _with_references(user.content, number)
        context = "\n".join([*lines, ROLE_PREFIX["user"] + question])
        out.append(
            {
                "sample_id": f"{sample.sample_id}-{k}",
                "task_instruction_id": 0,
                # the images referenced so far, no more: Cheetah wants one placeholder each
                "task_instance": {"context": context, "images_path": image_paths[: number - 1]},
                "response": answer.content,
            }
        )
        lines += [ROLE_PREFIX["user"] + question, ROLE_PREFIX["assistant"] + answer.content]
    return out


def _turns_from(context: str, response: str) -> list[Turn]:
    starts = list(TURN_START.finditer(context))
    turns = []
    for m, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() - 1 if following else len(context)
        text = REFERENCE.sub(IMAGE_PLACEHOLDER, context[m.end() : end])
        turns.append(Turn("user" if m.group(1) == "User" else "assistant", text))
    return [*turns, Turn("assistant", response)]


class DemonExporter(BaseExporter):
    name = "demon"
    hub_data = {"data_files": [{"split": "train", "path": CORE_FILE}], "field": "data"}
    columns = [
        ("sample_id", "`<sample_id>-<turn>`"),
        ("task_instruction_id", "index into metadata.task_instruction"),
        (
            "task_instance",
            "`{context, images_path}`; images referenced inline as `{image#N}` (1-based)",
        ),
        ("response", "the answer to the context's last question"),
    ]
    train_with = (
        "Cheetah's i4 script reads `<--i4-dir>/<--dataset>/core/core.json` and the images from "
        "`core/images/`: pass the parent of this folder as `--i4-dir` and this folder's name as"
        " `--dataset`."
    )

    def write(
        self, samples: Iterable[SampleRecord], output: str, options: ExportOptions
    ) -> ExportResult:
        result = ExportResult(output, self.name, files=[CORE_FILE])
        images = ImageFolder(output, IMAGE_DIR)
        handle = storage.open_file(storage.join(output, *CORE_FILE.split("/")), "wb")
        count = 0
        try:
            handle.write(b'{"data": [\n')
            for sample in samples:
                paths = images.add_sample(sample, prefix="")
                for instance in instances(sample, paths):
                    handle.write((b",\n" if count else b"") + _dumps(instance))
                    count += 1
                result.samples += 1
                result.images += len(paths)
            metadata = {
                "dataset": "curate",
                "split": "train",
                "num_sample": count,
                "task_instruction": INSTRUCTIONS,
                "question_type": "open-ended",
            }
            handle.write(b'\n], "metadata": ' + _dumps(metadata) + b"}\n")
        finally:
            handle.close()
        return result

    def validate(self, output: str) -> list[str]:
        core = read_json(storage.join(output, *CORE_FILE.split("/")))
        errors = []
        metadata, data = core.get("metadata") or {}, core.get("data")
        for key in ("dataset", "split", "num_sample", "task_instruction", "question_type"):
            if key not in metadata:
                errors.append(f"metadata.{key} is missing")
        if not isinstance(data, list):
            return [*errors, "`data` must be a list of instances"]
        if metadata.get("num_sample") != len(data):
            errors.append(
                f"metadata.num_sample is {metadata.get('num_sample')} but data holds {len(data)}"
            )
        for instance in data:
            sid = instance.get("sample_id")
            task = instance.get("task_instance") or {}
            paths, context = task.get("images_path"), task.get("context")
            if not isinstance(instance.get("task_instruction_id"), int) or not (
                0 <= instance["task_instruction_id"] < len(metadata.get("task_instruction") or [])
            ):
                errors.append(f"{sid}: task_instruction_id must index metadata.task_instruction")
            if (
                not isinstance(paths, list)
                or not isinstance(context, str)
                or "response" not in instance
            ):
                errors.append(
                    f"{sid}: needs task_instance.context, task_instance.images_path and response"
                )
                continue
            if IMAGE_PLACEHOLDER in context:
                errors.append(
                    f"{sid}: {IMAGE_PLACEHOLDER} in context; DEMON references images as {{image#N}}"
                )
            numbers = [int(n) for n in REFERENCE.findall(context)]
            if any(not 1 <= n <= len(paths) for n in numbers):
                errors.append(
                    f"{sid}: reference {{image#N}} out of range 1..{len(paths)}: {numbers}"
                )
            if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
                errors.append(f"{sid}: each image is referenced once, in order: {numbers}")
            prompt = metadata.get("task_instruction", [""])[0] + context  # as IDataset builds it
            for n in range(1, len(paths) + 1):
                prompt = prompt.replace(f"{{image#{n}}}", "<ImageHere>")
            if prompt.count("<ImageHere>") != len(paths):
                errors.append(
                    f"{sid}: {prompt.count('<ImageHere>')} image placeholders for {len(paths)} "
                    "images in images_path (Cheetah asserts they match)"
                )
            for path in paths:
                if not storage.exists(storage.join(output, *IMAGE_DIR.split("/"), path)):
                    errors.append(
                        f"{sid}: image {path} is missing from {IMAGE_DIR}/ (Cheetah joins "
                        "images_path onto it)"
                    )
        return errors

    def read(self, output: str) -> Iterator[ExportedSample]:
        """One sample per conversation: its last instance holds every turn."""
        last: dict[str, dict] = {}
        for instance in read_json(storage.join(output, *CORE_FILE.split("/")))["data"]:
            sample_id, _turn = instance["sample_id"].rsplit("-", 1)
            last[sample_id] = instance
        for sample_id, instance in last.items():
            task = instance["task_instance"]
            images = [
                read_bytes(storage.join(output, *IMAGE_DIR.split("/"), p))
                for p in task["images_path"]
            ]
            yield ExportedSample(
                sample_id, images, _turns_from(task["context"], instance["response"])
            )


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
