"""Prompt building and output parsing: pure functions around the model (distilabel style)."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import LLMOutputError
from ..records import CitationContext
from ..resources import resource

PROMPT_VERSION = "generate_v2"
MAX_QUERIES = 5
MAX_SECTION_QUERIES = 15  # a whole section (--context-unit section) supports more questions


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # Length is for the checks (validate.py) to judge per question: one empty or rambling
    # question must not throw away the answer's other questions.
    question: str
    answer_keys: list[str] = Field(min_length=1)


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")
    queries: list[_Item]


def max_queries(context: CitationContext) -> int:
    return MAX_SECTION_QUERIES if context.provenance else MAX_QUERIES


def output_schema(keys: list[str] | None = None, limit: int = MAX_QUERIES) -> dict:
    """JSON schema for structured output (OpenAI / vLLM `response_format`). Given the
    context's bibliography keys, answers are an enum of them: a server that enforces the
    schema (OpenAI strict, llama.cpp's grammar) cannot return a key the paper does not cite."""
    key = {"type": "string", "enum": list(dict.fromkeys(keys))} if keys else {"type": "string"}
    item = {
        "type": "object",
        "properties": {
            "question": {"type": "string"},
            "answer_keys": {"type": "array", "items": key, "minItems": 1},
        },
        "required": ["question", "answer_keys"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"queries": {"type": "array", "items": item, "minItems": 1,
                                   "maxItems": limit}},
        "required": ["queries"],
        "additionalProperties": False,
    }


def template(version: str = PROMPT_VERSION) -> str:
    return resource("prompts", f"{version}.txt").read_text("utf-8")


def passage(context: CitationContext) -> str:
    """The context's text as the model reads it: a paragraph as one line; a section as its
    paragraphs, blank-line separated, a subsection's first one opened by its heading."""
    if not context.provenance:
        return context.text
    paragraphs: list[tuple[str, list[str]]] = []  # (heading path, sentences)
    last = None
    for sentence, where in zip(context.sentences, context.provenance):
        if (where.section, where.paragraph) != last:
            paragraphs.append((where.section, []))
            last = (where.section, where.paragraph)
        paragraphs[-1][1].append(sentence)
    out, heading = [], context.section
    for section, sentences in paragraphs:
        text = " ".join(sentences)
        if section != heading:
            heading = section
            text = f"Subsection: {section.removeprefix(context.section + ' > ')}\n{text}"
        out.append(text)
    return "\n\n".join(out)


def format_input(context: CitationContext, version: str = PROMPT_VERSION) -> list[dict]:
    bibliography = "\n".join(
        f"[{ref.key}] {ref.title or ref.raw}" + (f" ({ref.year})" if ref.year else "")
        for ref in context.refs
    )
    values = {
        "max_queries": str(max_queries(context)),
        "section": context.section,
        "bibliography": bibliography,
        "paragraph": passage(context).replace(">>>", "> > >"),
        "keys": ", ".join(dict.fromkeys(ref.key for ref in context.refs)),
    }
    # One pass over the template, not str.format or chained str.replace: the inserted text is
    # untrusted PDF text full of braces, and a "{paragraph}" printed in a heading or a reference
    # must stay text, not pull the paragraph out of its quotes.
    prompt = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template(version))
    return [{"role": "user", "content": prompt}]


_PLACEHOLDER = re.compile(r"\{(max_queries|section|bibliography|paragraph|keys)\}")


def _json_text(text: str) -> str:
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def format_output(text: str, context: CitationContext) -> list[tuple[str, list[str]]]:
    """(question, answer_keys) pairs as the model gave them, whitespace normalised, repeated
    keys and questions removed. Keys the passage does not cite stay in, for the unknown-key
    check (validate.py) to judge; an answer in which no query has a cited key is an error,
    so that the stage asks once more."""
    try:
        parsed = _Output.model_validate(json.loads(_json_text(text)))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise LLMOutputError(f"model output is not the expected JSON: {first}") from exc
    known = {ref.key for ref in context.refs}
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for item in parsed.queries[:max_queries(context)]:
        keys = list(dict.fromkeys(item.answer_keys))
        question = " ".join(item.question.split())
        if question.lower() not in seen:
            seen.add(question.lower())
            out.append((question, keys))
    if not any(k in known for _, keys in out for k in keys):
        raise LLMOutputError("model output has no query whose answers are in the bibliography")
    return out
