import datetime as dt

import pytest

import factories
from arxiv_fixture import PAPERS, rec
from autoscholar.arxiv.index import build_index_from_records, load_index
from autoscholar.arxiv.resolve import resolve, resolve_raw
from autoscholar.match import match_query
from autoscholar.records import BibEntry

# Two different papers with one title and no authors: only an id can tell them apart.
TWINS = [rec("2001.00011", "A Survey of Graph Neural Networks for Recommendation", [], "Fri, 3 Jan 2020 10:00:00 GMT"),
         rec("2002.00022", "A Survey of Graph Neural Networks for Recommendation", [], "Mon, 3 Feb 2020 10:00:00 GMT")]
# A short title that is a phrase inside a longer one.
SHORT = [rec("1901.00033", "Residual Learning", [("Ann", "Other")], "Wed, 2 Jan 2019 10:00:00 GMT")]
# A paper whose title prints another paper's id and holds its title (synthetic record).
COMMENT = [rec("1801.00044", "Comment on arXiv:1706.03762: Attention Is All You Need",
               [("Bea", "Critic")], "Mon, 1 Jan 2018 10:00:00 GMT")]

# A record without authors, and an author's paper whose next year's paper differs by one word.
NO_AUTHORS = [rec("2003.00055", "Graph Neural Networks for Molecules", [], "Mon, 2 Mar 2020 10:00:00 GMT")]
SERIES = [rec("2104.00066", "Fast Transformer Inference at Scale", [("Ada", "Lovelace")],
              "Thu, 1 Apr 2021 10:00:00 GMT")]
# A bad catalogue record whose title is an author list.
NAMES = [rec("1905.00077", "Narayan et al", [], "Wed, 1 May 2019 10:00:00 GMT"),
         # An author field "Rongjie Huang et.al.": "et al" is no surname that agrees.
         {**rec("2305.00088", "Unified Voice Synthesis With Discrete Representation", [], "Tue, 30 May 2023 10:00:00 GMT",
                parsed=False), "authors": "Rongjie Huang et.al."}]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "index"
    build_index_from_records(PAPERS + TWINS + SHORT + COMMENT + NO_AUTHORS + SERIES + NAMES, out)
    return load_index(out)


@pytest.mark.parametrize("raw, arxiv_id", [
    ("E. J. Hu et al. LoRA. arXiv:2106.09685v2, 2021.", "2106.09685"),
    ("Hu et al., https://arxiv.org/abs/2106.09685", "2106.09685"),
    ("Devlin et al. 2019. BERT. CoRR abs/1810.04805.", "1810.04805"),
    ("J. Maldacena, Adv. Theor. Math. Phys. 2 (1998) 231 [hep-th/9711200].", "hep-th/9711200"),
    ("Maldacena, doi:10.48550/arXiv.hep-th/9711200", "hep-th/9711200"),
])
def test_id_path(index, raw, arxiv_id):
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method, res.score) == (arxiv_id, "arxiv-id", 100.0)
    assert res.first_version is not None


def test_id_inside_a_title_is_not_the_cited_paper(index):
    # The commented paper's row comes first and its title is in the string too.
    raw = "B. Critic. Comment on arXiv:1706.03762: Attention is all you need. 2018."
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method) == ("1801.00044", "exact-title")


def test_mistyped_id_loses_to_the_printed_title(index):
    raw = "K. He, X. Zhang. Deep residual learning for image recognition. CVPR 2016. arXiv:1706.03762"
    assert resolve_raw(raw, index).arxiv_id == "1512.03385"
    # No title printed (physics style): the id stands when its authors are the printed ones ...
    assert resolve_raw("A. Vaswani et al., NIPS 2017, arXiv:1706.03762", index).arxiv_id == "1706.03762"
    # ... and not when they are others: the id is mistyped or names another paper.
    res = resolve_raw("K. He et al., CVPR 2016, arXiv:1706.03762", index)
    assert (res.arxiv_id, res.reason) == (None, "id-author-mismatch")


def test_id_from_entry_fields(index):
    res = resolve(BibEntry(key="b1", raw="Some text", arxiv_id="1512.03385"), index)
    assert (res.arxiv_id, res.method) == ("1512.03385", "arxiv-id")


def test_id_not_in_index_falls_back_to_title(index):
    res = resolve_raw("K. He et al. Deep residual learning for image recognition. arXiv:1599.99999", index)
    assert (res.arxiv_id, res.method) == ("1512.03385", "exact-title")
    # Nothing in the index: the printed id is kept, unverified, dated by its YYMM.
    res = resolve_raw("X. Nobody. Unknown things about soil. arXiv:2201.99999", index)
    assert (res.arxiv_id, res.method, res.first_version) == ("2201.99999", "printed-id-unverified",
                                                              dt.date(2022, 1, 1))
    assert res.title == "Unknown things about soil"
    # A bare number is not a printed id: it may be a report number or pages.
    res = resolve_raw("X. Nobody. Unknown things about soil. Tech. Rep. 2201.99999", index)
    assert (res.arxiv_id, res.reason) == (None, "not-in-index")


def test_bare_number_needs_agreement(index):
    # 1706.03762 printed as a bare number next to an unrelated title and authors: not a link.
    res = resolve_raw("Z. Q. Unrelated. Soil chemistry of Mars. Icarus 1706.03762 (2019).", index)
    assert res.arxiv_id is None


@pytest.mark.parametrize("raw", [
    "A. Vaswani, N. Shazeer, N. Parmar et al. Attention is all you need. In NeurIPS, 2017.",
    "Vaswani A, Shazeer N (2017) Attention is all you need. Adv Neural Inf Process Syst 30",
    "Vaswani, A., et al.: Attention Is All You Need. In: NIPS (2017)",
    "A. Vaswani et al., “Attention is all you need,” in Proc. NIPS, 2017, pp. 5998–6008.",
])
def test_exact_title_inside_raw(index, raw):
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method, res.score) == ("1706.03762", "exact-title", 100.0)


def test_exact_title_with_latex_and_hyphen_break(index):
    raw = r"J. Devlin, M.-W. Chang. {BERT}: Pre- training of deep bidirectional trans- formers for language understanding. NAACL 2019."
    assert resolve_raw(raw, index).arxiv_id == "1810.04805"


def test_parsed_title_field(index):
    entry = BibEntry(key="b2", raw="Kingma and Ba 2015", title="Adam: a method for stochastic optimization",
                     authors=["D. P. Kingma", "J. Ba"], year=2015)
    res = resolve(entry, index)
    assert (res.arxiv_id, res.method) == ("1412.6980", "exact-title")


def test_fuzzy_title(index):
    # "nets" vs "networks": one word differs; its authors and year agree, so it is this paper ...
    raw = "Goodfellow, I., Pouget-Abadie, J. et al.: Generative adversarial nets. In: NIPS (2014)"
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method) == ("1406.2661", "fuzzy-title")
    # ... not without its authors, nor in another year (then it is another paper of theirs).
    assert resolve_raw("Smith, J.: Generative adversarial nets. In: NIPS (2014)", index).arxiv_id is None
    assert resolve_raw("Goodfellow, I.: Generative adversarial nets. In: NIPS (2016)", index).arxiv_id is None
    raw = "K. He, X. Zhang, S. Ren, J. Sun. Deep residul learning for imag recognition. CVPR 2016."
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method) == ("1512.03385", "fuzzy-title")
    assert 90 <= res.score < 100
    assert resolve_raw(raw, index, threshold=99.5).reason == "below-threshold"
    # Authors and year are evidence: the same misspelt title alone scores lower.
    alone = resolve_raw("Deep residul learning for imag recognition.", index)
    assert alone.arxiv_id is None and 80 < alone.score < res.score


def test_author_must_agree(index):
    # The same title by other people (and an early year) is not this paper.
    res = resolve_raw("P. Q. Someone. Deep residual learning for image recognition. Tech report, 2003.", index)
    assert res.arxiv_id is None


def test_year_far_before_first_version_is_rejected(index):
    res = resolve_raw("K. He, J. Sun. Deep residual learning for image recognition. 2009.", index)
    assert res.arxiv_id is None
    res = resolve_raw("K. He, J. Sun. Deep residual learning for image recognition. 2014.", index)  # 1 year: fine
    assert res.arxiv_id == "1512.03385"


def test_ambiguous_twins(index):
    res = resolve_raw("A survey of graph neural networks for recommendation. 2020.", index)
    assert (res.arxiv_id, res.reason) == (None, "ambiguous")
    res = resolve_raw("A survey of graph neural networks for recommendation. arXiv:2002.00022", index)
    assert res.arxiv_id == "2002.00022"


def test_longer_title_wins_over_a_phrase_of_it(index):
    res = resolve_raw("K. He, A. Other. Deep residual learning for image recognition. CVPR 2016", index)
    assert res.arxiv_id == "1512.03385"


def test_unresolved_reasons(index):
    assert resolve_raw("", index).reason == "no-title"
    assert resolve_raw("Ibid.", index).reason == "no-title"
    res = resolve_raw("T. Nobody. A completely different topic about soil. Journal of Dirt, 1999.", index)
    assert res.arxiv_id is None and res.reason == "not-in-index"


def _query(refs, keys, published):
    return factories.query(factories.context(refs, title="Source", published=published), keys)


def test_match_query_dedup_leakage_and_order(index):
    refs = [
        BibEntry(key="b1", raw="Vaswani et al. Attention is all you need. NIPS 2017."),
        BibEntry(key="b2", raw="Hu et al. LoRA. arXiv:2106.09685"),  # newer than the source
        BibEntry(key="b3", raw="Devlin et al. BERT. arXiv:1810.04805v1"),
        BibEntry(key="b4", raw="Devlin et al. BERT. arXiv:1810.04805v2"),  # same paper again
        BibEntry(key="b5", raw="T. Nobody. Soil and dirt. Journal of Dirt, 1999."),
        BibEntry(key="b6", raw="A survey of graph neural networks for recommendation. 2020."),
    ]
    mq = match_query(_query(refs, ["b3", "b1", "b2", "b4", "b5", "b6"], dt.date(2020, 1, 1)), index)
    assert [(a.key, a.arxiv_id, a.method) for a in mq.answers] == [
        ("b3", "1810.04805", "arxiv-id"), ("b1", "1706.03762", "exact-title")]
    assert {(d.key, d.reason) for d in mq.dropped} == {
        ("b2", "newer-than-source"), ("b4", "duplicate"), ("b5", "not-on-arxiv"), ("b6", "ambiguous")}
    assert mq.answers[1].first_version == dt.date(2017, 6, 12)
    assert all(d.raw for d in mq.dropped)


def test_match_query_without_publication_date_keeps_answers(index):
    refs = [BibEntry(key="b2", raw="Hu et al. LoRA. arXiv:2106.09685")]
    mq = match_query(_query(refs, ["b2"], None), index)
    assert [a.arxiv_id for a in mq.answers] == ["2106.09685"]


def test_without_a_date_the_source_year_still_bounds_the_answers(index):
    refs = [BibEntry(key="b2", raw="Hu et al. LoRA. arXiv:2106.09685"),  # first version 2021
            BibEntry(key="b3", raw="Devlin et al. BERT. arXiv:1810.04805")]
    query = _query(refs, ["b2", "b3"], None)
    query.context.source.year = 2020
    mq = match_query(query, index)
    assert [a.arxiv_id for a in mq.answers] == ["1810.04805"]
    assert [(d.key, d.reason) for d in mq.dropped] == [("b2", "newer-than-source")]
    query.context.source.year = 2021
    assert [a.arxiv_id for a in match_query(query, index).answers] == ["2106.09685", "1810.04805"]


# ---------------------------------------------------------------- issue 11's failure classes


@pytest.mark.parametrize("raw, arxiv_id", [
    # The citation drops the record's subtitle, or prints only the subtitle ...
    ("J. Devlin, M.-W. Chang, K. Lee, K. Toutanova. BERT. In NAACL, 2019.", "1810.04805"),
    ("Devlin, J., Lee, K.: Pre-training of deep bidirectional transformers for language "
     "understanding. In: NAACL (2018)", "1810.04805"),
    # ... or adds one the record lacks.
    ("K. He, X. Zhang. Deep residual learning for image recognition: an empirical study. CVPR 2016.",
     "1512.03385"),
    # A short title with a subtitle, by its own authors.
    ("A. Other. Residual learning: from theory to practice. 2019.", "1901.00033"),
])
def test_subtitle_at_a_colon_links_when_authors_and_year_agree(index, raw, arxiv_id):
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method) == (arxiv_id, "title-subtitle")


@pytest.mark.parametrize("raw", [
    "J. Smith, K. Brown. BERT. In NAACL, 2019.",  # other authors
    "J. Devlin, K. Lee. BERT. In NAACL, 2023.",  # a year far from the record's
    "P. Q. Someone. Deep residual learning for image recognition: an empirical study. 2016.",
    # A short catalogue title inside a longer printed one: other authors, or none printed.
    "B. Nobody, C. Elsewhere. Residual learning: from theory to practice. 2019.",
    "Residual learning: from theory to practice. 2019.",
])
def test_subtitle_at_a_colon_refused_without_agreement(index, raw):
    assert resolve_raw(raw, index).arxiv_id is None


def test_records_without_authors_link_on_the_whole_title_only(index):
    res = resolve_raw("X. Y. Someone. Graph neural networks for molecules. In ICML, 2020.", index)
    assert (res.arxiv_id, res.method) == ("2003.00055", "exact-title")
    res = resolve_raw("X. Y. Someone. Graph neural network for molecules. In ICML, 2020.", index)
    assert res.arxiv_id == "2003.00055"  # a misspelt whole title is still the whole title
    for raw in ("X. Y. Someone. Graph neural networks for molecules: a survey. In ICML, 2020.",
                "X. Y. Someone. Graph neural networks for molecules and proteins. In ICML, 2020."):
        assert resolve_raw(raw, index).arxiv_id is None, raw


def test_one_changed_word_needs_its_authors_and_year(index):
    res = resolve_raw("A. Lovelace. Sparse transformer inference at scale. In ICML, 2021.", index)
    assert (res.arxiv_id, res.method) == ("2104.00066", "fuzzy-title")
    # The same author's paper of the next year, whose title shares all words but the first:
    # another paper, which the index does not hold.
    assert resolve_raw("A. Lovelace. Sparse transformer inference at scale. In ICML, 2022.", index).arxiv_id is None
    assert resolve_raw("B. Babbage. Sparse transformer inference at scale. In ICML, 2021.", index).arxiv_id is None
    # Misspelt, not changed: a later year is the published version.
    res = resolve_raw("A. Lovelace. Fast transformer inferense at scale. In ICML, 2022.", index)
    assert res.arxiv_id == "2104.00066"


def test_id_whose_record_names_other_authors_yields_to_the_title(index):
    raw = "K. He, X. Zhang. Deep residul learning for imag recognition. CVPR 2016. arXiv:1810.04805"
    res = resolve_raw(raw, index)
    assert (res.arxiv_id, res.method, res.flags) == ("1512.03385", "fuzzy-title", ["id-author-mismatch"])
    res = resolve(BibEntry(key="b", raw=raw), index, id_author_mismatch="id")
    assert (res.arxiv_id, res.method, res.flags) == ("1810.04805", "arxiv-id", ["id-author-mismatch"])
    # The id's own authors printed, or its own title: no doubt.
    res = resolve_raw("J. Devlin, K. Lee. Some garbled text. arXiv:1810.04805", index)
    assert (res.arxiv_id, res.flags) == ("1810.04805", [])
    res = resolve_raw("Z. Other. BERT: pre-training of deep bidirectional transformers for language "
                      "understanding. arXiv:1810.04805", index)
    assert (res.arxiv_id, res.flags) == ("1810.04805", [])


def test_printed_id_policies_and_the_leak_rule(index):
    refs = [BibEntry(key="u", raw="X. Nobody. Unknown things about soil. arXiv:2201.99999"),
            BibEntry(key="m", raw="K. He et al., CVPR 2016, arXiv:1706.03762")]
    published = dt.date(2022, 3, 1)
    mq = match_query(_query(refs, ["u", "m"], published), index)
    assert [(a.arxiv_id, a.method, a.title) for a in mq.answers] == [
        ("2201.99999", "printed-id-unverified", "Unknown things about soil")]
    assert [(d.key, d.reason) for d in mq.dropped] == [("m", "id-author-mismatch")]
    # Its YYMM after the source paper: a leak like any other.
    mq = match_query(_query(refs[:1], ["u"], dt.date(2021, 12, 31)), index)
    assert [(d.reason, d.arxiv_id) for d in mq.dropped] == [("newer-than-source", "2201.99999")]
    mq = match_query(_query(refs[:1], ["u"], published), index, printed_id="drop")
    assert mq.answers == [] and [(d.reason, d.arxiv_id) for d in mq.dropped] == [("id-not-in-index", "2201.99999")]
    asked = []
    mq = match_query(_query(refs[:1], ["u"], published), index, printed_id="verify",
                     verify=lambda ident: asked.append(ident))
    assert asked == ["2201.99999"] and [d.reason for d in mq.dropped] == ["not-on-arxiv"]


def test_flags_reach_the_answer(index):
    refs = [BibEntry(key="f", raw="K. He, X. Zhang. Deep residul learning for imag recognition. "
                                  "CVPR 2016. arXiv:1810.04805")]
    mq = match_query(_query(refs, ["f"], dt.date(2020, 1, 1)), index)
    assert [(a.arxiv_id, a.flags) for a in mq.answers] == [("1512.03385", ["id-author-mismatch"])]


def test_a_record_titled_with_an_author_list_is_no_title(index):
    assert resolve_raw("S. Narayan et al. Soil moisture retrieval from radar. 2019.", index).arxiv_id is None
    assert resolve_raw("Narayan et al. 2019.", index).arxiv_id is None
    # Found by its printed id it stands, under the printed title.
    res = resolve_raw("S. Narayan et al. Soil moisture retrieval from radar. arXiv:1905.00077", index)
    assert (res.arxiv_id, res.title) == ("1905.00077", "Soil moisture retrieval from radar")


def test_et_al_in_a_catalogue_author_field_is_no_author(index):
    res = resolve_raw("Fan Dai et al (2021) Symmetric undistortion networks. ICML. arXiv:2305.00088", index)
    assert (res.arxiv_id, res.reason) == (None, "id-author-mismatch")
    res = resolve_raw("R. Huang et al. Unified voice synthesis. arXiv:2305.00088", index)
    assert res.arxiv_id == "2305.00088"
