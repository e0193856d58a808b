"""ICLR through openreview-py against the fake OpenReview API (tests/fakes/openreview_api.py):
v2 for 2024 on and v1 before, accepted papers by venueid or decision, the login flow, and the
403 ChallengeRequiredError turned into one line at preflight, before anything else runs."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from pydantic import ValidationError

from autoscholar import sources
from autoscholar.config import Settings
from autoscholar.errors import InputError
from autoscholar.sources import common, openreview
from fakes.venue_server import HOSTILE_ID, VenueServer
from test_cli import ROOT, run

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
NO_CREDENTIALS = {"OPENREVIEW_USERNAME": "", "OPENREVIEW_PASSWORD": "", "OPENREVIEW_TOKEN": ""}
INDEX = ROOT / "data" / "demo_arxiv.jsonl"


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch):
    """Tests set the credentials they mean; the machine's own never leak in. No token kept."""
    for name in NO_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(openreview, "_TOKENS", {})


@pytest.fixture
def server(shared_data):
    with VenueServer(shared_data) as srv:
        yield srv


def settings_for(year: int, base: str, tmp_path) -> Settings:
    return Settings(venue="iclr", year=year, venue_base_url=base, run_dir=tmp_path / "run")


def notes_queries(server) -> list[dict]:
    return [e["query"] for e in server.openreview.log if e["path"] == "/notes"]


def test_v2_lists_accepted_papers_by_venueid_paging_after_the_last_id(server, shared_data,
                                                                     tmp_path):
    server.fail_once.add("/notes?content.venueid=ICLR.cc%2F2024%2FConference&limit=1000&after=")
    papers = sources.list_papers(settings_for(2024, server.url, tmp_path))
    listing = json.loads((shared_data / "venues/openreview_iclr_SUBSTITUTE/"
                          "glimpse-data__ICLR2024.json").read_text(encoding="utf-8"))
    assert len(papers) == len(listing) + 1 == 2261  # + the hostile id; the rejected one is not
    queries = notes_queries(server)
    # As openreview-py's get_all_notes asks: the venueid filter, sorted by id, 1000 a page, the
    # count on the first request, then after=<last id> until an empty page (the 500 on the
    # second page was retried by the client on the same URL, and is not logged by the API).
    assert all(q["content.venueid"] == "ICLR.cc/2024/Conference" and q["sort"] == "id"
               and q["limit"] == "1000" and "invitation" not in q for q in queries)
    assert [q["count"] for q in queries] == ["true", "false", "false", "false"]
    ids = sorted(n["id"] for n in server.openreview._iclr if "Rejected" not in
                 n["content"]["venueid"]["value"])
    assert [q.get("after") for q in queries] == [None, ids[999], ids[1999], ids[-1]]
    titles = {p.title for p in papers}
    assert "Proving Test Set Contamination in Black-Box Language Models" in titles
    assert "A Rejected Paper" not in titles
    first = next(p for p in papers if p.paper_id == "iclr2024-KS8mIvetg2")
    assert first.source == "openreview" and first.pdf_url == f"{server.url}/pdf/KS8mIvetg2.pdf"
    assert first.published == dt.date(2024, 1, 16)  # pdate
    assert {p.date_source for p in papers} == {"listing field"}
    hostile = next(p for p in papers if p.title == "A Hostile Identifier")
    assert SAFE.match(hostile.paper_id) and ".." not in hostile.paper_id and HOSTILE_ID
    assert all(SAFE.match(p.paper_id) for p in papers)
    path = common.ensure_pdf(hostile, tmp_path / "pdfs")
    assert path.parent == tmp_path / "pdfs" and path.read_bytes().startswith(b"%PDF-")


def test_v1_for_2023_and_before_with_decisions_from_the_replies(server, tmp_path):
    assert [openreview.api_version(y) for y in (2018, 2023, 2024, 2026)] == [1, 1, 2, 2]
    papers = sources.list_papers(settings_for(2019, server.url, tmp_path))
    # Accept (Oral) by Decision, Accept (Poster) by Meta_Review, 2018's Acceptance_Decision,
    # and a venueid; not the workshop invitation, the reject, nor a note with no decision.
    assert [p.title for p in papers] == ["Accepted as an Oral", "Accepted as a Poster",
                                         "Accepted in 2018 Style", "Accepted by Venue Id"]
    assert papers[0].authors == ["Ada Lovelace", "Alan Turing"]
    assert papers[0].published == dt.date(2018, 9, 28)  # no pdate/odate in v1: cdate
    assert papers[0].date_source == "listing field"
    queries = notes_queries(server)
    assert queries and all(q["invitation"] == "ICLR.cc/2019/Conference/-/Blind_Submission"
                           and q["details"] == "directReplies" and "content.venueid" not in q
                           for q in queries)


def test_login_flow_then_every_call_carries_the_token(server, tmp_path, monkeypatch):
    server.openreview.challenge = True
    server.openreview.accounts["ada@example.org"] = "s3cret-pass"
    monkeypatch.setenv("OPENREVIEW_USERNAME", "ada@example.org")
    monkeypatch.setenv("OPENREVIEW_PASSWORD", "s3cret-pass")
    settings = settings_for(2019, server.url, tmp_path)
    sources.preflight(settings)
    papers = sources.list_papers(settings)
    assert len(papers) == 4
    log = server.openreview.log
    # One login (openreview-py's body: id, password, expiresIn), reused by the listing.
    assert [(e["method"], e["path"]) for e in log][:2] == [("POST", "/login"), ("GET", "/notes")]
    assert [e for e in log if e["path"] == "/login"] == [
        {"method": "POST", "path": "/login", "id": "ada@example.org",
         "fields": ["expiresIn", "id", "password"]}]
    assert all(e["authorized"] for e in log if e["path"] == "/notes")


def test_a_token_from_the_environment_needs_no_login(server, tmp_path, monkeypatch):
    server.openreview.challenge = True
    server.openreview.tokens.add("tok-abc123")
    monkeypatch.setenv("OPENREVIEW_TOKEN", "tok-abc123")
    assert len(sources.list_papers(settings_for(2019, server.url, tmp_path))) == 4
    assert [e["path"] for e in server.openreview.log if e["method"] == "POST"] == []
    assert all(e["authorized"] for e in server.openreview.log)


def test_wrong_password_is_one_line_without_the_password(server, tmp_path, monkeypatch):
    server.openreview.accounts["ada@example.org"] = "right"
    monkeypatch.setenv("OPENREVIEW_USERNAME", "ada@example.org")
    monkeypatch.setenv("OPENREVIEW_PASSWORD", "WRONG-pass-42")
    with pytest.raises(InputError) as info:
        sources.preflight(settings_for(2024, server.url, tmp_path))
    line = str(info.value)
    assert line.startswith("OpenReview login refused (HTTP 400 Error): Invalid username or "
                           "password") and line.endswith("check OPENREVIEW_USERNAME and "
                                                         "OPENREVIEW_PASSWORD")
    assert "WRONG" not in line and "\n" not in line
    assert not notes_queries(server)  # no listing request after a failed login


def test_a_password_without_a_username_is_refused_before_any_request(server, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("OPENREVIEW_PASSWORD", "x")
    with pytest.raises(InputError, match="needs both OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD"):
        sources.preflight(settings_for(2024, server.url, tmp_path))
    assert server.openreview.log == []


def test_403_without_credentials_is_one_line_at_preflight(server, tmp_path):
    server.openreview.challenge = True
    out = tmp_path / "run"
    proc = run("build", "--venue", "iclr", "--year", "2024", "--out", out, "--arxiv-index",
               INDEX, env={**NO_CREDENTIALS, "AUTOSCHOLAR_VENUE_BASE_URL": server.url},
               check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: preflight venue: preflight of ICLR 2024 (API v2): OpenReview refused an "
        "anonymous request (HTTP 403 ChallengeRequiredError): set OPENREVIEW_USERNAME and "
        "OPENREVIEW_PASSWORD (an OpenReview account), or OPENREVIEW_TOKEN"]
    assert not out.exists()  # before fetch: no run folder, no listing
    assert [q["limit"] for q in notes_queries(server)] == ["1"]  # one small request, refused


def test_credentials_are_never_written_to_the_run(server, tmp_path):
    server.openreview.challenge = True
    server.openreview.accounts["ada@example.org"] = "pw-NEVER-STORED"
    out = tmp_path / "run"
    proc = run("build", "--venue", "iclr", "--year", "2019", "--out", out, "--arxiv-index",
               INDEX, "--max-error-rate", "1",
               env={**NO_CREDENTIALS, "AUTOSCHOLAR_VENUE_BASE_URL": server.url,
                    "OPENREVIEW_USERNAME": "ada@example.org",
                    "OPENREVIEW_PASSWORD": "pw-NEVER-STORED"}, check=False)
    assert (out / "listing.jsonl").exists(), proc.stderr
    assert len((out / "listing.jsonl").read_text("utf-8").splitlines()) == 4
    (token,) = server.openreview.tokens
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"pw-NEVER-STORED" not in written and token.encode() not in written
    assert "pw-NEVER-STORED" not in proc.stdout + proc.stderr and token not in proc.stderr
    assert len([e for e in server.openreview.log if e["path"] == "/login"]) == 1


def test_years_before_the_v1_listing_are_refused(tmp_path):
    with pytest.raises(ValidationError, match="--year 2017 is outside what --venue iclr covers"):
        settings_for(2017, "http://127.0.0.1:9", tmp_path)


def test_value_unwrapping():
    assert openreview._value({"value": "x"}) == "x" and openreview._value("x") == "x"
