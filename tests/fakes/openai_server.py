"""A tiny OpenAI-compatible server on 127.0.0.1: POST /v1/chat/completions with the real wire
format, answers scripted per test, every request recorded (body and headers)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from local_server import LocalServer


class FakeOpenAI(LocalServer):
    def __init__(self, reply: Callable[[dict], tuple[int, str]]):
        """`reply(body)` returns (HTTP status, assistant text or error message); for 200 the
        second item may instead be a dict with `content` and any of `finish_reason`,
        `refusal`, `usage` to script those fields of the real response."""
        self.reply = reply
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in separate writes: with Nagle's algorithm on, the
            # client's delayed ACK adds ~40 ms to every answer, which a real server does not.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                outer.requests.append(body)
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                status, text = outer.reply(body)
                if status != 200:
                    return self._send(status, {"error": {"message": text, "type": "server_error",
                                                         "code": status}})
                answer = text if isinstance(text, dict) else {"content": text}
                usage = answer.get("usage") or {"prompt_tokens": 10, "completion_tokens": 5}
                usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
                self._send(200, {
                    "id": f"chatcmpl-{len(outer.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": answer.get("finish_reason", "stop"),
                                 "logprobs": None,
                                 "message": {"role": "assistant", "content": answer["content"],
                                             "refusal": answer.get("refusal")}}],
                    "usage": usage,
                })

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._listen(Handler)

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"
