"""Checks of each generated query against the passage it came from: pure functions.

Each check returns None (passes) or a one-line detail (fails). What a failure does is set per
check by Settings.query_checks: "reject" drops the query (a Reject with the check's name as
reason), "flag" keeps it with the name in Query.flags, "off" skips the check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from ..records import BibEntry, CitationContext

MAX_WORDS = 60  # PaSa's questions run 15-40 words; a term explained may add a clause
MIN_WORDS = 3
# Title quoting, measured with scripts/measure_query_checks.py on the offline queries of the
# demo and the 19 shared PDFs (questions built from the citing sentences, so they talk about
# the cited work as a passage does): against answer titles of 5+ words, partial_ratio has
# p99 77 and max 84 (376 pairs), against the context's other titles max 72; a copied title
# scores 100. Titles under 5 words are names or terms ("Layer normalization", "Long short-term
# memory", "Grobid") that reach 100 in honest questions, so they are not checked.
TITLE_THRESHOLD = 90.0
TITLE_MIN_WORDS = 5

# Surnames that are also everyday English words: a question may say "he", "long" or "young"
# without naming anyone.
COMMON_WORDS = frozenset("""
a an and are as at be by he her his i in is it its me my no of on or so the to up us we
all also art bell best bird black bond book brown bush can case chance child cook cross
day dean deep field fields fine fish ford fox frank free gold good grant gray green grey
hall hand hart hill holmes hope house hunt james king lake land lane law lee light little
long love low mark march mason may mills miller moon more moore new page park parks power
price rich rose round sharp short small snow song stone strong sun swift tan tree turner
very wall ward water way west white will wise wood woods young
""".split())


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def surname(author: str) -> str:
    """'Ashish Vaswani' -> 'Vaswani'; 'Vaswani, A.' -> 'Vaswani'; '' when none is printed."""
    author = re.sub(r"\bet\.?\s+al\.?", "", author).strip(" ,.")
    if "," in author:
        return author.split(",", 1)[0].strip()
    words = [w for w in author.split() if len(w.strip(".")) > 1 or not w.endswith(".")]
    return words[-1].strip(".") if words else ""


def _answers(keys: list[str], context: CitationContext) -> list[BibEntry]:
    by_key = {ref.key: ref for ref in context.refs}
    return [by_key[k] for k in keys if k in by_key]


def unknown_key(question: str, keys: list[str], context: CitationContext) -> str | None:
    known = {ref.key for ref in context.refs}
    unknown = [k for k in keys if k not in known]
    return f"answer keys not cited in the passage: {', '.join(unknown)}" if unknown else None


def empty_question(question: str, keys: list[str], context: CitationContext) -> str | None:
    words = len(question.split())
    return f"question has {words} words" if words < MIN_WORDS else None


def long_question(question: str, keys: list[str], context: CitationContext) -> str | None:
    words = len(question.split())
    return f"question has {words} words (more than {MAX_WORDS})" if words > MAX_WORDS else None


def title_in_question(question: str, keys: list[str], context: CitationContext) -> str | None:
    asked = normalize(question)
    for ref in _answers(keys, context):
        title = normalize(ref.title or "")
        if len(title.split()) < TITLE_MIN_WORDS:
            continue
        score = fuzz.partial_ratio(title, asked)
        if score >= TITLE_THRESHOLD:
            return f"question quotes the title of {ref.key} (partial ratio {score:.0f})"
    return None


def author_in_question(question: str, keys: list[str], context: CitationContext) -> str | None:
    for ref in _answers(keys, context):
        name = surname(ref.authors[0]) if ref.authors else ""
        if len(name) < 2 or name.lower() in COMMON_WORDS:
            continue
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", question, re.I):
            return f"question names {name}, first author of {ref.key}"
    return None


# Words that open a clause after "and"/"or": a second verb, a relative or an auxiliary. Verbs
# that double as nouns ("model", "study", "design", "train") are left out, so that noun pairs
# such as "input and output" or "pruning and model compression" stay one condition.
_VERBS = """
achieve address adapt adopt aim align analyze analyse apply assess augment avoid build
combine compare compress demonstrate derive describe detect develop distill employ enable
enhance estimate evaluate examine exploit explore extend extract generate handle identify
improve incorporate integrate introduce investigate leverage measure mitigate optimize
outperform perform predict present propose prove provide quantify reduce rely remove require
show simulate solve suggest tackle target utilize use validate yield
""".split()
_CLAUSE_START = frozenset(
    [*_VERBS, *(v + "s" for v in _VERBS if not v.endswith("s")),
     *(v[:-1] + "ies" for v in _VERBS if v.endswith("y") and v[-2] not in "aeiou"),
     *(v + "d" if v.endswith("e") else v + "ed" for v in _VERBS),
     "which", "that", "who", "whose", "where", "whether", "how", "what", "when", "why",
     "is", "are", "was", "were", "can", "could", "do", "does", "did", "has", "have", "had",
     "they", "it", "then", "also"])
_JOIN = re.compile(r"(?:,\s*|\s+)(and|or)\s+([A-Za-z]+)", re.I)


def multi_condition(question: str, keys: list[str], context: CitationContext) -> str | None:
    """Two conditions joined between clauses: "... propose X and evaluate it on Y?"."""
    for join in _JOIN.finditer(question):
        if join.group(2).lower() in _CLAUSE_START:
            return f"two conditions joined by {join.group(1)!r}: ...{join.group(0).strip()}..."
    return None


Check = Callable[[str, list[str], CitationContext], "str | None"]
CHECKS: dict[str, Check] = {
    "unknown-key": unknown_key,
    "empty-question": empty_question,
    "long-question": long_question,
    "title-in-question": title_in_question,
    "author-in-question": author_in_question,
    "multi-condition": multi_condition,
}


@dataclass
class Verdict:
    """A query after the checks: dropped (reason and detail of the first rejecting check) or
    kept, with the checks it failed as flags and its answers narrowed to known keys."""

    question: str
    keys: list[str]
    reason: str | None = None
    detail: str = ""
    flags: list[str] = field(default_factory=list)


def check_query(question: str, keys: list[str], context: CitationContext,
                actions: dict[str, str]) -> Verdict:
    verdict = Verdict(question, list(keys))
    for name, check in CHECKS.items():
        action = actions.get(name, "off")
        if action == "off":
            continue
        detail = check(question, keys, context)
        if detail is None:
            continue
        if action == "reject":
            verdict.reason, verdict.detail = name, detail
            return verdict
        verdict.flags.append(name)
    # Whatever the unknown-key check says, only cited keys may reach the answers.
    known = {ref.key for ref in context.refs}
    verdict.keys = [k for k in keys if k in known]
    if not verdict.keys:
        verdict.reason, verdict.detail = "unknown-key", unknown_key(question, keys, context) or ""
    return verdict
