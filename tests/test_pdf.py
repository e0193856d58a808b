"""PyMuPDF backend end to end (parse_pdf): generated PDFs, bad input, real papers."""

from __future__ import annotations

import pymupdf
import pytest

from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import find_target_sections
from autoscholar.errors import ParseError
from autoscholar.parse.pymupdf.pdf import parse_pdf
from autoscholar.records import ParsedPaper
from pdf_fixture import (PAPER, bad_pdf, one_column_numeric, superscript_numeric, two_column_author_year,
                         write_lines)


def test_superscript_callouts_become_citations(tmp_path):
    parsed = parse_pdf(PAPER, superscript_numeric(tmp_path / "sup.pdf"))
    assert [e.key for e in parsed.bibliography] == [f"ref{i}" for i in range(1, 8)]
    cites = [(c.text, c.keys) for s in parsed.sections for p in s.paragraphs
             for se in p.sentences for c in se.cites]
    assert cites == [("[1,3]", ["ref1", "ref3"]), ("[2]", ["ref2"]), ("[4-6]", ["ref4", "ref5", "ref6"]),
                     ("[7]", ["ref7"]), ("[2]", ["ref2"]), ("[5]", ["ref5"])]
    rw = find_target_sections(parsed, DEFAULT_SECTIONS)
    assert [se.text for p in rw[0].paragraphs for se in p.sentences] == [
        "Sparse models came first[2] and dense ones later[5]."]


def test_footnote_marks_and_footnotes_are_dropped(numeric):
    # a bracket-style paper: the superscript "2" is a footnote mark, not callout [2]
    assert _text(numeric, "Method") == "Our method reads the PDF twice and writes the result once."
    for s in numeric.sections:
        for p in s.paragraphs:
            for se in p.sentences:
                assert all(c.text.startswith("[") for c in se.cites)


@pytest.fixture(scope="module")
def numeric(tmp_path_factory) -> ParsedPaper:
    return parse_pdf(PAPER, one_column_numeric(tmp_path_factory.mktemp("n") / "numeric.pdf"))


@pytest.fixture(scope="module")
def author_year(tmp_path_factory) -> ParsedPaper:
    return parse_pdf(PAPER, two_column_author_year(tmp_path_factory.mktemp("a") / "ay.pdf"))


def _text(parsed: ParsedPaper, title: str) -> str:
    sec = next(s for s in parsed.sections if s.title == title)
    return " ".join(se.text for p in sec.paragraphs for se in p.sentences)


def test_numeric_sections_and_paths(numeric):
    paths = [s.path for s in numeric.sections]
    assert paths == [["Abstract"], ["Introduction"], ["Related Work"],
                     ["Related Work", "Dense Retrieval"], ["Related Work", "Sparse Retrieval"],
                     ["Method"]]
    assert [s.number for s in numeric.sections] == [None, "1", "2", "2.1", "2.2", "3"]
    rw = find_target_sections(numeric, DEFAULT_SECTIONS)
    assert [s.title for s in rw] == ["Related Work", "Dense Retrieval", "Sparse Retrieval"]


def test_numeric_text_is_clean(numeric):
    intro = _text(numeric, "Introduction")
    assert "we find that the layout of a document matters" in intro  # hyphenation repaired
    assert "Preprint" not in intro and "Under review" not in intro  # running header dropped
    for s in numeric.sections:  # margin line numbers dropped
        for p in s.paragraphs:
            assert not p.sentences[0].text[:2].strip().isdigit()


def test_numeric_citations_linked(numeric):
    dense = next(s for s in numeric.sections if s.title == "Dense Retrieval")
    sents = [se for p in dense.paragraphs for se in p.sentences]
    assert [se.text for se in sents] == [
        "Dense retrieval was studied by many authors [1, 2].",
        "Later work [3-5] improved it with hard negatives and larger batches.",
        "J. Smith et al. also looked at distillation [4].",
    ]
    assert [c.keys for c in sents[0].cites] == [["ref1", "ref2"]]
    assert [c.keys for c in sents[1].cites] == [["ref3", "ref4", "ref5"]]
    c = sents[1].cites[0]
    assert sents[1].text[c.start:c.end] == "[3-5]"


def test_numeric_bibliography(numeric):
    bib = {e.key: e for e in numeric.bibliography}
    assert list(bib) == ["ref1", "ref2", "ref3", "ref4", "ref5"]
    assert bib["ref1"].title == "Dense passage retrieval for testing"
    assert bib["ref1"].arxiv_id == "2004.12345" and bib["ref1"].year == 2020
    assert bib["ref2"].doi == "10.1000/jt.2019.42"
    assert bib["ref3"].authors == ["D. Lee", "E. Kim", "F. Park"]
    assert bib["ref4"].arxiv_id == "2101.00001"
    assert bib["ref5"].year == 2009


def test_two_column_reading_order_and_sections(author_year):
    assert [s.path for s in author_year.sections] == [
        ["Introduction"], ["Related Work"], ["Related Work", "Neural Parsers"], ["Method"]]
    rw = _text(author_year, "Related Work")
    # the sentence that runs from the left column into the right one is whole
    assert "This sentence continues into the right column without a break, as noted by" in rw


def test_author_year_citations_linked(author_year):
    keys = {e.key for e in author_year.bibliography}
    assert keys == {"doe2019a", "doe2019b", "lee2018", "smith2020", "vanderberg2021"}
    cites = {}
    for s in author_year.sections:
        for p in s.paragraphs:
            for se in p.sentences:
                for c in se.cites:
                    cites[c.text] = c.keys
    assert cites["(Smith et al., 2020; Doe, 2019a)"] == ["smith2020", "doe2019a"]
    assert cites["Lee and Kim (2018)"] == ["lee2018"]
    assert cites["(Doe, 2019b)"] == ["doe2019b"]
    assert cites["Smith et al. [2020]"] == ["smith2020"]
    assert cites["(van der Berg and Lee, 2021)"] == ["vanderberg2021"]
    bib = {e.key: e for e in author_year.bibliography}
    assert bib["smith2020"].title == "Learning to read papers"
    assert bib["smith2020"].arxiv_id == "2001.01234"


def test_paper_without_headings_keeps_its_text(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    write_lines(page, 72, 80, ["A memo without any section headings, cited as Smith [1] says.",
                          "It still has enough text to count as a document, and more,",
                          "and then some more words to pass the minimum of characters."])
    write_lines(page, 72, 150, ["References"], size=12, font="hebo")
    write_lines(page, 72, 170, ["[1] J. Smith. A paper. 2020.", "[2] K. Doe. Another one. 2021.",
                           "[3] L. Roe. A third one. 2022."], size=9)
    doc.save(tmp_path / "memo.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "memo.pdf")
    assert [(s.title, s.path) for s in parsed.sections] == [("", [])]
    sents = [se for p in parsed.sections[0].paragraphs for se in p.sentences]
    assert sents[0].cites[0].keys == ["ref1"]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kind", ["empty-file", "not-a-pdf", "truncated", "corrupt", "encrypted",
                                  "no-text", "too-many-pages"])
def test_bad_input_is_a_parse_error_with_reason(tmp_path, kind):
    with pytest.raises(ParseError) as err:
        parse_pdf(PAPER, bad_pdf(tmp_path, kind))
    assert err.value.reason == kind
    assert str(err.value).startswith(kind)


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.7, 0.98])
def test_truncated_anywhere_is_rejected(tmp_path, fraction):
    good = one_column_numeric(tmp_path / "good.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(good[: int(len(good) * fraction)])
    with pytest.raises(ParseError) as err:
        parse_pdf(PAPER, path)
    assert err.value.reason == "truncated"


def test_owner_password_only_is_readable(tmp_path):
    # permissions-only encryption (no user password) is common on publisher PDFs: still parse it
    doc = pymupdf.open(one_column_numeric(tmp_path / "good.pdf"))
    path = tmp_path / "owner.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner",
             permissions=pymupdf.PDF_PERM_PRINT)
    assert [s.title for s in parse_pdf(PAPER, path).sections][:2] == ["Abstract", "Introduction"]


# ------------------------------------------------------------------ real papers


@pytest.mark.parametrize("stem,style", [
    ("s2orc-doc2json__2020.acl-main.207", "author-year"),
    ("mmda__e5910c027af0ee9c1901c57f6579d903aedee7f4", "numeric"),
    ("OS-IA-Pipegrobid__paper_30", "numeric"),
    ("OS-IA-Pipegrobid__paper_2", "author-year"),
])
def test_real_papers_related_work_found_and_linked(shared_data, stem, style):
    parsed = parse_pdf(PAPER, shared_data / "pdf" / f"{stem}.pdf")
    rw = find_target_sections(parsed, DEFAULT_SECTIONS)
    assert rw and rw[0].path[0].lower().startswith("related work")
    keys = {e.key for e in parsed.bibliography}
    cites = [c for s in rw for p in s.paragraphs for se in p.sentences for c in se.cites]
    assert len(cites) >= 8
    assert all(set(c.keys) <= keys for c in cites)
    if style == "numeric":
        assert all(c.text.startswith("[") for c in cites)
    else:
        assert all(any(ch.isdigit() for ch in c.text) and not c.text.startswith("[") for c in cites)


def test_real_specter_links_scibert(shared_data):
    parsed = parse_pdf(PAPER, shared_data / "pdf" / "s2orc-doc2json__2020.acl-main.207.pdf")
    bib = {e.key: e for e in parsed.bibliography}
    cites = [c for s in parsed.sections for p in s.paragraphs for se in p.sentences
             for c in se.cites if "Beltagy et al., 2019" in c.text]
    assert len(cites) >= 3
    for c in cites:
        assert any("SciBERT" in (bib[k].title or "") for k in c.keys), c


def test_all_real_pdfs_parse(shared_data):
    for path in sorted((shared_data / "pdf").glob("*.pdf")):
        parsed = parse_pdf(PAPER, path)
        assert parsed.sections and parsed.bibliography, path.name
