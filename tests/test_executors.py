"""executors/: the registry, and the Ray executor's shards and part files (no Ray needed)."""

import json

import pytest

from autoscholar import executors
from autoscholar.config import Settings
from autoscholar.executors.local import LocalExecutor
from autoscholar.executors.parts import Parts, Shard, cut
from autoscholar.records import Paper, Reject
from autoscholar.runner import Appender, StageStats, key_of, run_stage


def items(n: int, start: int = 0):
    return [(f"k{i:03d}", i) for i in range(start, start + n)]


def keys(shards):
    return [s.keys for s in shards]


def test_cut_reads_a_stream_into_shards_of_the_size_in_order():
    consumed = []

    def stream():
        for kv in items(7):
            consumed.append(kv[0])
            yield kv

    shards = cut(stream(), 3, {})
    first = next(shards)
    assert first.keys == ["k000", "k001", "k002"] and consumed == first.keys  # no read-ahead
    rest = list(shards)
    assert keys(rest) == [["k003", "k004", "k005"], ["k006"]]
    assert all(s.items is not None and s.marker is None for s in [first, *rest])


def test_cut_hands_back_a_finished_shard_whole_wherever_its_keys_come_up():
    marker = {"keys": ["k004", "k005", "k006"]}
    # k001 came back (a transient reject of an earlier merged shard): alignment by count is
    # lost, yet the finished shard is found by its first key.
    pending = [("k001", 1), *items(6, 4)]
    shards = list(cut(pending, 3, {"k004": marker}))
    assert keys(shards) == [["k001"], ["k004", "k005", "k006"], ["k007", "k008", "k009"]]
    assert shards[1].marker is marker and shards[1].items is None


def test_cut_does_not_adopt_a_marker_whose_keys_changed():
    marker = {"keys": ["k004", "k005", "k006"]}
    pending = [("k004", 4), ("k006", 6), ("k007", 7)]  # k005 finished since: not the same run
    shards = list(cut(pending, 2, {"k004": marker}))
    assert keys(shards) == [["k004", "k006"], ["k007"]]
    assert all(s.marker is None for s in shards)


def outcome_work(pending):
    """Every kind of outcome: a reject, a transient one (not done), records with a dropped
    part beside them."""
    for key, value in pending:
        if value % 5 == 0:
            yield key, Reject(stage="parse", key=key, reason="corrupt")
        elif value % 7 == 0:
            yield key, Reject(stage="parse", key=key, reason="timeout", transient=True)
        else:
            yield key, [Paper(paper_id=key, venue="demo", title=f"paper {value}"),
                        Reject(stage="generate", key=key, reason="unknown-key",
                               query_id=f"{key}:1")]


def test_parts_written_then_merged_are_the_bytes_run_stage_writes(tmp_path):
    ref = run_stage(tmp_path / "ref", "t", items(23), outcome_work, key_of("paper_id"))
    parts = Parts(tmp_path / "run" / "parts" / "t")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    stats = StageStats(stage="t")
    with (open(run_dir / "t.jsonl", "ab", buffering=0) as out,
          open(run_dir / "t.rejects.jsonl", "ab", buffering=0) as rej,
          open(run_dir / "t.done", "ab", buffering=0) as dn):
        append = Appender(out, rej, dn, stats)
        for shard in cut(items(23), 4, {}):
            marker = parts.write("t", shard, outcome_work)
            assert parts.finished()[shard.keys[0]] == marker
            parts.merge(shard, marker, append)
            assert not parts.finished()
    for name in ("t.jsonl", "t.rejects.jsonl", "t.done"):
        assert (run_dir / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    assert (stats.processed, stats.outputs, stats.rejects, stats.reasons) == \
        (ref.processed, ref.outputs, ref.rejects, ref.reasons)
    assert ref.processed == 23 - 3  # k007, k014, k021: transient, not done


def test_a_half_written_or_cut_part_is_not_finished(tmp_path):
    parts = Parts(tmp_path / "parts" / "t")
    a, b = Shard(["k000", "k001"], items(2)), Shard(["k002"], items(1, 2))
    marker = parts.write("t", a, outcome_work)
    parts.write("t", b, outcome_work)
    assert set(parts.finished()) == {"k000", "k002"}
    out = parts.paths(a.id, marker["attempt"])[0]
    out.write_bytes(out.read_bytes()[:-3])  # a part cut short after its marker was written
    assert set(parts.finished()) == {"k002"}
    parts.marker_path(b.id).write_text("{")  # a damaged marker
    assert parts.finished() == {}


def test_a_failing_shard_leaves_no_part_and_no_marker(tmp_path):
    parts = Parts(tmp_path / "parts" / "t")

    def boom(pending):
        yield from outcome_work(pending[:1])
        raise RuntimeError("endpoint down")

    with pytest.raises(RuntimeError):
        parts.write("t", Shard(["k001", "k002"], items(2, 1)), boom)
    assert list(parts.folder.iterdir()) == []


def test_the_registry_and_settings_name_the_executors():
    assert set(executors.EXECUTORS) == {"local", "ray"}
    with pytest.raises(ValueError, match="unknown executor 'spark': one of local, ray"):
        Settings(executor="spark")
    assert isinstance(executors.current(), LocalExecutor)  # outside a build
    with executors.chosen(Settings()) as chosen:
        assert executors.current() is chosen
    assert Settings(ray_address="ray://u:pw@head:10001").public_dict()["ray_address"] == \
        "ray://u:***@head:10001"


def test_redo_deletes_the_unmerged_shards_of_the_stages_it_redoes(tmp_path):
    from autoscholar.stages import redo

    for stage in ("parse", "match"):
        (tmp_path / "parts" / stage).mkdir(parents=True)
        (tmp_path / "parts" / stage / "x.complete.json").write_text(json.dumps({}))
    redo(tmp_path, "generate")
    assert (tmp_path / "parts" / "parse").exists() and not (tmp_path / "parts" / "match").exists()


def test_in_process_work_never_goes_to_the_chosen_executor(tmp_path, monkeypatch):
    """fetch's work shares host limits and a ledger across inputs: run_stage(in_process=True)
    runs it here even when the build chose another executor."""
    class Elsewhere:
        def run(self, *args):
            raise AssertionError("sent to the chosen executor")

    monkeypatch.setattr(executors, "_current", executors.contextvars.ContextVar(
        "executor", default=Elsewhere()))
    work = lambda pending: ((k, [Paper(paper_id=k, venue="demo", title=str(v))]) for k, v in pending)  # noqa
    stats = run_stage(tmp_path, "fetch", items(3), work, key_of("paper_id"), in_process=True)
    assert stats.outputs == 3
    with pytest.raises(AssertionError, match="sent to the chosen executor"):
        run_stage(tmp_path / "other", "fetch", items(3), work, key_of("paper_id"))
