"""--batch against the fake OpenAI server's Batch API: same dataset as live requests, a killed
build resumes the same batch (one upload, one batch), failed items retried once then rejected,
splits under the API's limits, live runs refused while a batch is open, keys never stored."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from autoscholar.config import Settings
from autoscholar.generate import batch, first_request
from autoscholar.generate.llm import cache_key, cache_path, request_body
from autoscholar.generate.stage import generate
from autoscholar.io import read_jsonl
from autoscholar.records import Query, Reject

from fakes.openai_server import FakeOpenAI
from test_cli import CLI, dataset_bytes, run
from test_llm import answer_all, contexts, contexts_run, run_dir  # noqa: F401 - fixtures

SECRET = "sk-BATCH-SECRET-77"


def good(body):
    return 200, answer_all(body)


def live(server) -> list[dict]:
    """Chat requests sent live, but for build's preflight probe (1 token, negotiates the JSON
    mode the batch then uses)."""
    return [b for b in server.requests if b["max_tokens"] != 1]




def batch_settings(server, run_dir, **kw) -> Settings:
    return Settings(llm=kw.pop("llm", "test-model"), llm_base_url=server.base_url,
                    run_dir=run_dir, llm_max_retries=0, llm_batch=True, llm_batch_poll=0.01,
                    **kw)


def uploaded_lines(server) -> list[list[dict]]:
    return [[json.loads(ln) for ln in data.decode().splitlines()] for data in server.uploads]


def build_args(server, run_dir, *more):
    return ["build", "--venue", "demo", "--llm", "test-model", "--llm-base-url", server.base_url,
            "--out", run_dir, *more]


@pytest.fixture(scope="module")
def live_reference(tmp_path_factory):
    """The demo built with live requests against the same fake answers."""
    run_dir = tmp_path_factory.mktemp("live") / "run"
    with FakeOpenAI(good) as server:
        run(*build_args(server, run_dir))
        assert server.requests and not server.batches
    return dataset_bytes(run_dir)


def test_batch_build_gives_the_live_dataset_and_keeps_no_key(tmp_path, live_reference):
    run_dir = tmp_path / "run"
    with FakeOpenAI(good) as server:
        proc = run(*build_args(server, run_dir, "--batch", "--batch-poll", "0.05"),
                   env={"AUTOSCHOLAR_LLM_API_KEY": SECRET})
        assert live(server) == []  # nothing went live but the probe, which found json_schema
        assert [b["response_format"]["type"] for b in server.requests] == ["json_schema"]
        assert len(server.uploads) == 1 and len(server.batches) == 1
        assert {h.get("authorization") for h in server.headers} == {f"Bearer {SECRET}"}
        [lines] = uploaded_lines(server)
        manifest = json.loads((run_dir / "manifest.json").read_text())
        # --batch is not part of generate's identity: a live build over the same run
        # directory finds everything done and cached, redoes nothing and sends nothing.
        again = run(*build_args(server, run_dir))
        assert len(server.requests) == 1 and len(server.uploads) == 1  # not even a probe
        assert "0 new inputs" in again.stderr
    assert dataset_bytes(run_dir) == live_reference
    n = len(contexts(run_dir))
    assert len(lines) == n
    for line in lines:  # custom_id is the cache key of exactly the body sent
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        assert line["custom_id"] == cache_key(line["body"], server.base_url)
        assert cache_path(run_dir / "cache" / "llm", line["custom_id"]).exists()
        assert line["body"]["response_format"]["type"] == "json_schema"
    state = json.loads((run_dir / batch.STATE_FILE).read_text())
    assert [j["status"] for j in state["jobs"]] == ["completed"]
    assert all(j["collected"] for j in state["jobs"])
    stored = [p.read_bytes() for p in run_dir.rglob("*") if p.is_file()]
    assert not any(SECRET.encode() in b for b in stored + server.uploads)
    assert SECRET not in proc.stdout + proc.stderr
    generate_stats = manifest["stages"]["generate"]["extra"]
    assert generate_stats["usage"]["mode"] == "batch"
    assert generate_stats["usage"]["this_run"]["batch_requests"] == n
    assert generate_stats["batch"] == {"batches_created": 1, "answered": n, "failed": 0}


def test_a_killed_batch_build_resumes_the_same_batch(tmp_path, live_reference):
    run_dir = tmp_path / "run"
    state_file = run_dir / batch.STATE_FILE
    with FakeOpenAI(good) as server:
        server.batch_stall = True  # the batch stays in_progress until the test lets it go
        args = [*CLI, *map(str, build_args(server, run_dir, "--batch", "--batch-poll", "0.05"))]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if state_file.exists() and '"in_progress"' in state_file.read_text():
                break
            time.sleep(0.02)
        time.sleep(0.2)  # a few polls of the open batch
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the build ended before the kill"
        [job] = json.loads(state_file.read_text())["jobs"]
        assert job["id"] in server.batches and not job["collected"]

        # While the batch is open, a live run would pay again: refused, in one line.
        refused = run("generate", run_dir, "--no-batch", check=False)
        assert refused.returncode != 0
        assert refused.stderr.count("\n") == 1 and "--batch" in refused.stderr
        assert job["id"] in refused.stderr and live(server) == []

        server.batch_stall = False
        run(*build_args(server, run_dir, "--batch", "--batch-poll", "0.05"))
        assert len(server.uploads) == 1 and len(server.batches) == 1  # no second batch
        assert live(server) == [] and len(server.requests) == 1  # the first build's probe
        assert len(server.batch_requests) == len(contexts(run_dir))  # each answered once
    assert dataset_bytes(run_dir) == live_reference


def test_a_kill_between_upload_and_saving_the_batch_id_adopts_the_batch(run_dir):
    with FakeOpenAI(good) as server:
        settings = batch_settings(server, run_dir)
        generate(settings, run_dir)
        [job] = batch.load(run_dir).jobs
        # As if killed right after create: the state knows the upload, not the batch id.
        state = batch.load(run_dir)
        state.jobs[0] = batch.Job(input_file_id=job.input_file_id, keys=job.keys)
        batch.save(run_dir, state)
        for name in ("generate.jsonl", "generate.done", "generate.rejects.jsonl"):
            (run_dir / name).unlink(missing_ok=True)
        shutil.rmtree(run_dir / "cache")
        generate(settings, run_dir)
        assert len(server.batches) == 1 and len(server.uploads) == 1
        assert batch.load(run_dir).jobs[0].id == job.id
    assert len(list(read_jsonl(run_dir / "generate.jsonl", Query))) > 0


def test_failed_items_are_resubmitted_once_then_rejected(run_dir):
    found = contexts(run_dir)
    always, once = found[0].sentences[0], found[1].sentences[0]
    seen = []

    def reply(body):
        text = body["messages"][0]["content"]
        if always in text:
            return 500, "The server had an error while processing your request."
        if once in text and once not in seen:
            seen.append(once)
            return 429, "Rate limit reached for requests"
        return good(body)

    with FakeOpenAI(reply) as server:
        stats = generate(batch_settings(server, run_dir), run_dir)
        first, second = uploaded_lines(server)
        assert len(server.batches) == 2 and server.requests == []
    assert len(first) == len(found)
    assert sorted(ln["custom_id"] for ln in second) == sorted(
        ln["custom_id"] for ln in first
        if always in ln["body"]["messages"][0]["content"]
        or once in ln["body"]["messages"][0]["content"])
    rejects = {r.key: r for r in read_jsonl(run_dir / "generate.rejects.jsonl", Reject)}
    assert {k: r.reason for k, r in rejects.items()} == {found[0].context_id: "batch-failed"}
    assert "HTTP 500" in rejects[found[0].context_id].detail
    assert "server had an error" in rejects[found[0].context_id].detail
    queries = list(read_jsonl(run_dir / "generate.jsonl", Query))
    assert found[1].context_id in {q.context.context_id for q in queries}
    assert stats.extra["batch"] == {"batches_created": 2, "answered": len(found) - 1,
                                    "failed": 1}
    with FakeOpenAI(reply) as server:  # a rerun sends nothing: rejects are final
        generate(batch_settings(server, run_dir), run_dir)
        assert server.uploads == [] and server.requests == []


def test_an_expired_batch_is_resubmitted_for_what_it_left(run_dir):
    n = len(contexts(run_dir))
    with FakeOpenAI(good) as server:
        server.batch_expire_after = 2
        settings = batch_settings(server, run_dir)
        # The second batch expires too: what neither answered becomes batch-failed.
        generate(settings, run_dir)
        first, second = uploaded_lines(server)
        assert (len(first), len(second)) == (n, n - 2)
        assert [b["status"] for b in server.batches.values()] == ["expired", "expired"]
    rejects = list(read_jsonl(run_dir / "generate.rejects.jsonl", Reject))
    assert len(rejects) == n - 4 and {r.reason for r in rejects} == {"batch-failed"}
    assert all("batch_expired" in r.detail for r in rejects)


def test_large_runs_are_split_under_the_api_limits(run_dir, monkeypatch):
    n = len(contexts(run_dir))
    monkeypatch.setattr(batch, "MAX_REQUESTS", 3)
    with FakeOpenAI(good) as server:
        generate(batch_settings(server, run_dir), run_dir)
        sizes = [len(lines) for lines in uploaded_lines(server)]
        assert sizes == [3] * (n // 3) + ([n % 3] if n % 3 else [])
        assert len(server.batches) == len(sizes) and server.requests == []
    assert not list(read_jsonl(run_dir / "generate.rejects.jsonl", Reject))


def test_split_by_bytes():
    bodies = {f"k{i}": {"model": "m", "messages": [{"role": "user", "content": "x" * 100}]}
              for i in range(5)}
    one = len(batch.line_of("k0", bodies["k0"]))
    batch_bytes = batch.MAX_BYTES
    try:
        batch.MAX_BYTES = 2 * one
        assert batch.split(list(bodies), bodies) == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    finally:
        batch.MAX_BYTES = batch_bytes


def test_no_repair_turn_under_batch_and_batch_pricing(run_dir):
    found = contexts(run_dir)
    bad = found[0].sentences[0]

    def reply(body):
        if bad in body["messages"][0]["content"]:
            return 200, "not json at all"
        return 200, {"content": answer_all(body),
                     "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}

    with FakeOpenAI(reply) as server:
        stats = generate(batch_settings(server, run_dir, llm="gpt-4o-mini"), run_dir)
        assert server.requests == [] and len(server.batches) == 1
    rejects = {r.key: r for r in read_jsonl(run_dir / "generate.rejects.jsonl", Reject)}
    assert rejects[found[0].context_id].reason == "malformed-llm-output"
    assert "no repair turn under --batch" in rejects[found[0].context_id].detail
    assert rejects[found[0].context_id].raw_output == "not json at all"
    usage = stats.extra["usage"]
    answered = len(found) - 1
    # gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens, half under the Batch API
    want = answered * (1000 * 0.15 + 100 * 0.60) / 1e6 / 2 + (10 * 0.15 + 5 * 0.60) / 1e6 / 2
    assert usage["this_run"]["cost_usd"] == pytest.approx(want, abs=1e-6)  # rounded to 6
    assert usage["this_run"]["batch_requests"] == len(found)


def test_the_recorded_json_mode_is_used_by_the_batch(run_dir):
    (run_dir / "cache" / "llm").mkdir(parents=True)
    with FakeOpenAI(good) as server:
        settings = batch_settings(server, run_dir)
        from autoscholar.generate.llm import _endpoint_id

        (run_dir / "cache" / "llm" / "json_modes.json").write_text(
            json.dumps({_endpoint_id(settings): "json_object"}))
        generate(settings, run_dir)
        [lines] = uploaded_lines(server)
    assert {ln["body"]["response_format"]["type"] for ln in lines} == {"json_object"}
    messages, schema = first_request(contexts(run_dir)[0])
    body = request_body(messages, settings, schema, "json_object")
    assert cache_path(run_dir / "cache" / "llm", cache_key(body, server.base_url)).exists()


def test_batch_with_the_offline_generator_is_refused_in_one_line(tmp_path):
    proc = run("build", "--venue", "demo", "--batch", "--out", tmp_path / "run", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: --batch needs a model (--llm NAME): the offline generator sends no requests"]
    assert not (tmp_path / "run").exists()


def test_max_cost_keeps_requests_out_of_the_batch_and_a_rerun_goes_on(run_dir):
    from autoscholar.errors import ServiceError
    from autoscholar.generate.cost import estimate_prompt_tokens

    n = len(contexts(run_dir))
    price = 1000.0  # USD per 1M tokens both ways
    # Room for about three worst-case requests at the batch rate (prompt + max_tokens, halved),
    # whatever the prompt's length.
    worst = max(estimate_prompt_tokens(first_request(c)[0]) for c in contexts(run_dir)) + 100
    budget = 3.5 * worst * price / 1e6 / 2

    def reply(body):
        return 200, {"content": answer_all(body),
                     "usage": {"prompt_tokens": estimate_prompt_tokens(body["messages"]),
                               "completion_tokens": 60}}

    with FakeOpenAI(reply) as server:
        settings = batch_settings(server, run_dir, llm_max_tokens=100, llm_max_cost=budget,
                                  llm_price_in=price, llm_price_out=price)
        with pytest.raises(ServiceError, match="max-cost"):
            generate(settings, run_dir)
        sent = [b for lines in uploaded_lines(server) for b in (ln["body"] for ln in lines)]
        spent = sum(price * (estimate_prompt_tokens(b["messages"]) + 60) / 1e6 / 2 for b in sent)
        assert spent <= budget and 0 < len(sent) < n
        assert server.requests == []
        generate(settings.model_copy(update={"llm_max_cost": None}), run_dir)
        more = [ln for lines in uploaded_lines(server) for ln in lines][len(sent):]
        assert len(more) == n - len(sent)  # goes on with the rest; nothing paid twice
    assert not list(read_jsonl(run_dir / "generate.rejects.jsonl", Reject))


def test_a_batch_cancelled_at_the_endpoint_is_sent_once_more(run_dir):
    import threading

    import openai

    n = len(contexts(run_dir))
    with FakeOpenAI(good) as server:
        server.batch_stall = True

        def cancel_the_first():  # as someone would in the OpenAI dashboard
            while not server.batches:
                time.sleep(0.01)
            sdk = openai.OpenAI(api_key="sk-x", base_url=server.base_url)
            assert sdk.batches.cancel(next(iter(server.batches))).status == "cancelling"
            server.batch_stall = False

        canceller = threading.Thread(target=cancel_the_first)
        canceller.start()
        stats = generate(batch_settings(server, run_dir), run_dir)
        canceller.join()
        assert [b["status"] for b in server.batches.values()] == ["cancelled", "completed"]
        assert [len(lines) for lines in uploaded_lines(server)] == [n, n]
    assert stats.rejects == 0 and stats.extra["batch"]["answered"] == n


def test_an_endpoint_without_the_batch_api_stops_with_one_clear_line(run_dir):
    from autoscholar.errors import ServiceError

    with FakeOpenAI(good) as server:
        server.batch_api = False
        with pytest.raises(ServiceError) as err:
            generate(batch_settings(server, run_dir), run_dir)
        assert server.requests == []  # nothing went live instead
    assert "Batch API" in str(err.value) and "without --batch" in str(err.value)
    assert "\n" not in str(err.value) and not err.value.transient
    assert not (run_dir / "generate.done").exists() or not (run_dir / "generate.done").read_text()


def test_a_given_json_mode_is_what_the_batch_sends(run_dir):
    def fenced(body):  # plain-text mode: the JSON comes back fenced, as chat models write it
        assert "response_format" not in body
        return 200, "```json\n" + answer_all(body) + "\n```"

    with FakeOpenAI(fenced) as server:
        stats = generate(batch_settings(server, run_dir, llm_json_mode="text"), run_dir)
        [lines] = uploaded_lines(server)
    assert all("response_format" not in ln["body"] for ln in lines)
    assert stats.rejects == 0 and stats.outputs > 0


def test_dry_run_with_batch_counts_the_batches_and_sends_nothing(run_dir, monkeypatch):
    from autoscholar.generate.plan import plan

    n = len(contexts(run_dir))
    monkeypatch.setattr(batch, "MAX_REQUESTS", 5)
    with FakeOpenAI(good) as server:
        planned = plan(batch_settings(server, run_dir, llm="gpt-4o-mini"), run_dir)
        assert server.requests == [] and server.uploads == [] and not server.batches
    assert (planned.requests, planned.batches) == (n, -(-n // 5))
    assert f"with --batch: {n} requests in {-(-n // 5)} batch(es)" in "\n".join(planned.lines())
    assert not (run_dir / batch.STATE_FILE).exists()
