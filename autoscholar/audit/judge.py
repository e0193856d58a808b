"""`audit --judge MODEL`: PaSa's rubric filled by an LLM for the reviewable sample, through the
project's client (generate/llm.py: cache, JSON-mode negotiation, --max-cost budget), so a rerun
pays nothing for items already judged. format_input / format_output are pure (distilabel style);
an answer that cannot be used becomes a verdict with its error, never a crashed audit."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ..config import Settings
from ..errors import InputError
from ..records import Example
from ..resources import resource
from .review import Verdict, save_verdicts

PROMPT_VERSION = "judge_v1"
MAX_CHARS = 6000  # of the context shown: a whole Related Work paragraph, not a paper


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    arxiv_id: str
    qualified: bool
    reason: str = ""


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")
    complete: bool
    faithful: bool
    unambiguous: bool
    reason: str = ""
    answers: list[_Answer]


def template() -> str:
    return resource("prompts", f"{PROMPT_VERSION}.txt").read_text("utf-8")


def prompt_hash() -> str:
    return hashlib.sha256(template().encode()).hexdigest()[:12]


def output_schema(ids: list[str]) -> dict:
    """Strict-mode JSON schema (every property required, no others), answers' ids an enum."""
    answer = {"type": "object",
              "properties": {"arxiv_id": {"type": "string", "enum": ids or [""]},
                             "qualified": {"type": "boolean"}, "reason": {"type": "string"}},
              "required": ["arxiv_id", "qualified", "reason"], "additionalProperties": False}
    props = {"complete": {"type": "boolean"}, "faithful": {"type": "boolean"},
             "unambiguous": {"type": "boolean"}, "reason": {"type": "string"},
             "answers": {"type": "array", "items": answer}}
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def format_input(example: Example) -> list[dict]:
    answers = "\n".join(f"{aid}: {title}; {prov.raw[:300]}" for aid, title, prov in
                        zip(example.answer_arxiv_id, example.answer, example.answer_provenance))
    text = (template().replace("{context}", example.context[:MAX_CHARS])
            .replace("{question}", example.question).replace("{answers}", answers))
    return [{"role": "user", "content": text}]


def format_output(text: str, example: Example) -> Verdict:
    """The model's answer as a Verdict; unusable answers keep the reason in `error`."""
    raw = text.strip()
    if raw.startswith("```"):  # plain-text mode: some models fence their JSON
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        out = _Output.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0][:200]
        return Verdict(qid=example.qid, error=f"unusable judge answer: {first}")
    wanted = set(example.answer_arxiv_id)
    answers = {a.arxiv_id: a.qualified for a in out.answers if a.arxiv_id in wanted}
    return Verdict(qid=example.qid, complete=out.complete, faithful=out.faithful,
                   unambiguous=out.unambiguous, reason=out.reason[:500],
                   answers={aid: answers.get(aid) for aid in example.answer_arxiv_id},
                   answer_reasons={a.arxiv_id: a.reason[:500] for a in out.answers
                                   if a.arxiv_id in wanted})


def judge_settings(settings: Settings, model: str, **flags) -> Settings:
    """The run's settings with the judge's model and LLM flags; the run's own are untouched."""
    given = {k: v for k, v in flags.items() if v is not None}
    if model in ("", "none"):
        raise InputError("--judge needs a model name, e.g. --judge gpt-4o-mini")
    # Built anew, not copied, so a bad flag (--llm-json-mode bogus) is refused like anywhere.
    return type(settings)(**{**dict(settings), "llm": model, **given})


def judge(settings: Settings, run_dir: Path, items: list[Example]) -> tuple[Path, dict]:
    """Judge every item (cached answers cost nothing); verdicts and reasons go to
    audit/review.judge.json. Stopped by --max-cost, what was judged is saved first."""
    from ..generate.cost import Budget, BudgetExceeded, price_for
    from ..generate.llm import Endpoint, RequestRejected
    from ..runner import in_threads

    budget = Budget(settings.llm_max_cost, price_for(settings))
    endpoint = Endpoint(settings, run_dir / "cache" / "llm", budget=budget)
    meta = {"model": settings.llm, "prompt_version": PROMPT_VERSION, "prompt_hash": prompt_hash()}

    stopped = threading.Event()

    def one(example: Example) -> Verdict | None:
        if stopped.is_set():
            return None
        try:
            done = endpoint.complete(format_input(example), output_schema(example.answer_arxiv_id))
        except BudgetExceeded:
            stopped.set()  # requests in flight finish and are kept; no new one is sent
            return None
        except RequestRejected as exc:
            return Verdict(qid=example.qid, error=f"request rejected: {exc}")
        if done.refusal:
            return Verdict(qid=example.qid, error=f"refused: {done.refusal[:200]}")
        if done.finish_reason == "length":
            return Verdict(qid=example.qid, error="answer cut off at max tokens")
        return format_output(done.text, example)

    # Model calls wait on the network: a few at once, in input order (runner.in_threads).
    verdicts = [v for _, v in in_threads(one, [(e.qid, e) for e in items],
                                         max(1, settings.llm_concurrency)) if v is not None]
    if stopped.is_set():
        path = save_verdicts(run_dir / "audit", "judge", verdicts, **meta, complete=False)
        raise BudgetExceeded(
            f"audit --judge stopped before passing --max-cost ${settings.llm_max_cost:.4f}: "
            f"{len(verdicts)} of {len(items)} items judged and saved in {path}; rerun with a "
            "higher --max-cost to go on (judged items come from the cache)")
    paid = len(endpoint.paid)
    meta.update(complete=True, requests_sent=paid, spent_usd=round(budget.spent, 6)
                if budget.price else None)
    return save_verdicts(run_dir / "audit", "judge", verdicts, **meta), meta
