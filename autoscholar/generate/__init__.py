"""generate stage: citation context -> queries whose answers are entries the context cites."""

from __future__ import annotations

import re

from ..errors import LLMOutputError
from ..records import CitationContext, Query, Reject, Usage
from . import offline, prompt, validate
from .llm import Completion, Endpoint, NotCached

_CITE = re.compile(r"\\cite\{([^}]*)\}")


def cited_in(context: CitationContext, keys: list[str]) -> list[int]:
    """Indices of the context's sentences that cite any of `keys`."""
    wanted = set(keys)
    return [i for i, sentence in enumerate(context.sentences)
            if any(wanted & set(group.split(",")) for group in _CITE.findall(sentence))]


def _query(context: CitationContext, i: int, question: str, keys: list[str], generator: str,
           version: str, raw: str, usage: Usage | None = None, provenance: bool = False,
           flags: list[str] | None = None) -> Query:
    return Query(
        query_id=f"{context.context_id}:{i}",
        context=context,
        question=question,
        answer_keys=keys,
        generator=generator,
        prompt_version=version,
        raw_output=raw,
        usage=usage,
        cited_in=cited_in(context, keys) if provenance else None,
        flags=flags or [],
    )


def offline_queries(context: CitationContext) -> list[Query]:
    # A paragraph context's offline query is one sentence's by construction (and its records
    # stay as they were); a section's says which sentence.
    return [_query(context, i, question, keys, offline.GENERATOR, offline.PROMPT_VERSION, "",
                   provenance=bool(context.provenance))
            for i, (question, keys) in enumerate(offline.generate(context))]


def checked_queries(context: CitationContext, pairs, settings, raw: str,
                    usage: Usage | None) -> list[Query | Reject]:
    """The model's queries after the checks (validate.py): the kept ones, then a Reject per
    dropped one (key: the context; query_id: the query). Raises LLMOutputError with the first
    reason when every query is dropped, so the context is rejected as a whole."""
    kept: list[Query | Reject] = []
    dropped: list[Reject] = []
    for i, (question, keys) in enumerate(pairs):
        verdict = validate.check_query(question, keys, context, settings.query_checks)
        if verdict.reason:
            dropped.append(Reject(stage="generate", key=context.context_id,
                                  reason=verdict.reason, query_id=f"{context.context_id}:{i}",
                                  detail=f"{verdict.detail}: {question[:300]!r}"))
            continue
        kept.append(_query(context, i, question, verdict.keys, settings.llm,
                           prompt.PROMPT_VERSION, raw, usage, True, verdict.flags))
    if not kept:
        raise LLMOutputError("every query failed a check: " + "; ".join(
            f"{r.query_id} {r.reason} ({r.detail})" for r in dropped), dropped[0].reason, raw)
    return kept + dropped


def _answer(done: Completion) -> str:
    """The text to validate, or an LLMOutputError for an answer no repair can fix."""
    if done.refusal or done.finish_reason == "content_filter":
        raise LLMOutputError(f"the model refused: {(done.refusal or 'content filter')[:200]}",
                             "llm-refusal", done.text)
    if done.finish_reason == "length":
        raise LLMOutputError("the answer was cut at --llm-max-tokens (finish_reason=length)",
                             "truncated-llm-output", done.text)
    return done.text


def first_request(context: CitationContext) -> tuple[list[dict], dict]:
    """The messages and schema of a context's first request: what the stage sends and what
    --dry-run counts and looks up in the cache."""
    return prompt.format_input(context), prompt.output_schema([ref.key for ref in context.refs],
                                                              prompt.max_queries(context))


def llm_queries(context: CitationContext, endpoint: Endpoint) -> list[Query | Reject]:
    """Queries for one context, and a Reject for each that failed a check. Raises
    LLMOutputError when the model's answer (after one repair request) is not valid or no query
    passes the checks, RequestRejected when the endpoint refuses this request, ServiceError
    when the endpoint fails."""
    settings = endpoint.settings
    messages, schema = first_request(context)
    first = endpoint.complete(messages, schema)
    usages = [first.usage]
    text = _answer(first)
    try:
        pairs = prompt.format_output(text, context)
    except LLMOutputError as error:
        # One repair turn: the conversation differs, so it is its own cache entry.
        repair = messages + [
            {"role": "assistant", "content": text},
            {"role": "user", "content": f"That answer was invalid ({error}). "
                                        "Reply again with the JSON object only."},
        ]
        try:
            second = endpoint.complete(repair, schema)
        except NotCached:  # --batch sends no repair turn live: the first answer is final
            raise LLMOutputError(f"{error} (no repair turn under --batch); raw output: "
                                 f"{text[:300]!r}", error.reason, text) from error
        usages.append(second.usage)
        text = _answer(second)
        try:
            pairs = prompt.format_output(text, context)
        except LLMOutputError as again:
            raise LLMOutputError(f"{again}; raw output: {text[:300]!r}", again.reason,
                                 text) from again
    return checked_queries(context, pairs, settings, text, Usage.total(usages))


class OfflineGenerator:
    """The deterministic template generator: free, no endpoint."""

    concurrency = 1

    def __init__(self, settings, cache_dir=None, **_):
        self.settings = settings

    @property
    def label(self) -> str:
        return "generate (offline)"

    @staticmethod
    def identity(settings) -> dict:
        return {"prompt_version": offline.PROMPT_VERSION}

    def __call__(self, context: CitationContext) -> list[Query]:
        return offline_queries(context)


class LLMGenerator:
    """A model behind the OpenAI chat completions API (OpenAI or any compatible server)."""

    def __init__(self, settings, cache_dir, client=None, budget=None, live=True):
        self.settings = settings
        self.endpoint = Endpoint(settings, cache_dir, client, budget, live)
        self.concurrency = max(1, settings.llm_concurrency)

    @property
    def label(self) -> str:
        return f"generate ({self.settings.llm})"

    @staticmethod
    def identity(settings) -> dict:
        # What changes the request, and so the answer; the model and endpoint are settings
        # the stage records anyway.
        return {"prompt_version": prompt.PROMPT_VERSION, "json_mode": settings.llm_json_mode,
                "max_tokens": settings.llm_max_tokens, "query_checks": settings.query_checks}

    def __call__(self, context: CitationContext) -> list[Query | Reject]:
        return llm_queries(context, self.endpoint)


GENERATORS = {"offline": OfflineGenerator, "openai": LLMGenerator}


def generator_kind(settings) -> str:
    """--llm none is the offline generator; any other value names a model."""
    return "offline" if settings.llm == "none" else "openai"


def make_generator(settings, cache_dir, **kwargs):
    return GENERATORS[generator_kind(settings)](settings, cache_dir, **kwargs)


def generate_queries(context: CitationContext, settings, cache_dir, client=None) -> list[Query]:
    """Queries for one context with the generator the settings name (one call, no budget)."""
    return make_generator(settings, cache_dir, client=client)(context)


def prompt_identity(settings) -> dict:
    """What the generate stage's output depends on beyond its listed settings."""
    return GENERATORS[generator_kind(settings)].identity(settings)
