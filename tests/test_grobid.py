"""Grobid backend: the real grobid-client-python code against a local server speaking Grobid's API."""

from __future__ import annotations

import json
import random
import socket
from pathlib import Path

import pytest

from autoscholar.config import Settings
from autoscholar.errors import ParseError, ServiceError
from autoscholar.parse.grobid import client as grobid
from autoscholar.parse.grobid.client import backoff_delay, classify, parse_with_grobid, read_ledger
from autoscholar.records import Paper, ParsedPaper
from fakes.grobid_server import FakeGrobid

TEI_FILES = {
    "specter.pdf": "s2orc-doc2json__2020.acl-main.207.tei.xml",
    "paperqa.pdf": "document-qa__2312.07559.sentences.tei.xml",
    "gpool.pdf": "mmda__e5910c027af0ee9c1901c57f6579d903aedee7f4.tei.xml",
    "litgraph.pdf": "s2orc-doc2json__N18-3011.tei.xml",
}


@pytest.fixture(scope="module")
def teis(shared_data: Path) -> dict[str, bytes]:
    return {pdf: (shared_data / "tei" / name).read_bytes() for pdf, name in TEI_FILES.items()}


@pytest.fixture
def pdfs(tmp_path: Path):
    """Writes small stand-in PDFs (the fake server never reads them) and returns items."""
    def make(*names: str) -> list[tuple[Paper, Path]]:
        items = []
        for name in names:
            path = tmp_path / "pdf" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"%PDF-1.4\n% test stand-in for " + name.encode() + b"\n%%EOF\n")
            items.append((Paper(paper_id=path.stem, venue="local", pdf_path=str(path)), path))
        return items
    return make


class Sleeps(list):
    """Records the backoff delays instead of sleeping them."""
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def settings(url: str, **kw) -> Settings:
    base = dict(grobid_url=url, grobid_timeout=5.0, grobid_backoff=0.01, grobid_backoff_cap=0.05,
                grobid_retries=4, grobid_concurrency=4)
    base.update(kw)
    return Settings(**base)


def run(items, st, tmp_path, sleep=None):
    return dict((p.paper_id, r) for p, r in parse_with_grobid(
        items, st, tmp_path / "tei", tmp_path / "grobid.ledger.jsonl", sleep=sleep if sleep is not None else Sleeps()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- success and cache


def test_parses_through_the_client_with_grobid_options(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf", "paperqa.pdf", "gpool.pdf")
    with FakeGrobid(teis) as server:
        out = run(items, settings(server.url), tmp_path)
    assert all(isinstance(r, ParsedPaper) for r in out.values()), out
    assert len(server.requests) == 3
    for req in server.requests:
        assert req["fields"] == {"segmentSentences": "1", "includeRawCitations": "1",
                                 "consolidateCitations": "0", "consolidateHeader": "0"}
        assert req["size"] > 0
    specter = out["specter"]
    assert specter.parser == "grobid" and specter.parser_version == "0.6.1"
    assert len(specter.bibliography) == 57
    assert any(s.title == "Related Work" for s in specter.sections)
    assert any(s.title == "RELATED WORKS" for s in out["paperqa"].sections)
    cached = sorted(p.name for p in (tmp_path / "tei").iterdir())
    assert cached == ["gpool.tei.xml", "paperqa.tei.xml", "specter.tei.xml"]  # no temp files left
    assert (tmp_path / "tei" / "specter.tei.xml").read_bytes() == teis["specter.pdf"]
    ledger = read_ledger(tmp_path / "grobid.ledger.jsonl")
    assert {k: v["status"] for k, v in ledger.items()} == {
        "specter": "ok", "paperqa": "ok", "gpool": "ok"}


def test_cache_hits_do_not_call_the_server(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf", "gpool.pdf")
    with FakeGrobid(teis) as server:
        first = run(items, settings(server.url), tmp_path)
        assert len(server.requests) == 2
        second = run(items + pdfs("paperqa.pdf"), settings(server.url), tmp_path)
        assert len(server.requests) == 3 and server.calls("paperqa.pdf") == 1
    assert second["specter"] == first["specter"]
    # everything cached: not even a live server is needed
    dead = settings(f"http://127.0.0.1:{free_port()}")
    third = run(items, dead, tmp_path)
    assert all(isinstance(r, ParsedPaper) for r in third.values())


# ---------------------------------------------------------------- 503 backoff


def test_503_is_retried_with_capped_backoff_and_succeeds(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf")
    sleeps = Sleeps()
    with FakeGrobid(teis) as server:
        server.scripts["specter.pdf"] = [(503, "busy", 0.0)] * 3
        out = run(items, settings(server.url), tmp_path, sleep=sleeps)
        assert server.calls("specter.pdf") == 4
    assert isinstance(out["specter"], ParsedPaper)
    assert len(sleeps) == 3
    # base 0.01 doubling, jittered within [d/2, d], capped at 0.05
    bounds = [(0.005, 0.01), (0.01, 0.02), (0.02, 0.04)]
    assert all(lo <= s <= hi for s, (lo, hi) in zip(sleeps, bounds)), sleeps


def test_503_that_never_ends_is_a_transient_failure(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf")
    with FakeGrobid(teis) as server:
        server.scripts["specter.pdf"] = [(503, "busy", 0.0)] * 10
        out = run(items, settings(server.url, grobid_retries=2), tmp_path)
        assert server.calls("specter.pdf") == 3  # bounded: 1 + 2 retries, not forever
    assert isinstance(out["specter"], ParseError) and out["specter"].reason == "server-busy"
    row = read_ledger(tmp_path / "grobid.ledger.jsonl")["specter"]
    assert row["status"] == "failed" and row["transient"] is True


def test_backoff_is_capped_and_jittered():
    rng = random.Random(1)
    delays = [backoff_delay(a, 1.0, 30.0, rng) for a in range(12)]
    assert all(d <= 30.0 for d in delays) and delays[-1] >= 15.0
    assert len({round(d, 6) for d in delays[-4:]}) == 4  # jitter: capped delays still differ


# ---------------------------------------------------------------- failure ledger


def test_permanent_failures_are_recorded_and_not_retried(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf", "paperqa.pdf", "gpool.pdf", "litgraph.pdf")
    with FakeGrobid(teis) as server:
        server.scripts["specter.pdf"] = [(400, "[BAD_INPUT_DATA] not a PDF", 0.0)]
        server.scripts["paperqa.pdf"] = [(500, "[TOO_MANY_BLOCKS] too many blocks", 0.0)]
        server.scripts["gpool.pdf"] = [(204, "", 0.0)]
        out = run(items, settings(server.url), tmp_path)
        assert {k: getattr(v, "reason", "ok") for k, v in out.items()} == {
            "specter": "bad-input", "paperqa": "too-many-blocks", "gpool": "no-text",
            "litgraph": "ok"}
        rows = [json.loads(line) for line in (tmp_path / "grobid.ledger.jsonl").read_text().splitlines()]
        failed = {r["paper_id"]: r for r in rows if r["status"] == "failed"}
        assert set(failed) == {"specter", "paperqa", "gpool"}
        assert not any(out[k].transient for k in failed)
        assert not any(r["transient"] for r in failed.values())
        assert "BAD_INPUT_DATA" in failed["specter"]["detail"]

        again = run(items, settings(server.url), tmp_path)
        assert len(server.requests) == 4  # nothing asked twice
        assert again["specter"].reason == "bad-input" and "not retried" in str(again["specter"])
        assert isinstance(again["litgraph"], ParsedPaper)  # from the cache


def test_transient_failures_are_retried_on_rerun(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf", "paperqa.pdf", "gpool.pdf")
    with FakeGrobid(teis) as server:
        server.scripts["specter.pdf"] = [(200, "late", 3.0)]  # slower than the client waits
        server.scripts["paperqa.pdf"] = [(500, "[TIMEOUT] processing took too long", 0.0)]
        server.scripts["gpool.pdf"] = [(500, "[PDFALTO_CONVERSION_FAILURE] crashed", 0.0)]
        out = run(items, settings(server.url, grobid_timeout=1.0), tmp_path)
        assert {k: v.reason for k, v in out.items()} == {
            "specter": "timeout", "paperqa": "timeout", "gpool": "server-error"}
        assert all(v.transient for v in out.values())  # the runner may try them again
        ledger = read_ledger(tmp_path / "grobid.ledger.jsonl")
        assert all(r["transient"] and r["attempts"] == 1 for r in ledger.values())

        again = run(items, settings(server.url, grobid_timeout=5.0), tmp_path)
        assert all(isinstance(r, ParsedPaper) for r in again.values()), again
        assert all(server.calls(n) == 2 for n in ("specter.pdf", "paperqa.pdf", "gpool.pdf"))
        assert all(r["status"] == "ok" for r in read_ledger(tmp_path / "grobid.ledger.jsonl").values())


def test_transient_failure_gives_up_after_max_attempts(teis, pdfs, tmp_path):
    items = pdfs("gpool.pdf")
    with FakeGrobid(teis) as server:
        server.scripts["gpool.pdf"] = [(500, "boom", 0.0)] * 10
        for _ in range(grobid.MAX_TRANSIENT_ATTEMPTS + 2):
            out = run(items, settings(server.url), tmp_path)
        assert server.calls("gpool.pdf") == grobid.MAX_TRANSIENT_ATTEMPTS
    assert out["gpool"].reason == "server-error" and "gave up" in str(out["gpool"])
    assert not out["gpool"].transient


# ---------------------------------------------------------------- server


def test_dead_server_is_one_clear_error(pdfs, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceError) as err:
        run(pdfs("specter.pdf"), settings(url), tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"Grobid is not reachable at {url}") and "\n" not in msg
    assert not (tmp_path / "grobid.ledger.jsonl").exists()  # not a failure of the PDF


def test_server_dying_mid_run_stops_without_blaming_the_pdf(teis, pdfs, tmp_path):
    items = pdfs("specter.pdf")
    with FakeGrobid(teis) as server:
        server.scripts["specter.pdf"] = [(0, "", 0.0)]
        with pytest.raises(ServiceError) as err:
            run(items, settings(server.url), tmp_path)
        assert "stopped answering" in str(err.value) and "\n" not in str(err.value)
        assert "specter" not in read_ledger(tmp_path / "grobid.ledger.jsonl")
        out = run(items, settings(server.url), tmp_path)  # back up: the rerun parses it
    assert isinstance(out["specter"], ParsedPaper)


def test_a_pool_smaller_than_the_concurrency_is_regulated_by_503_backoff(teis, pdfs, tmp_path):
    # Real Grobid never tells its pool size (/api/health is an empty 200): 6 requests go out,
    # the 2-engine pool answers the rest 503 after poolMaxWait, and the back-off retries them.
    names = [f"specter{i}.pdf" for i in range(8)]
    with FakeGrobid({n: teis["specter.pdf"] for n in names}, pool=2, pool_max_wait=0.05,
                    work_time=0.1) as server:
        out = run(pdfs(*names), settings(server.url, grobid_concurrency=6, grobid_retries=30),
                  tmp_path, sleep=__import__("time").sleep)
        assert server.max_in_flight == 2 and server.busy_answers > 0
    assert len(out) == 8 and all(isinstance(r, ParsedPaper) for r in out.values())


def test_the_fake_answers_health_and_isalive_as_grobid_does(teis):
    import urllib.request

    with FakeGrobid(teis, pool=2) as server:
        with urllib.request.urlopen(f"{server.url}/api/health") as res:
            assert (res.status, res.read(), res.headers.get("Content-Type")) == (200, b"", None)
        with urllib.request.urlopen(f"{server.url}/api/isalive") as res:
            assert (res.status, res.read()) == (200, b"true")


def test_default_concurrency_is_grobids_default_pool(shared_data):
    import re

    yaml = (shared_data / "venues" / "grobid" / "grobid.yaml").read_text()
    assert Settings().grobid_concurrency == int(re.search(r"^\s*concurrency: (\d+)", yaml, re.M)[1])


@pytest.mark.parametrize("status,body,reason,transient", [
    (200, "<TEI/>", None, None),
    (204, "", "no-text", False),
    (200, "  ", "no-text", False),
    (400, "[BAD_INPUT_DATA]", "bad-input", False),
    (500, "[TOO_MANY_BLOCKS] blocks", "too-many-blocks", False),
    (500, "[TIMEOUT] 60s", "timeout", True),
    (500, "NullPointerException", "server-error", True),
    (408, "", "timeout", True),
])
def test_classify(status, body, reason, transient):
    f = classify(status, body)
    assert (f.reason, f.transient) == (reason, transient) if reason else f is None
