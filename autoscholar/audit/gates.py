"""`audit --fail-under KEY=VALUE`: gate a dataset in its own CI on the audit's figures.

Each gate reads one figure of audit.json; `min` gates fail below their value, `max` gates
above it. Qualified rates come from the human review when there is one, else from the judge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError


def _reviewed(field: str) -> Callable[[dict], float | None]:
    def get(numbers: dict) -> float | None:
        review = numbers.get("review") or {}
        for who in ("human", "judge"):
            found = (review.get(who) or {}).get("rates", {}).get(field, {})
            if found.get("n"):
                return found["rate"]
        return None
    return get


def _kappa(numbers: dict) -> float | None:
    return ((numbers.get("review") or {}).get("agreement") or {}).get(
        "query_qualified", {}).get("kappa")


@dataclass(frozen=True)
class Gate:
    what: str
    get: Callable[[dict], float | None]
    bound: str  # "min": the figure must be at least the value; "max": at most


GATES: dict[str, Gate] = {
    "query_qualified": Gate("share of reviewed queries qualified", _reviewed("query_qualified"),
                            "min"),
    "answer_qualified": Gate("share of answers of qualified queries qualified",
                             _reviewed("answer_qualified"), "min"),
    "min_kappa": Gate("Cohen's kappa, judge vs person, query qualified", _kappa, "min"),
    "min_answers_per_query": Gate(
        "mean answers per query", lambda n: n["distributions"]["answers_per_query"]["mean"], "min"),
    "min_queries": Gate("queries published", lambda n: sum(n["examples"].values()), "min"),
    "max_template_share": Gate("share of template-generated questions",
                               lambda n: n["template_share"], "max"),
    "max_trivial_share": Gate("share of questions repeating an answer's title",
                              lambda n: n["trivial_share"], "max"),
}


def parse_gates(specs: list[str]) -> dict[str, float]:
    """KEY=VALUE items (repeated flags, or comma-separated in one) -> {key: value}."""
    out: dict[str, float] = {}
    for spec in (s.strip() for item in specs for s in item.split(",")):
        if not spec:
            continue
        key, sep, value = spec.partition("=")
        key = key.strip()
        if key not in GATES:
            raise InputError(f"unknown --fail-under key {key!r}: one of {', '.join(GATES)}")
        try:
            out[key] = float(value)
        except ValueError:
            raise InputError(f"--fail-under {spec!r}: write KEY=NUMBER, e.g. "
                             f"{key}=0.9") from None
        if not sep:
            raise InputError(f"--fail-under {spec!r}: write KEY=NUMBER, e.g. {key}=0.9")
    return out


def check(numbers: dict, gates: dict[str, float]) -> list[str]:
    """One line for each figure that falls short (empty: every gate passes)."""
    failed = []
    for key, limit in gates.items():
        gate = GATES[key]
        value = gate.get(numbers)
        if value is None:
            failed.append(f"{key}: {gate.what} is not measured in this run "
                          f"(needed: {'at least' if gate.bound == 'min' else 'at most'} {limit:g})")
        elif (value < limit) if gate.bound == "min" else (value > limit):
            word = "below" if gate.bound == "min" else "above"
            failed.append(f"{key}: {gate.what} is {value:g}, {word} {limit:g}")
    return failed
