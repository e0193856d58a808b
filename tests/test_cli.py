"""End to end through the real `autoscholar` command, as a user runs it."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autoscholar.records import Example
from autoscholar.io import read_jsonl
from autoscholar.runner import read_done

from fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]
# The installed command, as a user runs it (python -m from a source checkout as a fallback).
_SCRIPT = Path(sys.executable).parent / "autoscholar"
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "autoscholar.cli"]


def run(*args, env=None, check=True, cwd=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def dataset_bytes(run_dir: Path) -> dict[str, bytes]:
    return {s: (run_dir / "dataset" / f"{s}.jsonl").read_bytes() for s in ("train", "dev", "test")}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    proc = run("build", "--venue", "demo", "--out", run_dir,
               env={"AUTOSCHOLAR_LLM_API_KEY": "sk-NEVER-LOGGED"})
    assert "dataset:" in proc.stdout
    assert "sk-NEVER-LOGGED" not in proc.stdout + proc.stderr
    return run_dir


def test_help_explains_every_command():
    top = run("--help").stdout
    for command in ("build", "fetch", "parse", "contexts", "generate", "match", "publish",
                    "audit", "arxiv-index", "resolve"):
        assert command in top
        assert run(*command.split(), "--help").returncode == 0
    build_help = run("build", "--help").stdout
    assert "--pdf-dir" in build_help
    # Rich reads "[default: ...]" as markup and drops it, leaving "Run directory ."
    assert " ." not in build_help.replace("│", " ").replace("  ", " ")
    assert build_help.count("(default:") >= 4


def test_demo_build_publishes_correct_answers(demo_run):
    sys.path.insert(0, str(ROOT / "scripts"))
    from eval_demo import score

    result = score(demo_run)
    assert result["paper_pairs"]["precision"] == 1.0
    assert result["paper_pairs"]["recall"] >= 0.9
    assert result["sentence_pairs"]["precision"] == 1.0
    assert result["papers_covered"] == result["papers_total"] == 4
    assert result["leaks"] == [] and result["expected_drops_not_dropped"] == []
    rows = [e for s in ("train", "dev", "test")
            for e in read_jsonl(demo_run / "dataset" / f"{s}.jsonl", Example)]
    assert rows and all(e.generator == "offline-template" for e in rows)
    assert (demo_run / "audit" / "report.html").stat().st_size > 10_000
    manifest = json.loads((demo_run / "manifest.json").read_text())
    assert set(manifest["stages"]) == {"fetch", "parse", "contexts", "generate", "match",
                                       "publish", "audit"}
    assert manifest["settings"]["llm_api_key_set"] is True
    assert all(len(sha) == 64 for sha in manifest["inputs"]["pdfs"].values())
    for path in demo_run.rglob("*"):
        if path.is_file() and path.suffix != ".pdf":
            assert b"sk-NEVER-LOGGED" not in path.read_bytes(), path


def test_rerun_redoes_nothing_and_stage_commands_work(demo_run):
    before = dataset_bytes(demo_run)
    proc = run("build", "--venue", "demo", "--out", demo_run)
    assert "0 new inputs" in proc.stderr
    assert dataset_bytes(demo_run) == before
    run("publish", demo_run)
    assert dataset_bytes(demo_run) == before


def fake_llm_reply(body: dict) -> tuple[int, str]:
    """A deterministic 'model': one query per cited key, read back from the prompt."""
    time.sleep(0.1)
    prompt = body["messages"][0]["content"]
    keys = re.findall(r"^\[([^\]]+)\] ", prompt.split("Bibliography:")[-1], re.M)
    queries = [{"question": f"Which papers are described by reference {k}?", "answer_keys": [k]}
               for k in keys]
    return 200, json.dumps({"queries": queries})


def copies_of_demo(demo_run: Path, target: Path, n: int) -> Path:
    target.mkdir()
    for i in range(n):
        for pdf in sorted((demo_run / "pdfs").glob("*.pdf")):
            shutil.copy(pdf, target / f"c{i}-{pdf.name}")
    return target


def kill_when(args: list, run_dir: Path, stage: str, lines: int) -> None:
    proc = subprocess.Popen([*CLI, *map(str, args), "--out", str(run_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    done = run_dir / f"{stage}.done"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if done.exists() and len(done.read_bytes().splitlines()) >= lines:
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: parser workers too
    proc.wait()
    assert not (run_dir / "dataset").exists(), "the build finished before the kill"


def test_sigkill_mid_parse_then_rerun_is_byte_identical(tmp_path, demo_run):
    pdfs = copies_of_demo(demo_run, tmp_path / "pdfs", 6)
    args = ["build", "--venue", "local", "--pdf-dir", pdfs,
            "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl"]
    run(*args, "--out", tmp_path / "reference")
    kill_when(args, tmp_path / "killed", "parse", 3)
    run(*args, "--out", tmp_path / "killed")
    assert dataset_bytes(tmp_path / "killed") == dataset_bytes(tmp_path / "reference")
    assert read_done(tmp_path / "killed" / "parse.done") == \
        read_done(tmp_path / "reference" / "parse.done")


def test_sigkill_mid_llm_generation_never_pays_twice(tmp_path, demo_run):
    # One copy: every context is distinct, so every request body is asked exactly once.
    pdfs = copies_of_demo(demo_run, tmp_path / "pdfs", 1)
    with FakeOpenAI(fake_llm_reply) as server:
        args = ["build", "--venue", "local", "--pdf-dir", pdfs, "--llm", "fake-model",
                "--llm-base-url", server.base_url,
                "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl"]
        run(*args, "--out", tmp_path / "reference")
        paid_once = len(server.requests)
        server.requests.clear()
        kill_when(args, tmp_path / "killed", "generate", 3)
        run(*args, "--out", tmp_path / "killed")
        # Answers in flight at the kill are lost (at most one per concurrent call); every
        # finished one was cached and is not asked again.
        assert paid_once <= len(server.requests) <= paid_once + 4
    assert dataset_bytes(tmp_path / "killed") == dataset_bytes(tmp_path / "reference")
    rows = list(read_jsonl(tmp_path / "killed" / "dataset" / "train.jsonl", Example))
    assert rows and rows[0].generator == "fake-model"


def test_a_run_directory_never_mixes_two_listings(tmp_path, demo_run):
    pdfs = copies_of_demo(demo_run, tmp_path / "pdfs", 1)
    index = ROOT / "data" / "demo_arxiv.jsonl"
    run("build", "--venue", "local", "--pdf-dir", pdfs, "--arxiv-index", index,
        "--out", tmp_path / "run")
    other = copies_of_demo(demo_run, tmp_path / "other", 1)
    proc = run("build", "--venue", "local", "--pdf-dir", other, "--arxiv-index", index,
               "--out", tmp_path / "run", check=False)
    assert proc.returncode == 1 and "fetch in" in proc.stderr and "pdf_dir=" in proc.stderr
    assert "--redo fetch" in proc.stderr and "new --out" in proc.stderr
    # Without --out, each folder gets its own run directory.
    run("build", "--venue", "local", "--pdf-dir", other, "--arxiv-index", index, "--limit", "1",
        cwd=tmp_path)
    assert (tmp_path / "runs" / "local-other" / "dataset" / "train.jsonl").exists()


def test_bad_input_is_one_clear_line(tmp_path):
    bogus = tmp_path / "paper.pdf"
    bogus.write_text("this is not a pdf")
    proc = run("contexts", bogus, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run("build", "--venue", "nowhere", check=False)
    assert proc.returncode == 2 and "--venue must be one of" in proc.stderr
    proc = run("build", "--venue", "local", "--pdf-dir", tmp_path / "missing", "--out",
               tmp_path / "r", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    bogus.rename(pdfs / "paper.pdf")
    proc = run("build", "--venue", "local", "--pdf-dir", pdfs, "--out", tmp_path / "r2",
               check=False)
    assert proc.returncode == 1 and "no arXiv index given" in proc.stderr
    assert not (tmp_path / "r2").exists()  # failed before doing anything
    proc = run("parse", tmp_path / "no-such-run", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_arxiv_index_build_and_resolve(tmp_path):
    out = tmp_path / "idx"
    stats = json.loads(run("arxiv-index", "build", ROOT / "data" / "demo_arxiv.jsonl",
                           "--out", out).stdout)
    assert stats["records"] == 65 and stats["malformed"] == 0
    assert {"seconds", "bytes_on_disk", "peak_rss_mb", "load_seconds"} <= set(stats)
    refs = tmp_path / "refs.txt"
    refs.write_text("A. Vaswani et al. Attention is all you need. In NeurIPS, 2017.\n"
                    "\n"
                    "Kingma and Ba. Adam. arXiv:1412.6980v9\n"
                    "I. Goodfellow, Y. Bengio, A. Courville. Deep Learning. MIT Press, 2016.\n")
    lines = [json.loads(x) for x in run("resolve", "--index", out, refs).stdout.splitlines()]
    # One output line per input line, the blank one included, so the two stay aligned.
    assert [(x["ref"][:8], x["arxiv_id"], x["method"]) for x in lines] == [
        ("A. Vaswa", "1706.03762", "exact-title"), ("", None, "unresolved"),
        ("Kingma a", "1412.6980", "arxiv-id"), ("I. Goodf", None, "unresolved")]
    assert lines[1]["reason"] == "empty-line" and lines[3]["reason"] not in (None, "empty-line")
    piped = subprocess.run([*CLI, "resolve", "--index", str(out)], input=refs.read_text(),
                           capture_output=True, text=True, check=True)
    assert piped.stdout == run("resolve", "--index", out, refs).stdout


def test_bad_index_and_reference_files_are_one_clear_line(tmp_path):
    index = tmp_path / "idx"
    run("arxiv-index", "build", ROOT / "data" / "demo_arxiv.jsonl", "--out", index)
    binary = tmp_path / "refs.bin"
    binary.write_bytes(b"Attention\xff\xfe is all you need\n")
    not_gz = tmp_path / "snap.jsonl.gz"
    not_gz.write_text("plain text\n")
    damaged = tmp_path / "damaged"
    shutil.copytree(index, damaged)
    (damaged / "ids.npy").write_text("garbage")
    bad_run = tmp_path / "bad-run"
    bad_run.mkdir()
    (bad_run / "manifest.json").write_text("{not json")
    for args in (("match", bad_run),
                 ("publish", index),  # a folder that is no run: nothing to publish
                 ("build", "--venue", "demo", "--out", binary),
                 ("resolve", "--index", index, tmp_path / "missing.txt"),
                 ("resolve", "--index", index, tmp_path),
                 ("resolve", "--index", index, binary),
                 ("resolve", "--index", damaged, binary),
                 ("arxiv-index", "build", not_gz, "--out", tmp_path / "i2"),
                 ("arxiv-index", "build", ROOT / "data" / "demo_arxiv.jsonl", "--out", binary)):
        proc = run(*args, check=False)
        assert proc.returncode == 1, args
        assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr, args
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)


def test_contexts_of_one_pdf_as_json_lines(demo_run):
    proc = run("contexts", demo_run / "pdfs" / "demo-002.pdf")
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert rows and all(set(r) == {"section", "text", "refs"} for r in rows)
    assert rows[0]["section"] == "Background and Related Work"
    keys = re.findall(r"\\cite\{([^}]*)\}", rows[0]["text"])
    cited = {k for group in keys for k in group.split(",")}
    assert cited == {r["key"] for r in rows[0]["refs"]}
    assert all(r["raw"] for r in rows[0]["refs"])


def test_build_with_grobid_against_a_local_grobid_server(tmp_path, shared_data):
    from fakes.grobid_server import FakeGrobid

    pairs = {"s2orc-doc2json__2020.acl-main.207": "s2orc-doc2json__2020.acl-main.207.tei.xml",
             "mmda__e5910c027af0ee9c1901c57f6579d903aedee7f4":
                 "mmda__e5910c027af0ee9c1901c57f6579d903aedee7f4.tei.xml"}
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    tei = {}
    for stem, tei_name in pairs.items():
        shutil.copy(shared_data / "pdf" / f"{stem}.pdf", pdfs / f"{stem}.pdf")
        tei[f"{stem}.pdf"] = (shared_data / "tei" / tei_name).read_bytes()
    index = ROOT / "data" / "demo_arxiv.jsonl"
    with FakeGrobid(tei) as grobid:
        args = ["build", "--venue", "local", "--pdf-dir", pdfs, "--parser", "grobid",
                "--grobid-url", grobid.url, "--arxiv-index", index, "--out", tmp_path / "run"]
        run(*args)
        assert len(grobid.requests) == 2
        parsed = [json.loads(x) for x in (tmp_path / "run" / "parse.jsonl").read_text().splitlines()]
        assert {p["parser"] for p in parsed} == {"grobid"}
        contexts = (tmp_path / "run" / "contexts.jsonl").read_text().splitlines()
        assert len(contexts) >= 5
        # Rerunning the same build asks Grobid nothing more: parsed papers and TEI are kept.
        run(*args)
        assert len(grobid.requests) == 2
    proc = run("build", "--venue", "local", "--pdf-dir", pdfs, "--parser", "grobid",
               "--grobid-url", grobid.url, "--arxiv-index", index, "--out", tmp_path / "other",
               check=False)
    assert proc.returncode == 1 and "Grobid is not reachable" in proc.stderr
    assert "Traceback" not in proc.stderr


def _dataset_bytes(run_dir: Path) -> dict[str, bytes]:
    return {s: (run_dir / "dataset" / f"{s}.jsonl").read_bytes() for s in ("train", "dev", "test")}


def test_changed_setting_is_refused_then_redo_equals_a_fresh_build(tmp_path, demo_run):
    run_dir = tmp_path / "run"
    run("build", "--venue", "demo", "--out", run_dir)
    before = _dataset_bytes(run_dir)
    proc = run("build", "--venue", "demo", "--out", run_dir, "--match-threshold", "99",
               check=False)
    assert proc.returncode == 1
    assert "match in" in proc.stderr and "match_threshold=90.0, now 99.0" in proc.stderr
    assert "--redo match" in proc.stderr
    assert _dataset_bytes(run_dir) == before  # nothing deleted before the user asks
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["settings"]["match_threshold"] == 90.0  # the refused settings not recorded
    run("build", "--venue", "demo", "--out", run_dir, "--match-threshold", "99", "--redo", "match")
    fresh = tmp_path / "fresh"
    run("build", "--venue", "demo", "--out", fresh, "--match-threshold", "99")
    assert _dataset_bytes(run_dir) == _dataset_bytes(fresh)
    # A stage command refuses the same way, and --redo redoes that stage.
    proc = run("match", run_dir, "--match-threshold", "95", check=False)
    assert proc.returncode == 1 and "--redo match" in proc.stderr
    run("match", run_dir, "--match-threshold", "95", "--redo")


def test_an_upstream_change_makes_later_stages_stale(tmp_path):
    run_dir = tmp_path / "run"
    run("build", "--venue", "demo", "--out", run_dir)
    proc = run("contexts", run_dir, "--sections", "introduction", check=False)
    assert proc.returncode == 1 and "sections=" in proc.stderr
    run("contexts", run_dir, "--sections", "introduction", "--redo")
    # generate's output was made from the old contexts, which --redo deleted with it
    assert not (run_dir / "generate.jsonl").exists()


def test_a_second_build_on_the_same_run_directory_is_refused(tmp_path):
    import fcntl

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with open(run_dir / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write('{"pid": 4242, "command": "autoscholar build", "since": "now"}')
        held.flush()
        proc = run("build", "--venue", "demo", "--out", run_dir, check=False)
    assert proc.returncode == 1 and "in use by pid 4242" in proc.stderr
    assert not (run_dir / "fetch.jsonl").exists()
    # the holder is gone: its lock does not block the next run
    run("build", "--venue", "demo", "--out", run_dir)
    assert (run_dir / "dataset" / "train.jsonl").exists()


def test_version_flag_prints_the_installed_version():
    from importlib.metadata import version

    assert run("--version").stdout == f"autoscholar {version('autoscholar')}\n"
    assert run("version").stdout == run("--version").stdout


def test_bad_values_and_unused_flags_are_refused_with_one_line(tmp_path):
    out = tmp_path / "run"
    cases = [
        ((["--match-threshold", "101"], {}), 2, "invalid setting match_threshold: Input should "
                                               "be less than or equal to 100"),
        (([], {"AUTOSCHOLAR_MATCH_THRESHOLD": "-1"}), 2, "invalid setting match_threshold"),
        (([], {"AUTOSCHOLAR_PARSER": "tesseract"}), 2,
         "invalid setting parser: unknown parser 'tesseract': one of pymupdf, grobid"),
        (([], {"AUTOSCHOLAR_VENUE": "nowhere"}), 2, "invalid setting venue: unknown venue "
                                                    "'nowhere'"),
        ((["--venue", "icml", "--year", "1999"], {}), 2,
         "--year 1999 is outside what --venue icml covers 2013-"),
        ((["--year", "2023"], {}), 1, "--year is not used here: the demo corpus has no years"),
        ((["--pdf-dir", tmp_path], {}), 1, "--pdf-dir is not used here"),
        ((["--grobid-url", "http://127.0.0.1:9"], {}), 1,
         "--grobid-url is not used here: only --parser grobid uses it"),
        ((["--max-cost", "1"], {}), 1, "--max-cost is not used here: the offline generator"),
        ((["--grobid-concurrency", "3"], {}), 1,
         "--grobid-concurrency is not used here: only --parser grobid uses it"),
        ((["--host-rate", "aclanthology.org=fast"], {}), 2,
         "invalid setting host_rates: --host-rate wants HOST=RPS[:INFLIGHT]"),
    ]
    for (args, env), code, message in cases:
        default = "--venue" not in args and "AUTOSCHOLAR_VENUE" not in env
        argv = ["build", *(["--venue", "demo"] if default else []), *args]
        env = {**env, "AUTOSCHOLAR_RUN_DIR": str(out)} if "--out" not in args else env
        proc = run(*argv, env=env, check=False)
        assert proc.returncode == code, (args, env, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: " + message), (args, lines)
        assert not out.exists(), args  # refused before a run folder was made


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_ctrl_c_during_an_index_rebuild_keeps_the_old_index(tmp_path):
    from autoscholar.arxiv.index import load_index

    out = tmp_path / "idx"
    big = tmp_path / "big.jsonl"
    with big.open("w") as fh:  # large enough that the rebuild is still running when hit
        for i in range(400_000):
            fh.write(json.dumps({"id": f"2101.{i:05d}" if i < 100_000 else f"math/{i:07d}",
                                 "title": f"A study of topic {i} and {i * 7 % 1000} more",
                                 "authors": "A. Author and B. Writer",
                                 "update_date": "2021-01-02"}) + "\n")
    building = tmp_path / ".idx.building"
    # The signal can land after the build finished (a fast or an idle machine): then the new
    # index must be whole, and the interrupt is tried again; one of three tries must land
    # mid-build, and every outcome must leave a whole index.
    for _ in range(3):
        run("arxiv-index", "build", ROOT / "data" / "demo_arxiv.jsonl", "--out", out)
        before = _folder_bytes(out)
        # SIGINT back to its default in the child: a suite started in the background of a
        # non-interactive shell inherits SIGINT ignored, and Ctrl-C would then never arrive.
        proc = subprocess.Popen([*CLI, "arxiv-index", "build", str(big), "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120
        while not building.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert proc.poll() is None, "the rebuild ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err and not building.exists()
        if proc.returncode == 0:
            assert len(load_index(out)) == 400_000
            continue
        assert proc.returncode == 130
        assert _folder_bytes(out) == before
        assert len(load_index(out)) == 65
        return
    pytest.fail("no SIGINT landed during the rebuild in three tries")


def test_an_index_from_a_file_with_no_valid_record_is_an_error(tmp_path):
    out = tmp_path / "idx"
    run("arxiv-index", "build", ROOT / "data" / "demo_arxiv.jsonl", "--out", out)
    before = _folder_bytes(out)
    junk = tmp_path / "junk.jsonl"
    junk.write_text('not json\n{"id": "2101.00001"}\n[1, 2]\n')
    proc = run("arxiv-index", "build", junk, "--out", out, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == f"error: {junk} holds no valid arXiv record (each line a JSON object " \
                          "with an id and a title)\n"
    assert _folder_bytes(out) == before
