"""`audit --judge MODEL` against the fake OpenAI server: the rubric through the project's
cached, budgeted client, reasons kept, unusable answers kept as errors, kappa vs a person."""

import csv
import json
import re

import pytest

from autoscholar.audit.review import cohen_kappa, load_verdicts
from autoscholar.audit.run import run_audit
from autoscholar.config import Settings
from autoscholar.errors import ServiceError

from fakes.openai_server import FakeOpenAI, strict_schema_problem
from test_audit import demo, demo_built  # noqa: F401 - fixtures
from test_cli import run




def answer_ids(body: dict) -> list[str]:
    prompt = body["messages"][0]["content"]
    block = prompt.split("Answers (arXiv id", 1)[1].split("<<<", 1)[1].split(">>>", 1)[0]
    return re.findall(r"^(\S+): ", block, re.M)


def judge_reply(body: dict) -> tuple[int, str]:
    """A deterministic judge: a query whose first answer id ends in an even digit is
    ambiguous; every answer but the last of each query is qualified."""
    ids = answer_ids(body)
    return 200, json.dumps({
        "complete": True, "faithful": True, "unambiguous": int(ids[0][-1]) % 2 == 1,
        "reason": f"judged {len(ids)} answers",
        "answers": [{"arxiv_id": a, "qualified": i < len(ids) - 1 or len(ids) == 1,
                     "reason": f"because {a}"} for i, a in enumerate(ids)]})


def settings_for(run_dir) -> Settings:
    return Settings(venue="demo", run_dir=run_dir)


def test_strict_schema_check_answers_as_openai_does():
    fmt = {"type": "json_schema", "json_schema": {"name": "queries", "strict": True, "schema": {
        "type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}}
    assert strict_schema_problem(fmt) == ("Invalid schema for response_format 'queries': In "
                                          "context=(), 'additionalProperties' is required to be "
                                          "supplied and to be false.")
    fmt["json_schema"]["schema"].update(additionalProperties=False, required=[])
    assert "Missing 'a'" in strict_schema_problem(fmt)


def test_judge_fills_the_rubric_through_the_cached_client(demo):
    with FakeOpenAI(judge_reply) as server:
        flags = {"llm_base_url": server.base_url}
        run_audit(settings_for(demo), demo, judge="gpt-4o-mini", judge_flags=flags,
                  sample_size=6)
        sent = len(server.requests)
        assert sent == 6
        body = server.requests[0]
        assert body["model"] == "gpt-4o-mini"
        assert body["response_format"]["type"] == "json_schema"  # strict schema accepted
        schema = body["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["answers"]["items"]["properties"]["arxiv_id"]["enum"] == \
            answer_ids(body)
        verdicts, meta = load_verdicts(demo / "audit", "judge")
        assert meta["model"] == "gpt-4o-mini" and meta["complete"] is True
        assert len(verdicts) == 6 and not any(v.error for v in verdicts)
        assert all(v.reason.startswith("judged") and v.answer_reasons for v in verdicts)
        # A rerun pays nothing: every answer comes from the cache.
        run_audit(settings_for(demo), demo, judge="gpt-4o-mini", judge_flags=flags,
                  sample_size=6)
        assert len(server.requests) == sent
    saved = json.loads((demo / "audit" / "audit.json").read_text())
    judged = saved["review"]["judge"]["rates"]
    ambiguous = sum(1 for v in verdicts if v.unambiguous is False)
    assert judged["query_qualified"]["n"] == 6
    assert judged["query_qualified"]["k"] == 6 - ambiguous
    report = (demo / "audit" / "report.html").read_text()
    assert "judge: complete yes, faithful yes" in report and "judged 1 answers" in report
    manifest = json.loads((demo / "manifest.json").read_text())
    assert manifest["settings"]["llm"] == "none"  # the judge's model is not the run's


def test_judge_beside_a_human_review_shows_kappa(demo, tmp_path):
    sheet = tmp_path / "r.csv"
    run_audit(settings_for(demo), demo, export_review=sheet, sample_size=6)
    rows = list(csv.DictReader(sheet.open()))
    human = {}
    for n, r in enumerate(r for r in rows if r["kind"] == "query"):
        human[r["qid"]] = n % 2 == 0
    for r in rows:
        if r["kind"] == "query":
            r.update(complete="y", faithful="y", unambiguous="y" if human[r["qid"]] else "n")
    with sheet.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with FakeOpenAI(judge_reply) as server:
        run_audit(settings_for(demo), demo, import_review=sheet, judge="gpt-4o-mini",
                  judge_flags={"llm_base_url": server.base_url}, sample_size=6)
    judge, _ = load_verdicts(demo / "audit", "judge")
    pairs = [(human[v.qid], v.query_qualified) for v in judge]
    saved = json.loads((demo / "audit" / "audit.json").read_text())
    got = saved["review"]["agreement"]["query_qualified"]
    assert got["items"] == 6
    expected = cohen_kappa(pairs)
    assert got["kappa"] == (None if expected is None else round(expected, 4))
    assert "Cohen&#x27;s kappa" in (demo / "audit" / "report.html").read_text()


def test_unusable_answers_are_kept_as_errors_and_a_refused_mode_falls_back(demo):
    def reply(body):
        if body.get("response_format", {}).get("type") == "json_schema":
            # llama.cpp's server: no json_schema
            return 500, "response_format.type: Input should be 'text' or 'json_object'"
        if "1" in answer_ids(body)[0][-1:]:
            return 200, "I think it is fine."
        return judge_reply(body)

    with FakeOpenAI(reply) as server:
        run_audit(settings_for(demo), demo, judge="local-model",
                  judge_flags={"llm_base_url": server.base_url}, sample_size=6)
        assert server.requests[-1]["response_format"]["type"] == "json_object"
    verdicts, _ = load_verdicts(demo / "audit", "judge")
    errors = [v for v in verdicts if v.error]
    assert errors and all("unusable judge answer" in v.error for v in errors)
    saved = json.loads((demo / "audit" / "audit.json").read_text())
    assert saved["review"]["judge"]["errors"] == len(errors)
    assert saved["review"]["judge"]["rates"]["query_qualified"]["n"] == 6 - len(errors)


def test_max_cost_stops_the_judge_with_what_was_judged_saved(demo):
    def priced(body):  # usage as a real model would count this prompt and answer
        status, text = judge_reply(body)
        return status, {"content": text, "usage": {"prompt_tokens": 1000,
                                                   "completion_tokens": 500}}

    with FakeOpenAI(priced) as server:
        flags = {"llm_base_url": server.base_url, "llm_price_in": 100.0, "llm_price_out": 100.0,
                 "llm_max_cost": 0.5, "llm_max_tokens": 1000}
        with pytest.raises(ServiceError, match=r"audit --judge stopped before passing "
                                               r"--max-cost \$0.5000: \d of 6 items judged"):
            run_audit(settings_for(demo), demo, judge="gpt-4o-mini", judge_flags=flags,
                      sample_size=6)
        sent = len(server.requests)
        assert 0 < sent < 6 and sent * 0.15 <= 0.5  # $0.15 each: the cap holds
    verdicts, meta = load_verdicts(demo / "audit", "judge")
    assert meta["complete"] is False and len(verdicts) == sent  # every paid answer is kept


def test_judge_command_line(demo):
    with FakeOpenAI(judge_reply) as server:
        proc = run("audit", demo, "--judge", "gpt-4o-mini", "--llm-base-url", server.base_url,
                   "--sample", "4", "--price-in", "0.15", "--price-out", "0.6",
                   "--fail-under", "query_qualified=1.0", check=False,
                   env={"AUTOSCHOLAR_LLM_API_KEY": "sk-SECRET-JUDGE"})
        assert server.headers[0]["authorization"] == "Bearer sk-SECRET-JUDGE"
    verdicts, _ = load_verdicts(demo / "audit", "judge")
    qualified = sum(1 for v in verdicts if v.query_qualified)
    assert f"judge: 4 queries judged by gpt-4o-mini (4 requests sent, $" in proc.stderr
    assert proc.returncode == (0 if qualified == 4 else 1)
    for path in demo.rglob("*"):
        if path.is_file() and path.suffix != ".pdf":
            assert b"sk-SECRET-JUDGE" not in path.read_bytes(), path


def test_a_bad_judge_flag_is_one_line(demo):
    proc = run("audit", demo, "--judge", "gpt-4o-mini", "--llm-json-mode", "bogus", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: invalid setting llm_json_mode")
    assert not (demo / "audit" / "review.judge.json").exists()
