"""TEI reader: real Grobid output from ../shared/data/tei, plus small hand-written snippets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autoscholar.errors import ParseError
from autoscholar.parse.grobid.tei import normalize_arxiv_id, read_tei, split_head
from autoscholar.records import Paper, ParsedPaper
from autoscholar.text import ascii_letters

PAPER = Paper(paper_id="p1", venue="local")


def read(path: Path) -> ParsedPaper:
    return read_tei(path.read_bytes(), PAPER)


def section(pp: ParsedPaper, title: str):
    found = [s for s in pp.sections if s.title.lower() == title.lower()]
    assert found, f"no section {title!r} in {[s.title for s in pp.sections]}"
    return found[0]


def cites(sec):
    return [c for p in sec.paragraphs for s in p.sentences for c in s.cites]


def tei(body: str, bibl: str = "", header: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader>{header}</teiHeader><text><body>{body}</body>
<back><div type="references"><listBibl>{bibl}</listBibl></div></back></text></TEI>""".encode()


def bibl(key: str, surname: str, year: int, title: str) -> str:
    return (f'<biblStruct xml:id="{key}"><analytic><title level="a" type="main">{title}</title>'
            f'<author><persName><forename type="first">Ann</forename><surname>{surname}</surname>'
            f'</persName></author></analytic><monogr><title level="j">Journal</title><imprint>'
            f'<date type="published" when="{year}"/></imprint></monogr></biblStruct>')


@pytest.fixture(scope="module")
def tei_dir(shared_data: Path) -> Path:
    return shared_data / "tei"


# ---------------------------------------------------------------- every real file


def test_every_real_tei_file_parses(tei_dir: Path):
    files = sorted(tei_dir.glob("*.xml")) + sorted(tei_dir.glob("*/*.xml"))
    assert len(files) >= 20
    for f in files:
        pp = read(f)
        assert pp.parser == "grobid" and re.match(r"0\.\d+\.\d+", pp.parser_version), f.name
        keys = {b.key for b in pp.bibliography}
        assert len(keys) == len(pp.bibliography), f.name
        for sec in pp.sections:
            assert sec.path and sec.path[-1] == sec.title or sec.title == "", (f.name, sec)
            for p in sec.paragraphs:
                for s in p.sentences:
                    for c in s.cites:
                        assert s.text[c.start:c.end] == c.text, (f.name, s.text, c)
                        assert set(c.keys) <= keys, (f.name, c)
        body_refs = f.read_text(encoding="utf-8").count('<ref type="bibr"')
        linked = sum(1 for s in pp.sections for c in cites(s) if c.keys)
        if body_refs >= 10 and pp.bibliography:
            assert linked > 0, f.name


# ---------------------------------------------------------------- SPECTER (Grobid 0.6.1)


def test_specter_sections_and_bibliography(tei_dir: Path):
    pp = read(tei_dir / "s2orc-doc2json__2020.acl-main.207.tei.xml")
    assert pp.parser_version == "0.6.1"
    rw = section(pp, "Related Work")
    assert rw.number == "7" and rw.path == ["Related Work"] and len(rw.paragraphs) >= 5
    # "Model 2.1 Overview" is two heads Grobid glued together; unnumbered heads nest.
    assert section(pp, "Overview").path == ["Model", "Overview"]
    assert section(pp, "Document Representation").path == [
        "Model", "Background: Pretrained Transformers", "Document Representation"]
    # 58 biblStruct in the file: one is the paper's own header, 57 are references
    assert len(pp.bibliography) == 57
    by_key = {b.key: b for b in pp.bibliography}
    b = by_key["b0"]
    assert b.title == "Estimating position bias without intrusive interventions"
    assert b.year == 2019 and b.venue == "WSDM" and b.authors[0] == "K Anant"
    assert b.raw.startswith("Anant K. Agarwal, Ivan Zaitsev")
    roberta = by_key["b33"]  # CoRR id in an untyped idno; title only in the raw entry
    assert roberta.arxiv_id == "1907.11692"
    assert roberta.title == "RoBERTa: A Robustly Optimized BERT Pretraining Approach"


def test_specter_links_repair_what_grobid_left(tei_dir: Path):
    pp = read(tei_dir / "s2orc-doc2json__2020.acl-main.207.tei.xml")
    rw = cites(section(pp, "Related Work"))
    by_text = {c.text: c.keys for c in rw}
    assert by_text["(Kiros et al., 2015)"] == ["b25"]  # bibr without target
    group = next(c for c in rw if c.text.startswith("(Bruna et al., 2014;"))
    # "Hamilton et al., 2017a,b" and "Wu et al., 2019a,b": two entries each
    assert group.keys == ["b6", "b24", "b17", "b18", "b50", "b53"]
    # footnote marks Grobid tagged as bibr ("... summary of the paper. 4 As such") are not cites
    all_texts = [c.text for s in pp.sections for c in cites(s)]
    assert "4" not in all_texts and "13" not in all_texts


def _s2orc_pairs(js: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for para in js["pdf_parse"]["body_text"]:
        for c in para["cite_spans"]:
            if c["ref_id"]:
                out.setdefault(para["section"], set()).add("b" + c["ref_id"][len("BIBREF"):])
    return out


@pytest.mark.parametrize("name", ["s2orc-doc2json__2020.acl-main.207", "s2orc-doc2json__N18-3011"])
def test_links_agree_with_s2orc_json(tei_dir: Path, name: str):
    """S2ORC's own reading of the same TEI is an independent check of our links."""
    pp = read(tei_dir / f"{name}.tei.xml")
    gold_raw = _s2orc_pairs(json.loads((tei_dir / f"{name}.json").read_text()))
    ours: dict[str, list[tuple[str, str]]] = {}
    for sec in pp.sections:
        ours.setdefault(sec.title, []).extend((c.text, k) for c in cites(sec) for k in c.keys)
    # S2ORC names a section by its whole head ("Model 2.1 Overview"), we by its own title
    gold = {next((t for t in ours if s == t or s.endswith(" " + t)), s): v
            for s, v in gold_raw.items()}
    total = sum(len(v) for v in gold.values())
    found = sum(len(v & {k for _, k in ours.get(s, [])}) for s, v in gold.items())
    assert total >= 20 and found / total >= 0.95, (found, total)
    # Links S2ORC does not have must still be right: the callout names one of the entry's
    # first authors and prints its year.
    by_key = {b.key: b for b in pp.bibliography}
    extra = [(t, k) for s, pairs in ours.items() for t, k in pairs if k not in gold.get(s, set())]
    for text, key in extra:
        entry = by_key[key]
        surnames = [ascii_letters(a.split()[-1]) for a in entry.authors[:2]]
        assert any(n and n in ascii_letters(text) for n in surnames), (text, entry.authors)
        assert str(entry.year) in text, (text, entry.year)


# ---------------------------------------------------------------- other real files


def test_sentence_segmented_tei_uses_s_elements(tei_dir: Path):
    path = tei_dir / "document-qa__2312.07559.sentences.tei.xml"
    pp = read(path)
    rw = section(pp, "RELATED WORKS")
    assert rw.number == "2" and rw.path == ["RELATED WORKS"]
    xml = path.read_text(encoding="utf-8")
    div = xml[xml.index(">RELATED WORKS<"):]
    div = div[: div.index("</div>")]
    assert sum(len(p.sentences) for p in rw.paragraphs) == div.count("<s ") + div.count("<s>")
    first = rw.paragraphs[0].sentences[0]
    group = first.cites[0]  # "[22," "23," ... "27]" are six refs of one printed group
    assert group.text == "[22, 23, 24, 25, 26, 27]"
    assert group.keys == ["b21", "b22", "b23", "b24", "b25", "b26"]
    assert section(pp, "ABSTRACT RETRIEVAL METRIC").path == [
        "PAPER RETRIEVAL EVALUATION", "ABSTRACT RETRIEVAL METRIC"]
    # the same paper without sentence segmentation links the same entries
    plain = read(tei_dir / "document-qa__2312.07559.paragraphs.tei.xml")
    keys = lambda p: sorted(k for c in cites(section(p, "RELATED WORKS")) for k in c.keys)
    assert keys(plain) == keys(pp)


def test_reference_extraction_failure_paper06(tei_dir: Path):
    pp = read(tei_dir / "OS-IA-Pipegrobid" / "paper06.tei.xml")
    assert pp.bibliography == []  # its only biblStruct is the header's
    assert pp.sections and all(not c.keys for s in pp.sections for c in cites(s))


def test_negative_papers_have_no_related_work(tei_dir: Path):
    for f in tei_dir.glob("grobid_client_python__*.tei.xml"):
        pp = read(f)
        assert pp.sections and pp.bibliography
        assert not [s for s in pp.sections if "related work" in s.title.lower()], f.name


def test_mistagged_formula_ref_is_an_author_year_citation(tei_dir: Path):
    # 'Suzgun et al. ( <ref type="formula">2022</ref>)' in Grobid 0.7.2 output
    pp = read(tei_dir / "OS-IA-Pipegrobid" / "paper02.tei.xml")
    hits = [c for s in pp.sections for c in cites(s) if c.text.startswith("Suzgun et al.")]
    assert hits, "mis-tagged callout not repaired"
    entry = {b.key: b for b in pp.bibliography}[hits[0].keys[0]]
    assert entry.authors[0].endswith("Suzgun") and entry.year == 2022


def test_arxiv_ids_from_idno(tei_dir: Path):
    pp = read(tei_dir / "OS-IA-Pipegrobid" / "paper04.tei.xml")
    ids = [b.arxiv_id for b in pp.bibliography if b.arxiv_id]
    assert len(ids) >= 25
    assert all(re.fullmatch(r"\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}", i) for i in ids), ids
    brown = next(b for b in pp.bibliography if b.title == "Language Models are Few-Shot Learners")
    assert brown.authors[0] == "Tom B Brown"  # title only in <monogr>


# ---------------------------------------------------------------- snippets


def test_numeric_ranges_and_untargeted_refs_use_printed_numbers():
    bib = "".join(bibl(f"b{i}", f"Name{i}", 2000 + i, f"Title {i}") for i in range(8))
    body = ('<div><head n="1">Related Work</head><p>Dense retrieval '
            '<ref type="bibr" target="#b0">[1]</ref> was extended '
            '<ref type="bibr" target="#b2">[3-6]</ref>. Others <ref type="bibr">[7,</ref>'
            '<ref type="bibr">8]</ref> disagree. See <ref type="figure">[2]</ref> too. Accuracy was 98% [2-4] here.</p></div>')
    pp = read_tei(tei(body, bib), PAPER)
    sents = pp.sections[0].paragraphs[0].sentences
    assert [c.keys for c in sents[0].cites] == [["b0"], ["b2", "b3", "b4", "b5"]]
    assert [(c.text, c.keys) for c in sents[1].cites] == [("[7, 8]", ["b6", "b7"])]
    assert [(c.text, c.keys) for c in sents[2].cites] == [("[2]", ["b1"])]  # mis-tagged as figure
    assert sents[3].cites == []  # an interval after a number is not a citation


def test_unlinked_author_year_in_plain_text_is_repaired():
    bib = bibl("b0", "Smith", 2020, "A") + bibl("b1", "Doe", 2019, "B") + bibl("b2", "Doe", 2021, "C")
    body = ('<div><head>Related Work</head><p>As shown by Smith et al. (2020), retrieval helps '
            '(<ref type="bibr" target="#b1">Doe, 2019;</ref> Doe, 2021). Figure '
            '<ref type="figure" target="#fig_0">2</ref> shows it.</p></div>')
    pp = read_tei(tei(body, bib), PAPER)
    s1, s2 = pp.sections[0].paragraphs[0].sentences
    assert [(c.text, c.keys) for c in s1.cites] == [
        ("Smith et al. (2020)", ["b0"]), ("(Doe, 2019; Doe, 2021)", ["b1", "b2"])]
    assert s2.cites == []  # a figure number is not a citation


def test_section_nesting_and_heads():
    body = "".join(
        f'<div xmlns="http://www.tei-c.org/ns/1.0"><head{n}>{t}</head><p>Some text for section {i} of this paper.</p></div>'
        for i, (n, t) in enumerate([
            (' n="1"', "Introduction"), (' n="2"', "Related Work"), (' n="2.1"', "Dense"),
            ("", "Sparse retrieval"), (' n="3"', "Method"), ("", "3.1. Encoder"),
            ("", "Acknowledgements"), ("", "Misc")]))
    pp = read_tei(tei(body), PAPER)
    paths = [(s.number, s.path) for s in pp.sections]
    assert paths == [
        ("1", ["Introduction"]), ("2", ["Related Work"]), ("2.1", ["Related Work", "Dense"]),
        (None, ["Related Work", "Dense", "Sparse retrieval"]), ("3", ["Method"]),
        ("3.1", ["Method", "Encoder"]), (None, ["Acknowledgements"]), (None, ["Misc"])]


@pytest.mark.parametrize("text,n,expected", [
    ("3.Experimental Methods", None, ("3", "Experimental Methods")),
    ("2.1. Dense retrieval", None, ("2.1", "Dense retrieval")),
    ("A.2 SYSTEM PROMPT", None, ("A.2", "SYSTEM PROMPT")),
    ("B AUTOGPT IMPLEMENTATION DETAILS", None, ("B", "AUTOGPT IMPLEMENTATION DETAILS")),
    ("A Study of Retrieval", None, (None, "A Study of Retrieval")),
    ("3D Shapes", None, (None, "3D Shapes")),
    ("Related Work", "2.", ("2", "Related Work")),
    ("II. RELATED WORK", None, ("II", "RELATED WORK")),
])
def test_split_head(text, n, expected):
    assert split_head(text, n) == expected


@pytest.mark.parametrize("raw,expected", [
    ("arXiv:1912.10667v1[cs.CV]", "1912.10667"),
    ("arXiv:1604.06174[cs.LG", "1604.06174"),
    ("arXiv:cond-mat/0601014[cond-mat.stat-mech", "cond-mat/0601014"),
    ("https://arxiv.org/abs/2305.00050v3", "2305.00050"),
    ("not an id", None),
])
def test_normalize_arxiv_id(raw, expected):
    assert normalize_arxiv_id(raw) == expected


# ---------------------------------------------------------------- hostile input


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><div><p>&lol4;</p></div></body></text></TEI>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE TEI [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><div><p>&xxe;</p></div></body></text></TEI>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL, BILLION_LAUGHS.decode().encode("utf-16")])
def test_entity_tricks_are_refused(doc: bytes):
    with pytest.raises(ParseError) as err:
        read_tei(doc, PAPER)
    assert err.value.reason == "entity-expansion"
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("doc", [b"", b"<TEI><text>", b"not xml at all", b"<html></html>"])
def test_malformed_xml_is_bad_tei(doc: bytes):
    with pytest.raises(ParseError) as err:
        read_tei(doc, PAPER)
    assert err.value.reason == "bad-tei"


def test_number_offset_follows_entries_grobid_lost():
    # the paper printed 14 references, Grobid kept 13: #12 is gone, so [13] is b11
    bib = "".join(bibl(f"b{i}", f"Name{i}", 2000 + i, f"Title {i}") for i in range(13))
    refs = "".join(f'<ref type="bibr" target="#b{n - 1}">[{n}]</ref> ' for n in range(1, 12))
    body = (f'<div><head>Intro</head><p>Seen {refs} and <ref type="bibr" target="#b11">[13]</ref>.'
            ' Unlinked <ref type="bibr">[12]</ref> and <ref type="bibr">[14]</ref> here.</p></div>')
    pp = read_tei(tei(body, bib), PAPER)
    last = pp.sections[0].paragraphs[0].sentences[-1]
    assert [(c.text, c.keys) for c in last.cites] == [("[12]", []), ("[14]", ["b12"])]


def test_wrong_grobid_target_is_relinked_by_surname_and_year():
    bib = bibl("b0", "Madras", 2018, "A") + bibl("b1", "Mahmood", 2024, "B")
    body = ('<div><head>Related Work</head><p>Behaviour-aware AI '
            '<ref type="bibr" target="#b0">(Mahmood et al., 2024)</ref> helps.</p></div>')
    pp = read_tei(tei(body, bib), PAPER)
    assert pp.sections[0].paragraphs[0].sentences[0].cites[0].keys == ["b1"]


def authors_bibl(key: str, surnames: list[str], date: str, title: str, note: str = "") -> str:
    people = "".join(f'<author><persName><forename type="first">A</forename><surname>{n}</surname>'
                     f'</persName></author>' for n in surnames)
    extra = f"<note>{note}</note>" if note else ""
    return (f'<biblStruct xml:id="{key}"><analytic><title level="a" type="main">{title}</title>'
            f'{people}</analytic><monogr><title level="j">Journal</title><imprint>'
            f'<date type="published">{date}</date></imprint></monogr>{extra}</biblStruct>')


def test_partly_tagged_group_becomes_one_callout_linked_by_printed_names():
    # Grobid left "(Mahmood, " out of the ref and targeted Lu's paper; Cobbe's ")" too
    bib = (bibl("b0", "Mahmood", 2024, "Behaviour-aware AI") + bibl("b1", "Lu", 2024, "Advice")
           + bibl("b2", "Cobbe", 2021, "Verifiers"))
    body = ('<div><head>Related Work</head><p>A reliance rule (Mahmood, <ref type="bibr" '
            'target="#b1">Lu, and Yin 2024)</ref> exists. GSM8K <ref type="bibr" target="#b2">'
            '(Cobbe et al., 2021</ref>) is used.</p></div>')
    s1, s2 = read_tei(tei(body, bib), PAPER).sections[0].paragraphs[0].sentences
    assert [(c.text, c.keys) for c in s1.cites] == [("(Mahmood, Lu, and Yin 2024)", ["b0"])]
    assert [(c.text, c.keys) for c in s2.cites] == [("(Cobbe et al., 2021)", ["b2"])]


def test_merged_bibl_structs_are_never_linked():
    # Grobid read "Jordan and Jacobs 1991 ... Kolomaznik et al. 2024 ..." as one biblStruct
    # (two years in its date; the 2024 paper's title): a link to it names the wrong paper.
    bib = (authors_bibl("b0", ["Jordan", "Jacobs", "Kolomaznik", "Petrik"], "1991. 2024",
                        "The role of socio-emotional attributes", "Hierarchies of adaptive experts")
           + authors_bibl("b1", ["Askell", "Bai"], "2021. 2021", "Is the most accurate AI the "
                          "best teammate?", "A general language assistant as a laboratory for alignment")
           + authors_bibl("b2", ["Finkelstein"], "July 9-12, 2024. 2024", "Clinical reasoning")
           + authors_bibl("b3", ["Shazeer"], "2017", "Sparsely-gated experts",
                          "International Conference on Learning Representations")
           + authors_bibl("b4", ["Bollyky"], "2021. 2022", "Pandemic preparedness to sept30"))
    body = ('<div><head>Related Work</head><p>Experts <ref type="bibr" target="#b0">(Jordan and '
            'Jacobs 1991;</ref><ref type="bibr" target="#b1">Askell et al. 2021;</ref>'
            '<ref type="bibr" target="#b2">Finkelstein et al. 2024;</ref><ref type="bibr" '
            'target="#b3">Shazeer et al. 2017;</ref><ref type="bibr" target="#b4">Bollyky et al. '
            '2021)</ref> help.</p></div>')
    pp = read_tei(tei(body, bib), PAPER)
    cite = pp.sections[0].paragraphs[0].sentences[0].cites
    # a conference date is not a second year; two years and nothing left over is one paper
    assert [c.keys for c in cite] == [["b2", "b3", "b4"]]
    assert len(pp.bibliography) == 5  # the entries stay in the bibliography


def test_grobid_target_must_name_the_first_authors_as_whole_names():
    # "Pan" is inside "Sapana", "Liu" is a 4th author: Grobid's target is dropped, and the
    # printed name + year finds the right entry
    bib = (authors_bibl("b0", ["Chaudhary", "Lee"], "2025", "Safe RL")
           + authors_bibl("b1", ["Zhao", "Wu", "Chen", "Liu"], "2019", "Fourth author")
           + authors_bibl("b2", ["Pan", "Zhang"], "2025", "TinyZero"))
    body = ('<div><head>Related Work</head><p>Puzzles <ref type="bibr" target="#b0">(Pan et al., '
            '2025)</ref> and graphs <ref type="bibr" target="#b1">(Liu et al., 2019)</ref>.</p></div>')
    sent = read_tei(tei(body, bib), PAPER).sections[0].paragraphs[0].sentences[0]
    assert [(c.text, c.keys) for c in sent.cites] == [
        ("(Pan et al., 2025)", ["b2"]), ("(Liu et al., 2019)", [])]


def test_grobid_target_by_second_author_yields_to_the_entry_the_name_heads():
    bib = (authors_bibl("b0", ["Smith", "Lee"], "2020", "Smith first")
           + authors_bibl("b1", ["Lee", "Park"], "2020", "Lee first")
           + authors_bibl("b2", ["Iulia", "Comsa"], "2021", "Shifted names"))
    body = ('<div><head>Related Work</head><p>Both <ref type="bibr" target="#b0">(Lee et al., '
            '2020)</ref> and <ref type="bibr" target="#b2">(Comsa et al., 2021)</ref>.</p></div>')
    sent = read_tei(tei(body, bib), PAPER).sections[0].paragraphs[0].sentences[0]
    # Comsa heads no entry: Grobid's target (Comsa as 2nd name, shifted) is kept
    assert [c.keys for c in sent.cites] == [["b1"], ["b2"]]


def test_words_grobid_put_inside_a_ref_stay_text():
    bib = bibl("b0", "Yamins", 2014, "Performance-optimized models")
    body = ('<div><head>Intro</head><p>Retina models share features with '
            '<ref type="bibr" target="#b0">CNNs (Yamins et al. (2014)</ref>).</p></div>')
    sent = read_tei(tei(body, bib), PAPER).sections[0].paragraphs[0].sentences[0]
    # the bracket the callout opened is taken in; "CNNs" stays text
    assert [(c.text, c.keys) for c in sent.cites] == [("(Yamins et al. (2014))", ["b0"])]
    assert sent.text[: sent.cites[0].start].endswith("with CNNs ")


def test_table_debris_heads_continue_the_section(tei_dir: Path):
    # paper28: a table inside Related Works became heads "Batch Size", "# of Nodes", "1";
    # the real Related Works text after the table sits under one of them
    pp = read(tei_dir / "OS-IA-Pipegrobid" / "paper28.tei.xml")
    rw = section(pp, "Related Works")
    assert not [s for s in pp.sections if s.path[:1] == ["Related Works"] and s is not rw]
    text = " ".join(s.text for p in rw.paragraphs for s in p.sentences)
    assert "Long-range Interactions in MLIPs." in text
    # paper09: an arXiv stamp Grobid took for a head inside BACKGROUND
    pp = read(tei_dir / "OS-IA-Pipegrobid" / "paper09.tei.xml")
    assert not [s for s in pp.sections if "arXiv:" in s.title]


def test_unnumbered_paper_keeps_heads_top_level(tei_dir: Path):
    # paper03 numbers two list items as heads ("2. Practical ... framework:") and nothing else:
    # the unnumbered sections after them must not become their children
    pp = read(tei_dir / "OS-IA-Pipegrobid" / "paper03.tei.xml")
    assert section(pp, "Extended Related Work").path == ["Extended Related Work"]
    assert section(pp, "Conclusion").path == ["Conclusion"]
