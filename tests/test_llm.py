"""The LLM path of the generate stage against the fake OpenAI server: JSON-mode negotiation,
rejects instead of crashes, API keys, usage and cost, --max-cost and --dry-run."""

import json
import shutil
from pathlib import Path

import pytest
from factories import built_run, copy_run

from autoscholar.config import Settings
from autoscholar.errors import InputError, ServiceError
from autoscholar.generate import first_request, prompt
from autoscholar.generate.cost import Budget, estimate_prompt_tokens, price_for, prompt_counter
from autoscholar.generate.plan import plan
from autoscholar.generate.stage import generate
from autoscholar.io import read_jsonl
from autoscholar.records import CitationContext, Query, Reject, Usage
from autoscholar.resources import resource

from fakes.openai_server import FakeOpenAI

# What llama-cpp-python's server (0.3.x) answers to a json_schema request (seen on the real one).
LLAMA_CPP_REFUSAL = "response_format.type: Input should be 'text' or 'json_object'"


@pytest.fixture(scope="module")
def contexts_run(tmp_path_factory):
    """A run directory with the demo's contexts (offline stages only), copied per test."""
    return built_run(tmp_path_factory, "contexts", ["fetch", "parse", "contexts"])


@pytest.fixture
def run_dir(contexts_run, tmp_path):
    return copy_run(contexts_run, tmp_path)


def contexts(run_dir):
    return list(read_jsonl(run_dir / "contexts.jsonl", CitationContext))


def answer_all(body: dict) -> str:
    """A valid answer for whatever context the prompt shows: one query per cited key."""
    text = body["messages"][0]["content"]
    keys = sorted(set(k for k in _keys(text)))
    return json.dumps({"queries": [{"question": f"Which papers study topic {k}?",
                                    "answer_keys": [k]} for k in keys[:3]]})


def _keys(text: str):
    import re

    if "<<<" not in text:  # preflight's 1-token probe shows no passage
        return
    passage = text.split("<<<", 1)[1].split(">>>", 1)[0]
    for group in re.findall(r"\\cite\{([^}]*)\}", passage):
        yield from (k.strip() for k in group.split(","))


def settings_for(server, run_dir, **kw) -> Settings:
    kw.setdefault("llm_max_retries", 0)
    return Settings(llm=kw.pop("llm", "test-model"), llm_base_url=server.base_url,
                    run_dir=run_dir, llm_concurrency=kw.pop("llm_concurrency", 2), **kw)


def modes_sent(server):
    return [(b.get("response_format") or {}).get("type", "text") for b in server.requests]


def like_llama_cpp(body):
    if (body.get("response_format") or {}).get("type") == "json_schema":
        return 500, LLAMA_CPP_REFUSAL
    return 200, answer_all(body)


def test_auto_mode_falls_back_to_json_object_once_and_remembers_it(run_dir):
    n = len(contexts(run_dir))
    with FakeOpenAI(like_llama_cpp) as server:
        stats = generate(settings_for(server, run_dir), run_dir)
        sent = modes_sent(server)
    assert stats.rejects == 0 and stats.outputs > 0
    # One refused json_schema request, then every context once in json_object mode.
    assert sent.count("json_schema") == 1 and sent.count("json_object") == n
    json_object = [b for b in server.requests if b["response_format"]["type"] == "json_object"]
    text = json_object[0]["messages"][0]["content"]
    first = next(c for c in contexts(run_dir) if c.sentences[0] in text)
    schema = json_object[0]["response_format"]["schema"]
    assert schema == prompt.output_schema([r.key for r in first.refs])
    assert schema["properties"]["queries"]["items"]["properties"]["answer_keys"]["items"][
        "enum"] == [r.key for r in first.refs]
    assert all(b["max_tokens"] == 1024 for b in server.requests)
    modes = json.loads((run_dir / "cache" / "llm" / "json_modes.json").read_text())
    assert list(modes.values()) == ["json_object"]


def test_rerun_after_negotiation_finds_every_answer_in_the_cache(run_dir):
    with FakeOpenAI(like_llama_cpp) as server:
        generate(settings_for(server, run_dir), run_dir)
        first = [q.model_dump() for q in read_jsonl(run_dir / "generate.jsonl", Query)]
        for name in ("generate.jsonl", "generate.done", "generate.rejects.jsonl"):
            (run_dir / name).unlink()
        server.requests.clear()
        generate(settings_for(server, run_dir), run_dir)
        assert server.requests == []
    again = [q.model_dump() for q in read_jsonl(run_dir / "generate.jsonl", Query)]
    assert sorted(again, key=str) == sorted(first, key=str)


def test_a_server_without_response_format_gets_plain_text_and_fenced_json_works(run_dir):
    def no_format(body):
        if "response_format" in body:
            return 400, "Unrecognized request argument supplied: response_format"
        return 200, "Here you go:\n```json\n" + answer_all(body) + "\n```"

    with FakeOpenAI(no_format) as server:
        stats = generate(settings_for(server, run_dir), run_dir)
        sent = modes_sent(server)
    assert stats.rejects == 0 and stats.outputs > 0
    assert sent[:2] == ["json_schema", "json_object"] and set(sent[2:]) == {"text"}


def test_fixed_json_mode_is_sent_as_given_and_not_negotiated(run_dir):
    with FakeOpenAI(like_llama_cpp) as server:
        generate(settings_for(server, run_dir, llm_json_mode="json_object"), run_dir)
        assert set(modes_sent(server)) == {"json_object"}
    assert not (run_dir / "cache" / "llm" / "json_modes.json").exists()


def test_truncated_refused_and_rejected_requests_are_rejects_and_the_stage_goes_on(run_dir):
    found = contexts(run_dir)
    ids = [c.context_id for c in found]
    # Each scripted context is known by its first sentence, which only its prompt quotes.
    bad = {found[0].sentences[0]: "length", found[1].sentences[0]: "refusal",
           found[2].sentences[0]: "too-long"}

    def reply(body):
        text = body["messages"][0]["content"]
        which = next((v for k, v in bad.items() if k in text), None)
        if which == "length":
            return 200, {"content": '{"queries": [{"question": "Which pap', "finish_reason": "length"}
        if which == "refusal":
            return 200, {"content": None, "refusal": "I can't help with that."}
        if which == "too-long":
            return 400, "This model's maximum context length is 8192 tokens."
        return 200, answer_all(body)

    with FakeOpenAI(reply) as server:
        stats = generate(settings_for(server, run_dir, llm_json_mode="json_schema"), run_dir)
        rejects = {r.key: r for r in read_jsonl(run_dir / "generate.rejects.jsonl", Reject)}
        assert {k: r.reason for k, r in rejects.items()} == {
            ids[0]: "truncated-llm-output", ids[1]: "llm-refusal", ids[2]: "llm-request-rejected"}
        assert rejects[ids[0]].raw_output.startswith('{"queries"')
        assert "maximum context length" in rejects[ids[2]].detail
        assert stats.outputs > 0 and stats.processed == len(ids)
        # Neither a truncation nor a refusal is sent again as a repair turn.
        assert len(server.requests) == len(ids)
        server.requests.clear()
        generate(settings_for(server, run_dir, llm_json_mode="json_schema"), run_dir)
        assert server.requests == []  # rejects are final: a rerun does not stop at them


@pytest.mark.parametrize("status", [401, 404])
def test_endpoint_level_failures_stop_the_stage(run_dir, status):
    with FakeOpenAI(lambda body: (status, "no")) as server:
        with pytest.raises(ServiceError) as err:
            generate(settings_for(server, run_dir), run_dir)
    assert not err.value.transient
    assert str(status) in str(err.value)


def test_api_key_from_the_environment_is_sent_to_a_base_url(run_dir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ENV-KEY-42")
    with FakeOpenAI(lambda body: (200, answer_all(body))) as server:
        generate(settings_for(server, run_dir), run_dir)
        assert {h["authorization"] for h in server.headers} == {"Bearer sk-ENV-KEY-42"}
    monkeypatch.delenv("OPENAI_API_KEY")
    with FakeOpenAI(lambda body: (200, answer_all(body))) as server:
        settings = settings_for(server, run_dir, llm_api_key="sk-OURS")
        (run_dir / "generate.done").unlink()
        shutil.rmtree(run_dir / "cache")
        generate(settings, run_dir)
        assert {h["authorization"] for h in server.headers} == {"Bearer sk-OURS"}
    stored = "".join(p.read_text() for p in run_dir.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl"))
    assert "sk-ENV-KEY-42" not in stored and "sk-OURS" not in stored


def test_usage_is_kept_per_query_and_summed_per_context(run_dir):
    def reply(body):
        return 200, {"content": answer_all(body),
                     "usage": {"prompt_tokens": 1000, "completion_tokens": 100,
                               "prompt_tokens_details": {"cached_tokens": 200}}}

    with FakeOpenAI(reply) as server:
        stats = generate(settings_for(server, run_dir, llm="gpt-4o-mini"), run_dir)
        sent = len(server.requests)
    queries = list(read_jsonl(run_dir / "generate.jsonl", Query))
    assert all(q.usage.prompt_tokens == 1000 and q.usage.cached_tokens == 200 for q in queries)
    usage = stats.extra["usage"]
    n_contexts = len({q.context.context_id for q in queries})
    assert usage["this_run"]["requests"] == sent
    assert usage["on_disk"]["prompt_tokens"] == 1000 * n_contexts
    # gpt-4o-mini: $0.15 in, $0.075 cached in, $0.60 out per 1M tokens (data/prices.json)
    want = n_contexts * (800 * 0.15 + 200 * 0.075 + 100 * 0.60) / 1e6
    assert usage["on_disk"]["cost_usd"] == pytest.approx(want, rel=1e-4)


def test_max_cost_stops_before_the_budget_and_a_rerun_goes_on(run_dir):
    n = len(contexts(run_dir))
    price = 1000.0  # USD per 1M tokens both ways
    # Room for about four and a half worst-case requests, whatever the prompt's length.
    worst = max(estimate_prompt_tokens(first_request(c)[0]) for c in contexts(run_dir)) + 100

    def reply(body):
        return 200, {"content": answer_all(body),
                     "usage": {"prompt_tokens": estimate_prompt_tokens(body["messages"]),
                               "completion_tokens": 60}}

    budget = 4.5 * worst * price / 1e6
    with FakeOpenAI(reply) as server:
        settings = settings_for(server, run_dir, llm_max_tokens=100, llm_max_cost=budget,
                                llm_price_in=price, llm_price_out=price, llm_concurrency=3)
        with pytest.raises(ServiceError, match="max-cost") as err:
            generate(settings, run_dir)
        spent = sum(price * (r["prompt_tokens"] + 60) / 1e6 for r in
                    ({"prompt_tokens": estimate_prompt_tokens(b["messages"])} for b in server.requests))
        assert spent <= budget
        assert 0 < len(server.requests) < n
        assert "rerun" in str(err.value)
        done = (run_dir / "generate.done").read_text().splitlines()
        assert len(done) == len(server.requests)  # everything paid for is saved
        server.requests.clear()
        generate(settings.model_copy(update={"llm_max_cost": None}), run_dir)
        assert len(server.requests) == n - len(done)  # goes on; nothing paid twice


def test_max_cost_needs_a_price():
    with pytest.raises(InputError, match="price"):
        Budget(1.0, price_for(Settings(llm="my-local-model")))


def test_price_table_snapshots_and_overrides():
    assert price_for(Settings(llm="gpt-4o-2024-08-06")) == price_for(Settings(llm="gpt-4o"))
    assert price_for(Settings(llm="gpt-4o")).input == 2.5
    assert price_for(Settings(llm="unknown-model")) is None
    custom = price_for(Settings(llm="unknown-model", llm_price_in=1, llm_price_out=2))
    assert (custom.input, custom.output) == (1, 2)
    assert custom.cost(Usage(prompt_tokens=10**6, completion_tokens=10**6), batch=True) == 1.5


def test_dry_run_counts_what_would_be_sent_and_sends_nothing(run_dir):
    n = len(contexts(run_dir))
    with FakeOpenAI(lambda body: (200, answer_all(body))) as server:
        settings = settings_for(server, run_dir, llm="gpt-4o-mini", llm_json_mode="json_schema")
        before = plan(settings, run_dir)
        assert server.requests == []
        assert (before.contexts, before.requests, before.cached) == (n, n, 0)
        assert before.cost_sync > 0 and before.cost_batch == pytest.approx(before.cost_sync / 2)
        generate(settings.model_copy(update={"llm_max_cost": None}), run_dir)
        count = prompt_counter(settings.llm)  # tiktoken if it works offline, else the estimate
        assert before.prompt_basis == count.label
        assert before.prompt_tokens == sum(count(b["messages"]) for b in server.requests)
        after = plan(settings, run_dir)
        assert (after.contexts, after.requests) == (0, 0)
    lines = "\n".join(before.lines())
    assert "nothing was sent" in lines and "batch" in lines


def test_batch_prices_per_model_override_the_discount(tmp_path):
    table = json.loads(Path(resource("data", "prices.json")).read_text())
    assert table["checked"] and table["batch_discount"] == 0.5
    table["models"]["gpt-4o"]["batch_input"] = 1.0  # the output keeps the table's discount
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(table))
    usage = Usage(prompt_tokens=10**6, completion_tokens=10**6)
    plain = price_for(Settings(llm="gpt-4o"))
    assert plain.cost(usage, batch=True) == pytest.approx((2.5 + 10.0) / 2)
    own = price_for(Settings(llm="gpt-4o", llm_price_file=path))
    assert own.cost(usage, batch=True) == pytest.approx(1.0 + 10.0 / 2)
    assert own.cost(usage) == plain.cost(usage) == pytest.approx(12.5)
    table["models"]["gpt-4o"]["batch_output"] = "cheap"
    path.write_text(json.dumps(table))
    with pytest.raises(InputError, match="not numbers"):
        price_for(Settings(llm="gpt-4o", llm_price_file=path))
