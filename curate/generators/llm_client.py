"""Chat calls through the official `openai` client, with an on-disk request cache.

Retries on 429, 5xx and timeouts are the client's own (exponential backoff with jitter,
honouring Retry-After), bounded by `max_retries`. Every successful reply is cached under a hash
of (model, prompt version, messages, parameters, schema), so a re-run or a resumed job pays
for no call twice. Cache entries are content-addressed files written atomically: many workers
may share one cache folder, and a killed worker leaves no half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from curate import storage
from curate.config import LLMOptions
from curate.schemas import LLMUsage
from curate.schemas.reasons import FailureReason


class LLMCallError(RuntimeError):
    """A call failed for good; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def _closers(prefix: str) -> str | None:
    """The brackets that close `prefix`, or None when it ends inside a string."""
    stack, in_string, escaped = [], False, False
    for ch in prefix:
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            elif ch != "\\":
                escaped = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    return None if in_string else "".join(reversed(stack))


def parse_json_object(content: str) -> dict[str, Any]:
    """Tolerant parsing of an LLM's JSON reply.

    Code fences and chatter around the first {...} are ignored. A reply cut off by the token
    limit keeps its complete items: it is cut back to the last complete object and closed.
    """
    text = re.sub(r"^```(?:json)?|```$", "", content.strip(), flags=re.MULTILINE).strip()
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the reply")
    text = text[start:]
    end = text.rfind("}")
    candidates = [text[: end + 1]] if end > 0 else []
    cut = len(text)
    while (cut := text.rfind("}", 0, cut)) > 0:  # truncated: close after a complete object
        closers = _closers(text[: cut + 1])
        if closers is not None:
            candidates.append(text[: cut + 1] + closers)
    for candidate in candidates:
        try:
            value = json.loads(candidate, strict=False)  # raw newlines inside strings are common
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the reply is not a JSON object")


def response_format(style: str, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if style == "json_schema":  # OpenAI, vLLM, recent llama.cpp and Ollama
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    if style == "json_object_schema":  # llama-cpp-python's server: grammar from the schema
        return {"type": "json_object", "schema": schema}
    if style == "json_object":
        return {"type": "json_object"}
    return None


class LLMClient:
    """One per worker (created in DoFn.setup); thread-safe for concurrent requests."""

    def __init__(self, options: LLMOptions, cache_dir: str | None, style: str):
        from openai import OpenAI

        self.options = options
        self.model = options.model or ""
        self.style = style
        self.cache_dir = cache_dir
        key = (
            options.api_key.get_secret_value()
            if options.api_key
            else os.environ.get(options.api_key_env)
        )
        self._client = OpenAI(
            base_url=options.base_url,
            api_key=key or "not-needed",  # local servers ignore it; the client requires one
            timeout=options.timeout_s,
            max_retries=options.max_retries,
        )
        price = options.prices.get(self.model)
        self._price = (price.input, price.output) if price else (0.0, 0.0)
        self.priced = price is not None

    def _cache_path(self, key: str) -> str | None:
        return storage.join(self.cache_dir, key[:2], f"{key}.json") if self.cache_dir else None

    def _cached(self, key: str) -> dict[str, Any] | None:
        path = self._cache_path(key)
        if not path:
            return None
        try:
            with storage.open_file(path) as handle:
                return json.loads(handle.read())
        except (FileNotFoundError, json.JSONDecodeError, OSError):
            return None  # a missing or damaged entry is simply a miss

    def _store(self, key: str, entry: dict[str, Any]) -> None:
        path = self._cache_path(key)
        if path:
            storage.makedirs(path.rsplit("/", 1)[0])
            storage.write_bytes_atomic(path, json.dumps(entry).encode())

    def complete_json(
        self, prompt_version: str, messages: list[dict[str, str]], schema: dict[str, Any]
    ) -> tuple[dict[str, Any], LLMUsage]:
        """The parsed JSON reply and what it cost; raises LLMCallError when it cannot be had."""
        params = {
            "model": self.model,
            "temperature": self.options.temperature,
            "max_tokens": self.options.max_tokens,
        }
        key = hashlib.sha256(
            json.dumps(
                {
                    "prompt_version": prompt_version,
                    "messages": messages,
                    "params": params,
                    "schema": schema,
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
        cached = self._cached(key)
        if cached is not None:
            return cached["data"], LLMUsage(cache_hits=1)
        usage = LLMUsage()
        last = ""
        fmt = response_format(self.style, prompt_version.replace(".", "_"), schema)
        attempt_messages = messages
        for _ in range(self.options.invalid_output_retries + 1):
            reply = self._call(attempt_messages, params, fmt)
            usage.requests += 1
            if reply.usage:
                usage.prompt_tokens += reply.usage.prompt_tokens or 0
                usage.completion_tokens += reply.usage.completion_tokens or 0
            last = reply.choices[0].message.content or "" if reply.choices else ""
            try:
                data = parse_json_object(last)
            except ValueError:
                attempt_messages = [
                    *messages,
                    {"role": "assistant", "content": last[:2000]},
                    {
                        "role": "user",
                        "content": "That was not valid JSON. Reply with the JSON object only.",
                    },
                ]
                continue
            usage.cost_usd = self.cost(usage)
            self._store(key, {"data": data, "model": self.model, "prompt_version": prompt_version})
            return data, usage
        raise LLMCallError(
            FailureReason.LLM_INVALID_OUTPUT,
            f"{prompt_version}: no valid JSON after {usage.requests} attempt(s); last reply: "
            f"{last[:300]!r}",
        )

    def _call(self, messages, params, fmt):
        import openai

        extra = {"response_format": fmt} if fmt else {}
        try:
            return self._client.chat.completions.create(messages=messages, **params, **extra)
        except openai.APIStatusError as err:
            raise LLMCallError(
                FailureReason.LLM_ERROR,
                f"HTTP {err.status_code} from the LLM endpoint: {err.message}",
            ) from None
        except openai.APITimeoutError:
            raise LLMCallError(
                FailureReason.LLM_ERROR,
                f"timed out after {self.options.timeout_s:g} s and {self.options.max_retries} "
                "retries",
            ) from None
        except openai.APIConnectionError as err:
            raise LLMCallError(
                FailureReason.LLM_ERROR, f"cannot reach {self.options.base_url}: {err}"
            ) from None

    def cost(self, usage: LLMUsage) -> float:
        per_input, per_output = self._price
        return (usage.prompt_tokens * per_input + usage.completion_tokens * per_output) / 1e6
