"""generate stage: citation context -> queries whose answers are entries the context cites."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import LLMOutputError
from ..records import CitationContext, Query
from . import llm, offline, prompt


def _queries(context: CitationContext, pairs, generator: str, version: str, raw: str) -> list[Query]:
    return [
        Query(
            query_id=f"{context.context_id}:{i}",
            context=context,
            question=question,
            answer_keys=keys,
            generator=generator,
            prompt_version=version,
            raw_output=raw,
        )
        for i, (question, keys) in enumerate(pairs)
    ]


def generate_queries(context: CitationContext, settings: Settings, cache_dir: Path,
                     client=None) -> list[Query]:
    """Queries for one context. Raises LLMOutputError when the model's answer (after one
    repair request) is not valid, ServiceError when the endpoint fails."""
    if settings.llm == "none":
        return _queries(context, offline.generate(context), offline.GENERATOR,
                        offline.PROMPT_VERSION, "")
    messages = prompt.format_input(context)
    schema = prompt.output_schema()
    text, _ = llm.complete(messages, settings, cache_dir, schema, client)
    try:
        pairs = prompt.format_output(text, context)
    except LLMOutputError as first:
        # One repair turn: the conversation differs, so it is its own cache entry.
        repair = messages + [
            {"role": "assistant", "content": text},
            {"role": "user", "content": f"That answer was invalid ({first}). "
                                        "Reply again with the JSON object only."},
        ]
        text, _ = llm.complete(repair, settings, cache_dir, schema, client)
        try:
            pairs = prompt.format_output(text, context)
        except LLMOutputError as second:
            raise LLMOutputError(f"{second}; raw output: {text[:300]!r}") from second
    return _queries(context, pairs, settings.llm, prompt.PROMPT_VERSION, text)


def prompt_identity(settings: Settings) -> dict:
    """The prompt (or template) version the generate stage's output depends on."""
    if settings.llm == "none":
        return {"prompt_version": offline.PROMPT_VERSION}
    return {"prompt_version": prompt.PROMPT_VERSION}
