"""Reference list splitting and entry parsing, on hand-written entries in the common styles."""

import pytest

from autoscholar.parse.bibliography import parse_bibliography, parse_entry, split_entries
from autoscholar.parse.layout import Line


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
