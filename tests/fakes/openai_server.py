"""A tiny OpenAI-compatible server on 127.0.0.1 with the real wire format: POST
/v1/chat/completions, GET /v1/models (openai/types/model.py's Model objects in a list), and the Batch API (POST /v1/files as multipart, GET /v1/files/{id}/content,
POST /v1/batches, GET /v1/batches[/{id}], POST /v1/batches/{id}/cancel). Answers are scripted
per test; every request is recorded (chat bodies, headers of every call, uploads, batches)."""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from local_server import LocalServer

# A batch moves validating -> in_progress -> finalizing -> completed, one step per poll.
BATCH_STEPS = ("validating", "in_progress", "finalizing", "completed")


def completion(body: dict, answer, n: int) -> dict:
    """The chat.completion object OpenAI returns for `body`; `answer` is the assistant text or
    a dict with `content` and any of `finish_reason`, `refusal`, `usage`."""
    answer = answer if isinstance(answer, dict) else {"content": answer}
    usage = dict(answer.get("usage") or {"prompt_tokens": 10, "completion_tokens": 5})
    usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": answer.get("finish_reason", "stop"),
                     "logprobs": None,
                     "message": {"role": "assistant", "content": answer["content"],
                                 "refusal": answer.get("refusal")}}],
        "usage": usage,
    }


# What real servers answer (status, the body's "error" object) to a response_format they do not
# take, for a reply() to return as it is.
# llama-cpp-python's server 0.3.36 (seen on the real one): its request model allows only 'text'
# or 'json_object', and llama_cpp/server/errors.py wraps the validation error as a 500.
LLAMA_CPP_JSON_SCHEMA = (500, {
    "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
               "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
               "'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n"
               "  File \"llama_cpp/server/app.py\", line 376, in create_chat_completion\n"
               "    POST /v1/chat/completions",
    "type": "internal_server_error", "param": None, "code": None})
# OpenAI, for a model without Structured Outputs (a 400 naming the parameter).
OPENAI_JSON_SCHEMA = (400, {
    "message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported with "
               "this model. Learn more about supported models at the Structured Outputs guide: "
               "https://platform.openai.com/docs/guides/structured-outputs",
    "type": "invalid_request_error", "param": "response_format", "code": None})


def error_body(status: int, message: str) -> dict:
    return {"error": {"message": message, "type": "server_error" if status >= 500
                      else "invalid_request_error", "param": None, "code": str(status)}}


def strict_schema_problem(response_format: dict | None) -> str | None:
    """What OpenAI answers (HTTP 400) to a strict json_schema it does not take: every object
    must set additionalProperties false and list every property in `required`."""
    if not response_format or response_format.get("type") != "json_schema":
        return None
    spec = response_format["json_schema"]
    if not spec.get("strict"):
        return None
    prefix = f"Invalid schema for response_format '{spec['name']}': In context="

    def walk(node, where: tuple):
        if not isinstance(node, dict):
            return None
        if node.get("type") == "object":
            if node.get("additionalProperties") is not False:
                return f"{prefix}{where}, 'additionalProperties' is required to be supplied and to be false."
            missing = [k for k in node.get("properties", {}) if k not in node.get("required", [])]
            if missing:
                return (f"{prefix}{where}, 'required' is required to be supplied and to be an "
                        f"array including every key in properties. Missing '{missing[0]}'.")
            for key, child in node.get("properties", {}).items():
                found = walk(child, where + ("properties", key))
                if found:
                    return found
        if node.get("type") == "array":
            return walk(node.get("items"), where + ("items",))
        return None

    return walk(spec["schema"], ())


class FakeOpenAI(LocalServer):
    def __init__(self, reply: Callable[[dict], tuple[int, str]]):
        """`reply(body)` returns (HTTP status, assistant text or error message, or for an
        error a real server's whole error object, as LLAMA_CPP_JSON_SCHEMA); for 200 the
        second item may instead be a dict with `content` and any of `finish_reason`,
        `refusal`, `usage` to script those fields of the real response. Batch items are
        answered by the same `reply`.

        Batch scripting (attributes): `batch_stall` keeps open batches in_progress;
        `batch_expire_after = k` ends the next batches `expired` with only k items done;
        `batch_api = False` answers the Batch API's paths 404 like a server without it.

        `models`: the ids GET /v1/models lists; None answers 404 (a server without a listing).
        `api_key`: when set, any other Bearer key gets OpenAI's 401 on every path."""
        self.reply = reply
        self.requests: list[dict] = []  # bodies of live chat completions
        self.headers: list[dict] = []  # of every request, any endpoint
        self.files: dict[str, dict] = {}  # id -> FileObject plus "_data" (bytes)
        self.uploads: list[bytes] = []
        self.batches: dict[str, dict] = {}
        self.batch_requests: list[dict] = []  # bodies answered inside batches
        self.batch_stall = False
        self.batch_api = True  # False: 404 on the Batch API, as llama.cpp's server answers
        self.batch_expire_after: int | None = None
        self.models: list[str] | None = ["test-model", "fake-model", "gpt-4o-mini"]
        self.api_key: str | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in separate writes: with Nagle's algorithm on, the
            # client's delayed ACK adds ~40 ms to every answer, which a real server does not.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def _record(self) -> bytes:
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                length = int(self.headers.get("content-length", 0))
                return self.rfile.read(length)

            def _refused_key(self) -> bool:
                if outer.api_key is None:
                    return False
                sent = self.headers.get("authorization", "").removeprefix("Bearer ")
                if sent == outer.api_key:
                    return False
                # OpenAI's answer; it shows only the ends of the key it was sent
                self._send(401, {"error": {
                    "message": f"Incorrect API key provided: {sent[:3]}***{sent[-4:]}. You can "
                               "find your API key at https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})
                return True

            def _no_batch_api(self, path: str) -> bool:
                if outer.batch_api or not path.startswith(("/v1/files", "/v1/batches")):
                    return False
                self._send(404, {"detail": "Not Found"})  # FastAPI's, as llama_cpp.server's
                return True

            def do_GET(self):
                self._record()
                path = self.path.split("?", 1)[0]
                if self._refused_key() or self._no_batch_api(path):
                    return
                if path == "/v1/models" and outer.models is not None:
                    return self._send(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "created": 1686935002,
                         "owned_by": "organization-owner"} for m in outer.models]})
                with outer._lock:
                    if path == "/v1/batches":
                        data = [outer._advance(b, peek=True) for b in
                                sorted(outer.batches.values(), key=lambda b: -b["_n"])]
                        return self._send(200, {"object": "list", "data": data,
                                                "first_id": data[0]["id"] if data else None,
                                                "last_id": data[-1]["id"] if data else None,
                                                "has_more": False})
                    parts = path.strip("/").split("/")
                    if (parts[:2] == ["v1", "batches"] and len(parts) == 3
                            and parts[2] in outer.batches):
                        return self._send(200, outer._advance(outer.batches[parts[2]]))
                    if (parts[:2] == ["v1", "files"] and len(parts) == 4 and parts[3] == "content"
                            and parts[2] in outer.files):
                        return self._raw(outer.files[parts[2]]["_data"])
                return self._send(404, error_body(404, f"No such resource: {path}"))

            def do_POST(self):
                raw = self._record()
                path = self.path.split("?", 1)[0]
                if self._refused_key() or self._no_batch_api(path):
                    return
                if path == "/v1/files":
                    return self._upload(raw)
                body = json.loads(raw or b"{}")
                if path == "/v1/batches":
                    with outer._lock:
                        return self._send(*outer._create(body))
                parts = path.strip("/").split("/")
                if parts[:2] == ["v1", "batches"] and parts[-1] == "cancel":
                    with outer._lock:
                        batch = outer.batches.get(parts[2])
                        if batch is None:
                            return self._send(404, error_body(404, "No such batch"))
                        if batch["status"] in ("validating", "in_progress", "finalizing"):
                            batch.update(status="cancelling", cancelling_at=int(time.time()))
                        return self._send(200, outer._public(batch))
                if path != "/v1/chat/completions":
                    return self._send(404, error_body(404, "not found"))
                outer.requests.append(body)
                problem = strict_schema_problem(body.get("response_format"))
                if problem:  # OpenAI refuses the request before any model runs
                    return self._send(400, {"error": {"message": problem, "param":
                                                      "response_format", "code": None,
                                                      "type": "invalid_request_error"}})
                status, text = outer.reply(body)
                if status != 200:  # a dict is a real server's whole error object
                    return self._send(status, {"error": text if isinstance(text, dict) else {
                        "message": text, "type": "server_error", "code": status}})
                self._send(200, completion(body, text, len(outer.requests)))

            def _upload(self, raw: bytes):
                # multipart/form-data as the SDK sends it: fields "purpose" and "file"
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"content-type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + raw)
                fields = {}
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    fields[name] = (part.get_filename(), part.get_payload(decode=True))
                if "file" not in fields or fields.get("purpose", (0, b""))[1] != b"batch":
                    return self._send(400, error_body(400, "'file' and purpose 'batch' required"))
                filename, data = fields["file"]
                with outer._lock:
                    outer.uploads.append(data)
                    self._send(200, outer._file(data, filename, "batch"))

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _raw(self, data: bytes):
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._listen(Handler)

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    # ------------------------------------------------------------ the Batch API's objects

    def _file(self, data: bytes, filename: str, purpose: str) -> dict:
        file = {"id": f"file-{next(self._ids):06d}", "object": "file", "bytes": len(data),
                "created_at": int(time.time()), "filename": filename, "purpose": purpose,
                "status": "processed", "status_details": None, "expires_at": None}
        self.files[file["id"]] = {**file, "_data": data}
        return file

    def _create(self, body: dict) -> tuple[int, dict]:
        file = self.files.get(body.get("input_file_id"))
        if file is None:
            return 400, error_body(400, f"Invalid 'input_file_id': '{body.get('input_file_id')}'.")
        if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return 400, error_body(400, "Invalid 'endpoint' or 'completion_window'.")
        now = int(time.time())
        lines = [json.loads(ln) for ln in file["_data"].decode().splitlines() if ln.strip()]
        n = next(self._ids)
        batch = {
            "id": f"batch_{n:06d}", "object": "batch", "endpoint": body["endpoint"],
            "errors": None, "input_file_id": file["id"],
            "completion_window": body["completion_window"], "status": "validating",
            "output_file_id": None, "error_file_id": None, "created_at": now,
            "in_progress_at": None, "expires_at": now + 86400, "finalizing_at": None,
            "completed_at": None, "failed_at": None, "expired_at": None, "cancelling_at": None,
            "cancelled_at": None, "request_counts": {"total": len(lines), "completed": 0,
                                                     "failed": 0},
            "metadata": body.get("metadata"),
            "_n": n, "_lines": lines, "_step": 0, "_expire_after": self.batch_expire_after,
        }
        self.batches[batch["id"]] = batch
        return 200, self._public(batch)

    @staticmethod
    def _public(batch: dict) -> dict:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _advance(self, batch: dict, peek: bool = False) -> dict:
        """One poll moves the batch one status on (unless stalled), as OpenAI's do over time."""
        if peek or batch["status"] in ("completed", "failed", "expired", "cancelled"):
            return self._public(batch)
        now = int(time.time())
        if batch["status"] == "cancelling":
            self._finish(batch, "cancelled", done=0)
        elif batch["status"] == "validating":
            problem = self._invalid(batch["_lines"])
            if problem:
                batch.update(status="failed", failed_at=now, errors={"object": "list",
                             "data": [{"code": "invalid_request", "message": problem,
                                       "param": None, "line": None}]})
            else:
                batch.update(status="in_progress", in_progress_at=now)
        elif batch["status"] == "in_progress" and not self.batch_stall:
            batch.update(status="finalizing", finalizing_at=now)
        elif batch["status"] == "finalizing":
            expire = batch["_expire_after"]
            self._finish(batch, "completed" if expire is None else "expired",
                         done=len(batch["_lines"]) if expire is None else expire)
        return self._public(batch)

    @staticmethod
    def _invalid(lines: list[dict]) -> str | None:
        ids = [ln.get("custom_id") for ln in lines]
        if len(set(ids)) != len(ids):
            return "The custom_id of every request in a batch must be unique."
        for ln in lines:
            if ln.get("method") != "POST" or ln.get("url") != "/v1/chat/completions":
                return "Each line needs method POST and url /v1/chat/completions."
            if not isinstance(ln.get("body"), dict) or "model" not in ln["body"]:
                return "Each line needs a body with a model."
        return None

    def _finish(self, batch: dict, status: str, done: int) -> None:
        """Run the first `done` items through `reply`; the others end unexecuted."""
        out, errors = [], []
        for i, line in enumerate(batch["_lines"]):
            item = {"id": f"batch_req_{next(self._ids):06d}", "custom_id": line["custom_id"]}
            if i >= done:
                code = "batch_expired" if status == "expired" else "batch_cancelled"
                errors.append({**item, "response": None, "error": {
                    "code": code, "message": f"This request could not be executed before the "
                    f"batch was {status}."}})
                continue
            self.batch_requests.append(line["body"])
            problem = strict_schema_problem(line["body"].get("response_format"))
            code, answer = (400, problem) if problem else self.reply(line["body"])
            rid = f"req_{next(self._ids):06d}"
            if code == 200:
                out.append({**item, "response": {"status_code": 200, "request_id": rid,
                            "body": completion(line["body"], answer, len(self.batch_requests))},
                            "error": None})
            else:
                errors.append({**item, "response": {"status_code": code, "request_id": rid,
                               "body": {"error": answer} if isinstance(answer, dict)
                               else error_body(code, answer)}, "error": None})
        now = int(time.time())
        batch.update(status=status, **{f"{status}_at": now})
        batch["request_counts"].update(completed=len(out), failed=len(errors))
        if out:
            batch["output_file_id"] = self._jsonl(out, batch)["id"]
        if errors:
            batch["error_file_id"] = self._jsonl(errors, batch)["id"]

    def _jsonl(self, rows: list[dict], batch: dict) -> dict:
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        return self._file(data, f"{batch['id']}_output.jsonl", "batch_output")
