"""Verified, polite, concurrent downloads (issue 14) against a local PDF host that misbehaves on
demand (fakes/pdf_server.py): cut bodies, stalls, Retry-After in both forms, non-PDFs, and the
per-host limit under several workers."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from autoscholar import hostlimit, http, pdfcheck
from autoscholar.config import Settings
from autoscholar.errors import ServiceError
from autoscholar.fetch import fetch
from autoscholar.records import Paper
from autoscholar.sources import common

from fakes.pdf_server import PdfHost


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Our own backoff shrunk (a server's Retry-After is still waited on in full)."""
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(hostlimit, "LIMITER", hostlimit.HostLimiter())


@pytest.fixture(scope="module")
def opener():
    """PyMuPDF's check processes, started once for the module as fetch starts them once."""
    with pdfcheck.Opener() as shared:
        yield shared


@pytest.fixture
def host():
    with PdfHost() as srv:
        yield srv


def paper(srv: PdfHost, name: str) -> Paper:
    return Paper(paper_id=name, venue="iclr", year=2024, pdf_url=srv.url(name))


def get(srv, name, tmp_path, opener, **kwargs):
    tally = http.Tally()
    path = common.ensure_pdf(paper(srv, name), tmp_path / "pdfs", tally=tally, opener=opener,
                             **kwargs)
    return path, tally.as_dict()


def left_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------ Retry-After


def test_retry_after_reads_both_rfc9110_forms():
    now = time.time()
    assert http.retry_after("120") == 120.0
    date = email.utils.formatdate(now + 90, usegmt=True)  # "Thu, 03 Dec 2026 13:00:00 GMT"
    assert http.retry_after(date, now=now) == pytest.approx(90, abs=1)
    assert http.retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert http.retry_after("soon") is None and http.retry_after("") is None
    assert http.retry_after(None) is None


def test_429_with_an_http_date_holds_the_host_until_then(host, tmp_path, opener):
    host.scripts["a"] = [("429-date", 2)]
    path, retries = get(host, "a", tmp_path, opener)
    first, second = host.hits("a")
    # The date has whole seconds: it lies 1-2 s after the 429, far past our 0.01 s backoff.
    assert second - first >= 0.95
    assert retries == {"http-429": 1} and path.read_bytes().startswith(b"%PDF-")


def test_503_with_delay_seconds_is_waited_on(host, tmp_path, opener):
    host.scripts["b"] = [("503-secs", 1)]
    _, retries = get(host, "b", tmp_path, opener)
    first, second = host.hits("b")
    assert second - first >= 1.0 and retries == {"http-503": 1}


def test_a_long_retry_after_is_honoured_up_to_the_cap_not_cut_to_30_s(host, tmp_path, opener):
    host.scripts["c"] = [("503-secs", 700)]
    with pytest.raises(ServiceError) as info:
        get(host, "c", tmp_path, opener)  # the default cap is 600 s: 700 is not waited on
    assert info.value.transient and "asks to wait 700 s, more than the 600 s" in str(info.value)
    assert len(host.hits("c")) == 1  # not hammered with retries meanwhile
    host.scripts["d"] = [("503-secs", 45)]
    with pytest.raises(ServiceError) as info:  # 45 s is within the cap but past the deadline
        get(host, "d", tmp_path, opener, deadline=5)
    assert "deadline would pass" in str(info.value) and len(host.hits("d")) == 1
    assert hostlimit.LIMITER.limit_of("127.0.0.1") is None  # loopback: no default limit


# ------------------------------------------------------------------ verified bodies


def test_a_body_shorter_than_its_content_length_is_retried(host, tmp_path, opener):
    host.scripts["e"] = ["short"]
    path, retries = get(host, "e", tmp_path, opener)
    assert retries == {"content-length": 1} and len(host.hits("e")) == 2
    assert path.read_bytes() == host.pdf("e")
    host.scripts["f"] = ["short"] * 10
    with pytest.raises(ServiceError, match=r"short body: \d+ of the \d+ bytes its "
                                           r"Content-Length announced") as info:
        get(host, "f", tmp_path, opener)
    assert info.value.transient  # a rerun may fare better
    assert left_in(tmp_path / "pdfs") == ["e.pdf", "verified.jsonl"]  # no partial file


def test_a_stall_mid_body_times_out_and_is_retried(tmp_path, monkeypatch):
    with PdfHost(stall=3.0) as srv:
        srv.scripts["g"] = ["stall"]
        start = time.monotonic()
        tally = http.Tally()
        path = http.download(srv.url("g"), tmp_path / "g.pdf", timeout=0.5, tally=tally)
        assert time.monotonic() - start < 2.5  # did not sit through the 3 s stall
        assert tally.as_dict() == {"stall": 1} and path.read_bytes() == srv.pdf("g")


@pytest.mark.parametrize("step, check, transient", [
    ("cut", "no %%EOF in its last 1024 bytes", True),
    ("html", "not a PDF (starts with '<!DOCTYPE html><html')", False),
    ("garbage", "PyMuPDF cannot open it", False),
])
def test_a_body_failing_a_check_is_deleted_retried_and_named(host, tmp_path, opener, step,
                                                             check, transient):
    host.scripts["h"] = [step]
    path, retries = get(host, "h", tmp_path, opener)  # the second answer is whole
    cause = {"cut": "eof", "html": "not-a-pdf", "garbage": "pymupdf"}[step]
    assert retries == {cause: 1} and path.read_bytes() == host.pdf("h")
    host.scripts["i"] = [step] * 10
    with pytest.raises(ServiceError) as info:
        get(host, "i", tmp_path, opener)
    assert check in str(info.value) and info.value.transient is transient
    assert f"gave up after {http.RETRIES + 1} attempts" in str(info.value)
    assert len(host.hits("i")) == http.RETRIES + 1
    assert left_in(tmp_path / "pdfs") == ["h.pdf", "verified.jsonl"]


def test_a_present_file_is_reused_only_while_it_is_the_file_that_passed(host, tmp_path, opener):
    path, _ = get(host, "j", tmp_path, opener)
    rows = [json.loads(x) for x in (tmp_path / "pdfs" / "verified.jsonl").read_text().splitlines()]
    assert [(r["file"], r["pages"]) for r in rows] == [("j.pdf", 1)]
    get(host, "j", tmp_path, opener)
    assert len(host.hits("j")) == 1  # reused: the ledger has these bytes
    # Cut on disk since (a copy, a crash): checked again, fails, fetched again.
    path.write_bytes(path.read_bytes()[:-3000])
    get(host, "j", tmp_path, opener)
    assert len(host.hits("j")) == 2 and path.read_bytes() == host.pdf("j")
    # A whole PDF from before the ledger is checked once and kept.
    other = tmp_path / "pdfs" / "k.pdf"
    other.write_bytes(host.pdf("k"))
    get(host, "k", tmp_path, opener)
    assert host.hits("k") == [] and pdfcheck.Ledger(tmp_path / "pdfs").passed(other)


# ------------------------------------------------------------------ concurrency and host limits


def fetch_run(srv: PdfHost, names: list[str], tmp_path, **settings) -> tuple[dict, Settings]:
    run = tmp_path / "run"
    run.mkdir()
    papers = [paper(srv, n) for n in names]
    (run / "listing.jsonl").write_text("".join(p.model_dump_json() + "\n" for p in papers))
    (run / "listing.source.json").write_text(json.dumps({"venue": "iclr", "year": 2024,
                                                         "pdf_dir": None}))
    s = Settings(venue="iclr", year=2024, run_dir=run, **settings)
    return fetch(s, run), s


def test_workers_overlap_and_records_keep_listing_order(tmp_path):
    names = [f"p{i}" for i in range(8)]
    with PdfHost(delay=0.4) as srv:
        srv.scripts["p1"] = ["short"]  # one retried: finishes last, still written second
        stats, _ = fetch_run(srv, names, tmp_path, fetch_workers=4)
    assert srv.max_in_flight == 4  # loopback has no default limit: the 4 workers overlap
    lines = (tmp_path / "run" / "fetch.jsonl").read_text().splitlines()
    assert [json.loads(x)["paper_id"] for x in lines] == names
    assert stats.extra["retries"] == {"content-length": 1} and stats.outputs == 8


def test_the_per_host_limit_is_never_exceeded(tmp_path):
    names = [f"q{i}" for i in range(6)]
    with PdfHost(delay=0.3) as srv:
        stats, _ = fetch_run(srv, names, tmp_path, fetch_workers=4,
                             host_rates=["127.0.0.1=5:2"])
    starts = sorted(t for t, _ in srv.arrivals)
    assert srv.max_in_flight == 2  # 4 workers, 2 allowed at once, and 2 used
    # 5 per second: 0.2 s apart at the client, less the jitter of connecting at the server
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.15
    assert stats.outputs == 6


def test_host_rate_flags_are_checked():
    assert hostlimit.parse_host_rate("aclanthology.org=0.5:2") == \
        ("aclanthology.org", hostlimit.HostLimit(0.5, 2))
    assert hostlimit.parse_host_rate("X.org=2") == ("x.org", hostlimit.HostLimit(2.0, 1))
    for bad in ("aclanthology.org", "=1", "a.org=fast", "a.org=1:0", "a.org=-1"):
        with pytest.raises(ValueError, match="HOST=RPS"):
            hostlimit.parse_host_rate(bad)
    with pytest.raises(ValueError, match="HOST=RPS"):
        Settings(host_rates=["a.org=1:x"])
    limiter = hostlimit.HostLimiter({"openreview.net": hostlimit.HostLimit(1, 1)})
    assert limiter.limit_of("openreview.net") == hostlimit.HostLimit(1, 1)  # the flag wins
    assert limiter.limit_of("export.arxiv.org") == hostlimit.ARXIV
    assert limiter.limit_of("example.org") == hostlimit.DEFAULT


def test_a_pdf_that_keeps_pymupdf_busy_is_cut_off_and_its_process_replaced(host, tmp_path):
    pdf = tmp_path / "slow.pdf"
    pdf.write_bytes(host.pdf("slow"))
    with pdfcheck.Opener(timeout=0.001) as impatient:  # no child answers that fast
        with pytest.raises(http.Retry, match="did not open it within 0.001 s"):
            impatient.page_count(pdf)
        assert impatient._all == []  # the child was killed, not kept
    with pdfcheck.Opener() as opener:
        assert opener.page_count(pdf) == 1 and opener.page_count(pdf) == 1
        assert len(opener._all) == 1  # one child, kept for the second file


def test_the_fetch_reject_names_the_check_and_a_cut_body_is_retried_by_the_next_run(tmp_path):
    with PdfHost() as srv:
        srv.scripts["html"] = ["html"] * 10
        srv.scripts["cut"] = ["cut"] * (http.RETRIES + 1)  # every attempt of the first run
        stats, settings = fetch_run(srv, ["ok", "html", "cut"], tmp_path, fetch_workers=2)
        run = tmp_path / "run"
        rejects = {r["key"]: r for r in map(json.loads,
                                            (run / "fetch.rejects.jsonl").read_text().splitlines())}
        assert "not a PDF" in rejects["html"]["detail"] and not rejects["html"]["transient"]
        assert "no %%EOF" in rejects["cut"]["detail"] and rejects["cut"]["transient"]
        assert stats.extra["retries"] == {"eof": http.RETRIES, "not-a-pdf": http.RETRIES}
        assert json.loads((run / "fetch.jsonl").read_text())["paper_id"] == "ok"
        again = fetch(settings, run)  # the server is well now: only the cut one is asked again
        assert (again.skipped, again.outputs) == (2, 1) and len(srv.hits("cut")) == 6
        assert len(srv.hits("html")) == http.RETRIES + 1 and len(srv.hits("ok")) == 1
