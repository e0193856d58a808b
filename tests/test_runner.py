import json
import os
import signal
import subprocess
import sys
import time

from autoscholar.records import Reject, SourceMeta
from autoscholar.io import read_jsonl
from autoscholar.runner import read_done, recover, run_stage

KEY = lambda line: json.loads(line)["paper_id"]  # noqa: E731


def double(items):
    for key, n in items:
        if n % 5 == 0:
            yield key, Reject(stage="t", key=key, reason="no-query")
        else:
            yield key, [SourceMeta(paper_id=key, title=f"copy {i}", year=n) for i in range(2)]


def test_run_stage_writes_outputs_rejects_and_skips_done(tmp_path):
    items = [(f"p{n}", n) for n in range(1, 11)]
    stats = run_stage(tmp_path, "t", items, double, KEY)
    assert (stats.processed, stats.outputs, stats.rejects) == (10, 16, 2)
    assert stats.reasons == {"no-query": 2}
    rows = list(read_jsonl(tmp_path / "t.jsonl", SourceMeta))
    assert len(rows) == 16 and rows[0].paper_id == "p1"
    rejects = [json.loads(x) for x in (tmp_path / "t.rejects.jsonl").read_text().splitlines()]
    assert [r["key"] for r in rejects] == ["p5", "p10"]
    calls = []
    again = run_stage(tmp_path, "t", items, lambda its: calls.append(its) or double(its), KEY)
    assert (again.skipped, again.processed, calls) == (10, 0, [])


def test_a_stage_with_no_inputs_still_leaves_its_output_for_the_next_stage(tmp_path):
    # E.g. every PDF of a folder was rejected by parse: contexts gets nothing, and generate
    # must then find an empty contexts.jsonl rather than report the stage as never run.
    stats = run_stage(tmp_path, "t", [], double, KEY)
    assert (stats.inputs, stats.outputs) == (0, 0)
    assert (tmp_path / "t.jsonl").read_bytes() == b""


def test_recover_cuts_partial_lines_and_outputs_of_unfinished_keys(tmp_path):
    out, rej, done = tmp_path / "t.jsonl", tmp_path / "t.rejects.jsonl", tmp_path / "t.done"
    good = SourceMeta(paper_id="a").model_dump_json()
    orphan = SourceMeta(paper_id="b").model_dump_json()
    out.write_text(good + "\n" + orphan + "\n" + '{"paper_id": "c", "tit')
    rej.write_text('{"stage":"t","key":"z","reason":"r","detail":"","transient":false}\n')
    done.write_text('"a"\n"b')  # "b" was being marked when the process died
    assert recover(out, rej, done, KEY) == {"a"}
    assert out.read_text() == good + "\n"
    assert rej.read_text() == ""
    assert read_done(done) == {"a"}


def test_transient_rejects_are_retried_on_the_next_run(tmp_path):
    flaky = {"p1": 0}

    def work(items):
        for key, _ in items:
            flaky[key] += 1
            if flaky[key] == 1:
                yield key, Reject(stage="t", key=key, reason="server-busy", transient=True)
            else:
                yield key, [SourceMeta(paper_id=key)]

    first = run_stage(tmp_path, "t", [("p1", None)], work, KEY)
    assert first.rejects == 1 and read_done(tmp_path / "t.done") == set()
    second = run_stage(tmp_path, "t", [("p1", None)], work, KEY)
    assert second.outputs == 1 and read_done(tmp_path / "t.done") == {"p1"}
    assert (tmp_path / "t.rejects.jsonl").read_text() == ""


SLOW_STAGE = """
import json, sys, time
from pathlib import Path
from autoscholar.records import SourceMeta
from autoscholar.runner import run_stage

def work(items):
    for key, n in items:
        time.sleep(float(sys.argv[2]))
        yield key, [SourceMeta(paper_id=key, title="x" * 5000, year=n) for _ in range(3)]

run_stage(Path(sys.argv[1]), "slow", [(f"k{n:03d}", n) for n in range(60)], work,
          lambda line: json.loads(line)["paper_id"])
"""


def test_sigkill_mid_stage_then_rerun_gives_identical_output(tmp_path):
    script = tmp_path / "stage.py"
    script.write_text(SLOW_STAGE)
    reference, killed = tmp_path / "ref", tmp_path / "killed"
    subprocess.run([sys.executable, str(script), str(reference), "0"], check=True)
    proc = subprocess.Popen([sys.executable, str(script), str(killed), "0.02"])
    deadline = time.time() + 60
    while time.time() < deadline:
        done = killed / "slow.done"
        if done.exists() and len(done.read_bytes().splitlines()) >= 10:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = len(read_done(killed / "slow.done"))
    assert 10 <= finished_before < 60
    subprocess.run([sys.executable, str(script), str(killed), "0"], check=True)
    assert (killed / "slow.jsonl").read_bytes() == (reference / "slow.jsonl").read_bytes()
    assert read_done(killed / "slow.done") == read_done(reference / "slow.done")


def test_in_threads_keeps_order_and_stops_queueing_after_a_failure():
    import threading

    from autoscholar.runner import in_threads

    started = []
    lock = threading.Lock()

    def call(n):
        with lock:
            started.append(n)
        time.sleep(0.01)
        if n == 3:
            raise RuntimeError("endpoint down")
        return n * 10

    items = [(f"k{n}", n) for n in range(100)]
    got = []
    try:
        for key, value in in_threads(call, items, workers=2):
            got.append((key, value))
    except RuntimeError:
        pass
    assert got[:3] == [("k0", 0), ("k1", 10), ("k2", 20)]
    # Calls that had started when k3 failed are finished and kept (they may be paid for);
    # those not started are cancelled.
    after = got[3:]
    assert all(key != "k3" and value == int(key[1:]) * 10 for key, value in after)
    assert {int(key[1:]) for key, _ in after} <= set(started)
    assert len(started) <= 8  # not the whole queue of 100


def test_a_corrupt_stage_line_is_a_clear_input_error(tmp_path):
    import pytest

    from autoscholar.errors import InputError

    path = tmp_path / "contexts.jsonl"
    path.write_text(SourceMeta(paper_id="a").model_dump_json() + "\n" + '{"paper_id": 3}\n')
    with pytest.raises(InputError,
                       match=r"contexts.jsonl:2 is damaged \(not a SourceMeta record.*--redo contexts"):
        list(read_jsonl(path, SourceMeta))
