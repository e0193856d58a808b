"""Damaged run-directory files through the CLI (issue 9): a half line at the end is dropped and
redone, a duplicated line is published once, anything else is one error line naming the file,
the line and the way on, never a traceback."""

import shutil
from pathlib import Path

import pytest

from test_cli import dataset_bytes, run
from test_run_dir import copy_of, demo  # noqa: F401 - fixtures

STAGE_FILES = ("fetch", "parse", "contexts", "generate", "match")




def rebuild(run_dir: Path, *extra, check=True):
    return run("build", "--venue", "demo", "--out", run_dir, *extra, check=check)


def one_error_line(proc) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def processed(proc, stage: str) -> int:
    """The "N new inputs" a stage reports on stderr."""
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith(f"{stage} "))
    return int(line.split(" out from ")[1].split()[0])


@pytest.mark.parametrize("stage", STAGE_FILES)
@pytest.mark.parametrize("cut", [60, "all-but-a-half-first-line"])
def test_a_cut_stage_file_is_redone_and_the_dataset_is_unchanged(demo, tmp_path, stage, cut):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / f"{stage}.jsonl"
    data = path.read_bytes()
    kept = data[: data.index(b"\n") - 3] if cut == "all-but-a-half-first-line" else data[:-cut]
    path.write_bytes(kept)
    proc = rebuild(run_dir)
    assert processed(proc, stage) >= 1  # the cut keys were redone, although .done listed them
    # The same records (parse's workers may finish them in another order).
    assert sorted(path.read_bytes().splitlines()) == sorted(data.splitlines())
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


@pytest.mark.parametrize("stage", ["generate", "match"])
def test_a_duplicated_line_is_never_published_twice(demo, tmp_path, stage):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / f"{stage}.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2] + lines[1:]))
    shutil.rmtree(run_dir / "dataset")  # publish again from the doubled file
    rebuild(run_dir)
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


def test_publish_alone_takes_a_query_of_match_once_even_if_edited(demo, tmp_path):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / "match.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    # The same query twice, not byte for byte (a hand edit): the first one wins.
    changed = lines[1].replace(b'"question":"', b'"question":"EDITED ', 1)
    assert changed != lines[1]
    path.write_bytes(b"".join(lines + [changed]))
    run("publish", run_dir)
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


def test_publish_alone_refuses_a_cut_match_file(demo, tmp_path):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / "match.jsonl"
    path.write_bytes(path.read_bytes()[:-20])
    line = one_error_line(run("publish", run_dir, check=False))
    assert "match.jsonl ends in a partial line" in line and "autoscholar match" in line
    run("match", run_dir)
    run("publish", run_dir)
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


GARBAGE = {"garbage": b"not json {\n", "wrong shape": b'{"x": 1}\n', "a number": b"3\n"}


@pytest.mark.parametrize("stage, suffix, kind", [
    ("fetch", ".jsonl", "garbage"), ("parse", ".jsonl", "wrong shape"),
    ("contexts", ".rejects.jsonl", "wrong shape"), ("generate", ".done", "a number"),
    ("generate", ".jsonl", "wrong shape"), ("match", ".jsonl", "garbage"),
    ("match", ".jsonl", "wrong shape"), ("match", ".rejects.jsonl", "garbage"),
])
def test_a_bad_line_is_one_error_naming_file_line_and_redo(demo, tmp_path, stage, suffix, kind):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / f"{stage}{suffix}"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:1] + [GARBAGE[kind]] + lines[1:]))
    before = {p.name: p.read_bytes() for p in run_dir.glob("*.jsonl")}
    line = one_error_line(rebuild(run_dir, check=False))
    number = 2 if lines else 1
    assert f"{path}:{number} is damaged" in line and f"--redo {stage}" in line
    # Nothing was rewritten on the way to the error.
    assert {p.name: p.read_bytes() for p in run_dir.glob("*.jsonl")} == before
    rebuild(run_dir, "--redo", stage)  # the way on that the line names works
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


def test_a_bad_listing_line_names_redo_fetch(demo, tmp_path, kind="wrong shape"):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / "listing.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:1] + [GARBAGE[kind]] + lines[1:]))
    line = one_error_line(rebuild(run_dir, check=False))
    assert f"{path}:2 is damaged" in line and "--redo fetch" in line
    rebuild(run_dir, "--redo", "fetch")
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


def test_a_cut_listing_is_listed_again(demo, tmp_path):
    run_dir = copy_of(demo, tmp_path / "run")
    path = run_dir / "listing.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-30])
    rebuild(run_dir)
    # The demo lists its PDFs under the run directory, here the copy's.
    assert path.read_bytes() == data.replace(bytes(demo), bytes(run_dir))
    assert dataset_bytes(run_dir) == dataset_bytes(demo)


@pytest.mark.parametrize("name, way_on, content", [
    ("manifest.json", "move it away", b"{bad"),
    ("manifest.json", "move it away", b"[1]"),
    ("listing.source.json", "--redo fetch", b""),
    ("arxiv-index.source.json", "delete it", b'"x"'),
])
def test_a_damaged_json_file_is_one_line(demo, tmp_path, name, way_on, content):
    run_dir = copy_of(demo, tmp_path / "run")
    (run_dir / name).write_bytes(content)
    line = one_error_line(rebuild(run_dir, check=False))
    assert f"{run_dir / name} is damaged" in line and way_on in line
    if name == "manifest.json":
        status = run("status", run_dir, check=False)
        assert status.returncode != 0 and "Traceback" not in status.stderr
        (run_dir / name).unlink()
    elif name == "listing.source.json":
        rebuild(run_dir, "--redo", "fetch")
    else:
        (run_dir / name).unlink()
    rebuild(run_dir)
    assert dataset_bytes(run_dir) == dataset_bytes(demo)
