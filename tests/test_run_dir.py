"""The run directory as a user sees it through the CLI: status, manifest history and totals,
exit codes, file modes (issue 9)."""

import json
import shutil
from pathlib import Path

import pytest

from test_cli import run


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    run("build", "--venue", "demo", "--out", run_dir)
    return run_dir


def copy_of(demo: Path, target: Path) -> Path:
    shutil.copytree(demo, target)
    return target


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def status_rows(*args) -> dict[str, dict]:
    proc = run("status", *args, "--json")
    return {row["stage"]: row for row in map(json.loads, proc.stdout.splitlines())
            if "stage" in row}


def test_status_of_a_finished_run_counts_what_is_on_disk(demo):
    rows = status_rows(demo)
    assert list(rows) == ["fetch", "parse", "contexts", "generate", "match", "publish", "audit"]
    assert {r["state"] for r in rows.values()} == {"done"}
    for stage in ("fetch", "parse", "contexts", "generate", "match"):
        assert rows[stage]["records"] == lines_of(demo / f"{stage}.jsonl") > 0
        assert rows[stage]["rejects"] == lines_of(demo / f"{stage}.rejects.jsonl")
    published = sum(lines_of(demo / "dataset" / f"{s}.jsonl") for s in ("train", "dev", "test"))
    assert rows["publish"]["records"] == published > 0
    assert rows["publish"]["rejects"] == lines_of(demo / "publish.rejects.jsonl") > 0
    table = run("status", demo).stdout.splitlines()
    assert table[0].split()[:4] == ["stage", "state", "records", "rejects"]
    assert table[5].split()[:3] == ["match", "done", str(rows["match"]["records"])]


def test_status_names_stale_and_partial_stages(demo, tmp_path):
    rows = status_rows(demo, "--match-threshold", "99")
    assert [rows[s]["state"] for s in rows] == ["done"] * 4 + ["stale"] * 3
    assert "match_threshold=90.0, now 99.0" in rows["match"]["detail"]
    rows = status_rows(demo, "--parser", "grobid")
    assert rows["fetch"]["state"] == "done" and rows["parse"]["state"] == "stale"
    assert all(rows[s]["state"] == "stale" for s in ("contexts", "generate", "match", "publish"))

    run_dir = copy_of(demo, tmp_path / "run")
    done = (run_dir / "match.done").read_text().splitlines()
    (run_dir / "match.done").write_text(done[0] + "\n")  # as if killed after one query
    rows = status_rows(run_dir)
    assert rows["generate"]["state"] == "done"
    assert rows["match"]["state"] == "partial"
    assert rows["match"]["detail"] == f"1 of {len(done)} inputs finished"
    assert rows["publish"]["state"] == "partial"

    empty = tmp_path / "empty"
    empty.mkdir()
    rows = status_rows(empty)
    assert {r["state"] for r in rows.values()} == {"not started"}
    assert rows["fetch"]["records"] == 0


def test_status_lists_the_batches_still_open(demo, tmp_path):
    from autoscholar.generate.batch import Job, State, save

    run_dir = copy_of(demo, tmp_path / "run")
    save(run_dir, State(endpoint="openai|gpt-4o-mini", jobs=[
        Job(input_file_id="file-a", keys=["k1", "k2"], id="batch_a", status="completed",
            counts={"total": 2, "completed": 2, "failed": 0}, collected=True),
        Job(input_file_id="file-b", keys=["k3", "k4", "k5"], id="batch_b", status="in_progress",
            counts={"total": 3, "completed": 1, "failed": 1}),
        Job(input_file_id="file-c", keys=["k6"]),  # uploaded, create not confirmed
    ]))
    table = run("status", run_dir).stdout.splitlines()
    batch_rows = [line for line in table if line.startswith("batch")]
    assert batch_rows == [
        "batch batch_b: in_progress, 3 requests (1 completed, 1 failed); "
        "rerun generate with --batch to collect it",
        "batch (not created; upload file-c): uploaded, 1 requests (?); "
        "rerun generate with --batch to collect it"]
    objects = [json.loads(line) for line in run("status", run_dir, "--json").stdout.splitlines()]
    assert [o["batch"] for o in objects if "batch" in o] == ["batch_b", None]
    assert len([o for o in objects if "stage" in o]) == 7
    assert not [line for line in run("status", demo).stdout.splitlines()
                if line.startswith("batch")]

    (run_dir / "generate.batches.json").write_text("{not json")
    proc = run("status", run_dir)
    assert proc.stdout.splitlines()[-1].startswith("batch: ")
    assert "generate.batches.json is damaged" in proc.stdout


def test_status_of_no_run_directory_is_one_line(tmp_path):
    proc = run("status", tmp_path / "missing", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_manifest_keeps_history_and_totals_on_disk(demo, tmp_path):
    run_dir = copy_of(demo, tmp_path / "run")
    run("build", "--venue", "demo", "--out", run_dir,
        env={"AUTOSCHOLAR_LLM_API_KEY": "sk-NEVER-LOGGED"})  # a resumed build: nothing new
    run("match", run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    first, resumed, match = manifest["history"]
    assert first["command"][:2] == ["autoscholar", "build"] and first["time"].endswith("Z")
    assert first["stages"] == ["fetch", "parse", "contexts", "generate", "match", "publish",
                               "audit"]
    assert first["counts"]["match"]["outputs"] == lines_of(run_dir / "match.jsonl") > 0
    assert resumed["counts"]["match"]["outputs"] == 0  # this invocation made nothing new ...
    assert manifest["totals"]["match"] == {  # ... but the totals say what is there
        "records": lines_of(run_dir / "match.jsonl"),
        "rejects": lines_of(run_dir / "match.rejects.jsonl")}
    assert manifest["totals"]["publish"]["records"] == sum(
        lines_of(run_dir / "dataset" / f"{s}.jsonl") for s in ("train", "dev", "test"))
    assert match["stages"] == ["match"] and match["command"][1:3] == ["match", str(run_dir)]
    assert "sk-NEVER-LOGGED" not in json.dumps(manifest)


def bogus_pdfs(folder: Path, n: int) -> None:
    for i in range(n):
        (folder / f"broken-{i}.pdf").write_text("not a pdf at all")


def test_a_stage_failing_on_most_inputs_exits_non_zero_even_when_resumed(demo, tmp_path):
    from test_cli import ROOT, copies_of_demo

    pdfs = copies_of_demo(demo, tmp_path / "pdfs", 1)  # 4 good papers
    bogus_pdfs(pdfs, 5)  # 5 of 9 cannot be parsed: 56 % > 50 %
    args = ("build", "--venue", "local", "--pdf-dir", pdfs, "--out", tmp_path / "run",
            "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl")
    for attempt in ("first", "resumed"):
        proc = run(*args, check=False)
        assert proc.returncode == 1, (attempt, proc.stderr)
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("error: parse failed on 5 of 9 inputs (5 not-a-pdf;"), last
        assert "Traceback" not in proc.stderr
    assert lines_of(tmp_path / "run" / "dataset" / "train.jsonl") > 0  # the good ones published
    assert run(*args, "--max-error-rate", "0.6").returncode == 0
    proc = run(*args, "--max-error-rate", "1.5", check=False)
    assert proc.returncode == 2 and "max_error_rate" in proc.stderr


def test_a_build_that_publishes_nothing_exits_non_zero(tmp_path):
    from test_cli import ROOT

    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    bogus_pdfs(pdfs, 2)
    proc = run("build", "--venue", "local", "--pdf-dir", pdfs, "--out", tmp_path / "run",
               "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl", "--max-error-rate", "1",
               check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == \
        "error: the build published nothing (0 dataset rows)"


def test_inputs_that_do_not_qualify_are_not_failures(tmp_path):
    from autoscholar.records import Reject
    from autoscholar.verdict import problems

    def rejects(stage, reasons):
        (tmp_path / f"{stage}.rejects.jsonl").write_text("".join(
            Reject(stage=stage, key=str(i), reason=r).model_dump_json() + "\n"
            for i, r in enumerate(reasons)))

    rejects("contexts", ["no-related-work-section"] * 3 + ["no-citation-contexts"])
    rejects("parse", ["timeout", "worker-crashed", "no-text"])
    stats = {"parse": {"inputs": 4}, "contexts": {"inputs": 4},
             "publish": {"examples": {"train": 1, "dev": 0, "test": 0}}}
    found = problems(tmp_path, stats, 0.5)
    assert len(found) == 1 and found[0].startswith("parse failed on 3 of 4 inputs")
    assert problems(tmp_path, stats, 0.75) == []
    stats["publish"]["examples"]["train"] = 0
    assert problems(tmp_path, stats, 0.75) == ["the build published nothing (0 dataset rows)"]


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_every_file_of_a_run_gets_the_mode_the_umask_gives(tmp_path, mask):
    import os
    import stat
    import subprocess

    from test_cli import CLI

    run_dir = tmp_path / "run"
    subprocess.run([*CLI, "build", "--venue", "demo", "--out", str(run_dir)], check=True,
                   capture_output=True, preexec_fn=lambda: os.umask(mask), timeout=600)
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    for name in ("manifest.json", "parse.jsonl", "parse.settings.json", "dataset/train.jsonl",
                 "dataset/hf/README.md", "dataset/hf/data/train-00000-of-00001.parquet",
                 "audit/report.html", "listing.jsonl"):
        assert run_dir / name in files
    modes = {str(p.relative_to(run_dir)): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert {k: oct(v) for k, v in modes.items() if v != 0o666 & ~mask} == {}


def test_progress_without_a_terminal_is_a_line_per_stage_every_few_seconds(tmp_path):
    import re

    proc = run("build", "--venue", "demo", "--out", tmp_path / "run",
               env={"AUTOSCHOLAR_PROGRESS_INTERVAL": "0.05"})
    lines = [ln for ln in proc.stderr.splitlines()
             if re.fullmatch(r"[\w ()]+: \d+/\d+ done, \d+ rejected, \d+ s", ln)]
    parse = [ln for ln in lines if ln.startswith("parse (pymupdf): ")]
    assert len(parse) >= 2, proc.stderr  # periodic lines, then where the stage ended
    assert parse[-1].startswith("parse (pymupdf): 4/4 done, 0 rejected")
    counts = [int(ln.split(": ")[1].split("/")[0]) for ln in parse]
    assert counts == sorted(counts)
    quiet = run("build", "--venue", "demo", "--out", tmp_path / "quiet",
                env={"AUTOSCHOLAR_PROGRESS_INTERVAL": "0"})
    assert not [ln for ln in quiet.stderr.splitlines() if " done, " in ln]
    bad = run("build", "--venue", "demo", "--out", tmp_path / "bad", check=False,
              env={"AUTOSCHOLAR_PROGRESS_INTERVAL": "soon"})
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        "error: AUTOSCHOLAR_PROGRESS_INTERVAL='soon' is not a number of seconds"]


def test_preflight_refuses_missing_services_before_any_fetch(tmp_path):
    import socket

    from grobid_server import FakeGrobid
    from test_cli import ROOT

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    empty_index = tmp_path / "empty-index"
    from autoscholar.arxiv.index import build_index_from_records

    build_index_from_records([None], empty_index)
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    out = tmp_path / "run"
    env = {"AUTOSCHOLAR_LLM_API_KEY": "", "OPENAI_API_KEY": ""}
    proc = run("build", "--venue", "local", "--pdf-dir", pdfs, "--out", out, "--parser", "grobid",
               "--grobid-url", dead, "--arxiv-index", empty_index, "--llm", "gpt-4o-mini",
               env=env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["error"] * 3
    assert lines[0].startswith("error: preflight llm: --llm gpt-4o-mini needs an API key")
    assert lines[1].startswith(f"error: preflight grobid: Grobid is not reachable at {dead}")
    assert lines[2] == (f"error: preflight arxiv-index: arXiv index {empty_index} has no "
                        "records: rebuild it from a snapshot")
    assert not out.exists()  # nothing fetched, no run folder left behind
    (empty_index / "meta.json").write_text('{"format": "autoscholar-arxiv-index/0"}')
    proc = run("build", "--venue", "demo", "--out", out, "--arxiv-index", empty_index,
               check=False)
    assert proc.returncode == 1 and "preflight arxiv-index" in proc.stderr
    from autoscholar.arxiv.index import FORMAT
    assert f"expected {FORMAT!r}" in proc.stderr and not out.exists()
    # A live Grobid passes (its /api/isalive answers "true"); the build then goes on.
    with FakeGrobid({}) as grobid:
        proc = run("build", "--venue", "local", "--pdf-dir", pdfs, "--out", out, "--parser",
                   "grobid", "--grobid-url", grobid.url, "--arxiv-index",
                   ROOT / "data" / "demo_arxiv.jsonl", "--max-error-rate", "1", check=False)
    assert "error: preflight" not in proc.stderr, proc.stderr
