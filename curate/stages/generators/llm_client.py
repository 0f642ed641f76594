"""Chat calls through the official `openai` client, with an on-disk request cache.

- **Retries.** Attempts are curate's own (the openai client makes one): on 408, 409, 429, 5xx
  and connection errors, exponential backoff with jitter honouring Retry-After, up to
  `max_retries`; a timed-out attempt is tried again `timeout_retries` times.
- **A dead endpoint ends fast.** Replies are streamed, so a server that accepts a request and
  stays silent is given up on after `first_byte_timeout_s`, while a slow one that keeps sending
  gets `timeout_s`. Timed-out and unreachable attempts count toward the circuit breaker one by
  one; once it trips, calls in flight are abandoned and every later call fails at once as
  `llm_unavailable`.
- **Structured output.** `auto` negotiates with the endpoint: it tries `json_schema`, then
  `json_object` with a schema (llama.cpp), then plain `json_object`, then the prompt alone, moving
  down when the endpoint rejects a `response_format`, and keeps what works for the rest of the
  job. Whatever the format, replies are parsed tolerantly and checked against the schema.
- **Cache.** A reply that parsed and has the shape asked for is cached under a hash of (endpoint,
  model, prompt version, messages, images, parameters, schema), so a re-run or a resumed job pays
  for no call twice, and a bad reply is never replayed. Entries are content-addressed files
  written atomically: many workers may share one folder; a killed worker leaves no half entry.
- **Images.** With `vision`, a `[[image N]]` mark in a message becomes the N-th image, sent as an
  `image_url` data URI scaled to `vision_max_pixels`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from curate.core.config import LLMOptions
from curate.core.stage import ItemFailed
from curate.io import storage
from curate.schemas import LLMUsage
from curate.schemas.reasons import FailureReason
from curate.stages.generators.inflight import AdaptiveLimit

log = logging.getLogger(__name__)
STYLES = ("json_schema", "json_object_schema", "json_object", "none")
IMAGE_MARK = re.compile(r"\[\[image (\d+)\]\]")
MAX_ROOM = 4  # a reply cut at max_tokens is asked again with up to this many times the room
MAX_REPLY_CHARS = 200_000  # far above max_tokens; a reply this long is an endpoint gone wrong
_FORMAT_STATUSES = {400, 404, 415, 422, 500, 501}  # what a rejected response_format looks like


@dataclass(frozen=True)
class LLMEndpoint:
    """Where this run's calls go, settled when the job starts (`LLMGenerator.serve`): the
    user's endpoint, or the embedded server with its port of the day. Run state, not config.

    `cache_name` is what replies are cached under in place of `base_url` (the embedded server
    gets a new port every run, yet its replies are the same); `server_status` is the embedded
    server's status file, read to report a crash. `stream`: ask for streamed replies (the
    embedded server's carry no token counts, and its crashes are watched instead)."""

    base_url: str | None
    model: str
    structured_output: str = "auto"
    cache_dir: str | None = None
    cache_name: str | None = None
    server_status: str | None = None
    stream: bool = True

    @classmethod
    def configured(cls, options: LLMOptions, cache_dir: str | None = None) -> LLMEndpoint:
        """The endpoint the options name, as they are (a user's endpoint)."""
        return cls(
            options.base_url,
            options.model or "",
            options.structured_output,
            options.cache_dir or cache_dir,
            stream=options.stream,
        )


class LLMCallError(ItemFailed):
    """A call failed for good; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, detail: str, usage: LLMUsage | None = None):
        super().__init__(reason, detail)
        self.usage = usage or LLMUsage()  # the attempts it made, which count and may cost


# ----------------------------------------------------------------------------- parsing


def _cut_points(text: str, start: int) -> list[tuple[int, str]]:
    """Where a truncated object can be closed: after each complete nested element, with the
    brackets that close it from there. One pass over the text."""
    stack: list[str] = []
    in_string = escaped = False
    cuts = []
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
            if not stack:
                break
            cuts.append((i + 1, "".join(reversed(stack))))
    return cuts


def parse_json_object(content: str) -> dict[str, Any]:
    """Tolerant parsing of an LLM's JSON reply, in linear time.

    Code fences and chatter around the first {...} are ignored; raw newlines inside strings are
    accepted. A reply cut off by the token limit keeps its complete items: it is closed after
    its last complete element.
    """
    if len(content) > MAX_REPLY_CHARS:
        raise ValueError(f"the reply has {len(content)} characters, more than {MAX_REPLY_CHARS}")
    text = re.sub(r"^```(?:json)?|```$", "", content.strip(), flags=re.MULTILINE).strip()
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the reply")
    decoder = json.JSONDecoder(strict=False)
    try:
        value, _ = decoder.raw_decode(text, start)
        if isinstance(value, dict):
            return value
    except json.JSONDecodeError:
        pass
    for cut, closers in reversed(_cut_points(text, start)[-3:]):
        try:
            value = json.loads(text[start:cut] + closers, strict=False)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the reply is not a JSON object")


_TYPES = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float)}


def schema_problem(value: Any, schema: dict[str, Any], where: str = "reply") -> str | None:
    """What is wrong with `value` for the (simple) JSON schema: type, required keys, items."""
    kind = schema.get("type")
    if (
        kind
        and not isinstance(value, _TYPES[kind])
        or (kind in ("integer", "number") and isinstance(value, bool))
    ):
        return f"{where} should be {kind}, got {type(value).__name__}"
    if kind == "object":
        for key in schema.get("required", []):
            if key not in value:
                return f"{where} lacks {key!r}"
        for key, sub in schema.get("properties", {}).items():
            if key in value and (problem := schema_problem(value[key], sub, f"{where}.{key}")):
                return problem
    if kind == "array":
        for i, item in enumerate(value):
            if problem := schema_problem(item, schema.get("items", {}), f"{where}[{i}]"):
                return problem
    return None


def response_format(style: str, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if style == "json_schema":  # OpenAI, vLLM, recent llama.cpp and Ollama
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    if style == "json_object_schema":  # llama-cpp-python's server: grammar from the schema
        return {"type": "json_object", "schema": schema}
    if style == "json_object":
        return {"type": "json_object"}
    return None


def image_data_uri(data: bytes, max_pixels: int) -> str:
    """The image as a data URI, scaled down to at most `max_pixels` pixels (PNG or JPEG)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        fmt = (image.format or "PNG").upper()
        if image.width * image.height > max_pixels or fmt not in ("PNG", "JPEG"):
            scale = min(1.0, (max_pixels / (image.width * image.height)) ** 0.5)
            size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
            buffer = io.BytesIO()
            image.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(buffer, format="PNG")
            data, fmt = buffer.getvalue(), "PNG"
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(data).decode()}"


def with_images(messages: list[dict[str, Any]], uris: list[str]) -> list[dict[str, Any]]:
    """Messages whose `[[image N]]` marks became image parts, in the order the text names them."""
    out = []
    for message in messages:
        content = message["content"]
        if not isinstance(content, str) or not IMAGE_MARK.search(content):
            out.append(message)
            continue
        parts: list[dict[str, Any]] = []
        cursor = 0
        for mark in IMAGE_MARK.finditer(content):
            if content[cursor : mark.start()].strip():
                parts.append({"type": "text", "text": content[cursor : mark.start()]})
            parts.append({"type": "image_url", "image_url": {"url": uris[int(mark.group(1)) - 1]}})
            cursor = mark.end()
        if content[cursor:].strip():
            parts.append({"type": "text", "text": content[cursor:]})
        out.append({**message, "content": parts})
    return out


@functools.cache
def _httpx():
    """The httpx the openai client is built on (recent releases ship it as `httpx2`)."""
    import importlib

    from openai import DefaultHttpxClient

    base = next(c for c in DefaultHttpxClient.__mro__[1:] if c.__name__ == "Client")
    return importlib.import_module(base.__module__.split(".")[0])


_STREAM_END = b"data: [DONE]\n\n"  # an event stream's last event


class _DeadlineTransport:
    """An httpx transport whose every request has a total deadline, body included, and can
    be abandoned.

    httpx's timeouts are per read, so a server that sends a byte every few seconds never trips
    them; here the body's reader checks the clock, and a late reply raises ReadTimeout. A set
    `abandon` event (the breaker tripped) ends a reply being read at its next chunk."""

    def __init__(self, seconds: float, abandon: threading.Event, connections: int = 20):
        self.seconds, self.abandon = seconds, abandon
        httpx = _httpx()
        # a kept-alive connection for each request in flight: httpx keeps 20 by default, and
        # opening a new one per request costs a worker's CPU at 64 in flight
        keep = max(20, connections)
        limits = httpx.Limits(max_connections=2 * keep, max_keepalive_connections=keep)
        self._inner = httpx.HTTPTransport(limits=limits)

    def handle_request(self, request):
        import time

        httpx = _httpx()
        deadline = time.monotonic() + self.seconds
        response = self._inner.handle_request(request)
        body, abandon = response.stream, self.abandon

        class _Body(httpx.SyncByteStream):
            tail = b""

            def __iter__(inner):
                for chunk in body:
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout(
                            f"the reply took longer than {self.seconds:g} s", request=request
                        )
                    if abandon.is_set():
                        raise httpx.ReadError("abandoned: the breaker tripped", request=request)
                    inner.tail = (inner.tail + chunk)[-len(_STREAM_END) :]
                    yield chunk

            def close(inner):
                # the openai client stops reading at an event stream's [DONE], before the
                # body's last (empty) chunk, and an unfinished body closes its connection:
                # read that end, so the connection is kept for the next request
                if inner.tail == _STREAM_END and not abandon.is_set():
                    for _ in body:
                        pass
                body.close()

        response.stream = _Body()
        return response

    def close(self):
        self._inner.close()


class _Timeout(Exception):
    """An attempt that got no reply, or not all of it, in time."""


def _in_thread(work, abandon: threading.Event, poll_s: float = 0.2):
    """`work()`'s result, waited for on this thread, or `_ABANDONED` once `abandon` is set. The
    work runs on a daemon thread, so an abandoned request still waiting for its first byte
    holds up neither the caller nor the process's exit."""
    from concurrent.futures import Future
    from concurrent.futures import TimeoutError as Pending

    future: Future = Future()

    def run():
        try:
            future.set_result(work())
        except BaseException as err:  # handed to the waiting thread
            future.set_exception(err)

    threading.Thread(target=run, daemon=True, name="curate-llm-request").start()
    while True:
        try:
            return future.result(timeout=poll_s)
        except Pending:
            if abandon.is_set():
                return _ABANDONED


_ABANDONED = object()
RETRY_AFTER_LIMIT_S = 60  # a Retry-After up to this is waited for; a longer one is an error
RETRY_STATUSES = {408, 409, 429}


def _retry_after_s(headers) -> float | None:
    """The seconds a Retry-After header asks for (None when absent or not a number)."""
    try:
        return float((headers.get("retry-after") or "").strip()) if headers else None
    except ValueError:
        return None


def _backoff_s(retry: int, headers=None) -> float:
    """The wait before retry number `retry` (0-based): Retry-After when the server asks for at
    most RETRY_AFTER_LIMIT_S, else 0.5 s doubling to 8 s, less up to a quarter (jitter)."""
    import random

    seconds = _retry_after_s(headers)
    if seconds is not None and 0 < seconds <= RETRY_AFTER_LIMIT_S:
        return seconds
    return min(0.5 * 2.0**retry, 8.0) * (1 - 0.25 * random.random())


def _should_retry(err) -> bool:
    """What the openai client would retry: 408, 409, 429 and 5xx, unless the server says not to
    (x-should-retry) or asks to wait longer than curate will."""
    headers = err.response.headers
    if headers.get("x-should-retry") in ("true", "false"):
        return headers["x-should-retry"] == "true"
    if (_retry_after_s(headers) or 0) > RETRY_AFTER_LIMIT_S:
        return False
    return err.status_code in RETRY_STATUSES or err.status_code >= 500


class _FormatRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------ the client


class LLMClient:
    """One per worker (created in setup); thread-safe, with at most `llm.most_in_flight` requests
    in flight however many threads call it."""

    def __init__(self, options: LLMOptions, endpoint: LLMEndpoint):
        from openai import DefaultHttpxClient, OpenAI

        self.options, self.endpoint = options, endpoint
        self.model = endpoint.model
        self.cache_dir = endpoint.cache_dir
        style = endpoint.structured_output
        self._style = None if style == "auto" else style  # None: still negotiating
        self._lock = threading.Lock()
        key = (
            options.api_key.get_secret_value()
            if options.api_key
            else os.environ.get(options.api_key_env)
        )
        httpx = _httpx()
        if endpoint.stream:  # every read waits at most first_byte_timeout_s
            quiet = min(options.first_byte_timeout_s, options.timeout_s)
            timeout = httpx.Timeout(quiet, write=options.timeout_s, pool=options.timeout_s)
        else:  # the first byte is the whole reply's
            timeout = httpx.Timeout(options.timeout_s)
        self._stream = endpoint.stream  # off once a streamed reply came without token counts
        self._tripped = threading.Event()  # the breaker: set, no call is sent or waited for
        self._slots = AdaptiveLimit(options.most_in_flight)
        self._negotiation = threading.Lock()
        self._client = OpenAI(
            base_url=endpoint.base_url,
            api_key=key or "not-needed",  # local servers ignore it; the client requires one
            timeout=timeout,
            max_retries=0,  # attempts are counted and retried here (_request)
            http_client=DefaultHttpxClient(
                transport=_DeadlineTransport(
                    options.timeout_s, self._tripped, options.most_in_flight
                )
            ),
        )
        self._failures_in_a_row = 0  # the circuit breaker's count, over all threads
        self._last_failure = ""
        price = options.prices.get(self.model)
        self._price = (price.input, price.output) if price else None
        self.priced = price is not None

    @property
    def style(self) -> str | None:
        """The structured-output style in use (None until `auto` has found one)."""
        return self._style

    # cache ---------------------------------------------------------------------------------

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

    # calls ---------------------------------------------------------------------------------

    def complete_json(
        self,
        prompt_version: str,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        images: list[bytes] | None = None,
    ) -> tuple[dict[str, Any], LLMUsage]:
        """The parsed reply, with the shape `schema` asks for, and what it cost; raises
        LLMCallError when it cannot be had."""
        params = {
            "model": self.model,
            "temperature": self.options.temperature,
            "max_tokens": self.options.max_tokens,
        }
        if self.options.seed is not None:
            params["seed"] = self.options.seed
        uris = [image_data_uri(data, self.options.vision_max_pixels) for data in images or []]
        key = hashlib.sha256(
            json.dumps(
                {
                    "endpoint": self.endpoint.cache_name or self.endpoint.base_url,
                    "prompt_version": prompt_version,
                    "messages": messages,
                    "images": [hashlib.sha256(uri.encode()).hexdigest() for uri in uris],
                    "params": params,
                    "schema": schema,
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
        cached = None if self.options.refresh_cache else self._cached(key)
        if cached is not None and schema_problem(cached.get("data"), schema) is None:
            made = cached.get("usage") or {}  # what the reply cost when it was made
            return cached["data"], LLMUsage(
                cache_hits=1,
                cached_prompt_tokens=made.get("prompt_tokens", 0),
                cached_completion_tokens=made.get("completion_tokens", 0),
                cached_cost_usd=made.get("cost_usd", 0.0) if made else 0.0,
            )
        if self.endpoint.server_status:  # the local server crashed for good: fail fast, say why
            from curate.stages.generators.embedded import crash_report, server_state

            if server_state(self.endpoint.server_status) == "dead":
                raise LLMCallError(
                    FailureReason.LLM_ERROR, crash_report(self.endpoint.server_status)
                )
        self._check_breaker()
        usage = LLMUsage()
        try:
            result = self._complete(
                key,
                prompt_version,
                with_images(messages, uris) if uris else messages,
                params,
                schema,
                usage,
                len(uris),
            )
        except LLMCallError as err:
            usage.cost_usd = self.cost(usage)
            err.usage = usage
            if err.reason == FailureReason.LLM_ERROR:  # HTTP errors: the call counts once
                self._failed(str(err))
            raise
        with self._lock:
            self._failures_in_a_row = 0
        return result

    # the circuit breaker -------------------------------------------------------------------

    def _failed(self, why: str) -> None:
        """One more failure in a row; the breaker trips at `breaker_failures`."""
        with self._lock:
            self._failures_in_a_row += 1
            self._last_failure = why[:300]
            if self._failures_in_a_row >= self.options.breaker_failures:
                self._tripped.set()

    def _check_breaker(self) -> None:
        if self._tripped.is_set():
            raise LLMCallError(FailureReason.LLM_UNAVAILABLE, self._breaker_detail())

    def _breaker_detail(self) -> str:
        return (
            f"not sent: {self._failures_in_a_row} attempts or calls to {self.endpoint.base_url} "
            f"failed in a row (last: {self._last_failure}); check that the server is up and "
            "answering, then re-run: finished samples come from the cache"
        )

    def _complete(self, key, prompt_version, sent, params, schema, usage: LLMUsage, images: int):
        """Ask, parse and check the shape; re-ask on a bad reply; cache what passes."""
        attempt_messages, last, problem = sent, "", ""
        for _ in range(self.options.invalid_output_retries + 1):
            room = params["max_tokens"]
            while True:  # a reply cut at max_tokens is asked again with twice the room
                last, finish = self._call(
                    attempt_messages,
                    {**params, "max_tokens": room},
                    prompt_version.replace(".", "_"),
                    schema,
                    usage,
                )
                usage.images += images
                if finish != "length" or room >= params["max_tokens"] * MAX_ROOM:
                    break
                room *= 2
            try:
                data = parse_json_object(last)  # a cut reply keeps its complete items
                problem = schema_problem(data, schema) or ""
            except ValueError as err:
                data, problem = None, str(err)
            if not problem:
                usage.cost_usd = self.cost(usage)
                if finish != "length":  # a reply still cut is used, never cached as complete
                    made = {
                        "prompt_tokens": usage.prompt_tokens,
                        "completion_tokens": usage.completion_tokens,
                        "cost_usd": usage.cost_usd,
                    }
                    self._store(
                        key,
                        {
                            "data": data,
                            "model": self.model,
                            "prompt_version": prompt_version,
                            "usage": made,
                        },
                    )
                return data, usage
            attempt_messages = [
                *sent,
                {"role": "assistant", "content": last[:2000]},
                {
                    "role": "user",
                    "content": f"That was not the JSON asked for ({problem}). Reply with the JSON "
                    "object only.",
                },
            ]
        raise LLMCallError(
            FailureReason.LLM_INVALID_OUTPUT,
            f"{prompt_version}: no valid reply after {usage.requests} attempt(s) ({problem}); "
            f"last reply: {last[:300]!r}",
        )

    def _call(self, messages, params, name: str, schema: dict[str, Any], usage: LLMUsage):
        """One reply's text and finish reason, in the negotiated structured-output style
        (negotiated first if need be)."""
        if self._style is None:
            with self._negotiation:  # one call negotiates; the others then use what it found
                if self._style is None:
                    return self._negotiate(messages, params, name, schema, usage)
        # outside the lock: calls that waited for the negotiation go out together
        return self._request(messages, params, self._style, name, schema, usage)

    def _negotiate(self, messages, params, name: str, schema: dict[str, Any], usage: LLMUsage):
        """The first reply, in the first structured-output style the endpoint takes."""
        rejected: list[str] = []
        for style in STYLES:
            try:
                text = self._request(messages, params, style, name, schema, usage, negotiating=True)
            except _FormatRejected as err:
                rejected.append(f"{style}: HTTP {err.status}")
                continue
            self._style = style
            return text
        raise LLMCallError(
            FailureReason.LLM_ERROR,
            f"the endpoint rejected every structured-output style ({'; '.join(rejected)})",
        )

    def _request(
        self, messages, params, style, name, schema, usage: LLMUsage, negotiating: bool = False
    ) -> tuple[str, str | None]:
        """The reply's text and finish reason, after as many attempts as the retry budgets
        allow."""
        import time

        import openai

        fmt = response_format(style, name, schema)
        if style in ("json_object", "none"):  # the format carries no schema: the prompt does
            shape = json.dumps(schema, separators=(",", ":"))
            messages = [
                *messages,
                {
                    "role": "system",
                    "content": f"Reply with one JSON object of this schema: {shape}",
                },
            ]
        extra = {"response_format": fmt} if fmt else {}
        retries = 0 if negotiating else self.options.max_retries
        errors = timeouts = 0
        while True:
            self._check_breaker()
            usage.requests += 1  # every attempt counts, and may cost
            try:
                return self._attempt(messages, {**params, **extra}, usage)
            except openai.APIStatusError as err:
                if negotiating and err.status_code in _FORMAT_STATUSES:
                    raise _FormatRejected(err.status_code, err.message) from None
                if errors < retries and _should_retry(err):
                    time.sleep(_backoff_s(errors, err.response.headers))
                    errors += 1
                    continue
                raise LLMCallError(FailureReason.LLM_ERROR, _status_detail(err, errors)) from None
            except _Timeout as err:
                self._check_breaker()  # abandoned: the breaker tripped meanwhile
                self._failed(str(err))
                if timeouts < self.options.timeout_retries:
                    timeouts += 1
                    continue
                raise LLMCallError(
                    FailureReason.LLM_UNAVAILABLE, f"{err} ({timeouts + 1} attempt(s))"
                ) from None
            except openai.APIConnectionError as err:
                self._check_breaker()
                detail = self._unreachable(err)
                self._failed(detail)
                if errors < retries:
                    time.sleep(_backoff_s(errors))
                    errors += 1
                    continue
                raise LLMCallError(FailureReason.LLM_UNAVAILABLE, detail) from None
            except openai.APIError as err:  # an error event inside a streamed reply
                raise LLMCallError(
                    FailureReason.LLM_ERROR, f"the endpoint reported an error: {err}"
                ) from None

    def _attempt(self, messages, params, usage: LLMUsage) -> tuple[str, str | None]:
        """One HTTP request, streamed or not; abandoned when the breaker trips meanwhile."""
        import openai

        httpx = _httpx()

        def send() -> tuple[str, str | None]:
            with self._slots:  # at most llm.most_in_flight requests, fewer when overloaded
                self._check_breaker()  # it may have tripped while this request waited
                try:
                    result = request()
                except openai.APIStatusError as err:
                    if err.status_code == 429 or err.status_code >= 500:
                        self._slots.overloaded()
                    raise
                self._slots.succeeded()
                return result

        def request() -> tuple[str, str | None]:
            try:
                if self._stream:
                    return self._streamed(messages, params, usage)
                reply = self._client.chat.completions.create(
                    messages=messages, timeout=self.options.timeout_s, **params
                )  # the first byte is the whole reply's
                return self._whole(reply, usage)
            except (openai.APITimeoutError, httpx.TimeoutException) as err:
                raise _Timeout(self._timeout_detail(err)) from None
            except httpx.TransportError as err:  # the connection broke while the body was read
                raise openai.APIConnectionError(request=err.request) from None

        result = _in_thread(send, self._tripped)
        if result is _ABANDONED:
            raise LLMCallError(FailureReason.LLM_UNAVAILABLE, self._breaker_detail())
        return result

    def _timeout_detail(self, err: Exception) -> str:
        cut_off = "longer than" in str(err.__cause__ or err)  # the total deadline, not silence
        if self._stream and not cut_off:
            return (
                f"{self.endpoint.base_url} sent nothing for {self.options.first_byte_timeout_s:g} "
                "s (llm.first_byte_timeout_s)"
            )
        return f"timed out: no complete reply within {self.options.timeout_s:g} s (llm.timeout_s)"

    def _whole(self, reply, usage: LLMUsage) -> tuple[str, str | None]:
        """The text and finish reason of a reply that came in one piece."""
        if isinstance(reply, str):  # the openai client hands back a non-JSON body as text
            raise LLMCallError(FailureReason.LLM_ERROR, self._not_an_api(reply))
        if getattr(reply, "usage", None):
            usage.prompt_tokens += reply.usage.prompt_tokens or 0
            usage.completion_tokens += reply.usage.completion_tokens or 0
        if not getattr(reply, "choices", None):
            raise LLMCallError(
                FailureReason.LLM_INVALID_OUTPUT,
                f"the endpoint answered without a chat completion: {str(reply)[:200]!r}",
            )
        choice = reply.choices[0]
        return choice.message.content or "", choice.finish_reason

    def _streamed(self, messages, params, usage: LLMUsage) -> tuple[str, str | None]:
        """The text and finish reason of a streamed reply, put together from its chunks; an
        endpoint that answers a stream request in one piece is read as such."""
        from openai.types.chat import ChatCompletion

        stream = self._client.chat.completions.create(
            messages=messages, stream=True, stream_options={"include_usage": True}, **params
        )
        kind = stream.response.headers.get("content-type", "")
        if "event-stream" not in kind:
            body = stream.response.read().decode("utf-8", "replace")
            stream.close()
            try:
                return self._whole(ChatCompletion.model_validate_json(body), usage)
            except ValueError:
                raise LLMCallError(FailureReason.LLM_ERROR, self._not_an_api(body)) from None
        parts: list[str] = []
        finish, counted = None, False
        with stream:
            for chunk in stream:
                counted = counted or bool(chunk.usage)
                if chunk.usage:
                    usage.prompt_tokens += chunk.usage.prompt_tokens or 0
                    usage.completion_tokens += chunk.usage.completion_tokens or 0
                for choice in chunk.choices or []:
                    if choice.index != 0:
                        continue
                    if choice.delta and choice.delta.content:
                        parts.append(choice.delta.content)
                    finish = choice.finish_reason or finish
        if not counted and self._stream:  # spend must be counted: ask in one piece from now on
            self._stream = False
            log.warning(
                "%s streams replies without token counts (stream_options.include_usage): "
                "asking without streaming from now on, so that spend is counted; a silent "
                "endpoint then costs llm.timeout_s per attempt",
                self.endpoint.base_url,
            )
        return "".join(parts), finish

    def _not_an_api(self, body: str) -> str:
        return (
            f"{self.endpoint.base_url} answered with a page, not a chat completion "
            f"({body[:120]!r}): is it the API's address (usually ending in /v1)?"
        )

    def _unreachable(self, err: Exception) -> str:
        """Why the endpoint cannot be reached: a crashed local server says so, with its log."""
        from curate.stages.generators.embedded import crash_report

        report = crash_report(self.endpoint.server_status)
        return report or f"cannot reach {self.endpoint.base_url}: {err}"

    def cost(self, usage: LLMUsage) -> float | None:
        """What the tokens cost at the model's price; None when it has none (not $0)."""
        if self._price is None:
            return None
        per_input, per_output = self._price
        return (usage.prompt_tokens * per_input + usage.completion_tokens * per_output) / 1e6


def _status_detail(err, retries: int) -> str:
    """What an HTTP error means for the user; a 429 that asks to wait longer than the client
    will is said to be exactly that."""
    detail = f"HTTP {err.status_code} from the LLM endpoint: {err.message}"
    if err.status_code != 429:
        return detail
    seconds = _retry_after_s(err.response.headers)
    if seconds is not None and seconds > RETRY_AFTER_LIMIT_S:
        return (
            f"rate limited: the endpoint asked to wait {seconds:g} s (Retry-After), longer than "
            f"curate waits ({RETRY_AFTER_LIMIT_S} s); re-run later or lower --llm-concurrency "
            "(finished samples come from the cache)"
        )
    return f"{detail} (rate limited after {retries} retries; lower --llm-concurrency)"
