"""The offline query generator: deterministic templates over citing sentences, no model.

It makes one query per citing sentence, answered by exactly the entries that sentence cites.
Its questions are plainer than a model's; every record it makes says generator="offline-template".
"""

from __future__ import annotations

import re

from ..records import CitationContext

GENERATOR = "offline-template"
PROMPT_VERSION = "offline_v2"

_CITE = re.compile(r"\\cite\{([^}]*)\}")
# The callouts are the subject: "\cite{x} showed", "For example, (\cite{x}) and \cite{y} use".
_CALLOUT = r"\(?\\cite\{[^}]*\}\)?"
_CITE_SUBJECT = re.compile(rf"^(?:[A-Z][a-z]+(?:\s+[a-z]+){{0,3}},\s+)?{_CALLOUT}"
                           rf"(?:\s*(?:,\s*and|,|and|&)\s*{_CALLOUT})*\s+(?=[a-z])")
# Author-name subjects left after the callout is removed: "Smith et al. (2020) propose" etc.
_AUTHOR = r"[A-Z][\w'\-]*(?:\s+(?:and|&)\s+[A-Z][\w'\-]*|\s+et\s+al\.?)"
_AUTHOR_SUBJECT = re.compile(rf"^{_AUTHOR}(?:\s*(?:,\s*and|,|and|&)\s*{_AUTHOR})*\s+(?=[a-z])")
_GENERIC_SUBJECT = re.compile(
    r"^(?:a\s+large\s+body\s+of\s+)?"
    r"(?:(?:some|several|many|various|other|recent|prior|previous|earlier|existing|early|"
    r"subsequent)\s+)?"
    r"(?:(?:recent|prior|previous|existing|early|related|relevant)\s+)?"
    r"(?:works?|studies|papers|approaches|methods|models|efforts|researchers|authors|"
    r"techniques|systems|lines of work|research)\s+",
    re.I,
)
# PDF text glues list markers and run-in headings to the sentence: "(iii) ", "• ", "1. ".
_ENUMERATOR = re.compile(r"^(?:\((?:[ivx]+|[a-z]|\d+)\)|(?:\d+|[ivx]+)[.)]|[•·▪◦‣*–—-])\s+")
_HEADING = re.compile(r"^([^\s:\\][^:\\]{0,80}):\s+(?=[A-Z]|\\cite)")
_HEADING_WORD = re.compile(r"[A-Z0-9][\w\-'’/&+.]*|\([^()]*\)|a|an|the|of|for|in|on|and|or|to|"
                           r"with|as|via|vs\.?|from|by|at|into|&")
# Adverbs between a removed subject and its verb: "also explores" -> "also explore".
_ADVERBS = {"also", "further", "first", "then", "recently", "additionally", "often", "still"}
_LY_VERBS = {"apply", "rely", "reply", "supply", "multiply", "comply", "imply", "fly", "ally"}
_NOT_VERBS = {"always", "perhaps", "sometimes", "thus", "this", "its", "as", "whereas",
              "besides", "towards", "across", "nevertheless", "nonetheless", "afterwards"}
_IRREGULAR = {"has": "have", "is": "are", "was": "were", "does": "do", "focuses": "focus"}
# Sentence-initial words that are never names, so the fallback may lower-case them.
_FUNCTION_WORDS = {"the", "a", "an", "this", "these", "those", "our", "we", "in", "for", "on",
                   "to", "as", "at", "by", "with", "from", "it", "its", "one", "another", "both",
                   "each", "such", "there", "here", "while", "although", "unlike", "compared"}


def _clean(sentence: str) -> str:
    text = _CITE.sub(" ", sentence)
    text = re.sub(r"\(\s*[;,]?\s*\)|\[\s*\]", " ", text)  # brackets emptied by the cite removal
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:")
    text = re.sub(r"^(?:e\.g\.|i\.e\.|for example|for instance|in particular|similarly|"
                  r"moreover|however|further(?:more)?|in addition|also|recently),?\s+",
                  "", text, flags=re.I)
    # Ordinal lead-ins only with their comma: "First attempts at ..." is content.
    text = re.sub(r"^(?:finally|lastly|first(?:ly)?|second(?:ly)?|third(?:ly)?|next|"
                  r"additionally|likewise|notably|specifically),\s+", "", text, flags=re.I)
    text = _ENUMERATOR.sub("", text)  # "Finally, (v) general LLM evaluation ..."
    text = text.rstrip(".").strip(" ,;:")  # "etc., \cite{x}." ends in "etc.,"
    # A callout that ended the sentence leaves its preposition dangling: "... field of".
    text = re.sub(r"(?:,?\s+(?:of|in|by|and|or|to|with|as|from|for|on|such as|see|e\.g\.))+$",
                  "", text, flags=re.I)
    return text.rstrip(" ,;:")


def _is_title_heading(head: str) -> bool:
    words = re.findall(r"\([^()]*\)|\S+", head)
    return (len(words) <= 8 and head[:1].isupper()
            and all(_HEADING_WORD.fullmatch(w) for w in words))


def _plural(word: str) -> str:
    """The plural form of a third-person singular verb; anything else comes back unchanged."""
    lower = word.lower()
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if (not word.isalpha() or not word.islower() or len(word) < 4 or lower in _NOT_VERBS
            or not word.endswith("s") or word.endswith(("ss", "us", "is"))):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes", "oes")):
        return word[:-2]
    return word[:-1]  # "analyzes" -> "analyze": a -ze verb only takes "s"


def _agree(rest: str) -> str:
    """Make the verb after a removed singular subject agree with "Which papers"."""
    words = rest.split(" ")
    i = 0
    while i < len(words) - 1 and (words[i] in _ADVERBS or (
            words[i].endswith("ly") and len(words[i]) > 4 and words[i] not in _LY_VERBS)):
        i += 1
    if i < len(words):
        words[i] = _plural(words[i])
    return " ".join(words)


def _subject_question(sentence: str) -> str | None:
    """The question when the sentence's subject is the cited work, else None."""
    cited = _CITE_SUBJECT.match(sentence)
    if cited:
        rest = _clean(sentence[cited.end():])
        if rest[:1].islower() and len(rest.split()) >= 4:
            return f"Which papers {_agree(rest)}?"
        return None
    text = _clean(sentence)
    subject = _GENERIC_SUBJECT.match(text) or _AUTHOR_SUBJECT.match(text)
    return f"Which papers {_agree(text[subject.end():])}?" if subject else None


def _strip_lead(sentence: str) -> str:
    """Drop list markers and a Title Case run-in heading glued in front of the sentence."""
    while True:
        stripped = _ENUMERATOR.sub("", sentence.lstrip())
        head = _HEADING.match(stripped)
        if head and _is_title_heading(head.group(1)):
            stripped = stripped[head.end():]
        if stripped == sentence:
            return sentence
        sentence = stripped


def _lower_first(text: str) -> str:
    first, _, rest = text.partition(" ")
    is_name = (any(c.isupper() for c in first[1:])  # "LLMs", "BERT", "RepoGraph"
               or rest[:1].isupper())  # "Project Loong", "Group Relative Policy Optimization"
    if is_name and first.lower() not in _FUNCTION_WORDS:
        return text
    return text[0].lower() + text[1:]


def question_for(sentence: str) -> str | None:
    sentence = _strip_lead(sentence)
    text = _clean(sentence)
    if len(text.split()) < 4:
        return None
    question = _subject_question(sentence)
    if question:
        return question
    # Any short lead-in clause may go when a subject rule fits what follows it:
    # "Chain-of-thought can be unfaithful: \cite{x} demonstrated ..."
    head = _HEADING.match(sentence)
    if head and len(head.group(1).split()) <= 8:
        question = _subject_question(sentence[head.end():])
        if question:
            return question
    return f"Which papers are cited for the following: {_lower_first(text)}?"


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
