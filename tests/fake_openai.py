"""A small OpenAI-compatible server on 127.0.0.1, only for what a real one won't do on demand:
errors, refusals of a response_format, and planted bad items.

Scripted behaviours are consumed one per request (429 with Retry-After, 500, a stall past the
client's timeout, a reply trickled a byte at a time, an HTML page, malformed content, a reply
cut at max_tokens (finish_reason "length"), silence
until the server closes, a reply streamed slowly over a given time). Replies are streamed as
server-sent events when the request asks for it, the way vLLM and OpenAI send them. After
that it answers each task with valid JSON built from the prompt: a good item the checks must
keep, plus planted bad ones they must reject:

- extractive: an answer copied from the page for its own question; an invented answer
  (`HALLUCINATION`); an answer that is on the page but does not fit its question.
- self-explain: a follow-up that reasons about the answer with the page's words.
- cross-image: a question citing a fact from each of two images; one whose facts all come from
  image 1; and a repeat.
`plant[task]` replaces a task's reply with a function of the prompt text.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HALLUCINATION = "Zanzibar Shipping Consortium"
OFF_QUESTION = "Which planet orbits nearest to the sun?"
TASKS = {  # a phrase of each task's system prompt -> the task
    "describe document images": "caption",
    "reading-comprehension": "extractive",
    "follow-up turns": "self_explain",
    "several document images": "multi_image",
    "answer questions about a document page": "verify",
    "strict reviewer of training data": "judge",
    "You check question-answer items": "check",
}


def task_of(request: dict) -> str:
    system = " ".join(
        m["content"]
        for m in request["messages"]
        if m["role"] == "system" and isinstance(m["content"], str)
    )
    return next((task for phrase, task in TASKS.items() if phrase in system), "unknown")


def prompt_text(request: dict) -> str:
    """The user prompt's text (image parts left out)."""
    content = next(m["content"] for m in request["messages"] if m["role"] == "user")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part["type"] == "text")
    return content


def page_text(prompt: str) -> str:
    match = re.search(
        r"Page text:\n(?:\[\[image \d+\]\]\n)?(.*?)\n\n(?:Write|Answered|Questions|$)", prompt, re.S
    )
    return match.group(1) if match else ""


def key_values(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if value.strip() and len(key.split()) <= 5:
            pairs.append((key.strip(), value.strip()))
    return pairs


def pairs_asked(prompt: str) -> list[tuple[str, str]]:
    """(question, answer) of the answered questions a self-explain prompt lists."""
    return re.findall(r"^\d+\. Q: (.*)\n   A: (.*)$", prompt, re.M)


def image_texts(prompt: str) -> list[str]:
    return [
        t.strip()
        for t in re.findall(
            r"Image \d+:\n(?:\[\[image \d+\]\]\n)?(.*?)(?=\n\nImage \d+:|\n\nWrite)", prompt, re.S
        )
    ]


def default_reply(task: str, prompt: str) -> dict:
    text = page_text(prompt)
    if task == "caption":
        first = text.splitlines()[0] if text else "untitled"
        return {"caption": f"A report page headed {first}, with the figures listed below it."}
    if task == "extractive":
        found = key_values(text) or [("page", text.splitlines()[0] if text else "nothing")]
        key, value = found[0]
        other = found[-1][1] if len(found) > 1 else value
        return {
            "qa": [
                {"question": f"What is the {key.lower()}?", "answer": value},
                {"question": "Who owns the harbour?", "answer": HALLUCINATION},
                {"question": OFF_QUESTION, "answer": other},
            ]
        }
    if task == "self_explain":
        return {
            "follow_ups": [
                {
                    "pair": i,
                    "question": f"What does {answer} tell a reader of this page?",
                    "answer": f"{answer} answers the question asked; the text reports it as a key "
                    "figure, which frames the remaining items listed beside it.",
                }
                for i, (_, answer) in enumerate(pairs_asked(prompt), start=1)
            ]
        }
    if task == "multi_image":
        texts = image_texts(prompt)
        first = [t.splitlines()[0] for t in texts if t]
        good = {  # uses the fact of each image it cites
            "question": f'Which comes first in the document: "{first[0]}" or "{first[1]}"?',
            "answer": f'"{first[0]}", on image 1',
            "evidence": [{"image": 1, "fact": first[0]}, {"image": 2, "fact": first[1]}],
        }
        one_image = {
            "question": "What does image 1 say at the top?",
            "answer": first[0],
            "evidence": [{"image": 1, "fact": first[0]}, {"image": 2, "fact": first[0]}],
        }
        return {"questions": [good, one_image, good]}
    if task == "verify":
        return {"answers": []}
    if task == "judge":
        return {"marks": judged(prompt)}
    if task == "check":  # a second reading that finds nothing wrong
        return {"checks": [{"item": n, "wrong": []} for n, _, _ in items_checked(prompt)]}
    return {}


def items_checked(prompt: str) -> list[tuple[int, str, str]]:
    """(number, question or "", answer) of the items a check prompt lists."""
    found = re.findall(
        r"^(\d+)\. \[\w+, [^\]]*\](?: Q: (.*?))?\n(?:   \(follows .*\)\n)?   A: (.*)$", prompt, re.M
    )
    return [(int(n), question, answer) for n, question, answer in found]


def judged(prompt: str) -> list[dict]:
    """A judge as a strong model would mark: an extractive answer the pages hold is correct
    (5), one they do not is wrong (0); other items are correct; the other marks are fixed."""
    pages = prompt.split("Items:\n")[0].lower()
    items = re.findall(r"^(\d+)\. \[(\w+), .*?\] Q: .*?\n   A: (.*)$", prompt, re.M)
    return [
        {
            "item": int(n),
            "correctness": 0 if kind == "extractive" and answer.lower() not in pages else 5,
            "usefulness": 3,
            "question": 4,
            "grounding": 4,
        }
        for n, kind, answer in items
    ]


def decoded_images(request: dict) -> list:
    """The images a request carried, decoded (PIL), in the order they were sent."""
    from PIL import Image

    found = []
    for message in request["messages"]:
        if isinstance(message["content"], list):
            for part in message["content"]:
                if part["type"] == "image_url":
                    data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                    found.append(Image.open(io.BytesIO(data)))
    return found


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # the default 5 drops connects beyond it: a 1 s SYN retry each
    daemon_threads = True


class FakeOpenAI:
    def __init__(self):
        self.script: list[tuple] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.plant: dict = {}  # task -> function(prompt text) -> reply dict
        self.reject_formats: set[str] = set()  # response_format types answered with HTTP 500
        self.refuse: dict[str, int] = {}  # task -> how many of its requests get HTTP 400
        self.latency_s = 0.0  # every reply waits this long (a remote endpoint's latency)
        self.overloaded_above = 0  # with more requests than this in flight: HTTP 429
        self.in_flight = self.most_in_flight = 0
        self.connections = 0  # TCP connections accepted
        self.lock = threading.Lock()
        self.closing = threading.Event()  # ends the handlers that stay silent
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept-alive connections, as vLLM's server does

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections += 1

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send(200, {"data": [{"id": "fake-model"}]})

            def do_POST(self):
                with fake.lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    self._post()
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def _post(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.overloaded_above and fake.in_flight > fake.overloaded_above:
                    self._send(429, {"error": {"message": "overloaded"}}, {"Retry-After": "0"})
                    return
                time.sleep(fake.latency_s)
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    step = fake.script.pop(0) if fake.script else ("ok",)
                fmt = (body.get("response_format") or {}).get("type")
                if fmt == "json_object" and "schema" in (body.get("response_format") or {}):
                    fmt = "json_object_schema"
                if fmt in fake.reject_formats:  # what llama-cpp-python's server says to json_schema
                    self._send(
                        500,
                        {
                            "error": {
                                "message": f"Input should be 'text' or 'json_object', not {fmt}"
                            }
                        },
                    )
                    return
                kind = step[0]
                with fake.lock:  # requests arrive in any order: refuse by task, not by turn
                    refused = fake.refuse.get(task_of(body), 0) > 0
                    if refused:
                        fake.refuse[task_of(body)] -= 1
                if refused:
                    self._send(400, {"error": {"message": "refused for good"}})
                    return
                if kind == "status":
                    self._send(
                        step[1],
                        {"error": {"message": f"injected {step[1]}"}},
                        step[2] if len(step) > 2 else {},
                    )
                    return
                if kind == "sleep":
                    time.sleep(step[1])
                if kind == "silent":  # accepts the request, then never answers
                    self.close_connection = True
                    fake.closing.wait(600)
                    return
                if kind == "html":  # a web server's page where the API was expected
                    page = b"<!doctype html><html><body>Welcome to nginx!</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                self.trickle = step[1] if kind == "trickle" else 0.0
                self.over_s = step[1] if kind == "stream_over" else 0.0
                self.finish_reason = "length" if kind == "cut" else "stop"  # cut: at max_tokens
                if kind in ("content", "cut"):
                    content = step[1]
                else:
                    task, prompt = task_of(body), prompt_text(body)
                    reply = (
                        fake.plant[task](prompt)
                        if task in fake.plant
                        else default_reply(task, prompt)
                    )
                    content = json.dumps(reply)
                if body.get("stream"):
                    self._stream(body, content)
                    return
                self._send(
                    200,
                    {
                        "id": "c1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": self.finish_reason,
                                "message": {"role": "assistant", "content": content},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 100,
                            "completion_tokens": 20,
                            "total_tokens": 120,
                        },
                    },
                )

            def _stream(self, body, content):
                """Server-sent events: the content in pieces (one a second over `stream_over`
                seconds), the finish, the usage, [DONE]; trickled, a byte at a time."""
                if self.over_s:  # a piece a second, some of them empty, as tokens trickle in
                    n = max(1, int(self.over_s))
                    cuts = [len(content) * i // n for i in range(n + 1)]
                    pieces = [content[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
                    pause = self.over_s / n
                else:
                    pieces, pause = [content], 0.0

                def event(choices, usage=None):
                    chunk = {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body["model"],
                        "choices": choices,
                    }
                    if usage:
                        chunk["usage"] = usage
                    data = f"data: {json.dumps(chunk)}\n\n".encode()
                    for i in range(0, len(data), 1 if self.trickle else len(data)):
                        chunked(data[i : i + 1] if self.trickle else data)
                        time.sleep(self.trickle)

                def chunked(data: bytes) -> None:  # HTTP/1.1 chunked transfer encoding
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()

                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for piece in pieces:
                        delta = {"role": "assistant", "content": piece}
                        event([{"index": 0, "delta": delta, "finish_reason": None}])
                        time.sleep(pause)
                    event([{"index": 0, "delta": {}, "finish_reason": self.finish_reason}])
                    if (body.get("stream_options") or {}).get("include_usage"):
                        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
                        event([], usage)
                    chunked(b"data: [DONE]\n\n")
                    chunked(b"")  # the last chunk
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    if getattr(self, "trickle", 0):  # one byte at a time, each read in time
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(self.trickle)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def tasks(self) -> list[str]:
        return [task_of(r) for r in self.requests]

    def prompts(self) -> list[str]:
        return [prompt_text(r) for r in self.requests]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
