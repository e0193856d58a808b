"""Chat completions through the `openai` client (OpenAI or any OpenAI-compatible server), with a
disk cache keyed by a hash of the request, so a crashed or repeated run never pays twice.
The API key is never part of the key, the cache entry or any log line.

Structured output is negotiated: servers differ in what `response_format` they take (OpenAI:
json_schema; llama.cpp, LM Studio, Ollama: json_object with a schema; others: nothing). In auto
mode the first request tries json_schema, then json_object, then plain text; the mode that worked
is kept per endpoint and model in the cache folder, so later requests and reruns go straight to
it (and find their cache entries). Every mode ends in the same validation (prompt.format_output).

`Endpoint.probe` runs the same negotiation before any real request (build's preflight, before
fetch), each try a 1-token request with the real schema's shape; the mode it finds is kept for
this process, and the first Endpoint over a run's cache records it there, so generate starts in
it without paying for the refused tries again.
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
# The probe's one message; its answer is cut at 1 token and never used.
PROBE_MESSAGES = [{"role": "user", "content": 'Reply with {"queries": []}'}]
# endpoint id -> the mode Endpoint.probe found in this process (preflight runs before the run
# folder exists, so it cannot write json_modes.json; the generate stage's Endpoint does).
_NEGOTIATED: dict[str, str] = {}


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


class ModeRefused(AutoscholarError):
    """The probe's verdict: the endpoint refuses the forced --llm-json-mode (or, in auto mode,
    every JSON mode and a plain request too)."""


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
        self._saved = self.mode  # what json_modes.json says (forced: nothing to record)
        if self.mode is None:  # found by preflight's probe in this process, recorded on use
            self.mode = _NEGOTIATED.get(_endpoint_id(settings))

    # ------------------------------------------------------------ the mode that works

    def _recorded(self) -> dict:
        try:
            return json.loads(self._modes_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def _remember(self, mode: str) -> None:
        self.mode = mode
        if self.settings.llm_json_mode == "auto" and self._saved != mode:
            modes = self._recorded()
            modes[_endpoint_id(self.settings)] = mode
            write_atomic(self._modes_path, json.dumps(modes, indent=1, sort_keys=True))
            self._saved = mode

    def keep_probed(self) -> None:
        """Record a mode the probe found in the run's json_modes.json, when first used: by
        then the run folder exists (and a rerun or --batch needs no probe)."""
        if self.mode and self._saved != self.mode:
            with self._lock:
                self._remember(self.mode)

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
        self.keep_probed()
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
            mode, done = self._negotiate(
                lambda mode, probe: self._send(messages, schema, mode, probe=probe))
            self._remember(mode)
            return done

    @staticmethod
    def _negotiate(send):
        """Auto mode's order: each JSON mode with `send(mode, probe=True)` (a refusal raises
        _ModeRefused and the next is tried), then plain text the normal way. (mode, answer)."""
        for mode in JSON_MODES[:-1]:
            try:
                return mode, send(mode, True)
            except _ModeRefused:
                continue
        return JSON_MODES[-1], send(JSON_MODES[-1], False)

    def probe(self, ask: bool = False) -> str:
        """The mode this endpoint takes, found before any real request: a mode recorded for
        this run is trusted (as complete() trusts it; no request), a forced one is tried once,
        auto runs complete()'s negotiation. Each try is one request cut at 1 token, with the
        shape of the real prompt's schema, neither cached nor counted in the budget. Raises
        ModeRefused when the forced mode, or every mode and plain text, is refused; openai's
        errors otherwise, for the caller to name. ask: one request even in a recorded mode (a
        server without a model listing: the only way to learn the model is there)."""
        from .prompt import output_schema

        forced = self.settings.llm_json_mode != "auto"
        if self.mode and not forced and not ask:
            return self.mode
        schema = output_schema(["a"])
        refused: list[str] = []

        def send(mode: str, probe: bool) -> None:
            body = {**request_body(PROBE_MESSAGES, self.settings, schema, mode), "max_tokens": 1}
            try:
                self._client().with_options(max_retries=0).chat.completions.create(**body)
            except openai.APIStatusError as exc:
                if probe and _refuses_mode(exc):
                    refused.append(f"{mode} (HTTP {exc.status_code}: {_said(exc)})")
                    raise _ModeRefused from exc
                if refused and not probe:  # plain text failed after every JSON mode
                    raise ModeRefused(f"refused {', '.join(refused)}, and a plain request "
                                      f"failed with HTTP {exc.status_code}: {_said(exc)}"
                                      ) from exc
                raise

        if self.mode and not forced:  # recorded, and asked: that mode, as generate sends it
            send(self.mode, False)
            return self.mode
        if forced:
            try:
                send(self.mode, self.mode != "text")
            except _ModeRefused:
                others = ", ".join(m for m in ("auto", *JSON_MODES) if m != self.mode)
                raise ModeRefused(f"refuses --llm-json-mode {refused[0]}: use one of "
                                  f"{others}") from None
            return self.mode
        mode, _ = self._negotiate(send)
        _NEGOTIATED[_endpoint_id(self.settings)] = mode
        self.mode = mode
        return mode

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


def _said(exc: openai.APIStatusError) -> str:
    """The server's own message (the `error.message` of OpenAI's and llama.cpp's bodies), on
    one line."""
    body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
    said = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(said).split())[:200] if said else _short(exc)


def _short(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
