"""The query checks (generate/validate.py), each failing and passing, and how the generate
stage records what they drop."""

import json

import pytest

from autoscholar.config import Settings
from autoscholar.errors import LLMOutputError
from autoscholar.generate import checked_queries, validate
from autoscholar.records import BibEntry, CitationContext, Query, Reject, SourceMeta

ALL_REJECT = {name: "reject" for name in validate.CHECKS}


def context() -> CitationContext:
    refs = [
        BibEntry(key="k0", raw="Vladimir Karpukhin et al. Dense passage retrieval for "
                 "open-domain question answering. 2020.", authors=["Vladimir Karpukhin"],
                 title="Dense passage retrieval for open-domain question answering"),
        BibEntry(key="k1", raw="Kaiming He et al. Deep residual learning. 2016.",
                 authors=["He, Kaiming"], title="Deep residual learning for image recognition"),
        BibEntry(key="k2", raw="Brown et al. Language models are few-shot learners.",
                 authors=["Tom B. Brown"], title="Language models are few-shot learners"),
        BibEntry(key="k3", raw="Ba et al. Layer normalization.", authors=["Jimmy Lei Ba"],
                 title="Layer normalization"),
    ]
    return CitationContext(
        context_id="p:0", source=SourceMeta(paper_id="p"), section="Related Work",
        sentences=["Dense retrievers embed passages \\cite{k0}.",
                   "Residual connections ease deep training \\cite{k1,k3}.",
                   "Large decoders learn from demonstrations \\cite{k2}."],
        refs=refs)


def fails(check: str, question: str, keys: list[str]) -> bool:
    return validate.CHECKS[check](question, keys, context()) is not None


def test_unknown_key():
    assert fails("unknown-key", "Which papers embed passages densely?", ["k0", "zz"])
    assert not fails("unknown-key", "Which papers embed passages densely?", ["k0"])


def test_empty_and_long_questions():
    assert fails("empty-question", "  ", ["k0"])
    assert fails("empty-question", "Dense retrieval?", ["k0"])
    assert not fails("empty-question", "Which papers study dense retrieval?", ["k0"])
    long = "Which papers " + " ".join(["study"] * validate.MAX_WORDS) + "?"
    assert fails("long-question", long, ["k0"])
    assert not fails("long-question", "Which papers " + "x " * (validate.MAX_WORDS - 3), ["k0"])


def test_title_quoted_fuzzily_but_not_a_topic_or_a_short_title():
    # The title copied, with a case change and punctuation: caught.
    assert fails("title-in-question", "Any work on dense passage retrieval for open domain "
                 "question-answering?", ["k0"])
    # The same topic in the question's own words: passes.
    assert not fails("title-in-question", "Which papers retrieve passages with learned dense "
                     "embeddings to answer questions over Wikipedia?", ["k0"])
    # A short title is a term the question may use ("layer normalization").
    assert not fails("title-in-question", "Which works propose layer normalization for "
                     "training recurrent networks?", ["k3"])
    # Only the answers' titles count.
    assert not fails("title-in-question", "Any work on dense passage retrieval for open "
                     "domain question answering?", ["k2"])


def test_first_author_named_but_not_a_common_word():
    assert fails("author-in-question", "Which papers by Karpukhin train dense retrievers?", ["k0"])
    assert fails("author-in-question", "What did KARPUKHIN's group propose?", ["k0"])
    assert not fails("author-in-question", "Which papers by Karpukhinova train retrievers?",
                     ["k0"])  # word boundary
    # "He" (Kaiming He, printed "He, Kaiming") and "Brown" are words: not checked.
    assert not fails("author-in-question", "Which paper shows he can train deep networks?",
                     ["k1"])
    assert not fails("author-in-question", "Which papers prompt brown-field models?", ["k2"])
    assert validate.surname("He, Kaiming") == "He"
    assert validate.surname("Tom B. Brown") == "Brown"
    assert validate.surname("Vaswani et al.") == "Vaswani"


@pytest.mark.parametrize("question", [
    "Which papers propose dense retrieval and evaluate it on open-domain benchmarks?",
    "Which studies embed passages densely, and which of them use in-batch negatives?",
    "What works train retrievers or show that sparse scores suffice?",
    "Which papers pretrain encoders and are used to initialise retrievers?",
])
def test_multi_condition_fires_on_two_clauses(question):
    assert fails("multi-condition", question, ["k0"])


@pytest.mark.parametrize("question", [
    "Which papers align the input and output representations of sequence models?",
    "Which studies combine pruning and model compression for transformers?",
    "Which works study retrieval for question answering or fact checking?",
    "Which papers study detecting and tracking objects in video?",
])
def test_multi_condition_leaves_noun_pairs_alone(question):
    assert not fails("multi-condition", question, ["k0"])


def test_reject_flag_and_off_per_check():
    ctx = context()
    question = "Which papers propose dense retrieval and evaluate it on open-domain QA?"
    flagged = validate.check_query(question, ["k0"], ctx, {"multi-condition": "flag"})
    assert flagged.reason is None and flagged.flags == ["multi-condition"]
    dropped = validate.check_query(question, ["k0"], ctx, {"multi-condition": "reject"})
    assert dropped.reason == "multi-condition" and "and" in dropped.detail
    assert validate.check_query(question, ["k0"], ctx, {"multi-condition": "off"}).flags == []
    # unknown-key as a flag keeps the query with the cited keys only; off drops them silently.
    kept = validate.check_query("Which papers embed passages?", ["k0", "zz"], ctx,
                                {"unknown-key": "flag"})
    assert kept.reason is None and kept.keys == ["k0"] and kept.flags == ["unknown-key"]
    assert validate.check_query("Which papers embed passages?", ["zz"], ctx,
                                {"unknown-key": "off"}).reason == "unknown-key"


def test_a_partly_rejected_context_keeps_its_survivors_and_records_each_drop():
    ctx = context()
    settings = Settings(llm="m", query_checks=ALL_REJECT)
    pairs = [("Which papers train dense passage retrievers with in-batch negatives?", ["k0"]),
             ("Which papers by Karpukhin train retrievers?", ["k0"]),
             ("Which studies learn tasks from a few demonstrations in the prompt?", ["k2", "zz"])]
    out = checked_queries(ctx, pairs, settings, "raw", None)
    kept = [r for r in out if isinstance(r, Query)]
    dropped = [r for r in out if isinstance(r, Reject)]
    assert [q.query_id for q in kept] == ["p:0:0"]
    assert kept[0].cited_in == [0]
    assert [(r.key, r.query_id, r.reason) for r in dropped] == [
        ("p:0", "p:0:1", "author-in-question"), ("p:0", "p:0:2", "unknown-key")]
    assert "Karpukhin train" in dropped[0].detail
    line = json.loads(dropped[0].model_dump_json())
    assert line["query_id"] == "p:0:1"
    with pytest.raises(LLMOutputError) as err:
        checked_queries(ctx, pairs[1:], settings, "raw", None)
    assert err.value.reason == "author-in-question" and err.value.raw == "raw"
    assert "p:0:1 unknown-key" in str(err.value)  # numbered in the answer given


def test_new_fields_stay_out_of_the_json_while_empty():
    q = Query(query_id="p:0:0", context=context(), question="Which papers?",
              answer_keys=["k0"], generator="g", prompt_version="v")
    data = json.loads(q.model_dump_json())
    assert "flags" not in data and "cited_in" not in data
    assert "provenance" not in data["context"]
    assert "query_id" not in json.loads(Reject(stage="s", key="k", reason="no-query")
                                        .model_dump_json())
    flagged = q.model_copy(update={"flags": ["multi-condition"], "cited_in": [1]})
    assert Query.model_validate_json(flagged.model_dump_json()) == flagged


def test_query_checks_setting_overrides_named_checks_and_refuses_unknown_ones():
    s = Settings(query_checks={"multi-condition": "reject"})
    assert s.query_checks["multi-condition"] == "reject"
    assert s.query_checks["unknown-key"] == "reject"  # the defaults stay for the others
    with pytest.raises(ValueError, match="unknown check"):
        Settings(query_checks={"no-such-check": "off"})
