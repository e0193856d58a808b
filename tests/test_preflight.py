"""The LLM endpoint check of preflight, through the CLI against the fake OpenAI server: an
unknown model, a refused key or a dead endpoint is one line and exit 1 before any fetch (no run
folder, so no listing.jsonl); a server without GET /v1/models is asked one 1-token request."""

from __future__ import annotations

import socket

from openai_server import FakeOpenAI
from test_cli import ROOT, run

INDEX = ROOT / "data" / "demo_arxiv.jsonl"


def build(server_url: str, out, model: str = "test-model", key: str = "sk-right-key-0000"):
    return run("build", "--venue", "demo", "--out", out, "--arxiv-index", INDEX, "--llm", model,
               "--llm-base-url", server_url, env={"AUTOSCHOLAR_LLM_API_KEY": key}, check=False)


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
        assert server.requests[0]["max_tokens"] == 1 and server.requests[0]["messages"] == [
            {"role": "user", "content": "ping"}]
        assert (tmp_path / "ok" / "listing.jsonl").exists()
