"""A small OpenAI-compatible server on 127.0.0.1, only for injecting errors the real one won't make.

Scripted behaviours are consumed one per request (429 with Retry-After, 500, a stall past the
client's timeout, malformed JSON); after that it answers every task with valid JSON built from
the prompt: one answer copied from the page text, one planted hallucination, and multi-image
questions of which one needs a single image and one repeats.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HALLUCINATION = "Zanzibar Shipping Consortium"


def _page_text(prompt: str) -> str:
    match = re.search(r"(?:Page text|Text on the image):\n(.*?)\n\n(?:Write|$)", prompt, re.S)
    return match.group(1) if match else ""


def _answer(text: str) -> str:
    for line in text.splitlines():
        if ":" in line and line.split(":", 1)[1].strip():
            return line.split(":", 1)[1].strip()
    return text.splitlines()[0] if text else "nothing"


def default_reply(request: dict) -> dict:
    fmt = request.get("response_format") or {}
    schema = fmt.get("schema") or fmt.get("json_schema", {}).get("schema") or {}
    required = schema.get("required", [])
    prompt = request["messages"][-1]["content"]
    text = _page_text(prompt)
    if required == ["caption"]:
        return {"caption": f"A page headed {text.splitlines()[0] if text else 'untitled'}."}
    if required == ["qa"]:
        return {
            "qa": [
                {
                    "question": "What value does the page give?",
                    "answer": _answer(text),
                    "explanation": "It follows the colon.",
                },
                {
                    "question": "Who owns the harbour?",
                    "answer": HALLUCINATION,
                    "explanation": "Made up.",
                },
            ]
        }
    return {
        "questions": [
            {
                "question": "Which of image 1 and image 2 mentions the fiscal year?",
                "answer": "Image 1",
                "rationale": "Only image 1 has it.",
                "images": [1, 2],
            },
            {
                "question": "What is the heading of image 1?",
                "answer": "A heading",
                "rationale": "",
                "images": [1],
            },
            {
                "question": "Which of image 1 and image 2 mentions the fiscal year?",
                "answer": "Image 1",
                "rationale": "",
                "images": [1, 2],
            },
        ]
    }


class FakeOpenAI:
    def __init__(self):
        self.script: list[tuple] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send(200, {"data": [{"id": "fake-model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    step = fake.script.pop(0) if fake.script else ("ok",)
                kind = step[0]
                if kind == "status":
                    self._send(
                        step[1],
                        {"error": {"message": f"injected {step[1]}"}},
                        step[2] if len(step) > 2 else {},
                    )
                    return
                if kind == "sleep":
                    time.sleep(step[1])
                content = step[1] if kind == "content" else json.dumps(default_reply(body))
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
                                "finish_reason": "stop",
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

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
