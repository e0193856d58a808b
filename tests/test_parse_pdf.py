"""PyMuPDF backend: PDFs laid out by PyMuPDF from text written here, bad input, real papers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pymupdf
import pytest

from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import find_target_sections
from autoscholar.errors import ParseError
from autoscholar.parse.pymupdf import pdf
from autoscholar.parse.pymupdf.pdf import parse_pdf
from autoscholar.parse.pool import parse_isolated
from autoscholar.records import Paper, ParsedPaper

PAPER = Paper(paper_id="t", venue="local")


def _lines(page, x, y, lines, size=10.0, font="helv", lead=None):
    lead = lead or size * 1.25
    for text in lines:
        page.insert_text((x, y), text, fontname=font, fontsize=size)
        y += lead
    return y


def one_column_numeric(path: Path) -> Path:
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    _lines(p, 72, 30, ["Preprint. Under review at TEST 2026."], size=8)
    y = _lines(p, 150, 80, ["A Study of Parsing Scientific Papers"], size=16, font="hebo")
    y = _lines(p, 260, y + 6, ["Jane Roe, Test University"], size=11)
    y = _lines(p, 72, y + 14, ["Abstract"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, [
        "We study how documents are parsed into sections and citations, and we",
        "find that careful layout analysis matters a great deal for quality.",
    ])
    y = _lines(p, 72, y + 12, ["1   Introduction"], size=12, font="hebo")
    body_start = y + 4
    y = _lines(p, 72, body_start, [
        "Scientific parsing has a long history [1]. Many systems exist and they",
        "are compared on benchmarks [2, 3]. Here we find that the layout of a docu-",
        "ment matters, e.g. for the order of columns, as Fig. 1 shows.",
    ])
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = _lines(p, 72, y + 6, ["2.1   Dense Retrieval"], size=10.5, font="hebo")
    y = _lines(p, 72, y + 4, [
        "Dense retrieval was studied by many authors [1, 2]. Later work [3-5]",
        "improved it with hard negatives and larger batches. J. Smith et al. also",
        "looked at distillation [4].",
    ])
    # review-copy line numbers in the left margin
    for i, yy in enumerate(range(int(body_start), int(y), 12)):
        p.insert_text((40, yy), str(i + 1), fontname="helv", fontsize=7)
    _lines(p, 300, 760, ["1"], size=9)
    p = doc.new_page(width=612, height=792)
    _lines(p, 72, 30, ["Preprint. Under review at TEST 2026."], size=8)
    y = _lines(p, 72, 80, ["2.2   Sparse Retrieval"], size=10.5, font="hebo")
    y = _lines(p, 72, y + 4, [
        "Sparse methods remain strong baselines [5]. They are fast and simple to",
        "deploy in practice.",
    ])
    y = _lines(p, 72, y + 12, ["3   Method"], size=12, font="hebo")
    method = "Our method reads the PDF twice and writes the result once."
    y = _lines(p, 72, y + 4, [method])
    # a footnote mark (superscript) and its footnote in small print
    p.insert_text((72 + pymupdf.get_text_length(method, fontname="helv", fontsize=10), y - 12.5 - 3.5),
                  "2", fontname="helv", fontsize=6.5)
    _lines(p, 72, 740, ["2 Code at https://example.org/parser."], size=7.5)
    y = _lines(p, 72, y + 12, ["References"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, [
        "[1] A. Smith and B. Jones. Dense passage retrieval for testing. In Proc. of",
        "     TEST, 2020. arXiv:2004.12345v2.",
        "[2] C. Doe. A survey of parsers. Journal of Tests, 12(3):1-10, 2019.",
        "     doi:10.1000/jt.2019.42.",
        "[3] D. Lee, E. Kim, and F. Park. Hard negatives for dense retrieval. In",
        "     Proceedings of RET, 2021.",
        "[4] G. Smith. Distilling retrievers. arXiv preprint arXiv:2101.00001, 2021.",
        "[5] H. Robertson. The probabilistic relevance framework. Foundations and",
        "     Trends in IR, 2009.",
    ], size=9)
    _lines(p, 300, 760, ["2"], size=9)
    doc.save(path)
    return path


def two_column_author_year(path: Path) -> Path:
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    _lines(p, 170, 70, ["Parsing Two Columns Correctly"], size=15, font="hebo")
    left, right = 50, 317
    y = _lines(p, left, 120, ["1   INTRODUCTION"], size=11, font="hebo")
    y = _lines(p, left, y + 4, [
        "Reading order matters for two-column",
        "papers (Smith et al., 2020; Doe, 2019a).",
        "We parse them with a layout model.",
    ], size=9)
    y = _lines(p, left, y + 10, ["2   RELATED WORK"], size=11, font="hebo")
    y = _lines(p, left, y + 4, [
        "Lee and Kim (2018) proposed column",
        "detection. Earlier systems used rules",
        "(Doe, 2019b). This sentence continues",
    ], size=9)
    y = _lines(p, right, 120, [
        "into the right column without a break,",
        "as noted by Smith et al. [2020].",
    ], size=9)
    y = _lines(p, right, y + 10, ["2.1   Neural Parsers"], size=9.5, font="hebo")
    y = _lines(p, right, y + 4, [
        "Neural parsers learn layouts (van der",
        "Berg and Lee, 2021) from many pages.",
    ], size=9)
    y = _lines(p, right, y + 10, ["3   METHOD"], size=11, font="hebo")
    y = _lines(p, right, y + 4, ["We combine both ideas in one tool."], size=9)
    y = _lines(p, right, y + 10, ["REFERENCES"], size=11, font="hebo")
    entries = [
        ["Jane Doe. 2019a. A rule-based parser for", "documents. In Proc. of DOC."],
        ["Jane Doe. 2019b. Rules for reading order.", "Journal of Layout, 3:1-9."],
        ["Minh Lee and Ann Kim. 2018. Column", "detection in scanned papers. In ICDAR."],
        ["John Smith, Ann Kim, and Bo Wu. 2020.", "Learning to read papers. arXiv preprint",
         "arXiv:2001.01234."],
        ["Piet van der Berg and Minh Lee. 2021.", "Neural layout parsers. In CVPR."],
    ]
    for entry in entries:
        y = _lines(p, right, y + 2, entry[:1], size=8.5)
        y = _lines(p, right + 10, y, entry[1:], size=8.5)
    doc.save(path)
    return path


def superscript_numeric(path: Path) -> Path:
    """Nature style: superscript callouts, a "1." numbered list."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)

    def say(y, parts):
        x = 72
        for text, sup in parts:
            size = 6.5 if sup else 10
            p.insert_text((x, y - (3.5 if sup else 0)), text, fontname="helv", fontsize=size)
            x += pymupdf.get_text_length(text, fontname="helv", fontsize=size)

    _lines(p, 72, 80, ["Introduction"], size=12, font="hebo")
    say(100, [("Transformers changed language modelling", False), ("1,3", True),
              (" and vision", False), ("2", True), (".", False)])
    say(112, [("Retrieval helps as well", False), ("4-6", True), (". Older work used trees", False),
              ("7", True), (".", False)])
    _lines(p, 72, 140, ["Related Work"], size=12, font="hebo")
    say(160, [("Sparse models came first", False), ("2", True), (" and dense ones later", False),
              ("5", True), (".", False)])
    _lines(p, 72, 190, ["References"], size=12, font="hebo")
    _lines(p, 72, 205, [f"{i}. Author{i} A. Title number {i}. J. Tests {i}, 1-2 (20{10 + i})."
                        for i in range(1, 8)], size=9)
    doc.save(path)
    return path


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
    _lines(page, 72, 80, ["A memo without any section headings, cited as Smith [1] says.",
                          "It still has enough text to count as a document, and more,",
                          "and then some more words to pass the minimum of characters."])
    _lines(page, 72, 150, ["References"], size=12, font="hebo")
    _lines(page, 72, 170, ["[1] J. Smith. A paper. 2020.", "[2] K. Doe. Another one. 2021.",
                           "[3] L. Roe. A third one. 2022."], size=9)
    doc.save(tmp_path / "memo.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "memo.pdf")
    assert [(s.title, s.path) for s in parsed.sections] == [("", [])]
    sents = [se for p in parsed.sections[0].paragraphs for se in p.sentences]
    assert sents[0].cites[0].keys == ["ref1"]


def test_ligatures_and_spacing_accents_repaired():
    from autoscholar.parse.pymupdf.layout import _line_from_spans

    span = {"text": "ﬁnd the eﬀect of H¨ullermeier", "flags": 0, "size": 10.0, "font": "Times",
            "origin": (0, 10), "bbox": (0, 0, 100, 10)}
    assert _line_from_spans([span], 0, 0).text == "find the effect of Hüllermeier"


# ------------------------------------------------------------------ bad input


def _bad(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.pdf"
    if kind == "empty-file":
        path.write_bytes(b"")
    elif kind == "not-a-pdf":
        path.write_text("<html><body>404 Not Found</body></html>")
    elif kind == "truncated":
        good = one_column_numeric(tmp_path / "good.pdf").read_bytes()
        path.write_bytes(good[: len(good) // 2])
    elif kind == "corrupt":  # a PDF header and trailer around noise
        path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    elif kind == "encrypted":
        doc = pymupdf.open(one_column_numeric(tmp_path / "good.pdf"))
        doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    elif kind == "no-text":  # a scan: one page holding only an image
        doc = pymupdf.open()
        page = doc.new_page()
        pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 260), 0)
        pix.clear_with(200)
        page.insert_image(page.rect, pixmap=pix)
        doc.save(path)
    elif kind == "too-many-pages":
        doc = pymupdf.open()
        for _ in range(pdf.MAX_PAGES + 1):
            doc.new_page()
        doc.save(path)
    return path


@pytest.mark.parametrize("kind", ["empty-file", "not-a-pdf", "truncated", "corrupt", "encrypted",
                                  "no-text", "too-many-pages"])
def test_bad_input_is_a_parse_error_with_reason(tmp_path, kind):
    with pytest.raises(ParseError) as err:
        parse_pdf(PAPER, _bad(tmp_path, kind))
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


# ------------------------------------------------------------------ worker pool

def _hang(paper, path):
    time.sleep(600)


def _crash(paper, path):
    os.kill(os.getpid(), 9)


def _hog(paper, path):
    return bytearray(4 * 1024**3)  # 4 GiB, over the address-space limit


def _by_name(paper, path):
    return {"hang": _hang, "crash": _crash, "hog": _hog}.get(paper.paper_id, pdf.parse_pdf)(paper, path)


def test_pool_isolates_hangs_crashes_and_memory(tmp_path):
    good = one_column_numeric(tmp_path / "good.pdf")
    bad = _bad(tmp_path, "not-a-pdf")
    items = [(Paper(paper_id=n, venue="local"), p) for n, p in
             [("ok1", good), ("hang", good), ("crash", good), ("hog", good), ("bad", bad), ("ok2", good)]]
    results = {paper.paper_id: out for paper, out in
               parse_isolated(items, workers=2, timeout=8, memory_mb=1024, parse_fn=_by_name)}
    assert set(results) == {"ok1", "hang", "crash", "hog", "bad", "ok2"}
    assert isinstance(results["ok1"], ParsedPaper) and isinstance(results["ok2"], ParsedPaper)
    assert results["ok2"].sections == results["ok1"].sections
    assert results["hang"].reason == "timeout" and results["hang"].transient
    assert not results["crash"].transient and not results["bad"].transient
    assert results["crash"].reason == "worker-crashed"
    assert results["hog"].reason == "out-of-memory"
    assert results["bad"].reason == "not-a-pdf"


def test_pool_close_kills_children(tmp_path):
    import multiprocessing

    good = one_column_numeric(tmp_path / "good.pdf")
    items = [(Paper(paper_id=n, venue="local"), good) for n in ("ok", "hang", "hang")]
    gen = parse_isolated(items, workers=3, timeout=300, memory_mb=1024, parse_fn=_by_name)
    paper, out = next(gen)  # the good one finishes while two workers hang
    assert paper.paper_id == "ok" and isinstance(out, ParsedPaper)
    assert len([c for c in multiprocessing.active_children() if c.is_alive()]) == 3
    gen.close()
    assert not [c for c in multiprocessing.active_children() if c.is_alive()]


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


def test_dehyphenation_keeps_suspended_hyphens():
    from autoscholar.parse.pymupdf.structure import _dehyphenate

    assert _dehyphenate("many sentence-", "and token-level tasks", set(), set()) == \
        "many sentence- and token-level tasks"
    assert _dehyphenate("a docu-", "ment here", {"document"}, set()) == "a document here"
    assert _dehyphenate("an NLI-", "based model", {"nlibased"}, set()) == "an NLI-based model"
    assert _dehyphenate("Chain-", "of-thought can", {"chainof"}, {"chain-of-thought"}) == \
        "Chain-of-thought can"
    assert _dehyphenate("our end-", "to-end model", {"end", "our"}, set()) == "our end-to-end model"
    assert _dehyphenate("a docu-", "ment-level model", {"document"}, set()) == "a document-level model"
    # a capitalised word broken at a line end: one word if the paper prints it whole elsewhere
    assert _dehyphenate("For example, GRO-", "BID (Grobid", {"grobid"}, set()) == \
        "For example, GROBID (Grobid"
    assert _dehyphenate("uses BERT-", "Large and", {"bert", "large"}, set()) == "uses BERT-Large and"
    assert _dehyphenate("uses BERT-", "Large and", {"bertlarge"}, {"bert-large"}) == \
        "uses BERT-Large and"


def _structure_pdf(path: Path) -> Path:
    """Headings with a code-font word, a heading that wraps, unnumbered sibling subsections,
    a bulleted list, and a line that ends on "et al." before the next block."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, [
        "Parsing papers is hard and we explain why in the sections that follow here.",
    ])
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, [
        "Approaches in this space can be broadly categorized into two families here:",
        "\u2022 Procedural generation trains models on generated problems [1]. It works.",
        "\u2022 Model-based generation uses language models to write problems [2].",
    ])
    lead = "3   Design of "
    p.insert_text((72, y + 18), lead, fontname="hebo", fontsize=12)
    p.insert_text((72 + pymupdf.get_text_length(lead, "hebo", 12), y + 18), "papermage",
                  fontname="cobo", fontsize=12)
    y = _lines(p, 72, y + 18 + 19, [
        "The toolkit has three parts that we describe in the following subsections.",
    ])
    y = _lines(p, 72, y + 12, ["3.1   Representing and manipulating",
                               "visually-rich documents with magelib"], size=10.5, font="hebo")
    y = _lines(p, 72, y + 4, [
        "In this section we show code snippets of the library and its abstractions.",
    ])
    _lines(p, 72, 740, ["1"], size=9)
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["References"], size=12, font="hebo")
    _lines(p, 72, y + 4, [
        "[1] A. Author. Procedural problems for reasoning. In Proc. X, 2020.",
        "[2] B. Writer. Problems written by language models. In Proc. Y, 2021.",
    ])
    doc.save(path)
    return path


def test_headings_with_code_words_wrapped_titles_and_bullets(tmp_path):
    parsed = parse_pdf(PAPER, _structure_pdf(tmp_path / "s.pdf"))
    paths = [s.path for s in parsed.sections]
    assert ["Design of papermage"] in paths  # a code-font word does not make it a code line
    assert ["Design of papermage",
            "Representing and manipulating visually-rich documents with magelib"] in paths
    rw = next(s for s in parsed.sections if s.path == ["Related Work"])
    texts = [" ".join(se.text for se in para.sentences) for para in rw.paragraphs]
    assert len(texts) == 3 and texts[1][2:].startswith("Procedural") \
        and texts[2][2:].startswith("Model-based"), texts
    assert not any("Design of" in t or "visually-rich" in t for t in texts)
    sub = next(s for s in parsed.sections if len(s.path) == 2)
    body = " ".join(se.text for para in sub.paragraphs for se in para.sentences)
    assert body.startswith("In this section"), body


def test_unnumbered_sibling_subsections_share_a_level(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = 60
    for title, size in [("Introduction", 12), ("Method", 12), ("Modeling Human Behavior", 11),
                        ("Optimizing Behavior-Aware AI", 11), ("Conclusion", 12)]:
        y = _lines(p, 72, y + 12, [title], size=size, font="hebo")
        y = _lines(p, 72, y + 4, ["This paragraph is running text of the section above it."])
    doc.save(tmp_path / "u.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "u.pdf")
    assert [s.path for s in parsed.sections] == [
        ["Introduction"], ["Method"], ["Method", "Modeling Human Behavior"],
        ["Method", "Optimizing Behavior-Aware AI"], ["Conclusion"]]


def test_line_ending_on_an_abbreviation_does_not_end_a_paragraph():
    from autoscholar.parse.pymupdf.structure import _ends_sentence

    assert not _ends_sentence("while the pipeline of Galgani et al.")
    assert not _ends_sentence("many cues, e.g.")
    assert _ends_sentence("as we show in Section 3.")


def test_subsection_heading_in_the_block_of_its_parent_heading(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   INTRODUCTION"], size=11, font="hebo")
    y = _lines(p, 72, y + 2, ["Lip sync is a hard problem and this paper studies it in detail here."],
               size=9)
    y = _lines(p, 72, y + 10, ["2   RELATED WORK", "2.1   Constrained Talking Face Generation from",
                               "Speech"], size=11, font="hebo", lead=13)
    _lines(p, 72, y + 2, ["We first review works on talking face generation [1] in this part."],
           size=9)
    doc.save(tmp_path / "h.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "h.pdf")
    assert [s.path for s in parsed.sections] == [
        ["Introduction"], ["Related Work"],
        ["Related Work", "Constrained Talking Face Generation from Speech"]]
    body = parsed.sections[2].paragraphs[0].sentences[0].text
    assert body.startswith("We first review"), body


def test_caption_split_over_two_blocks_stays_out_of_the_body():
    from autoscholar.parse.pymupdf.layout import Layout, Line
    from autoscholar.parse.pymupdf.structure import build

    def ln(text, y, block, bold=False, size=10.0):
        return Line(text, 72, y, 300, y + size, size, bold, False, 0, block)

    lay = Layout(blocks=[
        [ln("1 Introduction", 50, 1, bold=True, size=12)],
        [ln("Given enough refine-", 70, 2)],
        [ln("Figure 2: Prototype list derived from the develop-", 90, 3),
         ln("ment set of the data. The BOUND-", 102, 3)],
        [ln("ARY field is not present in the original annotation,", 114, 4),
         ln("but added to model boundaries (see Section 5.3).", 126, 4)],
        [ln("ments the model learns to segment with a good match.", 160, 5)],
    ], body_size=10.0, pages=1)
    st = build(lay)
    assert st.sections[0].paragraphs == [
        "Given enough refinements the model learns to segment with a good match."]


# ------------------------------------------------------------------ run-in headings, footnotes


def _run_in_line(page, x, y, bold, roman, size=10.0):
    """One line that starts with a bold run and goes on in roman type: a run-in heading."""
    page.insert_text((x, y), bold, fontname="hebo", fontsize=size)
    page.insert_text((x + pymupdf.get_text_length(bold + " ", "hebo", size), y), roman,
                     fontname="helv", fontsize=size)
    return y + size * 1.25


def _references(page, y):
    y = _lines(page, 72, y, ["References"], size=12, font="hebo")
    return _lines(page, 72, y + 4, [
        "[1] A. Author. Trust in human-AI teams. In Proc. X, 2020.",
        "[2] B. Writer. Behavior-aware optimization. In Proc. Y, 2021.",
        "[3] C. Person. Mixtures of experts revisited. In Proc. Z, 2022.",
    ], size=9)


def _method_and_references(page, y, body):
    """A "3 Method" section with ``body`` from ``y`` on, then the reference list."""
    y = _lines(page, 72, y, ["3   Method"], size=12, font="hebo")
    return _references(page, _lines(page, 72, y + 4, body) + 12)


def _sentences(section) -> list[str]:
    return [se.text for p in section.paragraphs for se in p.sentences]


@pytest.mark.parametrize("numbered", [False, True])
def test_wrapped_run_in_heading_keeps_its_hyphenated_end(tmp_path, numbered):
    # "... for Team Perfor-" in bold, then "mance." in bold and the paragraph in roman on the
    # next line: the heading is "... Team Performance", the paragraph starts "To address"
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    num = (lambda n: f"{n}   " if numbered else "")
    y = _lines(p, 72, 60, [num(1) + "Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["Teams of people and models decide together, and we study how."])
    y = _lines(p, 72, y + 12, [num(2) + "Extended Related Work"], size=12, font="hebo")
    y = _run_in_line(p, 72, y + 6, "Human-AI Collaboration and Trust.",
                     "Collaboration relies on trust in the model [1].")
    y = _lines(p, 72, y + 6, ["Behavior-Aware AI and Optimization for Team Perfor-"], font="hebo")
    y = _run_in_line(p, 72, y, "mance.", "To address these challenges, recent studies adopt")
    y = _lines(p, 72, y, ["behavior-aware frameworks that model human reliance [2]."])
    y = _run_in_line(p, 72, y + 6, "Ensemble and Multi-Objective Learning.",
                     "Mixtures of experts combine specialised models [3].")
    y = _lines(p, 72, y + 12, [num(3) + "Method"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["Our method routes each instance to one of two models."])
    _references(p, y + 12)
    doc.save(tmp_path / "w.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "w.pdf")
    by_path = {tuple(s.path): s for s in parsed.sections}
    rw = "Extended Related Work"
    assert (rw, "Behavior-Aware AI and Optimization for Team Performance") in by_path, list(by_path)
    wrapped = by_path[(rw, "Behavior-Aware AI and Optimization for Team Performance")]
    assert _sentences(wrapped) == [
        "To address these challenges, recent studies adopt behavior-aware frameworks that model "
        "human reliance [2]."]
    # its siblings are run-in headings of the same section, not subsections of it
    assert (rw, "Human-AI Collaboration and Trust") in by_path
    assert _sentences(by_path[(rw, "Ensemble and Multi-Objective Learning")]) == [
        "Mixtures of experts combine specialised models [3]."]
    assert [s.path[-1] for s in find_target_sections(parsed, DEFAULT_SECTIONS)][1:] == [
        "Human-AI Collaboration and Trust", "Behavior-Aware AI and Optimization for Team Performance",
        "Ensemble and Multi-Objective Learning"]


def _footnote_pdf(path: Path, raised_mark: bool) -> Path:
    """A Related Work paragraph that runs over a page break, with a 9 pt footnote under a short
    rule at the foot of the first page (10 pt body), and a 9 pt remark mid-page that stays."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["Open information extraction reads relations from the Web at scale."])
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    filler = "Earlier extraction systems were built by hand for one relation at a time, and"
    y = _lines(p, 72, y + 4, [filler] * 40 + ["later systems were trained on"])
    p.draw_line((72, 700), (180, 700), width=0.4)
    # the mark: a 6 pt digit, raised (a superscript) or on the footnote's baseline
    p.insert_text((72, 714 - (3 if raised_mark else 0)), "5", fontname="helv", fontsize=6)
    _lines(p, 72 + pymupdf.get_text_length("5", "helv", 6), 714, [
        "We carried out several preliminary experiments using a data-driven approach [2]"], size=9)
    _lines(p, 72, 725, ["that confirmed this hypothesis."], size=9)
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["large corpora of web text [1]. They need no hand-written rules at all."])
    y = _lines(p, 72, y + 6, ["1 Small print in the middle of the page is kept as it is written."],
               size=9)
    y = _lines(p, 72, y + 6, ["Our system follows this line of work and extends it to the Web [3]."])
    _method_and_references(p, y + 12, ["We describe the extractor in this section."])
    doc.save(path)
    return path


@pytest.mark.parametrize("raised_mark", [True, False])
def test_footnote_at_the_foot_of_the_page_is_not_body_text(tmp_path, raised_mark):
    parsed = parse_pdf(PAPER, _footnote_pdf(tmp_path / "f.pdf", raised_mark))
    rw = next(s for s in parsed.sections if s.path == ["Related Work"])
    text = " ".join(_sentences(rw))
    assert "preliminary experiments" not in text and "hypothesis" not in text, text[-400:]
    # the sentence the footnote interrupted is whole again, across the page break
    assert "later systems were trained on large corpora of web text [1]." in text
    assert "Small print in the middle of the page is kept" in text  # body text below it: no footnote
    cited = {k for p in rw.paragraphs for se in p.sentences for c in se.cites for k in c.keys}
    assert cited == {"ref1", "ref3"}  # [2] was only cited in the footnote


def test_bold_run_in_heading_without_period(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["Segmentation of aerial images is the task we study in this paper."])
    y = _run_in_line(p, 72, y + 6, "Other related work.",
                     "Pooling was also studied for other kinds of images [3].")
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = _run_in_line(p, 72, y + 4, "Semantic segmentation",
                     "Fully connected networks (FCN) were proposed for this task [1].")
    y = _lines(p, 72, y, ["They label every pixel of an image."])
    # right under the sentence before, without a gap or an indent
    y = _run_in_line(p, 72, y, "Knowledge guided networks",
                     "Analyzing aerial images needs rules of geography [2].")
    y = _run_in_line(p, 72, y + 6, "Pooling functions.", "There are various studies of pooling [2].")
    y = _run_in_line(p, 72, y + 6, "Max pooling", "is the most common choice in practice [3].")
    _method_and_references(p, y + 12,
                           ["We pool by a local spatial statistic instead of the maximum."])
    doc.save(tmp_path / "r.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "r.pdf")
    by_path = {tuple(s.path): s for s in parsed.sections}
    seg = by_path.get(("Related Work", "Semantic segmentation"))
    assert seg is not None, list(by_path)
    assert _sentences(seg) == ["Fully connected networks (FCN) were proposed for this task [1].",
                               "They label every pixel of an image."]
    assert _sentences(by_path[("Related Work", "Knowledge guided networks")]) == [
        "Analyzing aerial images needs rules of geography [2]."]
    # the same as a run-in heading with a period, and its sibling, not its child
    pooling = by_path[("Related Work", "Pooling functions")]
    # bold words that start a sentence ("Max pooling is ...") are no heading
    assert _sentences(pooling) == ["There are various studies of pooling [2].",
                                   "Max pooling is the most common choice in practice [3]."]
    # "Other related work." inside the Introduction does not make it a Related Work section
    assert "Other related work." in _sentences(by_path[("Introduction",)])
    assert [s.path for s in find_target_sections(parsed, DEFAULT_SECTIONS)] == [
        ["Related Work"], ["Related Work", "Semantic segmentation"],
        ["Related Work", "Knowledge guided networks"], ["Related Work", "Pooling functions"]]


def _styled(page, x, y, runs, size=10.0):
    """One line made of (text, font) runs, each set right after the one before."""
    for text, font in runs:
        page.insert_text((x, y), text, fontname=font, fontsize=size)
        x += pymupdf.get_text_length(text, fontname=font, fontsize=size)
    return y + size * 1.25


def test_emphasised_name_opening_a_paragraph_is_no_run_in_heading(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["We study language models and how they are evaluated today."])
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    more = "and this line continues the paragraph with more words about the model."
    for runs in ([("LLaMA", "heit"), (" Touvron et al. [1] released open weights for models.", "helv")],
                 [("Chain-of-Thought", "heit"), (" Prompting [2] asks the model to reason.", "helv")],
                 [("RoBERTa", "hebo"), (" By training longer, Liu et al. improved BERT [3].", "helv")],
                 [("Sentence-BERT", "hebo"), (" SBERT [1] fine-tunes siamese encoders.", "helv")],
                 [("Dense Passage Retrieval", "heit"), (" DPR [2] trains a dual encoder.", "helv")],
                 [("Scaling alone is not enough.", "hebo"), (" Many works [3] found that", "helv")]):
        y = _styled(p, 72, y + 6, runs)
        y = _lines(p, 72, y, [more])
    # a bold name that starts a line right after a full stop, inside a paragraph
    y = _lines(p, 72, y, ["data quality matters as much as the model size."])
    y = _styled(p, 72, y, [("ColBERT", "hebo"), (" Khattab and Zaharia [1] keep one vector per", "helv")])
    y = _lines(p, 72, y, ["token and score late."])
    _method_and_references(p, y + 12, ["Our method is simple and we describe it here."])
    doc.save(tmp_path / "e.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "e.pdf")
    assert [s.path for s in parsed.sections] == [
        ["Introduction"], ["Related Work"], ["Related Work", "Scaling alone is not enough"],
        ["Method"]]
    rw = _sentences(parsed.sections[1])
    for opening in ("LLaMA Touvron et al. [1] released", "Chain-of-Thought Prompting [2] asks",
                    "RoBERTa By training longer", "Sentence-BERT SBERT [1] fine-tunes",
                    "Dense Passage Retrieval DPR [2] trains"):
        assert any(se.startswith(opening) for se in rw), (opening, rw)
    assert "ColBERT Khattab and Zaharia [1] keep one vector per token and score late." in \
        _sentences(parsed.sections[2])


@pytest.mark.parametrize("size", [11, 12])
def test_heading_with_one_word_in_another_font_stays_whole(tmp_path, size):
    # "2.2 Prompting *LLMs* for Retrieval": the italic (or typewriter) word is no end of a
    # run-in heading, numbered or not
    fill = "and the paragraph goes on with enough running words to look like body text."
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["We study retrieval with language models on many benchmarks."])
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = _lines(p, 72, y + 6, ["2.1   Dense Retrieval"], font="hebo", size=size)
    y = _lines(p, 72, y + 4, ["Dense retrievers encode queries and passages separately [1].", fill])
    y = _styled(p, 72, y + 8, [("2.2   Prompting ", "hebo"), ("LLMs", "heit"),
                               (" for Retrieval", "hebo")], size=size)
    y = _lines(p, 72, y + 4, ["Recent work prompts large models to rerank passages [2].", fill])
    y = _styled(p, 72, y + 8, [("2.3   Comparing ", "hebo"), ("GROBID", "cour"),
                               (" to Other Parsers", "hebo")], size=size)
    y = _lines(p, 72, y + 4, ["Parsers differ in how they treat columns and tables [3].", fill])
    _method_and_references(p, y + 12, ["Our method is simple and we describe it here."])
    doc.save(tmp_path / "h.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "h.pdf")
    by_path = {tuple(s.path): s for s in parsed.sections}
    assert list(by_path) == [
        ("Introduction",), ("Related Work",), ("Related Work", "Dense Retrieval"),
        ("Related Work", "Prompting LLMs for Retrieval"),
        ("Related Work", "Comparing GROBID to Other Parsers"), ("Method",)]
    assert _sentences(by_path[("Related Work", "Prompting LLMs for Retrieval")])[0].startswith(
        "Recent work prompts large models to rerank passages [2].")
    # unnumbered: the section after Related Work is no subsection of it
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["Related Work"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["Dense retrievers encode queries and passages separately [1].", fill])
    y = _styled(p, 72, y + 12, [("Evaluating ", "hebo"), ("GPT-4", "heit"), (" as a Judge", "hebo")],
                size=12)
    y = _lines(p, 72, y + 4, ["We ask the model to grade each answer on a five point scale [2].", fill])
    _references(p, y + 12)
    doc.save(tmp_path / "u.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "u.pdf")
    assert [s.path for s in parsed.sections] == [["Related Work"], ["Evaluating GPT-4 as a Judge"]]


_BODY = "The main text of the paper is set in ten point type and runs across the whole page width."
_SMALL_RW = [  # Related Work in \small, as papers set it to save space
    "Point cloud methods were studied by many authors [1], and voxel grids were the first choice of",
    "3D detectors for a long time [2]. Later work used multi-view images [3] and learned to fuse",
    "them with depth [1]. Recent transformers scale to 12 languages and more sensors [2], and",
    "12 benchmarks now measure this setting in the open world, with strong baselines [3]."]


def _small_rw_pdf(path: Path, url_footnote: bool) -> Path:
    """Related Work in 9 pt (10 pt body) at the foot of a page, after a page that ends with a
    footnote that breaks off in lower case (a URL), or not."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, [_BODY] * (40 if url_footnote else 30))
    if url_footnote:
        p.draw_line((72, 700), (180, 700), width=0.4)
        _lines(p, 72, 714, ["1 Our code is at https://github.com/example/parser"], size=9)
        p = doc.new_page(width=612, height=792)
        y = _lines(p, 72, 60, [_BODY] * 20)
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    _lines(p, 72, y + 4, _SMALL_RW, size=9)
    p = doc.new_page(width=612, height=792)
    _method_and_references(p, 60, [_BODY] * 5)
    doc.save(path)
    return path


@pytest.mark.parametrize("url_footnote", [False, True])
def test_small_related_work_at_the_foot_of_a_page_is_no_footnote(tmp_path, url_footnote):
    # lines that start "3D ..." or "12 benchmarks ..." look like footnotes "3 ...", and the
    # URL footnote of the page before ends as if cut off mid-sentence
    parsed = parse_pdf(PAPER, _small_rw_pdf(tmp_path / "s.pdf", url_footnote))
    rw = next(s for s in parsed.sections if s.path == ["Related Work"])
    assert " ".join(_sentences(rw)) == " ".join(_SMALL_RW)
    assert "github.com" not in " ".join(se for s in parsed.sections for se in _sentences(s))


def test_related_literature_run_in_stays_in_the_introduction(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = _lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["We study retrieval with language models on many benchmarks [1]."])
    y = _run_in_line(p, 72, y + 6, "Related literature.", "Dense retrievers were studied widely [2].")
    y = _lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = _lines(p, 72, y + 4, ["Sparse retrievers remain strong baselines in many settings [3]."])
    _method_and_references(p, y + 12, ["Our method is simple and we describe it here."])
    doc.save(tmp_path / "l.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "l.pdf")
    assert [s.path for s in parsed.sections] == [["Introduction"], ["Related Work"], ["Method"]]
    assert "Dense retrievers were studied widely [2]." in _sentences(parsed.sections[0])
    assert [s.path for s in find_target_sections(parsed, DEFAULT_SECTIONS)] == [["Related Work"]]
