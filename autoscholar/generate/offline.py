"""The offline query generator: deterministic templates over citing sentences, no model.

It makes one query per citing sentence, answered by exactly the entries that sentence cites.
Its questions are plainer than a model's; every record it makes says generator="offline-template".
"""

from __future__ import annotations

import re

from ..records import CitationContext

GENERATOR = "offline-template"
PROMPT_VERSION = "offline_v1"

_CITE = re.compile(r"\\cite\{([^}]*)\}")
_CITE_SUBJECT = re.compile(r"^(?:[A-Z][a-z]+,\s+)?\\cite\{[^}]*\}\s+[a-z]")
# Author-name subjects left after the callout is removed: "Smith et al. (2020) propose" etc.
_AUTHOR = r"[A-Z][\w'\-]*(?:\s+(?:and|&)\s+[A-Z][\w'\-]*|\s+et\s+al\.?)"
_AUTHOR_SUBJECT = re.compile(rf"^{_AUTHOR}(?:\s*(?:,\s*and|,|and|&)\s*{_AUTHOR})*\s+(?=[a-z])")
_GENERIC_SUBJECT = re.compile(
    r"^(?:(?:some|several|many|various|other|recent|prior|previous|earlier|existing|early)\s+)?"
    r"(?:(?:recent|prior|previous|existing|early|related)\s+)?"
    r"(?:works?|studies|papers|approaches|methods|models|efforts|researchers|authors|"
    r"techniques|systems|lines of work|research)\s+",
    re.I,
)


def _clean(sentence: str) -> str:
    text = _CITE.sub(" ", sentence)
    text = re.sub(r"\(\s*[;,]?\s*\)|\[\s*\]", " ", text)  # brackets emptied by the cite removal
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:")
    text = re.sub(r"^(?:e\.g\.|i\.e\.|for example|for instance|in particular|similarly|"
                  r"moreover|however|further(?:more)?|in addition|also|recently),?\s+",
                  "", text, flags=re.I)
    text = text.rstrip(".").strip()
    # A callout that ended the sentence leaves its preposition dangling: "... field of".
    return re.sub(r"(?:,?\s+(?:of|in|by|and|or|to|with|as|from|for|on|such as|see|e\.g\.))+$",
                  "", text, flags=re.I)


def question_for(sentence: str) -> str | None:
    text = _clean(sentence)
    if len(text.split()) < 4:
        return None
    if _CITE_SUBJECT.match(sentence) and text[:1].islower():
        # "\cite{x} showed that ..." : the cited works are the sentence's subject.
        return f"Which papers {text}?"
    generic = _GENERIC_SUBJECT.match(text)
    if generic:
        return f"Which papers {text[generic.end():]}?"
    named = _AUTHOR_SUBJECT.match(text)
    if named:
        return f"Which papers {text[named.end():]}?"
    return f"Which papers are cited for the following: {text[0].lower() + text[1:]}?"


def generate(context: CitationContext) -> list[tuple[str, list[str]]]:
    """(question, answer_keys) for each citing sentence of the context."""
    known = {ref.key for ref in context.refs}
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for sentence in context.sentences:
        keys: list[str] = []
        for group in _CITE.findall(sentence):
            keys.extend(k for k in group.split(",") if k in known and k not in keys)
        question = question_for(sentence) if keys else None
        if question and question.lower() not in seen:
            seen.add(question.lower())
            out.append((question, keys))
    return out
