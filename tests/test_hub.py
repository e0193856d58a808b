"""hub.push against a fake Hub on 127.0.0.1 that speaks huggingface_hub's real wire protocol."""

from __future__ import annotations

import io
import json
import logging
import secrets
import shutil
import socket
import time
from pathlib import Path

import pytest
from huggingface_hub import constants

from autoscholar.errors import InputError, ServiceError
from autoscholar.hub import push

from fakes.hub_server import FakeHub


def card(splits) -> str:
    configs = "\n".join(f"  - split: {s}\n    path: data/{s}-00000-of-00001.parquet" for s in splits)
    return f"---\nconfigs:\n- config_name: default\n  data_files:\n{configs}\n---\n\n# Test card\n"


def make_hf_folder(root: Path, splits=("train", "dev", "test")) -> Path:
    """The layout publish.write_hf writes: one parquet per split plus the card."""
    from datasets import Dataset

    (root / "data").mkdir(parents=True, exist_ok=True)
    for n, split in enumerate(splits):
        rows = [{"qid": f"AutoScholarQuery_{split}_{i}", "question": f"Which papers study {split} {i}?",
                 "answer": [f"Paper {i}"], "answer_arxiv_id": [f"2101.0000{i}"]}
                for i in range(n + 2)]
        Dataset.from_list(rows).to_parquet(str(root / "data" / f"{split}-00000-of-00001.parquet"))
    (root / "README.md").write_text(card(splits))
    return root


def local_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def hub_files(hub: FakeHub, repo_id: str) -> dict[str, bytes]:
    files = dict(hub.repos[repo_id].files)
    files.pop(".gitattributes")  # the Hub's own, made with the repo
    return files


def new_token() -> str:
    return "hf_" + secrets.token_hex(16)


def error_chain_text(exc: BaseException) -> str:
    """What a traceback of exc would print: the error and what caused it."""
    parts = []
    while exc is not None:
        parts += [str(exc), repr(exc)]
        exc = exc.__cause__ if exc.__cause__ or exc.__suppress_context__ else exc.__context__
    return "\n".join(parts)


@pytest.fixture
def library_logs(monkeypatch):
    """Everything huggingface_hub and autoscholar log, at debug level (curl lines included)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    monkeypatch.setattr(constants, "HF_DEBUG", True)
    loggers = [logging.getLogger("huggingface_hub"), logging.getLogger("autoscholar")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield buf
    for lg, level in zip(loggers, levels):
        lg.removeHandler(handler)
        lg.setLevel(level)


def assert_token_only_in_auth_header(hub: FakeHub, token: str) -> None:
    assert hub.requests
    for r in hub.requests:
        if r.path.startswith("/lfs-upload/"):  # storage: the Hub token is never sent there
            assert "authorization" not in r.headers
        else:
            assert r.headers["authorization"] == f"Bearer {token}"
        others = {k: v for k, v in r.headers.items() if k != "authorization"}
        assert token not in r.path and token not in str(others)
        assert token.encode() not in r.body


def files_containing(root: Path, needle: bytes, since: float = 0.0) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*")
            if p.is_file() and p.stat().st_mtime >= since and needle in p.read_bytes()]


def test_push_uploads_exactly_the_folder(tmp_path, library_logs, capfd):
    started = time.time() - 1
    token = new_token()
    folder = make_hf_folder(tmp_path / "hf")
    (folder / ".README.md.x1y2.tmp").write_text("half-written card")  # write_atomic leftover
    with FakeHub(token) as hub:
        url = push(folder, "alice/autoscholar-demo", token, endpoint=hub.url, private=True)

    repo = hub.repos["alice/autoscholar-demo"]
    assert list(hub.repos) == ["alice/autoscholar-demo"]
    assert url == f"{hub.url}/datasets/alice/autoscholar-demo/commit/{repo.sha}"
    created = [json.loads(r.body) for r in hub.requests if r.path == "/api/repos/create"]
    assert created == [{"name": "autoscholar-demo", "organization": "alice", "type": "dataset",
                        "visibility": "private"}]
    assert repo.private
    expected = local_files(folder)
    assert sorted(expected) == ["README.md", "data/dev-00000-of-00001.parquet",
                                "data/test-00000-of-00001.parquet",
                                "data/train-00000-of-00001.parquet"]
    assert hub_files(hub, "alice/autoscholar-demo") == expected  # byte for byte
    # the card last, after the data it describes
    assert [line["value"]["path"] for line in repo.commits[-1]["lines"][1:]] == \
        sorted(expected)[1:] + ["README.md"]
    assert hub.unknown == []

    assert_token_only_in_auth_header(hub, token)
    out, err = capfd.readouterr()
    assert token not in out + err + library_logs.getvalue()
    assert "alice/autoscholar-demo" in library_logs.getvalue()  # the log did see the push
    assert files_containing(tmp_path, token.encode()) == []
    assert files_containing(Path(constants.HF_HOME), token.encode(), since=started) == []


def test_push_twice_replaces_the_dataset_and_drops_stale_files(tmp_path):
    token = new_token()
    folder = make_hf_folder(tmp_path / "hf")
    with FakeHub(token) as hub:
        push(folder, "alice/ds", token, endpoint=hub.url)
        # The next publish has no dev split: its parquet goes, the card changes.
        (folder / "data" / "dev-00000-of-00001.parquet").unlink()
        (folder / "README.md").write_text(card(["train", "test"]))
        second = push(folder, "alice/ds", token, endpoint=hub.url)
        assert hub_files(hub, "alice/ds") == local_files(folder)
        assert "data/dev-00000-of-00001.parquet" not in hub.repos["alice/ds"].files
        # Nothing changed: no empty commit, and the URL names the current head.
        third = push(folder, "alice/ds", token, endpoint=hub.url)
    repo = hub.repos["alice/ds"]
    assert [c["summary"] for c in repo.commits][0] == "initial commit"
    assert len(repo.commits) == 3
    assert second.endswith(repo.sha) and third == second
    assert hub.unknown == []


def test_lfs_upload_path_when_the_hub_asks_for_lfs(tmp_path, monkeypatch):
    """The real Hub answers "lfs" for parquet; without hf_xet the library then uses git-lfs."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    token = new_token()
    folder = make_hf_folder(tmp_path / "hf", splits=("train", "test"))
    with FakeHub(token, lfs_suffixes=(".parquet",)) as hub:
        push(folder, "alice/ds", token, endpoint=hub.url)
    repo = hub.repos["alice/ds"]
    assert hub_files(hub, "alice/ds") == local_files(folder)
    assert repo.lfs == {"data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"}
    assert sum(r.path.startswith("/lfs-upload/") for r in hub.requests) == 2
    # The card is written after the data: both parquet bodies reach storage before the one
    # commit, whose last line carries the card.
    order = [r.path for r in hub.requests]
    commits = [i for i, path in enumerate(order) if "/commit/" in path]
    uploads = [i for i, path in enumerate(order) if path.startswith("/lfs-upload/")]
    assert len(commits) == 1 and max(uploads) < commits[0]
    lines = [json.loads(line) for line in hub.requests[commits[0]].body.splitlines()]
    assert [(line["key"], line["value"].get("path")) for line in lines[1:]] == [
        ("lfsFile", "data/test-00000-of-00001.parquet"),
        ("lfsFile", "data/train-00000-of-00001.parquet"), ("file", "README.md")]
    assert_token_only_in_auth_header(hub, token)
    assert hub.unknown == []


def test_hf_endpoint_is_honoured_when_no_endpoint_is_given(tmp_path, monkeypatch):
    token = new_token()
    folder = make_hf_folder(tmp_path / "hf", splits=("train",))
    with FakeHub(token) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url + "/")
        monkeypatch.setenv("HF_TOKEN", token)  # and the token comes from HF_TOKEN
        url = push(folder, "alice/ds", None)
    assert url.startswith(hub.url) and hub_files(hub, "alice/ds") == local_files(folder)


@pytest.mark.parametrize("echo", [False, True], ids=["hub", "server-echoing-credentials"])
def test_wrong_token_is_a_service_error_without_the_token(tmp_path, echo):
    wrong = new_token()
    folder = make_hf_folder(tmp_path / "hf", splits=("train",))
    with FakeHub(new_token(), echo_credentials=echo) as hub:
        with pytest.raises(ServiceError) as info:
            push(folder, "alice/ds", wrong, endpoint=hub.url)
    message = str(info.value)
    assert "rejected the token: 401 Unauthorized" in message and "\n" not in message
    assert wrong not in error_chain_text(info.value)
    assert hub.repos == {}


def test_namespace_without_write_access_is_forbidden(tmp_path):
    token = new_token()
    folder = make_hf_folder(tmp_path / "hf", splits=("train",))
    with FakeHub(token, namespaces=("alice",)) as hub:
        with pytest.raises(ServiceError) as info:
            push(folder, "bob/ds", token, endpoint=hub.url)
    assert "may not write to dataset repo bob/ds" in str(info.value)
    assert "403 Forbidden" in str(info.value) and token not in error_chain_text(info.value)


def test_dead_endpoint_cannot_reach(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = make_hf_folder(tmp_path / "hf", splits=("train",))
    token = new_token()
    with pytest.raises(ServiceError) as info:
        push(folder, "alice/ds", token, endpoint=f"http://127.0.0.1:{port}")
    assert str(info.value).startswith(f"cannot reach the Hugging Face Hub at http://127.0.0.1:{port}")
    assert token not in error_chain_text(info.value)


def test_card_with_broken_yaml_is_rejected_before_upload(tmp_path):
    token = new_token()
    folder = make_hf_folder(tmp_path / "hf", splits=("train",))
    (folder / "README.md").write_text("---\nconfigs: [unclosed\n---\n# card\n")
    with FakeHub(token) as hub:
        with pytest.raises(ServiceError, match="Invalid metadata in README.md.*Invalid YAML"):
            push(folder, "alice/ds", token, endpoint=hub.url)
    assert not any("/commit/" in r.path for r in hub.requests)


@pytest.mark.parametrize("setup, repo_id, message", [
    (lambda d: None, "alice/ds", "is not a folder"),
    (lambda d: d.mkdir(), "alice/ds", "no README.md"),
    (lambda d: (d.mkdir(), (d / "README.md").write_text("x")), "alice/ds", "no parquet"),
    (lambda d: make_hf_folder(d, ("train",)), "just-a-name", "OWNER/NAME"),
    (lambda d: make_hf_folder(d, ("train",)), "alice/bad--name", "invalid Hub repo"),
])
def test_bad_input_fails_before_any_request(tmp_path, setup, repo_id, message):
    folder = tmp_path / "hf"
    setup(folder)
    with pytest.raises(InputError, match=message):
        push(folder, repo_id, "hf_unused", endpoint="http://127.0.0.1:9")


def test_publish_command_uploads_the_published_folder_to_the_repo(tmp_path):
    import os
    import subprocess
    import sys

    from test_publish import corpus, write_match

    token = new_token()
    run_dir = tmp_path / "run"
    write_match(run_dir, corpus())
    with FakeHub(token) as hub:
        env = {**os.environ, "HF_TOKEN": token, "HF_ENDPOINT": hub.url,
               "HF_HOME": str(tmp_path / "hf-home")}
        env.pop("AUTOSCHOLAR_HUB_TOKEN", None)
        done = subprocess.run([sys.executable, "-m", "autoscholar.cli", "publish", str(run_dir),
                               "--repo", "alice/queries", "--private", "--license", "cc-by-4.0"],
                              capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    repo = hub.repos["alice/queries"]
    assert repo.private and f"pushed:  {hub.url}/datasets/alice/queries/commit/" in done.stdout
    assert hub_files(hub, "alice/queries") == local_files(run_dir / "dataset" / "hf")
    assert b"license: cc-by-4.0\n" in repo.files["README.md"]
    assert [line["value"]["path"] for line in repo.commits[-1]["lines"][1:]][-1] == "README.md"


@pytest.mark.parametrize("case", ["wrong", "read-only", "missing"])
def test_publish_push_checks_the_token_before_writing_anything(tmp_path, case):
    from test_cli import run

    run_dir = tmp_path / "run"
    run("build", "--venue", "demo", "--out", run_dir)
    shutil.rmtree(run_dir / "dataset")
    (run_dir / "publish.done").unlink(missing_ok=True)
    token = new_token()
    with FakeHub(token) as hub:
        hub.role = "read" if case == "read-only" else "write"
        sent = {"wrong": new_token(), "read-only": token, "missing": ""}[case]
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": sent, "AUTOSCHOLAR_HUB_TOKEN": "",
               "HF_HOME": str(tmp_path / "hf-home")}  # no saved `hf auth login` token
        proc = run("publish", run_dir, "--push-to-hub", "alice/demo", env=env, check=False)
        assert not hub.repos and not hub.unknown
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = {"wrong": f"error: preflight hub: the Hugging Face Hub at {hub.url} rejected the "
                     "token: 401 Unauthorized",
            "read-only": "error: preflight hub: the token of 'alice' is read-only: pushing "
                         "needs a token with write access",
            "missing": "error: preflight hub: no Hugging Face token: set AUTOSCHOLAR_HUB_TOKEN "
                       "or HF_TOKEN (a token with write access), or run `hf auth login`"}[case]
    assert proc.stderr.strip().splitlines() == [line]
    assert sent[3:] not in proc.stderr + proc.stdout or not sent
    assert not (run_dir / "dataset").exists()  # publish wrote nothing


def test_publish_push_with_a_good_token_pushes(tmp_path):
    from test_cli import run

    run_dir = tmp_path / "run"
    run("build", "--venue", "demo", "--out", run_dir)
    token = new_token()
    with FakeHub(token) as hub:
        proc = run("publish", run_dir, "--push-to-hub", "alice/demo",
                   env={"HF_ENDPOINT": hub.url, "HF_TOKEN": token, "AUTOSCHOLAR_HUB_TOKEN": ""})
        assert "alice/demo" in hub.repos and not hub.unknown
        assert any(r.path == "/api/whoami-v2" for r in hub.requests)
    assert "pushed:" in proc.stdout
