"""Stages read their input as a stream: only the inputs in flight are held, so memory does not
grow with the number of papers (issue 13). Each test fails on the version that read the whole
previous stage file into a list first."""

import json
import os
import tracemalloc

import pytest

from autoscholar import contexts as contexts_module
from autoscholar import match as match_module
from autoscholar.config import Settings
from autoscholar.generate import stage as generate_stage
from autoscholar.io import count_lines, read_jsonl, write_atomic
from autoscholar.records import SourceMeta
from autoscholar.runner import key_of, recover, run_stage

from factories import built_run, copy_run

KEY = lambda line: json.loads(line)["paper_id"]  # noqa: E731


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return built_run(tmp_path_factory, "demo")


def test_run_stage_takes_a_stream_and_reads_it_only_as_the_work_goes(tmp_path):
    pulled = []

    def items():
        for n in range(1, 51):
            pulled.append(n)
            yield f"p{n}", n

    ahead = []

    def work(pending):
        for key, n in pending:
            ahead.append(len(pulled) - n)  # how far the stream was read past this input
            yield key, [SourceMeta(paper_id=key, title="t", year=n)]

    stats = run_stage(tmp_path, "t", items(), work, KEY, total=50)
    assert (stats.inputs, stats.processed, stats.skipped) == (50, 50, 0)
    assert max(ahead) == 0
    assert count_lines(tmp_path / "t.jsonl") == 50


def test_a_stream_skips_the_finished_keys_and_counts_them(tmp_path):
    def items(n):
        return ((f"p{k}", k) for k in range(1, n + 1))

    def work(pending):
        for key, n in pending:
            yield key, [SourceMeta(paper_id=key, title="t", year=n)]

    run_stage(tmp_path, "t", items(20), work, KEY)
    seen = []
    stats = run_stage(tmp_path, "t", items(30), lambda p: (seen.append(k) or (k, v) for k, v in work(p)), KEY)
    assert (stats.inputs, stats.skipped, stats.processed) == (30, 20, 10)
    assert seen == [f"p{k}" for k in range(21, 31)]
    # Nothing left: the work is not even started.
    calls = []
    again = run_stage(tmp_path, "t", items(30), lambda p: calls.append(1) or work(p), KEY)
    assert (again.inputs, again.skipped, again.processed, calls) == (30, 30, 0, [])


@pytest.mark.parametrize("stage, module, owner, reader, upstream", [
    ("contexts", contexts_module, contexts_module, "contexts_for", "parse"),
    ("generate", generate_stage, generate_stage.Work, "one", "contexts"),
    ("match", match_module, match_module, "match_query", "generate"),
])
def test_a_stage_holds_one_input_at_a_time(demo, tmp_path, monkeypatch, stage, module, owner,
                                           reader, upstream):
    run_dir = copy_run(demo, tmp_path)
    for suffix in (".jsonl", ".rejects.jsonl", ".done"):
        (run_dir / f"{stage}{suffix}").unlink(missing_ok=True)
    read, ahead = [], []
    real_read, real_work = module.read_jsonl, getattr(owner, reader)

    def counting_read(path, model):
        for record in real_read(path, model):
            read.append(1)
            yield record

    def checked_work(*args, **kwargs):
        ahead.append(len(read) - len(ahead) - 1)  # inputs read but not yet worked on
        return real_work(*args, **kwargs)

    monkeypatch.setattr(module, "read_jsonl", counting_read)
    monkeypatch.setattr(owner, reader, checked_work)
    stats = getattr(module, stage)(Settings(venue="demo", run_dir=run_dir), run_dir)
    assert len(ahead) == stats.processed == count_lines(run_dir / f"{upstream}.jsonl") > 3
    assert max(ahead) == 0
    assert (run_dir / f"{stage}.jsonl").read_bytes() == (demo / f"{stage}.jsonl").read_bytes()


def test_recover_holds_keys_not_lines(tmp_path):
    """A cut stage file of 40 MB is repaired with a few MB of memory, not the file's size."""
    out, rejects, done = tmp_path / "t.jsonl", tmp_path / "t.rejects.jsonl", tmp_path / "t.done"
    filler = "x" * 200_000
    with out.open("wb") as fh:
        for n in range(200):
            fh.write(json.dumps({"paper_id": f"p{n}", "text": filler}, separators=(",", ":")).encode()
                     + b"\n")
        fh.write(b'{"paper_id":"p200","text":"cut of')  # as pydantic writes it, cut
    done.write_bytes(b"".join(json.dumps(f"p{n}").encode() + b"\n" for n in range(201)))
    tracemalloc.start()
    finished = recover(out, rejects, done, key_of("paper_id"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert finished == {f"p{n}" for n in range(200)}
    assert count_lines(out) == 200 and out.read_bytes().endswith(b"}\n")
    assert os.path.getsize(out) > 40_000_000
    assert peak < 5_000_000, peak


def test_write_atomic_takes_chunks(tmp_path):
    path = tmp_path / "f"
    write_atomic(path, (f"{n}\n".encode() for n in range(3)))
    assert path.read_bytes() == b"0\n1\n2\n"


def test_publish_keeps_a_small_entry_per_query_not_the_records(tmp_path):
    """2,000 matched queries with 20 KB contexts (40 MB of match.jsonl) publish with a few MB
    of Python memory: the records are read back one at a time as they are written."""
    import random

    from autoscholar.publish import publish
    from test_publish import WORDS, matched

    rng = random.Random(0)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    filler = "lorem ipsum " * 1700
    with (run_dir / "match.jsonl").open("w") as fh:
        for k in range(2000):
            mq = matched(f"paper{k // 10}", k % 10, "Which papers study " + " ".join(
                rng.choice(WORDS) for _ in range(12)) + "?", [f"2101.{k:05d}"])
            mq.query.context.sentences.append(filler)
            fh.write(mq.model_dump_json() + "\n")
    assert (run_dir / "match.jsonl").stat().st_size > 40_000_000
    tracemalloc.start()
    stats = publish(Settings(venue="demo", run_dir=run_dir), run_dir)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sum(stats.examples.values()) > 1900
    assert count_lines(run_dir / "dataset" / "train.jsonl") == stats.examples["train"]
    assert peak < 20_000_000, peak


def test_lsh_pairs_are_the_pairs_datasketch_proposes():
    import itertools
    import random

    from datasketch import MinHash, MinHashLSH

    from autoscholar.near_duplicates import NUM_PERM, _lsh_pairs, _shingles

    rng = random.Random(1)
    words = "graph neural sparse attention diffusion model retrieval augmented language".split()
    base = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 10))) for _ in range(150)]
    # Near copies (one word changed) so that many pairs collide in some band, and empty ones.
    texts = base + [t.replace(t.split()[0], "other", 1) for t in base[:100]] + ["", "one"]
    for threshold in (0.8, 0.5):
        lsh = MinHashLSH(threshold=max(0.05, threshold - 0.15), num_perm=NUM_PERM, weights=(0.2, 0.8))
        expected = set()
        for k, text in enumerate(texts):
            if not _shingles(text):
                continue
            mh = MinHash(num_perm=NUM_PERM, seed=1)
            mh.update_batch([s.encode() for s in _shingles(text)])
            expected.update((min(k, o), max(k, o)) for o in lsh.query(mh))
            lsh.insert(k, mh)
        got = set(_lsh_pairs(texts, threshold))
        assert got == expected and len(expected) > 30
        assert all(a < b for a, b in got)
    assert not set(itertools.islice(_lsh_pairs(["", "x"]), 1))


def test_digest_set_is_a_set():
    import hashlib
    import random

    from autoscholar.io import DigestSet

    rng = random.Random(0)
    seen, reference = DigestSet(), set()
    for _ in range(20_000):  # past several doublings of the table
        digest = hashlib.blake2b(str(rng.randrange(8_000)).encode(), digest_size=16).digest()
        assert seen.add(digest) == (digest not in reference)
        reference.add(digest)
    zero = bytes(16)  # the free-slot mark itself is a digest like any other
    assert seen.add(zero) and not seen.add(zero)


def test_a_line_repeated_anywhere_is_read_once(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [SourceMeta(paper_id=f"p{n}", title="t").model_dump_json().encode() + b"\n" for n in range(5000)]
    path.write_bytes(b"".join(rows + rows[::7] + rows[:3]))
    assert [r.paper_id for r in read_jsonl(path, SourceMeta)] == [f"p{n}" for n in range(5000)]
