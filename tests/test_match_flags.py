"""--printed-id and --id-author-mismatch through the real command: each value changes the match
output as the help says, a change after a build is refused with the --redo hint, and a bad
value is one line.

The run is the demo against a snapshot of its own index with three records altered: RoBERTa
(1907.11692) and GPT-3 (2005.14165) left out, so their printed ids are ids the index lacks, and
LoRA's record (2106.09685) made a bad catalogue record (other title, other authors), so the
printed id's authors disagree with it and no record holds the printed title."""

from __future__ import annotations

import json

import pytest
from test_cli import ROOT, run
from test_online import server  # noqa: F401  (the fake arXiv API, a fixture)

from autoscholar.io import read_jsonl
from autoscholar.records import MatchedQuery

ABSENT = {"1907.11692": "demo-001:0:1", "2005.14165": "demo-001:0:2"}  # id -> a query citing it
LORA, LORA_QUERY = "2106.09685", "demo-001:1:0"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    out = tmp_path_factory.mktemp("snap") / "arxiv.jsonl"
    lines = []
    for line in (ROOT / "data" / "demo_arxiv.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        if record["id"] in ABSENT:
            continue
        if record["id"] == LORA:
            record = {**record, "title": "Moisture sensing in orchard soils with drones",
                      "authors": "Ana Otherperson and Ben Someone",
                      "authors_parsed": [["Otherperson", "Ana", ""], ["Someone", "Ben", ""]]}
        lines.append(json.dumps(record))
    out.write_text("\n".join(lines) + "\n", "utf-8")
    return out


def by_id(run_dir, query_id: str, arxiv_id: str):
    """What became of the answer whose reference prints `arxiv_id`."""
    for mq in read_jsonl(run_dir / "match.jsonl", MatchedQuery):
        if mq.query.query_id == query_id:
            for a in mq.answers:
                if arxiv_id in a.raw:
                    return (a.arxiv_id, a.method, a.flags)
            for d in mq.dropped:
                if arxiv_id in d.raw:
                    return d.reason
    raise AssertionError(f"no answer printing {arxiv_id} in {query_id}")


def test_each_value_changes_the_match_output_and_a_change_needs_redo(snapshot, server, tmp_path):  # noqa: F811
    run_dir = tmp_path / "run"
    run("build", "--venue", "demo", "--out", run_dir, "--arxiv-index", snapshot)
    # The defaults: keep and title.
    for ident, query in ABSENT.items():
        assert by_id(run_dir, query, ident) == (ident, "printed-id-unverified", [])
    # title: the printed title decides, and no record has it.
    assert by_id(run_dir, LORA_QUERY, LORA) == "id-author-mismatch"
    before = (run_dir / "match.jsonl").read_bytes()

    # A changed policy after the build is refused, naming the way on; nothing is touched.
    proc = run("match", run_dir, "--printed-id", "drop", check=False)
    assert proc.returncode == 1 and "printed_id='keep', now 'drop'" in proc.stderr
    assert "--redo match" in proc.stderr
    proc = run("build", "--venue", "demo", "--out", run_dir, "--arxiv-index", snapshot,
               "--id-author-mismatch", "id", check=False)
    assert proc.returncode == 1 and "id_author_mismatch='title', now 'id'" in proc.stderr
    assert "--redo match" in proc.stderr
    assert (run_dir / "match.jsonl").read_bytes() == before

    run("match", run_dir, "--printed-id", "drop", "--redo")
    assert {by_id(run_dir, q, i) for i, q in ABSENT.items()} == {"id-not-in-index"}
    # verify asks the arXiv API: GPT-3 is there, RoBERTa's id is unknown to this fake arXiv.
    # (Through build: a stage command takes the run's recorded settings over the environment,
    # so the fake API's address comes in with a build, which records it.)
    run("build", "--venue", "demo", "--out", run_dir, "--arxiv-index", snapshot,
        "--printed-id", "verify", "--redo", "match", env={"AUTOSCHOLAR_ARXIV_API_URL": server})
    assert by_id(run_dir, ABSENT["2005.14165"], "2005.14165") == (
        "2005.14165", "arxiv-id-online", [])
    assert by_id(run_dir, ABSENT["1907.11692"], "1907.11692") == "not-on-arxiv"

    # id: the printed id stands, flagged; build takes the flag like match does.
    run("build", "--venue", "demo", "--out", run_dir, "--arxiv-index", snapshot,
        "--printed-id", "keep", "--id-author-mismatch", "id", "--redo", "match")
    assert by_id(run_dir, LORA_QUERY, LORA) == (LORA, "arxiv-id", ["id-author-mismatch"])
    for ident, query in ABSENT.items():
        assert by_id(run_dir, query, ident) == (ident, "printed-id-unverified", [])
    # status takes them as build's options: the other value makes match stale.
    status = run("status", run_dir, "--id-author-mismatch", "title", "--json").stdout
    assert {json.loads(line)["stage"]: json.loads(line)["state"]
            for line in status.splitlines() if '"stage"' in line}["match"] == "stale"


def test_a_bad_value_is_one_line(tmp_path):
    for flag, value, allowed in (("--printed-id", "maybe", "'keep', 'verify' or 'drop'"),
                                 ("--id-author-mismatch", "both", "'title' or 'id'")):
        out = tmp_path / flag.strip("-")
        proc = run("build", "--venue", "demo", "--out", out, flag, value, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"error: invalid setting {flag[2:].replace('-', '_')}: Input should be {allowed}"]
        assert not out.exists()


def test_help_explains_each_value():
    for command in ("build", "match"):
        text = " ".join(run(command, "--help").stdout.replace("│", " ").split())
        for words in ("kept as an answer marked unverified", "not-on-arxiv", "id-not-in-index",
                      "the printed title decides", "the id stands"):
            assert words in text, (command, words)
