"""Many venues, one dataset: `build --venue X:Y ...`, `--recipe` and `merge`, through the real
command. The members are the offline demo and `--venue local` folders of copies of its PDFs
(under other names, so their paper ids differ and their questions repeat the demo's: the
cross-venue near-duplicates)."""

import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from autoscholar.io import read_jsonl
from autoscholar.records import Example, Paper, Reject

from test_cli import CLI, ROOT, run

INDEX = ROOT / "data" / "demo_arxiv.jsonl"
SPLITS = ("train", "dev", "test")
STAGE_FILES = [f"{s}{suffix}" for s in ("fetch", "parse", "contexts", "generate", "match")
               for suffix in (".jsonl", ".done", ".rejects.jsonl", ".settings.json")]


def combined_bytes(folder: Path) -> dict[str, bytes]:
    """Every file publish writes in a combined folder: JSONL, parquet, card, rejects."""
    files = sorted(p for p in (folder / "dataset").rglob("*") if p.is_file())
    out = {str(p.relative_to(folder)): p.read_bytes() for p in files}
    out["publish.rejects.jsonl"] = (folder / "publish.rejects.jsonl").read_bytes()
    return out


def rows(folder: Path) -> dict[str, list[Example]]:
    return {s: list(read_jsonl(folder / "dataset" / f"{s}.jsonl", Example)) for s in SPLITS}


def pdf_copies(src: Path, target: Path, prefix: str, names: list[str]) -> Path:
    target.mkdir()
    for name in names:
        shutil.copy(src / name, target / f"{prefix}{name}")
    return target


# Parse writes its records in completion order; with one worker that is the listing's order,
# so a member and its standalone build can be compared byte for byte. (The dataset does not
# depend on that order: publish sorts by query id.)
ONE_WORKER = {"AUTOSCHOLAR_PARSE_WORKERS": "1"}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Standalone builds of two members, then the same two as one multi-venue build."""
    base = tmp_path_factory.mktemp("multi")
    out = base / "asq"
    # The standalone demo build at the very path the multi build gives its member (the demo
    # records its PDFs' absolute paths), moved aside before the multi build runs.
    run("build", "--venue", "demo", "--arxiv-index", INDEX, "--out", out / "demo", env=ONE_WORKER)
    pdfs = pdf_copies(out / "demo" / "pdfs", base / "pdfs-a", "a-",
                      ["demo-001.pdf", "demo-002.pdf"])
    run("build", "--venue", "local", "--pdf-dir", pdfs, "--arxiv-index", INDEX,
        "--out", out / "local-pdfs-a", env=ONE_WORKER)
    alone = base / "alone"
    alone.mkdir()
    for name in ("demo", "local-pdfs-a"):
        (out / name).rename(alone / name)
    # Argument order is not venue-year order: the members are built and combined sorted.
    proc = run("build", "--venue", f"local:{pdfs}", "--venue", "demo", "--arxiv-index", INDEX,
               "--out", out, env=ONE_WORKER)
    return {"base": base, "out": out, "alone": alone, "pdfs": pdfs, "proc": proc}


def test_each_member_is_the_standalone_build(made):
    out, alone = made["out"], made["alone"]
    for name in ("demo", "local-pdfs-a"):
        for file in STAGE_FILES:
            a, b = alone / name / file, out / name / file
            assert a.exists() == b.exists(), file
            if a.exists():
                assert a.read_bytes() == b.read_bytes(), f"{name}/{file}"
        for split in SPLITS:
            assert ((alone / name / "dataset" / f"{split}.jsonl").read_bytes()
                    == (out / name / "dataset" / f"{split}.jsonl").read_bytes())
    err = made["proc"].stderr
    assert err.index("== demo") < err.index("== local-pdfs-a") < err.index("== combined")


def test_combined_rows_are_the_union_minus_cross_venue_near_duplicates(made):
    out = made["out"]
    member_rows = {name: [e for split in rows(out / name).values() for e in split]
                   for name in ("demo", "local-pdfs-a")}
    member_of = {e.query_id: name for name, found in member_rows.items() for e in found}
    union = set(member_of)
    combined = [e for split in rows(out).values() for e in split]
    published = {e.query_id for e in combined}
    rejects = list(read_jsonl(out / "publish.rejects.jsonl", Reject))
    near = {r.key: r.detail.removeprefix("kept ") for r in rejects if r.reason == "near-duplicate"}
    assert near, "the copies of the demo's PDFs repeat its questions"
    assert published == union - set(near)
    question = {e.query_id: e.question for found in member_rows.values() for e in found}
    for dropped, kept in near.items():
        # Each member's own near-duplicates went at its own publish: what the combined publish
        # drops is a question asked again by another venue, kept once.
        assert member_of[dropped] != member_of[kept]
        assert kept in published and question[dropped] == question[kept]
    # Both members keep rows: the demo's papers 003 and 004 have no copy.
    assert Counter(member_of[q] for q in published).keys() == {"demo", "local-pdfs-a"}


def test_splits_keep_every_source_paper_whole(made):
    split_of: dict[str, set[str]] = {}
    for split, found in rows(made["out"]).items():
        for e in found:
            split_of.setdefault(e.source_meta.paper_id, set()).add(split)
    assert split_of and all(len(s) == 1 for s in split_of.values())


def test_manifest_lists_the_members_with_their_fingerprints_and_checksums(made):
    import hashlib

    out = made["out"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [m["name"] for m in manifest["members"]] == ["demo", "local-pdfs-a"]
    for m in manifest["members"]:
        member = out / m["run_dir"]
        assert m["match_sha256"] == hashlib.sha256((member / "match.jsonl").read_bytes()).hexdigest()
        for stage, digest in m["fingerprints"].items():
            assert json.loads((member / f"{stage}.settings.json").read_text())["fingerprint"] == digest
        assert set(m["fingerprints"]) == {"fetch", "parse", "contexts", "generate", "match"}
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_audit_has_a_row_per_member_and_the_card_names_them(made):
    out = made["out"]
    figures = json.loads((out / "audit" / "audit.json").read_text())
    venues = {r["venue"]: r for r in figures["by_venue"]}
    assert set(venues) == {"demo", "local-pdfs-a"}
    found = rows(out)
    for name, row in venues.items():
        prefix = "demo-" if name == "demo" else "a-demo-"
        assert row["queries"] == sum(e.source_meta.paper_id.startswith(prefix)
                                     for split in found.values() for e in split)
    # The funnel counts every member's records, e.g. both listings.
    assert figures["funnel"]["listing"] == 4 + 2
    assert figures["rejects"]["publish"]["near-duplicate"] > 0
    card = (out / "dataset" / "hf" / "README.md").read_text()
    assert "pretty_name: 'AutoScholarQuery-style queries: demo, local-pdfs-a'" in card
    assert "Member runs" in card and "| fetch | 6 | 0 |" in card


def test_merge_gives_the_same_bytes_in_any_order(made, tmp_path):
    out = made["out"]
    members = [out / "demo", out / "local-pdfs-a"]
    run("merge", *members, "--out", tmp_path / "m1")
    run("merge", *reversed(members), "--out", tmp_path / "m2")
    assert combined_bytes(tmp_path / "m1") == combined_bytes(tmp_path / "m2")
    assert combined_bytes(tmp_path / "m1") == combined_bytes(out)
    members_of = [json.loads((tmp_path / m / "manifest.json").read_text())["members"]
                  for m in ("m1", "m2")]
    assert members_of[0] == members_of[1]


def test_runs_built_in_another_order_merge_to_the_same_bytes(made, tmp_path):
    # The local member first this time, each on its own, then the demo.
    pdfs = pdf_copies(made["pdfs"], tmp_path / "pdfs-a", "", sorted(
        p.name for p in made["pdfs"].glob("*.pdf")))
    run("build", "--venue", "local", "--pdf-dir", pdfs, "--arxiv-index", INDEX,
        "--out", tmp_path / "late" / "local")
    run("build", "--venue", "demo", "--arxiv-index", INDEX, "--out", tmp_path / "late" / "demo")
    run("merge", tmp_path / "late" / "demo", tmp_path / "late" / "local", "--out", tmp_path / "m")
    assert combined_bytes(tmp_path / "m") == combined_bytes(made["out"])


def test_recipe_builds_the_same_dataset(made, tmp_path):
    shutil.copytree(made["pdfs"], tmp_path / "pdfs-a")
    recipe = tmp_path / "asq.toml"
    recipe.write_text('out = "built"\nvenues = ["demo", "local:pdfs-a"]\n\n'
                      f'[settings]\narxiv_index = "{INDEX}"\n')
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    run("build", "--recipe", recipe, cwd=elsewhere)  # relative paths are the recipe's
    assert combined_bytes(tmp_path / "built") == combined_bytes(made["out"])


def test_a_changed_setting_of_a_member_is_refused_with_the_redo_hint(made, tmp_path):
    out = tmp_path / "asq"
    shutil.copytree(made["out"], out)
    proc = run("build", "--venue", f"local:{made['pdfs']}", "--venue", "demo", "--arxiv-index",
               INDEX, "--out", out, "--match-threshold", "80", check=False)
    assert proc.returncode == 1
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("error: match in ") and "--redo match" in line
    assert "match_threshold=90.0, now 80.0" in line


def test_resume_after_a_kill_mid_member_gives_the_same_bytes(made, tmp_path):
    args = ["build", "--venue", f"local:{made['pdfs']}", "--venue", "demo", "--arxiv-index",
            INDEX, "--out", tmp_path / "asq"]
    proc = subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    done = tmp_path / "asq" / "local-pdfs-a" / "parse.done"  # the second member, mid-parse
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if done.exists() and done.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "asq" / "dataset").exists(), "the build finished before the kill"
    assert (tmp_path / "asq" / "demo" / "dataset").is_dir()  # the first member had finished
    run(*args)
    assert combined_bytes(tmp_path / "asq") == combined_bytes(made["out"])


@pytest.mark.parametrize("args, message", [
    (["--venue", "demo", "--venue", "nowhere:2023"], "unknown venue 'nowhere'"),
    (["--venue", "demo", "--venue", "iclr:1999"], "iclr:1999 is outside what iclr covers 2018-"),
    (["--venue", "demo", "--venue", "local"], "needs its own folder: --venue local:FOLDER"),
    (["--venue", "iclr:2023", "--venue", "iclr:2023"], "same venue-year (iclr-2023)"),
    (["--venue", "iclr:2023", "--venue", "icml:2023", "--year", "2023"], "drop --year"),
    (["--venue", "demo", "--venue", "iclr"], "--venue iclr needs a year: --venue iclr:YEAR"),
    (["--venue", "demo", "--venue", "local", "--pdf-dir", "x"], "--pdf-dir is for one venue"),
    (["--venue", "demo", "--venue", "demo:2023"], "--venue demo has no years"),
    (["--venue", "demo", "--venue", "iclr:2023", "--recursive"], "--recursive is not used here"),
])
def test_bad_member_specs_are_one_line_before_any_folder_exists(tmp_path, args, message):
    proc = run("build", *args, "--out", tmp_path / "asq", check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert message in proc.stderr
    assert not (tmp_path / "asq").exists()


def test_bad_recipes_are_one_line(tmp_path):
    recipe = tmp_path / "r.toml"
    for text, message in [
        ('venues = ["demo"\n', "is not TOML"),
        ('venues = ["demo"]\nvenue = "iclr"\n', "venue: Extra inputs are not permitted"),
        ('venues = []\n', "lists no venues"),
        ('venues = ["demo"]\n[settings]\nyear = 2023\n', "year belong to each member"),
    ]:
        recipe.write_text(text)
        proc = run("build", "--recipe", recipe, "--out", tmp_path / "o", check=False)
        assert proc.returncode == 1 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = run("build", "--recipe", recipe, "--venue", "demo", check=False)
    assert "both list venues" in proc.stderr


def test_merge_refuses_unfinished_duplicate_and_overlapping_members(made, tmp_path):
    out = made["out"]

    def refused(*members) -> str:
        proc = run("merge", *members, "--out", tmp_path / "m", check=False)
        assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        return proc.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "has no match.jsonl" in refused(out / "demo", empty)
    partial = tmp_path / "partial"
    shutil.copytree(out / "demo", partial)
    lines = (partial / "match.done").read_bytes().splitlines(keepends=True)
    (partial / "match.done").write_bytes(b"".join(lines[:-1]))
    assert "its match stage is partial" in refused(out / "local-pdfs-a", partial)
    twin = tmp_path / "twin"
    shutil.copytree(out / "demo", twin)
    assert "are both demo" in refused(out / "demo", twin)
    # Another folder of the same file names: another venue-year, the same paper ids.
    other = pdf_copies(made["pdfs"], tmp_path / "pdfs-b", "", sorted(
        p.name for p in made["pdfs"].glob("*.pdf")))
    run("build", "--venue", "local", "--pdf-dir", other, "--arxiv-index", INDEX,
        "--out", tmp_path / "b", "--limit", "1")
    assert "share 1 paper id(s) (first 'a-demo-001')" in refused(out / "local-pdfs-a",
                                                                   tmp_path / "b")
    assert not (tmp_path / "m" / "dataset").exists()


def test_merge_refuses_to_write_over_a_run_directory(made):
    proc = run("merge", made["out"] / "demo", "--out", made["alone"] / "demo", check=False)
    assert proc.returncode == 1 and "is a run directory" in proc.stderr


def test_five_network_venues_from_fake_venue_servers(tmp_path, shared_data):
    """PaSa's shape (five venue-years of the five sources) against the venue fakes, which serve
    real captured listings for these years; one paper each (--limit 1). The fakes' PDFs have
    no Related Work, so each member publishes nothing and the build says so per member."""
    from fakes.venue_server import VenueServer

    venues = ["neurips:2023", "cvpr:2020", "iclr:2024", "acl:2020", "icml:2023"]
    with VenueServer(shared_data) as server:
        proc = run("build", *[a for v in venues for a in ("--venue", v)], "--limit", "1",
                   "--arxiv-index", INDEX, "--out", tmp_path / "asq",
                   env={"AUTOSCHOLAR_VENUE_BASE_URL": server.url}, check=False)
    names = ["acl-2020", "cvpr-2020", "iclr-2024", "icml-2023", "neurips-2023"]
    manifest = json.loads((tmp_path / "asq" / "manifest.json").read_text())
    assert [m["name"] for m in manifest["members"]] == names
    for name in names:
        listed = list(read_jsonl(tmp_path / "asq" / name / "listing.jsonl", Paper))
        assert listed and {p.venue for p in listed} == {name.split("-")[0]}
        assert (tmp_path / "asq" / name / "fetch.jsonl").read_bytes().count(b"\n") == 1
    figures = json.loads((tmp_path / "asq" / "audit" / "audit.json").read_text())
    table = {(r["venue"], r["year"]): r for r in figures["by_venue"]}
    assert list(table) == [("acl", 2020), ("cvpr", 2020), ("iclr", 2024), ("icml", 2023),
                           ("neurips", 2023)]
    assert table[("icml", 2023)]["pasa"]["papers"] == 981 and table[("acl", 2020)]["pasa"] is None
    assert proc.returncode == 1
    assert "error: acl-2020: the build published nothing" in proc.stderr
    assert "; the build published nothing (0 dataset rows)" in proc.stderr  # the combined one
