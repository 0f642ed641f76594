"""A local stand-in for the Hugging Face Hub's upload API that records every request.

The Hub cannot be reached from tests, so this serves the endpoints huggingface_hub's
create_repo / create_branch / preupload_lfs_files / create_commit call, on 127.0.0.1, and keeps
what it received: LFS objects by sha256 and each commit's operations.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    requests: list[tuple[str, str, dict]] = field(default_factory=list)  # method, path, headers
    lfs_objects: dict[str, bytes] = field(default_factory=dict)  # sha256 -> content
    commits: list[dict] = field(
        default_factory=list
    )  # {"repo", "revision", "header", "lfs", "files"}
    repos: dict[str, dict] = field(default_factory=dict)
    branches: list[tuple[str, str]] = field(default_factory=list)
    validated_yaml: list[str] = field(default_factory=list)


class HubServer:
    def __init__(self):
        self.recorded = Recorded()
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _make_handler(server: HubServer):
    rec = server.recorded

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _json(self, status: int, payload) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> None:
            rec.requests.append((self.command, self.path, dict(self.headers)))

        def do_POST(self):  # noqa: N802 - http.server's naming
            self._record()
            body = self._body()
            path = self.path.split("?")[0]
            if path == "/api/repos/create":
                payload = json.loads(body)
                repo = (
                    f"{payload.get('organization') or 'user'}/{payload['name']}"
                    if "/" not in payload["name"]
                    else payload["name"]
                )
                rec.repos[repo] = payload
                return self._json(200, {"url": f"{server.url}/datasets/{repo}", "name": repo})
            if path == "/api/validate-yaml":  # the card's metadata, checked before the commit
                rec.validated_yaml.append(json.loads(body)["content"])
                return self._json(200, {"errors": [], "warnings": []})
            if m := re.fullmatch(r"/api/datasets/(.+?)/branch/(.+)", path):
                rec.branches.append((m.group(1), m.group(2)))
                return self._json(200, {})
            if m := re.fullmatch(r"/api/datasets/(.+?)/preupload/(.+)", path):
                files = json.loads(body)["files"]
                modes = [
                    {
                        "path": f["path"],
                        "uploadMode": "regular" if f["path"].endswith(".md") else "lfs",
                        "shouldIgnore": False,
                        "oid": None,
                    }
                    for f in files
                ]
                return self._json(200, {"files": modes, "commitOid": "0" * 40})
            if m := re.fullmatch(r"/datasets/(.+?)\.git/info/lfs/objects/batch", path):
                payload = json.loads(body)
                objects = [
                    {
                        "oid": o["oid"],
                        "size": o["size"],
                        "authenticated": True,
                        "actions": {
                            "upload": {
                                "href": f"{server.url}/lfs-upload/{o['oid']}",
                                "expires_in": 3600,
                            }
                        },
                    }
                    for o in payload["objects"]
                ]
                return self._json(200, {"transfer": "basic", "objects": objects})
            if m := re.fullmatch(r"/api/datasets/(.+?)/commit/(.+)", path):
                lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                commit = {
                    "repo": m.group(1),
                    "revision": m.group(2),
                    "header": None,
                    "lfs": {},
                    "files": {},
                }
                for line in lines:
                    key, value = line["key"], line["value"]
                    if key == "header":
                        commit["header"] = value
                    elif key == "lfsFile":
                        commit["lfs"][value["path"]] = value["oid"]
                    elif key == "file":
                        commit["files"][value["path"]] = base64.b64decode(value["content"])
                rec.commits.append(commit)
                oid = hashlib.sha1(body).hexdigest()
                return self._json(
                    200,
                    {
                        "commitUrl": f"{server.url}/datasets/{m.group(1)}/commit/{oid}",
                        "commitOid": oid,
                    },
                )
            return self._json(404, {"error": f"not served by the test hub: POST {path}"})

        def do_PUT(self):  # noqa: N802
            self._record()
            body = self._body()
            if m := re.fullmatch(r"/lfs-upload/([0-9a-f]{64})", self.path):
                if hashlib.sha256(body).hexdigest() != m.group(1):
                    return self._json(400, {"error": "sha256 mismatch"})
                rec.lfs_objects[m.group(1)] = body
                return self._json(200, {})
            return self._json(404, {"error": f"not served by the test hub: PUT {self.path}"})

        def do_GET(self):  # noqa: N802
            self._record()
            return self._json(404, {"error": f"not served by the test hub: GET {self.path}"})

    return Handler
