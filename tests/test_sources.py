"""fetch: venue listings against a local server speaking each protocol, downloads, local folders."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import socket
from pathlib import Path

import pymupdf
import pytest
from pydantic import ValidationError

from autoscholar import sources
from autoscholar.config import VENUES, Settings
from autoscholar.errors import InputError, ServiceError
from autoscholar.records import Paper
from autoscholar import http
from autoscholar.sources import acl, common, cvf, local, neurips, pmlr
from autoscholar.sources.pmlr import list_papers as pmlr_list
from fakes.venue_server import HOSTILE_ID, VenueServer

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the backoff waits instead of sleeping through them."""
    waits: list[float] = []
    monkeypatch.setattr(http, "_sleep", waits.append)
    return waits


@pytest.fixture
def server(shared_data, sleeps):
    with VenueServer(shared_data) as srv:
        yield srv


@pytest.fixture
def bare_server(sleeps):
    """The server without shared data: PDFs and hand-written pages only."""
    with VenueServer(None) as srv:
        yield srv


def settings_for(venue: str, year: int | None, base: str, tmp_path: Path) -> Settings:
    return Settings(venue=venue, year=year, venue_base_url=base, run_dir=tmp_path / "run")


# ------------------------------------------------------------------ ids


@pytest.mark.parametrize("raw", ["../../etc/passwd", "..", ".hidden", "-rf", "a/b\\c", "x\x00y\ny",
                                 "über paper", "/abs/path", "a" * 500, "", "CON:1?2*3"])
def test_sanitize_id_is_file_name_safe(raw):
    out = common.sanitize_id(raw)
    assert SAFE.match(out), out
    assert ".." not in out and "/" not in out and len(out) <= common.MAX_ID_LEN
    assert common.sanitize_id(raw) == out  # stable


def test_sanitize_id_keeps_clean_ids_and_separates_collisions():
    assert common.sanitize_id("2020.acl-main.1") == "2020.acl-main.1"
    assert common.sanitize_id("KS8mIvetg2") == "KS8mIvetg2"
    assert common.sanitize_id("a/b") != common.sanitize_id("a?b")  # both become "a_b" + hash
    hostile = common.sanitize_id(HOSTILE_ID)
    assert hostile.startswith("etc_passwd-") and len(hostile) == len("etc_passwd-") + 8
    long = common.sanitize_id("x" * 300)
    assert long != common.sanitize_id("x" * 301)


# ------------------------------------------------------------------ HTTP helper and downloads


def paper_at(url: str, paper_id: str = "p1") -> Paper:
    return Paper(paper_id=paper_id, venue="iclr", year=2024, pdf_url=url)


def test_ensure_pdf_retries_a_500_then_succeeds(bare_server, sleeps, tmp_path):
    bare_server.fail_once.add("/pdf/flaky.pdf")
    path = common.ensure_pdf(paper_at(f"{bare_server.url}/pdf/flaky.pdf"), tmp_path)
    assert path == tmp_path / "p1.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    assert bare_server.hits["/pdf/flaky.pdf"] == 2
    assert sleeps == [http.BACKOFF_BASE]
    with pymupdf.open(path) as doc:
        assert "Paper flaky" in doc[0].get_text()


def test_ensure_pdf_is_resumable(bare_server, tmp_path):
    paper = paper_at(f"{bare_server.url}/pdf/once.pdf")
    first = common.ensure_pdf(paper, tmp_path)
    again = common.ensure_pdf(paper, tmp_path)
    assert first == again and bare_server.hits["/pdf/once.pdf"] == 1
    first.write_bytes(b"<html>half a download from an older tool</html>")
    (tmp_path / ".p1.pdf.abc123.part").write_bytes(b"%PDF-1.7 cut short by a SIGKILL")
    common.ensure_pdf(paper, tmp_path)  # a bad leftover is replaced
    assert bare_server.hits["/pdf/once.pdf"] == 2 and first.read_bytes().startswith(b"%PDF-")
    # no temp files left; the ledger of verified files (pdfcheck.Ledger) beside the PDF
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p1.pdf", "verified.jsonl"]


@pytest.mark.parametrize("name, words, retried", [("missing", "HTTP 404", False),
                                                  ("html", "not a PDF", True),
                                                  ("truncated", "empty body", True)])
def test_ensure_pdf_permanent_errors_leave_nothing(bare_server, sleeps, tmp_path, name, words,
                                                   retried):
    with pytest.raises(ServiceError) as info:
        common.ensure_pdf(paper_at(f"{bare_server.url}/pdf/{name}.pdf"), tmp_path)
    assert not info.value.transient and words in str(info.value)
    assert str(info.value).startswith("p1: ") and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no temp file, nothing in the ledger
    # A 404 is final; a body that fails a check may be a proxy's hiccup: tried again first.
    assert len(sleeps) == (http.RETRIES if retried else 0)


def test_persistent_5xx_is_transient_with_capped_backoff(bare_server, sleeps, monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_CAP", 3.0)
    bare_server.fail_always.add("/pdf/down.pdf")
    with pytest.raises(ServiceError) as info:
        http.get_bytes(f"{bare_server.url}/pdf/down.pdf")
    assert info.value.transient and "HTTP 500" in str(info.value)
    assert f"gave up after {http.RETRIES + 1} attempts" in str(info.value)
    assert bare_server.hits["/pdf/down.pdf"] == http.RETRIES + 1
    assert sleeps == [1.0, 2.0, 3.0, 3.0]  # doubling, capped


def test_backoff_is_capped():
    # A server's Retry-After is no longer cut to this cap (test_downloads.py).
    assert http._delay(0) == http.BACKOFF_BASE
    assert http._delay(20) == http.BACKOFF_CAP


def test_connection_refused_is_transient(sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(ServiceError) as info:
        http.get_bytes(f"http://127.0.0.1:{port}/x", retries=1)
    assert info.value.transient and len(sleeps) == 1


def test_non_http_urls_are_refused(tmp_path):
    with pytest.raises(ServiceError) as info:
        common.ensure_pdf(paper_at("file:///etc/passwd"), tmp_path)
    assert not info.value.transient


# ------------------------------------------------------------------ PMLR (ICML)


@pytest.mark.parametrize("year, volume, count, published", [
    (2023, 202, 1828, dt.date(2023, 7, 3)), (2024, 235, 2610, dt.date(2024, 7, 8))])
def test_pmlr_real_volume_pages(server, shared_data, tmp_path, year, volume, count, published):
    papers = sources.list_papers(settings_for("icml", year, server.url, tmp_path))
    assert len(papers) == count  # every <div class="paper"> of the captured page
    assert server.hits[f"/v{volume}/"] == 1
    # the page's "Published as Volume N ... on <date>" sentence, for every paper
    assert {(p.published, p.date_source) for p in papers} == {(published, "proceedings page")}
    assert all(p.title and p.authors and p.pdf_url.endswith(".pdf") and "supp" not in p.pdf_url
               for p in papers)
    if year == 2023:
        first = papers[0]
        assert first.title == "Data Structures for Density Estimation"
        assert first.paper_id == "icml2023-aamand23a"
        assert first.authors == ["Anders Aamand", "Alexandr Andoni", "Justin Y. Chen",
                                 "Piotr Indyk", "Shyam Narayanan", "Sandeep Silwal"]
        # The real page links absolute PDF URLs on proceedings.mlr.press; listed through a
        # mirror (venue_base_url) they move under the mirror, so fetch never leaves it.
        assert first.pdf_url == f"{server.url}/v202/aamand23a/aamand23a.pdf"
        assert all(p.pdf_url.startswith(server.url + "/") for p in papers)
        page = (shared_data / "venues/pmlr/pmlr_v202_index.html").read_bytes()
        real = pmlr.parse_volume(page, f"{pmlr.ROOT}/v202/", 2023)[0]
        assert real.pdf_url == "https://proceedings.mlr.press/v202/aamand23a/aamand23a.pdf"


@pytest.mark.parametrize("url, base, out", [
    ("https://proceedings.mlr.press/v202/a/a.pdf", "http://127.0.0.1:5/m/",
     "http://127.0.0.1:5/m/v202/a/a.pdf"),
    ("https://proceedings.mlr.press/v202/a/a.pdf", None,
     "https://proceedings.mlr.press/v202/a/a.pdf"),
    # another host, or a host whose name only starts like the real one, stays as it is
    ("https://arxiv.org/pdf/1.pdf", "http://m", "https://arxiv.org/pdf/1.pdf"),
    ("https://proceedings.mlr.press.evil.example/x.pdf", "http://m",
     "https://proceedings.mlr.press.evil.example/x.pdf"),
    (None, "http://m", None),
])
def test_mirrored_moves_only_the_real_host_under_the_base(url, base, out):
    assert common.mirrored(url, "https://proceedings.mlr.press", base) == out


def test_pmlr_page_without_a_date_falls_back_to_the_table():
    page = (b'<html><body><div class="paper"><p class="title">T</p><p class="details"><span '
            b'class="authors">A B</span></p><p class="links">[<a href="/v202/x23a.html">abs</a>]'
            b'[<a href="/v202/x23a/x23a.pdf">Download PDF</a>]</p></div></body></html>')
    (paper,) = pmlr.parse_volume(page, "https://proceedings.mlr.press/v202/", 2023)
    assert (paper.published, paper.date_source) == (dt.date(2023, 7, 23),
                                                    "conference dates table")


def test_pmlr_unknown_year_is_a_clear_error(tmp_path):
    # Settings refuses a year before the source begins (so flags and env are checked alike);
    # the PMLR module still names a year its volume table lacks.
    with pytest.raises(ValidationError, match="--year 1999 is outside what --venue icml covers"):
        settings_for("icml", 1999, "http://127.0.0.1:9", tmp_path)
    with pytest.raises(InputError, match="no PMLR volume known for ICML 2012"):
        pmlr_list(settings_for("icml", 2013, "http://127.0.0.1:9", tmp_path).model_copy(
            update={"year": 2012}))


# ------------------------------------------------------------------ NeurIPS


def test_neurips_real_2019_listing(server, tmp_path):
    papers = sources.list_papers(settings_for("neurips", 2019, server.url, tmp_path))
    assert len(papers) == 1427
    vilbert = next(p for p in papers if p.title.startswith("ViLBERT"))
    assert vilbert.authors == ["Jiasen Lu", "Dhruv Batra", "Devi Parikh", "Stefan Lee"]
    assert vilbert.pdf_url == (f"{server.url}/paper/8297-vilbert-pretraining-task-agnostic-"
                               "visiolinguistic-representations-for-vision-and-language-tasks.pdf")
    assert vilbert.paper_id == "neurips2019-8297" and vilbert.published == dt.date(2019, 12, 8)
    assert vilbert.date_source == "conference dates table"
    assert common.ensure_pdf(vilbert, tmp_path).stat().st_size > 0


def test_neurips_real_2023_listing_with_tracks(server, tmp_path):
    papers = sources.list_papers(settings_for("neurips", 2023, server.url, tmp_path))
    assert len(papers) == 3540  # 3,218 main conference + 322 Datasets and Benchmarks
    first = papers[0]
    assert first.title == ("Modelling Cellular Perturbations with the Sparse Additive "
                           "Mechanism Shift Variational Autoencoder")
    assert first.authors == ["Michael Bereket", "Theofanis Karaletsos"]
    assert first.pdf_url == (f"{server.url}/paper_files/paper/2023/file/"
                             "0001ca33ba34ce0351e4612b744b3936-Paper-Conference.pdf")
    assert sum(p.pdf_url.endswith("-Paper-Datasets_and_Benchmarks.pdf") for p in papers) == 322
    assert {(p.published, p.date_source) for p in papers} == {
        (dt.date(2023, 12, 10), "conference dates table")}
    assert all(p.title and p.authors for p in papers)


# ------------------------------------------------------------------ ACL Anthology


def test_acl_real_xml_main_volume_only(server, tmp_path):
    papers = sources.list_papers(settings_for("acl", 2020, server.url, tmp_path))
    # 871 papers in 2020.acl.xml: main 778, demos 43, srw 42, tutorials 8.
    assert len(papers) == 778
    coach = next(p for p in papers if p.title.startswith("Coach"))
    assert coach.title == "Coach: A Coarse-to-Fine Approach for Cross-domain Slot Filling"
    first = papers[0]
    assert first.paper_id == "acl2020-2020.acl-main.1"
    assert first.authors == ["Lieke Gelderloos", "Grzegorz Chrupała", "Afra Alishahi"]
    assert first.pdf_url == f"{server.url}/2020.acl-main.1.pdf"
    assert first.published == dt.date(2020, 6, 21)  # the volume's ingest-date
    assert {p.date_source for p in papers} == {"listing field"}


def test_acl_real_2024_collection_long_and_short(server, tmp_path):
    papers = sources.list_papers(settings_for("acl", 2024, server.url, tmp_path))
    # 933 papers in this early ingest of 2024.acl.xml: long 771 + short 68; demos 38, srw 50
    # and tutorials 6 are not the main conference.
    assert len(papers) == 771 + 68
    assert {p.paper_id.removeprefix("acl2024-").rsplit(".", 1)[0] for p in papers} == {
        "2024.acl-long", "2024.acl-short"}
    assert {(p.published, p.date_source) for p in papers} == {
        (dt.date(2024, 8, 12), "listing field")}  # both volumes' ingest-date


def test_acl_old_style_collection(server, tmp_path):
    papers = sources.list_papers(settings_for("acl", 2019, server.url, tmp_path))
    assert len(papers) == 660  # P19 volume 1; volumes 2-4 are SRW, demos, tutorials
    assert papers[0].paper_id == "acl2019-P19-1001"
    assert papers[0].pdf_url == f"{server.url}/P19-1001.pdf"


def test_acl_volume_choice_for_newer_booktitles():
    volumes = {"long": "(Volume 1: Long Papers)", "short": "(Volume 2: Short Papers)",
               "demo": "(Volume 3: System Demonstrations)",
               "srw": "(Volume 4: Student Research Workshop)",
               "industry": "(Volume 5: Industry Track)",
               "tutorials": "(Volume 6: Tutorial Abstracts)"}
    xml = "<collection id='2023.acl'>" + "".join(
        f"<volume id='{vid}' ingest-date='2023-07-08'><meta><booktitle>Proceedings of the 61st "
        f"Annual Meeting of the Association for Computational Linguistics {suffix}</booktitle>"
        f"</meta><paper id='1'><title>Paper in {vid}</title><url>2023.acl-{vid}.1</url></paper>"
        "</volume>" for vid, suffix in volumes.items()) + "</collection>"
    papers = acl.parse_collection(xml.encode(), 2023)
    assert [p.title for p in papers] == ["Paper in long", "Paper in short"]
    assert papers[0].published == dt.date(2023, 7, 8)


def test_acl_all_volumes_and_entities(shared_data):
    xml = (shared_data / "venues/acl/2020.acl.xml").read_bytes()
    assert len(acl.parse_collection(xml, 2020, main_only=False)) == 871
    assert len(acl.parse_collection((shared_data / "venues/acl/2020.emnlp.xml").read_bytes(),
                                    2020)) == 751
    hostile = b"""<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<collection id="2020.acl"><volume id="main"><meta><booktitle>Proceedings of X</booktitle>
<month>July</month><year>2020</year></meta><paper id="1"><title>T &e;</title>
<url>2020.acl-main.1</url></paper></volume></collection>"""
    (paper,) = acl.parse_collection(hostile, 2020)
    assert "root:" not in paper.title and paper.published == dt.date(2020, 7, 1)
    assert paper.date_source == "listing field"  # the volume's <month>: its first day
    undated = hostile.replace(b"<month>July</month>", b"")
    with pytest.raises(ServiceError, match="volume 'main' of 2020 has neither an ingest-date "
                                           "nor a <month>"):
        acl.parse_collection(undated, 2020)  # not a silent 31 December
    with pytest.raises(ServiceError, match="not well-formed"):
        acl.parse_collection(b"<collection><volume>", 2020)


# ------------------------------------------------------------------ CVF (CVPR)


def test_cvf_real_2019_listing(server, tmp_path):
    papers = sources.list_papers(settings_for("cvpr", 2019, server.url, tmp_path))
    assert len(papers) == 1294
    first = papers[0]
    assert first.title == ("Finding Task-Relevant Features for Few-Shot Learning by Category "
                           "Traversal")
    assert first.authors == ["Hongyang Li", "David Eigen", "Samuel Dodge", "Matthew Zeiler",
                             "Xiaogang Wang"]
    assert first.pdf_url.endswith("/content_CVPR_2019/papers/Li_Finding_Task-Relevant_Features_"
                                  "for_Few-Shot_Learning_by_Category_Traversal_CVPR_2019_paper.pdf")
    assert all(p.pdf_url and p.authors for p in papers)
    assert all(SAFE.match(p.paper_id) and len(p.paper_id) <= 100 for p in papers)
    assert {(p.published, p.date_source) for p in papers} == {
        (dt.date(2019, 6, 16), "conference dates table")}


def test_cvf_day_pages_when_day_all_is_empty(bare_server, tmp_path):
    papers = sources.list_papers(settings_for("cvpr", 2020, bare_server.url, tmp_path))
    assert [p.title for p in papers] == ["Momentum Contrast", "Another Paper"]
    assert papers[0].authors == ["Kaiming He", "Ross Girshick"]
    assert papers[0].pdf_url == (f"{bare_server.url}/content_CVPR_2020/papers/"
                                 "He_Momentum_Contrast_CVPR_2020_paper.pdf")
    assert papers[0].paper_id == "cvpr2020-He_Momentum_Contrast"
    assert common.ensure_pdf(papers[0], tmp_path).read_bytes()[:5] == b"%PDF-"


# ------------------------------------------------------------------ dates tables

TABLED = {"neurips": neurips.CONFERENCE_DATES, "cvpr": cvf.CONFERENCE_DATES,
          "icml": pmlr.CONFERENCE_DATES}


@pytest.mark.parametrize("venue", sorted(TABLED))
def test_dates_tables_cover_every_year_the_source_accepts_up_to_the_last_row(venue):
    table, first = TABLED[venue], sources.SOURCES[venue].first_year
    assert sorted(table) == list(range(first, max(table) + 1))
    if venue == "icml":
        assert sorted(table) == sorted(pmlr.VOLUMES)  # a volume for every dated year


@pytest.mark.parametrize("venue, meeting, module", [("neurips", "NeurIPS", "neurips"),
                                                    ("cvpr", "CVPR", "cvf")])
def test_a_year_missing_from_the_table_is_refused_before_any_request(bare_server, tmp_path,
                                                                     venue, meeting, module):
    year = max(TABLED[venue]) + 1  # inside the source's range (it runs to this year)
    settings = settings_for(venue, year, bare_server.url, tmp_path)  # Settings accept it
    for call in (sources.preflight, sources.list_papers):
        with pytest.raises(InputError) as info:
            call(settings)
        assert str(info.value) == (
            f"no conference dates known for {meeting} {year} (the table covers "
            f"{min(TABLED[venue])}-{year - 1}): add the first day of the meeting to "
            f"CONFERENCE_DATES in autoscholar/sources/{module}.py")
    assert not bare_server.hits  # refused before any network call


def test_a_missing_dates_row_is_one_line_at_preflight_through_the_cli(bare_server, tmp_path):
    from test_cli import ROOT, run

    year = max(cvf.CONFERENCE_DATES) + 1
    out = tmp_path / "run"
    proc = run("build", "--venue", "cvpr", "--year", year, "--out", out, "--arxiv-index",
               ROOT / "data" / "demo_arxiv.jsonl",
               env={"AUTOSCHOLAR_VENUE_BASE_URL": bare_server.url}, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"error: preflight venue: no conference dates known for CVPR {year} (the table "
        f"covers 2013-{year - 1}): add the first day of the meeting to CONFERENCE_DATES in "
        "autoscholar/sources/cvf.py"], proc.stderr
    assert not out.exists() and not bare_server.hits


# ------------------------------------------------------------------ local folders


def write_pdf(path: Path, big: str, meta_title: str = "", created: str = "",
              stamp: str = "") -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    if stamp:  # as arXiv prints it: large, rotated, in the left margin
        page.insert_text((30, 600), stamp, fontsize=24, rotate=90)
    page.insert_text((72, 90), big, fontsize=20)
    page.insert_text((72, 120), "Second line of the title", fontsize=20)
    page.insert_text((72, 160), "Abstract. Body text in a smaller font.", fontsize=10)
    doc.set_metadata({"title": meta_title, "creationDate": created})
    doc.save(path)
    doc.close()


def test_local_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_pdf(folder / "b-meta.pdf", "Ignored Heading", meta_title="Title From Metadata",
              created="D:20210305120000+01'00'")
    write_pdf(folder / "a font.pdf", "Largest Font Title", meta_title="Microsoft Word - draft.docx")
    write_pdf(folder / "d-arxiv.pdf", "A Paper From arXiv", created="D:20200505000000Z",
              stamp="arXiv:2004.01234v2  [cs.CL]  3 May 2020")
    (folder / "c-broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    (folder / "notes.txt").write_text("not a pdf")
    papers = sources.list_papers(Settings(venue="local", pdf_dir=folder, year=2024))
    assert [p.paper_id for p in papers] == [common.sanitize_id("a font"), "b-meta", "c-broken",
                                            "d-arxiv"]
    a, b, c, d = papers
    assert a.title == "Largest Font Title Second line of the title" and a.published is None
    assert b.title == "Title From Metadata" and b.published == dt.date(2021, 3, 5)
    assert b.date_source == "PDF metadata"
    assert c.title == "c-broken" and c.published is None and c.date_source is None
    # The rotated arXiv stamp is set larger than the title but is not it; its date is the
    # submission date of that version, which wins over when the file was written.
    assert d.title == "A Paper From arXiv Second line of the title"
    assert d.published == dt.date(2020, 5, 3) and d.date_source == "PDF stamp"
    assert all(p.venue == "local" and p.year == 2024 and Path(p.pdf_path).is_absolute()
               for p in papers)
    # a local paper already has its file: ensure_pdf hands it back untouched
    assert common.ensure_pdf(b, tmp_path / "pdfs") == folder / "b-meta.pdf"


def test_local_title_in_small_capitals_is_whole(tmp_path):
    # "LONGEVAL: ..." set as L (20pt) + ONG (14pt) + E (20pt) + VAL: ... (14pt) on one line.
    doc = pymupdf.open()
    page = doc.new_page()
    writer, font, end = pymupdf.TextWriter(page.rect), pymupdf.Font("helv"), (72, 90)
    for text, size in [("L", 20), ("ONG", 14), ("E", 20), ("VAL: Guidelines for Evaluation", 14)]:
        _, end = writer.append(end, text, font=font, fontsize=size)
    writer.write_text(page)
    page.insert_text((72, 160), "Abstract. Body text in a smaller font.", fontsize=10)
    doc.save(tmp_path / "longeval.pdf")
    assert local.describe(tmp_path / "longeval.pdf")[0] == \
        "LONGEVAL: Guidelines for Evaluation"


@pytest.mark.parametrize("make, message", [(None, "no such folder"), ("empty", "no *.pdf")])
def test_local_folder_errors(tmp_path, make, message):
    folder = tmp_path / "in"
    if make:
        folder.mkdir()
        (folder / "readme.txt").write_text("x")
    with pytest.raises(InputError, match=re.escape(message)):
        sources.list_papers(Settings(venue="local", pdf_dir=folder))
    with pytest.raises(InputError, match="--pdf-dir"):
        sources.list_papers(Settings(venue="local"))


# ------------------------------------------------------------------ dispatch


def test_every_registered_source_lists_papers():
    assert VENUES == tuple(sources.SOURCES)
    for name, source in sources.SOURCES.items():
        module = importlib.import_module(source.module)
        assert callable(module.list_papers), name
    assert [v for v, s in sources.SOURCES.items() if not s.needs_year] == ["demo", "local"]


def test_an_unknown_venue_is_named(tmp_path):
    with pytest.raises(ValidationError, match="unknown venue 'arxiv': one of demo, local"):
        Settings(venue="arxiv", year=2024, run_dir=tmp_path)
    with pytest.raises(InputError, match="unknown venue 'arxiv'"):  # past Settings, still named
        sources.list_papers(Settings(run_dir=tmp_path).model_copy(update={"venue": "arxiv"}))


def test_ensure_pdf_reads_a_relative_file_from_the_run_directory(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.pdf").write_bytes(b"%PDF-1.7")
    paper = Paper(paper_id="x", venue="local", pdf_path="in/x.pdf")
    assert common.ensure_pdf(paper, tmp_path / "pdfs", base=tmp_path) == tmp_path / "in" / "x.pdf"
    with pytest.raises(InputError, match="PDF not found"):
        common.ensure_pdf(paper.model_copy(update={"pdf_path": "in/y.pdf"}), tmp_path, base=tmp_path)
    with pytest.raises(ServiceError, match="x: no PDF URL or file") as info:
        common.ensure_pdf(Paper(paper_id="x", venue="iclr"), tmp_path)
    assert not info.value.transient


@pytest.mark.parametrize("raw, trim, out", [("  A\xa0 B\n C ", "", "A B C"), ("Kaiming He,", ",", "Kaiming He"),
                                            (" , He ,", ",", "He"), ("He,", "", "He,")])
def test_clean_text(raw, trim, out):
    assert common.clean_text(raw, trim) == out


def test_venue_sources_need_a_year(tmp_path):
    with pytest.raises(InputError, match="--year is required"):
        sources.list_papers(Settings(venue="acl", run_dir=tmp_path))


def test_an_empty_listing_is_an_error(bare_server, tmp_path):
    with pytest.raises(ServiceError, match="no accepted papers found for iclr 2025"):
        sources.list_papers(settings_for("iclr", 2025, bare_server.url, tmp_path))


def test_demo_dispatch(tmp_path):
    papers = sources.list_papers(Settings(venue="demo", run_dir=tmp_path / "run"))
    assert papers and all(p.venue == "demo" and p.date_source == "generated" for p in papers)
    assert list((tmp_path / "run" / "pdfs").glob("*.pdf"))


def _tiny_pdf(path: Path, title: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), title, fontsize=18)
    doc.save(path)
    doc.close()


def _listed(run_dir: Path) -> list[str]:
    return [json.loads(line)["paper_id"]
            for line in (run_dir / "listing.jsonl").read_text("utf-8").splitlines()]


def test_local_recursive_lists_sub_folders_through_the_cli(tmp_path):
    from test_cli import ROOT, run

    pdfs = tmp_path / "pdfs"
    for rel in ("top.pdf", "a/one.pdf", "a/b/two.pdf", "c/top.pdf", "a b/top.pdf", "x.pdf/in.pdf"):
        _tiny_pdf(pdfs / rel, rel)
    (pdfs / "a" / "notes.txt").write_text("not a paper")
    base = ["build", "--venue", "local", "--pdf-dir", pdfs, "--max-error-rate", "1",
            "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl"]
    run(*base, "--recursive", "--out", tmp_path / "deep", check=False)
    deep = _listed(tmp_path / "deep")
    # ids from the relative path, sanitised; "c/top" does not collide with "top"; path order
    assert deep == [common.sanitize_id(rel) for rel in
                    ("a/b/two", "a/one", "a b/top", "c/top", "top", "x.pdf/in")]
    run(*base, "--out", tmp_path / "flat", check=False)
    assert _listed(tmp_path / "flat") == ["top"]  # without --recursive: the top level only
    def fetch_values(run_dir):
        return json.loads((run_dir / "fetch.settings.json").read_text("utf-8"))["values"]

    # off adds nothing, so the fingerprints of runs made before the flag still fit
    assert sorted(fetch_values(tmp_path / "flat")) == ["behaviour_version", "pdf_dir", "venue",
                                                       "year"]
    assert fetch_values(tmp_path / "deep")["pdf_recursive"] is True
    proc = run(*base, "--recursive", "--out", tmp_path / "flat", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "rerun with --redo fetch" in proc.stderr.strip().splitlines()[-1], proc.stderr
    assert _listed(tmp_path / "flat") == ["top"]  # refused, nothing changed
    proc = run("build", "--venue", "demo", "--recursive", "--out", tmp_path / "demo", check=False)
    assert proc.returncode == 1 and proc.stderr.strip() == (
        "error: --recursive is not used here: only --venue local reads a folder")
