import pytest

from autoscholar.arxiv.normalize import canonical_id, extract_arxiv_ids, id_month


@pytest.mark.parametrize("text, expected", [
    ("arXiv preprint arXiv:2106.09685v2, 2021", "2106.09685"),
    ("arXiv:2106.09685", "2106.09685"),
    ("ArXiv 1706.03762", "1706.03762"),
    ("arXiv: 2112.06028", "2112.06028"),
    ("https://arxiv.org/abs/1706.03762v5", "1706.03762"),
    ("http://arxiv.org/pdf/1706.03762v5.pdf", "1706.03762"),
    ("arxiv.org/abs/hep-th/9711200", "hep-th/9711200"),
    ("CoRR abs/1810.04805 (2018)", "1810.04805"),
    ("doi: 10.48550/arXiv.2201.02688", "2201.02688"),
    ("https://doi.org/10.48550/ARXIV.2201.02688", "2201.02688"),
    ("arXiv:hep-th/9901001v2", "hep-th/9901001"),
    ("[hep-th/9901001]", "hep-th/9901001"),
    ("cs/0501001", "cs/0501001"),
    ("arXiv:math.AG/0101001", "math/0101001"),
    ("cs.CL/0501001", "cs/0501001"),
    ("arXiv:0704.0001", "0704.0001"),
    ("e-print arXiv:astro-ph/9805201", "astro-ph/9805201"),
    (r"\\showeprint[arxiv]{2006.07397}~[cs.CV]", "2006.07397"),  # ACM .bbl
])
def test_every_id_form_is_found_without_version(text, expected):
    ids = extract_arxiv_ids(text)
    assert ids and ids[0][0] == expected
    assert ids[0][1] is True  # prefixed or old style: trusted


def test_bare_new_style_id_is_found_but_not_trusted():
    assert extract_arxiv_ids("Smith. Some paper. 1905.01234, 2019") == [("1905.01234", False)]


@pytest.mark.parametrize("text", [
    "Phys. Rev. D 95, 076006",
    "10.1007/1234.56789",  # a DOI suffix, not an id
    "1413.1234",  # month 13
    "0612.1234",  # before new-style ids existed
    "1501.1234",  # 2015 onwards ids have five digits
    "1412.12345",  # before 2015 ids have four digits
    "pages 1234.5678.90",
])
def test_things_that_are_not_ids(text):
    assert extract_arxiv_ids(text) == []


def test_several_ids_keep_order_and_deduplicate():
    text = "arXiv:1706.03762v1; see also https://arxiv.org/abs/1706.03762 and arXiv:1810.04805"
    assert [i for i, _ in extract_arxiv_ids(text)] == ["1706.03762", "1810.04805"]


def test_canonical_id_and_month():
    assert canonical_id("2106.09685v2") == "2106.09685"
    assert canonical_id("no id here") is None
    assert id_month("2106.09685") == (2021, 6)
    assert id_month("hep-th/9711200") == (1997, 11)
    assert id_month("math/0211159") == (2002, 11)
