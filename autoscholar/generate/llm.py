"""Chat completions through the `openai` client (OpenAI or any OpenAI-compatible server), with a
disk cache keyed by a hash of the request, so a crashed or repeated run never pays twice.
The API key is never part of the key, the cache entry or any log line.

Structured output is negotiated: servers differ in what `response_format` they take (OpenAI:
json_schema; llama.cpp, LM Studio, Ollama: json_object with a schema; others: nothing). In auto
mode the first request tries json_schema, then json_object, then plain text; the mode that worked
is kept per endpoint and model in the cache folder, so later requests and reruns go straight to
it (and find their cache entries). Every mode ends in the same validation (prompt.format_output).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import openai

from ..config import Settings, redact_url
from ..errors import AutoscholarError, ServiceError
from ..io import write_atomic
from .cost import Budget, estimate_prompt_tokens

JSON_MODES = ("json_schema", "json_object", "text")  # the order auto tries them in


class RequestRejected(AutoscholarError):
    """The endpoint refused this one request (HTTP 400/422: context too long, content filter),
    not the endpoint as a whole: the context becomes a reject and the stage goes on."""


class NotCached(AutoscholarError):
    """With --batch, a request the batch did not answer: it is not sent live."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"request {key[:12]} was not answered by the batch")


class _ModeRefused(Exception):
    """The server does not take this response_format."""


@dataclass
class Completion:
    text: str
    finish_reason: str | None
    refusal: str | None
    usage: dict | None
    cached: bool
    mode: str


def request_body(messages: list[dict], settings: Settings, schema: dict | None,
                 mode: str = "json_schema") -> dict:
    body: dict = {
        "model": settings.llm,
        "messages": messages,
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
    }
    if schema is not None and mode == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "queries", "schema": schema, "strict": True},
        }
    elif schema is not None and mode == "json_object":
        body["response_format"] = {"type": "json_object", "schema": schema}
    return body


def cache_key(body: dict, base_url: str | None) -> str:
    payload = json.dumps({"base_url": base_url or "", "body": body}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def store(cache_dir: Path, key: str, body: dict, response: dict) -> dict:
    """Keep one chat completion (the API's JSON, as a dict) as the cache entry for `key`."""
    choice = response["choices"][0]
    entry = {
        "key": key,
        "model": response.get("model"),
        "request": body,
        "text": choice["message"].get("content") or "",
        "finish_reason": choice.get("finish_reason"),
        "refusal": choice["message"].get("refusal"),
        "usage": response.get("usage"),
    }
    write_atomic(cache_path(cache_dir, key), json.dumps(entry, ensure_ascii=False, indent=1))
    return entry


def api_key(settings: Settings) -> str | None:
    """The key to send: ours, else OPENAI_API_KEY, whether or not a base URL is given (a proxy
    or a hosted OpenAI-compatible service needs it as much as OpenAI does)."""
    if settings.llm_api_key is not None:
        return settings.llm_api_key.get_secret_value()
    return os.environ.get("OPENAI_API_KEY") or None


def client(settings: Settings) -> openai.OpenAI:
    key = api_key(settings)
    if key is None and settings.llm_base_url:
        key = "unused"  # local servers (vLLM, Ollama, llama.cpp) ignore it, the SDK insists on one
    return openai.OpenAI(
        api_key=key,
        base_url=settings.llm_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,  # the SDK backs off with jitter on 429/5xx
    )


def _endpoint_id(settings: Settings) -> str:
    return f"{redact_url(settings.llm_base_url) or 'openai'}|{settings.llm}"


class Endpoint:
    """One model at one endpoint: cache, JSON-mode negotiation, budget, usage of this run."""

    def __init__(self, settings: Settings, cache_dir: Path, llm: openai.OpenAI | None = None,
                 budget: Budget | None = None, live: bool = True):
        self.settings = settings
        self.live = live  # False under --batch: only the cache answers (NotCached otherwise)
        self.cache_dir = cache_dir
        self.budget = budget or Budget(None, None)
        self._llm = llm
        self._lock = threading.Lock()
        self._modes_path = cache_dir / "json_modes.json"
        self.paid: list[dict] = []  # usage of every request this run sent (not cache hits)
        if settings.llm_json_mode != "auto":
            self.mode: str | None = settings.llm_json_mode
        else:
            self.mode = self._recorded().get(_endpoint_id(settings))

    # ------------------------------------------------------------ the mode that works

    def _recorded(self) -> dict:
        try:
            return json.loads(self._modes_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def _remember(self, mode: str) -> None:
        if self.mode == mode:
            return
        self.mode = mode
        if self.settings.llm_json_mode == "auto":
            modes = self._recorded()
            modes[_endpoint_id(self.settings)] = mode
            write_atomic(self._modes_path, json.dumps(modes, indent=1, sort_keys=True))

    def modes_to_try(self) -> tuple[str, ...]:
        return (self.mode,) if self.mode else JSON_MODES

    # ------------------------------------------------------------ requests

    def cached(self, messages: list[dict], schema: dict | None) -> Completion | None:
        for mode in self.modes_to_try():
            body = request_body(messages, self.settings, schema, mode)
            path = cache_path(self.cache_dir, cache_key(body, self.settings.llm_base_url))
            if path.exists():
                entry = json.loads(path.read_text("utf-8"))
                return Completion(entry["text"], entry.get("finish_reason"), entry.get("refusal"),
                                  entry.get("usage"), True, mode)
        return None

    def complete(self, messages: list[dict], schema: dict | None = None) -> Completion:
        hit = self.cached(messages, schema)
        if hit is not None:
            if self.settings.llm_json_mode == "auto":
                with self._lock:
                    self._remember(hit.mode)
            return hit
        if not self.live:
            body = request_body(messages, self.settings, schema, self.mode or JSON_MODES[0])
            raise NotCached(cache_key(body, self.settings.llm_base_url))
        if self.mode:
            return self._send(messages, schema, self.mode)
        # The first live request finds the mode; the others wait for it rather than each
        # paying for the same failed attempts.
        with self._lock:
            if self.mode:
                return self._send(messages, schema, self.mode)
            for mode in JSON_MODES[:-1]:
                try:
                    done = self._send(messages, schema, mode, probe=True)
                except _ModeRefused:
                    continue
                self._remember(mode)
                return done
            done = self._send(messages, schema, JSON_MODES[-1])
            self._remember(JSON_MODES[-1])
            return done

    def _client(self) -> openai.OpenAI:
        if self._llm is None:
            try:
                self._llm = client(self.settings)
            except openai.OpenAIError as exc:  # the SDK refuses to start without a key
                raise ServiceError("no API key for the LLM endpoint: set AUTOSCHOLAR_LLM_API_KEY "
                                   "or OPENAI_API_KEY, or give --llm-base-url for a local server",
                                   transient=False) from exc
        return self._llm

    def _send(self, messages: list[dict], schema: dict | None, mode: str,
              probe: bool = False) -> Completion:
        body = request_body(messages, self.settings, schema, mode)
        key = cache_key(body, self.settings.llm_base_url)
        llm = self._client()
        if probe:  # a refused mode answers at once; the SDK's retries would only wait
            llm = llm.with_options(max_retries=0)
        reserved = self.budget.reserve(estimate_prompt_tokens(messages), self.settings.llm_max_tokens)
        usage = None
        try:
            response = llm.chat.completions.create(**body)
            raw = response.model_dump(mode="json")
            usage = raw.get("usage")
        except openai.APIStatusError as exc:
            if probe and _refuses_mode(exc):
                raise _ModeRefused from exc
            if probe and not isinstance(exc, (openai.BadRequestError,
                                              openai.UnprocessableEntityError)):
                # Not about the mode: ask again the normal way, with the SDK's retries.
                self.budget.settle(reserved, None)
                reserved = 0.0
                return self._send(messages, schema, mode)
            raise self._error(exc) from exc
        except openai.APIConnectionError as exc:  # includes timeouts, after the SDK's retries
            where = redact_url(self.settings.llm_base_url) or "the OpenAI API"
            raise ServiceError(f"cannot reach the LLM endpoint at {where}: {_short(exc)}") from exc
        finally:
            self.budget.settle(reserved, usage)
        entry = store(self.cache_dir, key, body, raw)
        self.paid.append(usage or {})  # list.append is atomic: no lock needed across threads
        return Completion(entry["text"], entry["finish_reason"], entry["refusal"], entry["usage"],
                          False, mode)

    def _error(self, exc: openai.APIStatusError) -> AutoscholarError:
        status = exc.status_code
        if isinstance(exc, openai.AuthenticationError):
            return ServiceError("the LLM endpoint refused the API key (HTTP 401): set "
                                "AUTOSCHOLAR_LLM_API_KEY or OPENAI_API_KEY", transient=False)
        if isinstance(exc, openai.NotFoundError):
            return ServiceError(f"the LLM endpoint has no model {self.settings.llm!r} (HTTP 404)",
                                transient=False)
        if isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
            return RequestRejected(f"HTTP {status}: {_short(exc)}")
        if isinstance(exc, openai.PermissionDeniedError):
            return ServiceError(f"the LLM endpoint refused access (HTTP 403): {_short(exc)}",
                                transient=False)
        # 429/5xx left after the SDK's retries
        return ServiceError(f"the LLM endpoint failed with HTTP {status}: {_short(exc)}")


# What servers say when they do not take a response_format: llama.cpp's server answers 500
# "response_format.type: Input should be 'text' or 'json_object'", OpenAI 400 "'response_format'
# of type 'json_schema' is not supported with this model", vLLM/others 400/422 naming the field.
_MODE_WORDS = re.compile(r"response_format|json_schema|json_object|structured output|"
                         r"guided_json|grammar", re.I)


def _refuses_mode(exc: openai.APIStatusError) -> bool:
    return exc.status_code in (400, 422, 500, 501) and bool(_MODE_WORDS.search(_full(exc)))


def _full(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    return f"{exc} {json.dumps(body) if body is not None else ''}"


def _short(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
