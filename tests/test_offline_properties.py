"""Properties of the offline generator's questions, over generated sentences.

The example tests in test_generate.py pin chosen good outputs; these check what must hold for
every sentence instead of pinning whatever the templates happen to print for awkward input.
"""

import itertools
import re

import pytest

from autoscholar.generate import offline
from autoscholar.records import BibEntry, CitationContext

import factories

TAIL = "the limits of dense retrieval on long documents"
# third-person singular -> the form that agrees with "Which papers"
VERBS = [("shows", "show"), ("applies", "apply"), ("addresses", "address"),
         ("approaches", "approach"), ("analyzes", "analyze"), ("has studied", "have studied"),
         ("is about", "are about"), ("does not test", "do not test"), ("focuses on", "focus on"),
         ("proposes", "propose"), ("relies on", "rely on"), ("also explores", "also explore"),
         ("recently revisits", "recently revisit")]
# forms that already agree, or are no present-tense verb at all
KEPT = ["show", "apply", "proposed", "studied", "were about", "can measure", "always use",
        "perhaps overstate"]
SUBJECTS = ["\\cite{x}", "Recently, \\cite{x}", "\\cite{x} and \\cite{y}", "(\\cite{x})",
            "Smith et al. \\cite{x}", "Several works \\cite{x}", "Prior work \\cite{x}"]
NOT_VERBS = ["analysis", "always", "thus", "perhaps", "its", "this", "across", "towards",
             "status"]
# nouns ending in a plain -s are taken for verbs right after a removed callout subject
# ("\cite{x} series shows" -> "Which papers serie shows"): a known limit of the templates
_NOUN_AS_VERB = pytest.mark.xfail(strict=True, reason="a noun in -s after the subject is "
                                  "taken for a verb")
NOT_VERBS_CASES = [*itertools.product(SUBJECTS[:3], NOT_VERBS),
                   *(pytest.param(s, w, marks=_NOUN_AS_VERB)
                     for s in SUBJECTS[:3] for w in ("series", "news"))]


@pytest.mark.parametrize("subject, verb", list(itertools.product(SUBJECTS, VERBS)))
def test_singular_verbs_agree_with_which_papers(subject, verb):
    """The verb agrees; an adverb before it may stay or go ("also explore" / "explore":
    a sentence-initial "also" is dropped as a connective once the callout is removed)."""
    singular, plural = verb
    q = offline.question_for(f"{subject} {singular} {TAIL}.")
    verb_only = plural.split()[-1] if plural.split()[0] in ("also", "recently") else plural
    assert q in {f"Which papers {plural} {TAIL}?", f"Which papers {verb_only} {TAIL}?"}


@pytest.mark.parametrize("subject, verb", list(itertools.product(SUBJECTS, KEPT)))
def test_verbs_that_already_agree_are_kept(subject, verb):
    assert offline.question_for(f"{subject} {verb} {TAIL}.") == f"Which papers {verb} {TAIL}?"


def _words_may_only_lose_a_verb_ending(before: str, after: str) -> bool:
    a, b = before.split(), after.split()
    return len(a) == len(b) and all(
        x == y or x in ("has", "is", "was", "does") or x.endswith("s") and x.startswith(y[:-1])
        for x, y in zip(a, b))


@pytest.mark.parametrize("subject, word", NOT_VERBS_CASES)
def test_words_that_are_no_verbs_are_never_changed(subject, word):
    """Whatever follows the removed subject, a word that is no verb is never "agreed"
    ("analysis" does not become "analysi"), and only a verb ending may change."""
    rest = f"{word} shows {TAIL}"
    q = offline.question_for(f"{subject} {rest}.")
    assert q is not None and q.startswith("Which papers ") and q.endswith("?")
    body = q[len("Which papers "):-1]
    assert body.split()[0] == word
    assert _words_may_only_lose_a_verb_ending(rest, body)


BODIES = [
    "Several works have replaced recurrence with self-attention \\cite{b0}.",
    "\\cite{b1} showed that dense passage embeddings beat BM25 on open-domain benchmarks.",
    "Our backbone combines local filters with the receptive field of \\cite{b1, b2}.",
    "LLMs can be prompted to reason step by step \\cite{b0}.",
    "The Model Context Protocol (MCP) \\cite{b2} provides a standardized tool interface.",
    "Prior work also explores how to elicit causal inference behavior from LLMs \\cite{b0,b1}.",
    "In addition, (\\cite{b0}) and (\\cite{b1}) investigate patterns of missingness in ICU data.",
    "Faithfulness differs from fact verification in two ways: Summaries are long \\cite{b2}.",
    "First attempts at dense retrieval \\cite{b0} used dual encoders for passage ranking.",
    "Textbooks cover the basics of representation learning, e.g. \\cite{b2}.",
]
LEADS = ["", "(iii) ", "(a) ", "1. ", "ii) ", "• ", "– ", "- ", "Dense Retrieval: ",
         "Finally, ", "For example, ", "• Graph Methods: "]
_MARKER = re.compile(r"^(?:\(?[ivx\d]+[.)]|\([a-z]\)|[•·▪◦‣*–—-])\s")


@pytest.mark.parametrize("lead, body", list(itertools.product(LEADS, BODIES)))
def test_every_question_is_one_clean_which_question(lead, body):
    q = offline.question_for(lead + body)
    assert q is not None
    assert q == offline.question_for(lead + body)  # deterministic
    assert q.startswith("Which papers ") and q.endswith("?") and q.count("?") == 1
    rest = q[len("Which papers "):]
    assert "\\cite" not in q and "{" not in q and "}" not in q  # no leftover citation markers
    assert not _MARKER.match(rest) and "•" not in q  # no list markers
    assert "()" not in q and "[]" not in q and "  " not in q and " ?" not in q
    assert not re.search(r"\b(?:of|in|by|with|from|such as)\?$", q)  # nothing left dangling


@pytest.mark.parametrize("lead", [lead for lead in LEADS if lead.strip(" ") in
                                  {"(iii)", "(a)", "1.", "ii)", "•", "–", "-"}])
@pytest.mark.parametrize("body", BODIES)
def test_list_markers_do_not_change_the_question(lead, body):
    assert offline.question_for(lead + body) == offline.question_for(body)


def _context(sentences: list[str]) -> CitationContext:
    return factories.context([BibEntry(key=k, raw=f"Entry {k}. 2020.") for k in ("b0", "b1", "b2")],
                             sentences, title="A paper", venue="demo", year=2021)


@pytest.mark.parametrize("start", range(len(BODIES)))
def test_answers_are_the_context_keys_the_sentence_cites(start):
    sentences = [lead + body for lead, body in zip(LEADS, BODIES[start:] + BODIES[:start])]
    sentences.append("A sentence that cites an entry outside the context \\cite{zz}.")
    ctx = _context(sentences)
    pairs = offline.generate(ctx)
    assert pairs == offline.generate(ctx)  # deterministic
    assert pairs  # every context sentence cites a known key
    known = {r.key for r in ctx.refs}
    questions = [q.lower() for q, _ in pairs]
    assert len(questions) == len(set(questions))  # no question twice
    for question, keys in pairs:
        cited = next(s for s in sentences if offline.question_for(s) == question)
        in_sentence = [k for g in re.findall(r"\\cite\{([^}]*)\}", cited) for k in g.split(",")]
        assert keys and set(keys) <= known and set(keys) <= {k.strip() for k in in_sentence}
        assert len(keys) == len(set(keys))
