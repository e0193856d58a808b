"""The LLM endpoint check of preflight, through the CLI against the fake OpenAI server: an
unknown model, a refused key or a dead endpoint is one line and exit 1 before any fetch (no run
folder, so no listing.jsonl); a server without GET /v1/models is asked one 1-token request; the
JSON mode is negotiated with 1-token requests before fetch and generate starts in it, and a
forced mode the endpoint refuses (or no mode at all) is one line."""

from __future__ import annotations

import json
import socket

from openai_server import LLAMA_CPP_JSON_SCHEMA, OPENAI_JSON_SCHEMA, FakeOpenAI
from test_cli import ROOT, run
from test_llm import answer_all

from autoscholar.generate.llm import PROBE_MESSAGES

INDEX = ROOT / "data" / "demo_arxiv.jsonl"


def build(server_url: str, out, model: str = "test-model", key: str = "sk-right-key-0000",
          *more):
    return run("build", "--venue", "demo", "--out", out, "--arxiv-index", INDEX, "--llm", model,
               "--llm-base-url", server_url, *more, env={"AUTOSCHOLAR_LLM_API_KEY": key},
               check=False)


def refused(proc, out) -> str:
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert not (out / "listing.jsonl").exists() and not out.exists()
    return lines[0]


def answer(body):
    if body["model"] != "only-by-chat":  # what OpenAI answers for an unknown model
        return 404, f"The model `{body['model']}` does not exist or you do not have access to it."
    return 200, "x"


def test_unknown_model_is_one_line_naming_the_listed_ones(tmp_path):
    with FakeOpenAI(answer) as server:
        server.models = [f"m{i}" for i in range(7)]
        line = refused(build(server.base_url, tmp_path / "run", "gpt-5-nope"), tmp_path / "run")
        assert not server.requests  # listing the models is free: no chat request was paid
    assert line == (f"error: preflight llm: the LLM endpoint at {server.base_url} has no model "
                    "'gpt-5-nope'; it lists: m0, m1, m2, m3, m4 (and 2 more)")


def test_wrong_key_is_one_line_and_never_shown(tmp_path):
    with FakeOpenAI(answer) as server:
        server.api_key = "sk-right-key-0000"
        line = refused(build(server.base_url, tmp_path / "run", key="sk-WRONG-key-1234"),
                       tmp_path / "run")
    assert line == (f"error: preflight llm: the LLM endpoint at {server.base_url} refused the API "
                    "key (HTTP 401): set AUTOSCHOLAR_LLM_API_KEY or OPENAI_API_KEY")
    assert "WRONG" not in line


def test_unreachable_endpoint_is_one_line(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    line = refused(build(dead, tmp_path / "run"), tmp_path / "run")
    assert line.startswith(f"error: preflight llm: cannot reach the LLM endpoint at {dead}: ")


def test_without_a_model_listing_one_token_is_asked(tmp_path):
    with FakeOpenAI(answer) as server:
        server.models = None  # GET /v1/models answers 404, as on servers without it
        line = refused(build(server.base_url, tmp_path / "run", "gpt-5-nope"), tmp_path / "run")
        assert line == (f"error: preflight llm: the LLM endpoint at {server.base_url} has no "
                        "model 'gpt-5-nope' (HTTP 404)")
        assert [(b["model"], b["max_tokens"]) for b in server.requests] == [("gpt-5-nope", 1)]
        server.requests.clear()
        # A model the server has passes the check with that one request; the build goes on.
        run("build", "--venue", "demo", "--out", tmp_path / "ok", "--arxiv-index", INDEX,
            "--llm", "only-by-chat", "--llm-base-url", server.base_url, "--max-error-rate", "1",
            check=False)
        assert server.requests[0]["max_tokens"] == 1
        assert server.requests[0]["messages"] == PROBE_MESSAGES
        assert (tmp_path / "ok" / "listing.jsonl").exists()


def modes(requests) -> list[str]:
    return [(b.get("response_format") or {}).get("type", "text") for b in requests]


def like_llama_cpp(body):
    if (body.get("response_format") or {}).get("type") == "json_schema":
        return LLAMA_CPP_JSON_SCHEMA
    return 200, answer_all(body) if body["max_tokens"] > 1 else {"content": "{",
                                                                 "finish_reason": "length"}


def test_json_mode_is_negotiated_before_fetch_and_generate_starts_in_it(tmp_path):
    out = tmp_path / "run"
    with FakeOpenAI(like_llama_cpp) as server:
        proc = build(server.base_url, out, "test-model", "sk-right-key-0000", "--max-error-rate", "1")
        assert proc.returncode == 0, proc.stderr
        probes = [b for b in server.requests if b["max_tokens"] == 1]
        real = [b for b in server.requests if b["max_tokens"] > 1]
        # Two probes, first in the list: json_schema refused, json_object taken; the real
        # prompts then all go out as json_object (no real prompt pays for the refused try).
        assert server.requests[:2] == probes and modes(probes) == ["json_schema", "json_object"]
        assert all(b["messages"] == PROBE_MESSAGES for b in probes)
        assert probes[1]["response_format"]["schema"]["properties"]["queries"]["type"] == "array"
        assert real and set(modes(real)) == {"json_object"}
        recorded = json.loads((out / "cache" / "llm" / "json_modes.json").read_text())
        assert list(recorded.values()) == ["json_object"]
        # A rerun has the mode recorded and a model listing: preflight sends nothing.
        server.requests.clear()
        proc = build(server.base_url, out, "test-model", "sk-right-key-0000", "--max-error-rate", "1")
        assert proc.returncode == 0 and server.requests == [], proc.stderr


def test_a_forced_json_mode_the_endpoint_refuses_is_one_line_before_fetch(tmp_path):
    with FakeOpenAI(like_llama_cpp) as server:
        line = refused(build(server.base_url, tmp_path / "run", "test-model",
                             "sk-right-key-0000", "--llm-json-mode", "json_schema"),
                       tmp_path / "run")
        assert [(b["max_tokens"], modes([b])[0]) for b in server.requests] == [(1, "json_schema")]
    # The server's own message, on one line and cut at 200 characters, then the way on.
    assert line.startswith(f"error: preflight llm: the LLM endpoint at {server.base_url} refuses "
                           "--llm-json-mode json_schema (HTTP 500: 1 validation error: {'type': "
                           "'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "
                           "\"Input should be 'text' or 'json_object'\"")
    assert line.endswith("): use one of auto, json_object, text")


def test_an_endpoint_that_takes_no_request_at_all_is_one_line(tmp_path):
    def o1_like(body):  # no Structured Outputs for this model, and no max_tokens either
        if body.get("response_format", {}).get("type") == "json_schema":
            return OPENAI_JSON_SCHEMA
        if "response_format" in body:
            return 400, {"message": "Invalid parameter: 'response_format' of type "
                         "'json_object' is not supported with this model.",
                         "type": "invalid_request_error", "param": "response_format",
                         "code": None}
        return 400, {"message": "Unsupported parameter: 'max_tokens' is not supported with "
                     "this model. Use 'max_completion_tokens' instead.",
                     "type": "invalid_request_error", "param": "max_tokens",
                     "code": "unsupported_parameter"}

    with FakeOpenAI(o1_like) as server:
        line = refused(build(server.base_url, tmp_path / "run"), tmp_path / "run")
        assert modes(server.requests) == ["json_schema", "json_object", "text"]
    assert line == (
        f"error: preflight llm: the LLM endpoint at {server.base_url} refused json_schema "
        "(HTTP 400: Invalid parameter: 'response_format' of type 'json_schema' is not supported "
        "with this model. Learn more about supported models at the Structured Outputs guide: "
        "https://platform.openai.com/docs/guides/), json_object (HTTP 400: "  # cut at 200
        "Invalid parameter: 'response_format' of type 'json_object' is not supported with this "
        "model.), and a plain request failed with HTTP 400: Unsupported parameter: 'max_tokens' "
        "is not supported with this model. Use 'max_completion_tokens' instead.")
