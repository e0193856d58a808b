"""Chat completions through the `openai` client (OpenAI or any OpenAI-compatible server), with a
disk cache keyed by a hash of the request, so a crashed or repeated run never pays twice.
The API key is never part of the key, the cache entry or any log line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openai

from ..config import Settings, redact_url
from ..errors import ServiceError
from ..io import write_atomic


def request_body(messages: list[dict], settings: Settings, schema: dict | None,
                 mode: str = "json_schema") -> dict:
    body: dict = {
        "model": settings.llm,
        "messages": messages,
        "temperature": settings.llm_temperature,
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


def client(settings: Settings) -> openai.OpenAI:
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if key is None and settings.llm_base_url:
        key = "unused"  # local servers (vLLM, Ollama) ignore it, the client insists on one
    return openai.OpenAI(
        api_key=key,
        base_url=settings.llm_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,  # the SDK backs off with jitter on 429/5xx
    )


def complete(
    messages: list[dict],
    settings: Settings,
    cache_dir: Path,
    schema: dict | None = None,
    llm: openai.OpenAI | None = None,
) -> tuple[str, bool]:
    """The model's answer text and whether it came from the cache."""
    body = request_body(messages, settings, schema)
    key = cache_key(body, settings.llm_base_url)
    path = cache_path(cache_dir, key)
    if path.exists():
        return json.loads(path.read_text("utf-8"))["text"], True
    try:
        llm = llm or client(settings)
    except openai.OpenAIError as exc:  # the SDK refuses to start without a key
        raise ServiceError("no API key for the LLM endpoint: set AUTOSCHOLAR_LLM_API_KEY or "
                           "OPENAI_API_KEY, or give --llm-base-url for a local server",
                           transient=False) from exc
    try:
        response = llm.chat.completions.create(**body)
    except openai.AuthenticationError as exc:
        raise ServiceError("the LLM endpoint refused the API key (HTTP 401): set "
                           "AUTOSCHOLAR_LLM_API_KEY or OPENAI_API_KEY", transient=False) from exc
    except openai.NotFoundError as exc:
        raise ServiceError(f"the LLM endpoint has no model {settings.llm!r} (HTTP 404)",
                           transient=False) from exc
    except openai.BadRequestError as exc:
        raise ServiceError(f"the LLM endpoint rejected the request (HTTP 400): "
                           f"{_short(exc)}", transient=False) from exc
    except openai.APIConnectionError as exc:  # includes timeouts, after the SDK's retries
        where = redact_url(settings.llm_base_url) or "the OpenAI API"
        raise ServiceError(f"cannot reach the LLM endpoint at {where}: {_short(exc)}") from exc
    except openai.APIStatusError as exc:  # 429/5xx left after the SDK's retries
        raise ServiceError(f"the LLM endpoint failed with HTTP {exc.status_code}: "
                           f"{_short(exc)}") from exc
    entry = store(cache_dir, key, body, response.model_dump(mode="json"))
    return entry["text"], False


def _short(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
