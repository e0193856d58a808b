"""Callout finding, linking and sentence splitting (shared by the PyMuPDF and TEI readers)."""

from autoscholar.parse.citations import (
    Bibliography,
    cite_spans,
    entry_matches,
    find_author_year_callouts,
    find_callouts,
    find_numeric_callouts,
    link_author_year,
    link_numeric,
    split_sentences,
    surname_forms,
)
from autoscholar.records import BibEntry


def _e(key, raw, authors, year):
    return BibEntry(key=key, raw=raw, authors=authors, year=year)


BIB = [
    _e("smith2020", "John Smith, Ann Lee, and Bo Doe. 2020. A study.", ["John Smith", "Ann Lee"], 2020),
    _e("doe2019a", "Doe, J. (2019a). First.", ["Doe, J."], 2019),
    _e("doe2019b", "Doe, J. (2019b). Second.", ["Doe, J."], 2019),
    _e("oord2017", "Aaron van den Oord and Oriol Vinyals. 2017. VQ.", ["Aaron van den Oord"], 2017),
    _e("muller2021", "Jörg Müller. 2021. Umlauts.", ["Jörg Müller"], 2021),
    _e("lee2020", "Ann Lee. 2020. Other.", ["Ann Lee"], 2020),
]


def test_numeric_callouts_expand_ranges():
    assert find_numeric_callouts("see [12] and [3, 5-7] or [2–4]") == [
        (4, 8, [("", "12")]),
        (13, 21, [("", "3"), ("", "5"), ("", "6"), ("", "7")]),
        (25, 30, [("", "2"), ("", "3"), ("", "4")]),
    ]


def test_numeric_callouts_reject_intervals_and_huge_ranges():
    assert find_numeric_callouts("x in [0, 1] and [1-500]") == []


def test_author_year_forms():
    text = ("Prior work (Smith et al., 2020; Doe, 2019a) and Smith and Lee (2020) and "
            "Smith et al. [2020] and (Touvron et al., 2023a,b) and (e.g., Doe 2019b).")
    found = [(text[a:b], refs) for a, b, refs in find_author_year_callouts(text)]
    assert found == [
        ("(Smith et al., 2020; Doe, 2019a)", [("Smith", "2020"), ("Doe", "2019a")]),
        ("Smith and Lee (2020)", [("Smith", "2020")]),
        ("Smith et al. [2020]", [("Smith", "2020")]),
        ("(Touvron et al., 2023a,b)", [("Touvron", "2023a"), ("Touvron", "2023b")]),
        ("(e.g., Doe 2019b)", [("Doe", "2019b")]),
    ]


def test_words_in_parentheses_are_kept_apart_from_citations():
    text = "a model (BERT; Doe, 2019a) and the year (CVPR 2020)"
    found = [text[a:b] for a, b, _ in find_callouts(text)]
    assert found == ["Doe, 2019a", "(CVPR 2020)"]  # CVPR is found but links to nothing below
    assert [c.text for c in cite_spans(text, Bibliography(BIB))] == ["Doe, 2019a"]


def test_particles_need_a_word_boundary():
    text = "while Guo et al. (2025) did, van den Oord and Vinyals (2017) did too"
    assert [r for _, _, r in find_author_year_callouts(text)] == [
        [("Guo", "2025")], [("van den Oord", "2017")]]


def test_link_author_year_suffix_accents_and_first_author():
    assert link_author_year("Doe", "2019a", Bibliography(BIB)) == "doe2019a"
    assert link_author_year("Doe", "2019b", Bibliography(BIB)) == "doe2019b"
    assert link_author_year("van den Oord", "2017", Bibliography(BIB)) == "oord2017"
    assert link_author_year("Muller", "2021", Bibliography(BIB)) == "muller2021"
    # Lee is second author of smith2020 but first author of lee2020
    assert link_author_year("Lee", "2020", Bibliography(BIB)) == "lee2020"
    assert link_author_year("Nobody", "2020", Bibliography(BIB)) is None
    assert link_author_year("Smith", "2018", Bibliography(BIB)) is None


def test_link_numeric_uses_printed_labels():
    bib = [BibEntry(key="ref1", raw="x"), BibEntry(key="ref2", raw="y")]
    assert link_numeric("2", bib) == "ref2"
    assert link_numeric("3", bib) is None
    assert link_numeric("1", bib, labels={"1": "b0"}) == "b0"


def test_split_sentences_abbreviations_and_callouts():
    text = ("Smith et al. (2020) proposed it, e.g. for parsing. Fig. 2 shows J. Doe's result "
            "(Doe, 2019a). It works [1]. Next one.")
    bib = BIB + [BibEntry(key="ref1", raw="r")]
    sents = split_sentences(text, cite_spans(text, Bibliography(bib)))
    assert [s.text for s in sents] == [
        "Smith et al. (2020) proposed it, e.g. for parsing.",
        "Fig. 2 shows J. Doe's result (Doe, 2019a).",
        "It works [1].",
        "Next one.",
    ]
    for s in sents:  # offsets are rebased onto each sentence
        for c in s.cites:
            assert s.text[c.start:c.end] == c.text
    assert [c.keys for c in sents[1].cites] == [["doe2019a"]]


def test_split_never_inside_a_callout():
    text = "As shown (Smith et al., 2020. Doe, 2019a) here. Then more."
    spans = cite_spans(text, Bibliography(BIB))
    assert [s.text for s in split_sentences(text, spans)] == [
        "As shown (Smith et al., 2020. Doe, 2019a) here.", "Then more."]


def test_a_sentence_of_callouts_alone_joins_the_one_before():
    # "Decoupling strategy and generation \citep{he2018dnd}. \citep{fstod}." as a real
    # EMNLP submission prints it: the second callout is cited for the same topic.
    text = "Decoupling strategy and generation (Doe, 2019a). (Smith et al., 2020). Next one [1]. [2]."
    bib = BIB + [BibEntry(key="ref1", raw="r"), BibEntry(key="ref2", raw="s")]
    sents = split_sentences(text, cite_spans(text, Bibliography(bib)))
    assert [s.text for s in sents] == [
        "Decoupling strategy and generation (Doe, 2019a). (Smith et al., 2020).",
        "Next one [1]. [2].",
    ]
    assert [c.keys for c in sents[0].cites] == [["doe2019a"], ["smith2020"]]
    for s in sents:
        for c in s.cites:
            assert s.text[c.start:c.end] == c.text


def test_a_paragraph_that_opens_with_callouts_keeps_them_and_unlinked_text_stays_apart():
    text = "[1]. It works. (Nobody, 1999). Then more."
    spans = cite_spans(text, Bibliography(BIB + [BibEntry(key="ref1", raw="r")]))
    assert [s.text for s in split_sentences(text, spans)] == [
        "[1].", "It works.", "(Nobody, 1999).", "Then more."]


def test_name_list_that_swallowed_a_word_is_retried_from_the_real_first_author():
    bib = [BibEntry(key="saier2019", raw="Tarek Saier and Michael Färber. 2019. B.",
                    authors=["Tarek Saier"], year=2019)]
    text = "built from PubMed Central, Saier and Färber (2019) introduce it."
    assert [(c.text, c.keys) for c in cite_spans(text, Bibliography(bib))] == [("Saier and Färber (2019)", ["saier2019"])]


def test_surnames_match_as_whole_names_only():
    bib = [
        _e("chaudhary2025", "Sapana Chaudhary, Tim Lee. 2025. Safe RL.", ["Sapana Chaudhary", "Tim Lee"], 2025),
        _e("pang2025", "Tianyu Pang, Wei Chen. 2025. Other.", ["Tianyu Pang", "Wei Chen"], 2025),
        _e("zhao2019", "Wei Zhao, Min Lee, Jun Wu, Yang Liu. 2019. Fourth.",
           ["Wei Zhao", "Min Lee", "Jun Wu", "Yang Liu"], 2019),
    ]
    assert link_author_year("Pan", "2025", Bibliography(bib)) is None  # not "Sapana", not "Pang"
    assert link_author_year("Pang", "2025", Bibliography(bib)) == "pang2025"
    assert link_author_year("Liu", "2019", Bibliography(bib)) is None  # a 4th author is another paper
    assert link_author_year("Chen", "2025", Bibliography(bib)) == "pang2025"  # 2nd author: the fallback


def test_first_author_beats_second_author_of_another_entry():
    bib = [
        _e("a", "Wei Chen, Bo Li. 2021. X.", ["Wei Chen", "Bo Li"], 2021),
        _e("b", "Bo Li, Ann Ng. 2021. Y.", ["Bo Li", "Ann Ng"], 2021),
    ]
    assert link_author_year("Li", "2021", Bibliography(bib)) == "b"


def test_raw_entry_fills_in_when_authors_were_not_parsed():
    bib = [
        _e("ds", "DeepSeek-AI. Deepseek-r1: reasoning. 2025.", [], 2025),
        _e("gensim", "RadimŘehůřek and Petr Sojka. 2010. Gensim.", ["Petr Radimřehůřek", "Sojka"], 2010),
        _e("smith", "Smith JA, Doe K. Vancouver style. 2018.", [], 2018),
        _e("sap", "Sapana Chaudhary. 2020. Z.", [], 2020),
    ]
    assert link_author_year("DeepSeek-AI", "2025", Bibliography(bib)) == "ds"
    assert link_author_year("Řehůřek", "2010", Bibliography(bib)) == "gensim"  # glued given name split off
    assert link_author_year("Smith", "2018", Bibliography(bib)) == "smith"
    assert link_author_year("Pan", "2020", Bibliography(bib)) is None


def test_surname_forms():
    assert surname_forms("Aaron van den Oord") == {"oord", "denoord", "vandenoord", "aaronvandenoord"}
    assert surname_forms("Smith, J.") == {"smith"}
    assert "smith" in surname_forms("Smith JA")
    assert "wortmanvaughan" in surname_forms("J Wortman Vaughan")


def test_entry_matches_checks_name_and_year():
    e = _e("k", "Jörg Müller, Ann Lee. 2021. X.", ["Jörg Müller", "Ann Lee"], 2021)
    assert entry_matches("Müller", "2021a", e)
    assert entry_matches("Lee", "2021", e)
    assert not entry_matches("Müller", "2020", e)
    assert not entry_matches("Mull", "2021", e)
    undated = _e("u", "Jörg Müller. Untitled.", ["Jörg Müller"], None)
    assert entry_matches("Muller", "2019", undated)  # nothing printed rules the year out


def test_organisation_and_small_caps_author_year_callouts():
    bib = [_e("camel2025", "CAMEL-AI.org. Loong: long cots at scale, 2025.", ["CAMEL-AI.org"], 2025),
           _e("jimenez2023", "Carlos E. Jimenez and John Yang. SWE-bench. 2023.",
              ["Carlos E. Jimenez", "John Yang"], 2023)]
    text = ("Project Loong (CAMEL-AI.org, 2025) verifies answers. SWE-bench [JIMENEZ ET AL. 2023] "
            "is the benchmark [CODESEARCHNET, JIMENEZ ET AL. 2023].")
    spans = cite_spans(text, Bibliography(bib))
    assert [(s.text, s.keys) for s in spans] == [
        ("(CAMEL-AI.org, 2025)", ["camel2025"]), ("[JIMENEZ ET AL. 2023]", ["jimenez2023"]),
        ("JIMENEZ ET AL. 2023", ["jimenez2023"])]
    # a dot between words of a sentence is not part of a name
    assert find_author_year_callouts("as in Smith.Doe (2020)")[0][2] == [("Doe", "2020")]


def test_sentences_split_before_enumerators():
    text = "Some test it [25]. (ii) Others read text (e.g. (a) this one). Done."
    assert [s.text for s in split_sentences(text, [])] == [
        "Some test it [25].", "(ii) Others read text (e.g. (a) this one).", "Done."]


def test_year_span_callouts_link_to_the_entry_dated_by_the_same_span():
    from autoscholar.parse.pymupdf.bibliography import parse_entry

    bib = [parse_entry("Grobid. 2008–2023. Grobid. https://github.com/kermitt2/grobid.", "grobid"),
           parse_entry("The Pile Team (2020–present). The Pile. Online.", "pile"),
           parse_entry("A. Smith, B. Doe. Title of it. In Proc. 2019, pp. 2001-2010.", "smith")]
    assert [(e.year, e.title, e.authors) for e in bib] == [
        (2008, "Grobid", ["Grobid"]), (2020, "The Pile", ["The Pile Team"]),
        (2019, "Title of it", ["A. Smith", "B. Doe"])]  # a page range is no year span
    text = "For example, GROBID (Grobid, 2008–2023), a tool. Smith (2019) used it."
    assert [(s.text, s.keys) for s in cite_spans(text, Bibliography(bib))] == [
        ("(Grobid, 2008–2023)", ["grobid"]), ("Smith (2019)", ["smith"])]
    # a bare span of years with no name is not a citation
    assert find_callouts("in the years (2021-2023) we") == []


def test_bibliography_is_a_snapshot_of_its_entries():
    """Each paper's Bibliography answers for its own entries, whatever was linked before or
    how the caller's list changes afterwards (no hidden cache shared between papers)."""
    entries = list(BIB)
    first, other = Bibliography(entries), Bibliography([_e("x", "Ann Lee. 2020. X.", ["Ann Lee"], 2020)])
    assert link_author_year("Lee", "2020", other) == "x"
    assert link_author_year("Lee", "2020", first) == "lee2020"
    entries[5] = _e("y", "Bo Doe. 2020. Y.", ["Bo Doe"], 2020)  # same list, same length
    assert link_author_year("Lee", "2020", first) == "lee2020"
    assert link_author_year("Doe", "2020", first) is None
    assert link_author_year("Doe", "2020", Bibliography(entries)) == "y"
