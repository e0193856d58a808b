"""Prompt building and output parsing: pure functions around the model (distilabel style)."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import LLMOutputError
from ..records import CitationContext
from ..resources import resource

PROMPT_VERSION = "generate_v1"
MAX_QUERIES = 5
MAX_QUESTION_CHARS = 400


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str = Field(min_length=8, max_length=MAX_QUESTION_CHARS)
    answer_keys: list[str] = Field(min_length=1)


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")
    queries: list[_Item]


def output_schema(keys: list[str] | None = None) -> dict:
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
                                   "maxItems": MAX_QUERIES}},
        "required": ["queries"],
        "additionalProperties": False,
    }


def template(version: str = PROMPT_VERSION) -> str:
    return resource("prompts", f"{version}.txt").read_text("utf-8")


def format_input(context: CitationContext, version: str = PROMPT_VERSION) -> list[dict]:
    bibliography = "\n".join(
        f"[{ref.key}] {ref.title or ref.raw}" + (f" ({ref.year})" if ref.year else "")
        for ref in context.refs
    )
    values = {
        "max_queries": str(MAX_QUERIES),
        "section": context.section,
        "bibliography": bibliography,
        "paragraph": context.text.replace(">>>", "> > >"),
    }
    # One pass over the template, not str.format or chained str.replace: the inserted text is
    # untrusted PDF text full of braces, and a "{paragraph}" printed in a heading or a reference
    # must stay text, not pull the paragraph out of its quotes.
    prompt = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template(version))
    return [{"role": "user", "content": prompt}]


_PLACEHOLDER = re.compile(r"\{(max_queries|section|bibliography|paragraph)\}")


def _json_text(text: str) -> str:
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def format_output(text: str, context: CitationContext) -> list[tuple[str, list[str]]]:
    """Validated (question, answer_keys) pairs. Keys not in the paragraph's refs are removed:
    answers may only come from the paper's own bibliography."""
    try:
        parsed = _Output.model_validate(json.loads(_json_text(text)))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise LLMOutputError(f"model output is not the expected JSON: {first}") from exc
    known = [ref.key for ref in context.refs]
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for item in parsed.queries[:MAX_QUERIES]:
        keys = [k for k in dict.fromkeys(item.answer_keys) if k in known]
        question = " ".join(item.question.split())
        if keys and question.lower() not in seen:
            seen.add(question.lower())
            out.append((question, keys))
    if not out:
        raise LLMOutputError("model output has no query whose answers are in the bibliography")
    return out
