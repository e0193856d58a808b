"""Reference list splitting and entry parsing, on hand-written entries in the common styles."""

import pytest

from autoscholar.parse.pymupdf.bibliography import parse_bibliography, parse_entry, split_entries
from autoscholar.parse.pymupdf.layout import Line


@pytest.mark.parametrize("raw,title,authors,year", [
    # ACL / natbib with the year after the authors
    ("Iz Beltagy, Kyle Lo, and Arman Cohan. 2019. SciBERT: A pretrained language model for "
     "scientific text. In EMNLP.", "SciBERT: A pretrained language model for scientific text",
     ["Iz Beltagy", "Kyle Lo", "Arman Cohan"], 2019),
    # APA
    ("Walha, N., Gruber, S. G., and Buettner, F. (2025). Fine-grained uncertainty decomposition. "
     "arXiv preprint arXiv:2509.22272.", "Fine-grained uncertainty decomposition",
     ["Walha, N", "Gruber, S. G", "Buettner, F"], 2025),
    # NeurIPS / ICLR: year at the end
    ("Jack Lindsey. Emergent introspective awareness in large language models. 2025. URL "
     "https://transformer-circuits.pub/2025/introspection/index.html.",
     "Emergent introspective awareness in large language models", ["Jack Lindsey"], 2025),
    # LNCS: "Authors: Title. Venue (Year)" with back-references printed after it
    ("Zhang, Q., Chen, M., Zhao, T.: Adalora: Adaptive budget allocation for parameter-efficient "
     "finetuning. arXiv preprint arXiv:2303.10512 (2023) 3",
     "Adalora: Adaptive budget allocation for parameter-efficient finetuning",
     ["Zhang, Q", "Chen, M", "Zhao, T"], 2023),
    # IEEE with a quoted title
    ('A. Smith and B. Jones, "Dense passage retrieval," in Proc. TEST, 2020, pp. 1-9.',
     "Dense passage retrieval", ["A. Smith", "B. Jones"], 2020),
    # the title mentions a year; the entry's year is the one standing alone
    ("Ann Lee. 2018. SemEval-2017 task 10: ScienceIE. In Proceedings of SemEval.",
     "SemEval-2017 task 10: ScienceIE", ["Ann Lee"], 2018),
])
def test_parse_entry_styles(raw, title, authors, year):
    e = parse_entry(raw, "k")
    assert (e.title, e.authors, e.year) == (title, authors, year)


def test_arxiv_and_doi_extraction():
    e = parse_entry("X. Y. 2020. T. CoRR, abs/1810.04805v2. https://doi.org/10.18653/v1/N19-1423.", "k")
    assert e.arxiv_id == "1810.04805" and e.doi == "10.18653/v1/N19-1423"
    e = parse_entry("X. Y. 2007. Old. arXiv:cs/0701001.", "k")
    assert e.arxiv_id == "cs/0701001" and e.year == 2007
    assert parse_entry("X. Y. 2020. No ids here. In ACL.", "k").arxiv_id is None


def _ln(text, x, y, page=0, block=0, size=9.0):
    return Line(text, x, y, x + 200, y + size, size, False, False, page, block)


def test_split_numbered_entries():
    lines = [_ln("[1] A. Smith. First title. In ACL,", 50, 100), _ln("2020.", 60, 111),
             _ln("[2] B. Doe. Second title. 2019.", 50, 122), _ln("[3] C. Roe. Third. 2018.", 50, 133)]
    assert split_entries(lines) == [("1", "A. Smith. First title. In ACL, 2020."),
                                    ("2", "B. Doe. Second title. 2019."), ("3", "C. Roe. Third. 2018.")]
    assert [e.key for e in parse_bibliography(lines)] == ["ref1", "ref2", "ref3"]


def test_split_hanging_indent_across_columns():
    lines = [
        _ln("Jane Doe. 2019a. A rule-based parser", 50, 100), _ln("for documents. In DOC.", 60, 111),
        _ln("Jane Doe. 2019b. Rules for reading", 50, 122), _ln("order. In DOC.", 60, 133),
        _ln("Minh Lee and Ann Kim. 2018. Column", 50, 144),
        # the entry goes on at the top of the right column, indented
        _ln("detection in scanned papers. In ICDAR.", 310, 60),
        _ln("John Smith. 2020. Learning to read.", 300, 71), _ln("arXiv:2001.01234.", 310, 82),
    ]
    raws = [raw for _, raw in split_entries(lines)]
    assert raws == ["Jane Doe. 2019a. A rule-based parser for documents. In DOC.",
                    "Jane Doe. 2019b. Rules for reading order. In DOC.",
                    "Minh Lee and Ann Kim. 2018. Column detection in scanned papers. In ICDAR.",
                    "John Smith. 2020. Learning to read. arXiv:2001.01234."]
    assert [e.key for e in parse_bibliography(lines)] == ["doe2019a", "doe2019b", "lee2018", "smith2020"]


def test_split_by_vertical_gaps_without_indentation():
    lines = [_ln("Jane Doe. A parser. In DOC, 2019.", 50, 100, block=1),
             _ln("Minh Lee. Columns and rows in", 50, 118, block=2),
             _ln("scanned papers. In ICDAR, 2018.", 50, 129, block=2),
             _ln("John Smith. Reading. In ACL, 2020.", 50, 147, block=3)]
    assert [raw for _, raw in split_entries(lines)] == [
        "Jane Doe. A parser. In DOC, 2019.", "Minh Lee. Columns and rows in scanned papers. In ICDAR, 2018.",
        "John Smith. Reading. In ACL, 2020."]


def test_urls_broken_across_lines_are_rejoined():
    lines = [_ln("[1] A. Havrilla. Sparq, 2025. URL https://arxiv.", 50, 100), _ln("org/abs/2506.06499.", 60, 111),
             _ln("[2] CAMEL-AI.org. Loong, 2025. URL https:", 50, 122), _ln("//github.com/camel-ai/loong.", 60, 133),
             _ln("[3] C. Roe. Third. 2018.", 50, 144)]
    entries = parse_bibliography(lines)
    assert entries[0].raw.endswith("URL https://arxiv.org/abs/2506.06499.")
    assert entries[0].arxiv_id == "2506.06499"
    assert entries[1].raw.endswith("URL https://github.com/camel-ai/loong.")


def test_hyphens_at_line_ends_in_entries():
    lines = [_ln("[1] T. Saier. 2019. Bibliometric-", 50, 100),
             _ln("enhanced arXiv. In Workshop on Bibliometric-enhanced IR, 2019.", 60, 111),
             _ln("[2] N. Reimers. 2019. Sentence-", 50, 122), _ln("BERT: Sentence embeddings. 2019.", 60, 133),
             _ln("[3] A. Lee. 2020. A docu-", 50, 144), _ln("ment parser. 2020.", 60, 155)]
    entries = parse_bibliography(lines)
    # a compound printed whole elsewhere in the list keeps its hyphen; a capitalised second
    # part is a compound too; an ordinary word broken by the line is rejoined
    assert entries[0].title == "Bibliometric-enhanced arXiv"
    assert entries[1].title == "Sentence-BERT: Sentence embeddings"
    assert entries[2].title == "A document parser"


def test_acronym_compounds_keep_their_hyphen():
    entries = parse_bibliography([_ln("[1] P. Laban. 2022. SummaC: Re-visiting NLI-", 50, 100),
                                  _ln("based models for inconsistency detection. 2022.", 60, 111)])
    assert entries[0].title == "SummaC: Re-visiting NLI-based models for inconsistency detection"


def test_named_labels_are_not_authors():
    e = parse_entry("[Agichtein and Gravano, 2000] E. Agichtein and L. Gravano. Snowball: Extracting "
                    "relations from large plain-text collections. In Proc. of DL, 2000.", "a")
    assert e.authors == ["E. Agichtein", "L. Gravano"]
    assert e.title == "Snowball: Extracting relations from large plain-text collections"
    assert e.year == 2000
    assert parse_entry("[Smi20] J. Smith. A title of the paper. In ACL, 2020.", "s").authors == ["J. Smith"]


def test_question_titles_end_before_the_venue():
    e = parse_entry("Joon Son Chung, Amir Jamaludin, and Andrew Zisserman. 2017. You said that? arXiv "
                    "preprint arXiv:1705.02966 (2017).", "c")
    assert e.title == "You said that?" and e.arxiv_id == "1705.02966"
    e = parse_entry("Kevin Clark and Urvashi Khandelwal. 2019. What does BERT look at? An analysis of "
                    "BERT's attention. In BlackboxNLP.", "k")
    assert e.title == "What does BERT look at? An analysis of BERT's attention"


def test_years_before_1950():
    e = parse_entry("Claude E Shannon. A mathematical theory of communication. The Bell system technical "
                    "journal, 27(3):379–423, 1948.", "s")
    assert e.year == 1948 and e.title == "A mathematical theory of communication"


def test_long_author_lists_still_give_a_title():
    names = ", ".join(f"Author{i} Surname{i}" for i in range(60))
    e = parse_entry(f"{names}, and Kyle Lo. 2023. The Semantic Scholar Open Data Platform. ArXiv, "
                    "abs/2301.10140.", "k")
    assert e.title == "The Semantic Scholar Open Data Platform" and e.year == 2023
    assert len(e.authors) == 61 and e.arxiv_id == "2301.10140"
