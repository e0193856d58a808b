"""audit stage: the data-quality report of a run directory.

audit/report.html   the page (self-contained: plots embedded)
audit/audit.json    every figure the page shows, the distributions as numbers, review rates
audit/numbers.json  the headline counts (kept for scripts that read it)
audit/review.human.json, audit/review.judge.json   PaSa-rubric verdicts (import, --judge)

figures.py computes, review.py samples and rates, judge.py asks an LLM, gates.py checks
--fail-under, page.py renders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..io import write_atomic
from ..records import FUZZY_METHODS
from .figures import NO_DATE, collect, load, per_paper, why_lines
from .review import agreement, load_verdicts, rates, sample

__all__ = ["AuditStats", "NO_DATE", "audit", "collect", "load", "per_paper", "write_report"]

PAGE_SAMPLES = 25


@dataclass
class AuditStats:
    report: str


def audit(settings: Settings, run_dir: Path) -> AuditStats:
    return AuditStats(report=str(write_report(run_dir)))


def review_numbers(audit_dir: Path) -> tuple[dict, dict]:
    """Rates of the person's and the judge's verdicts, kappa where both rated an item."""
    out, by_qid = {}, {}
    found = {}
    for who in ("human", "judge"):
        verdicts, meta = load_verdicts(audit_dir, who)
        if verdicts:
            found[who] = verdicts
            out[who] = {**meta, "items": len(verdicts),
                        "errors": sum(1 for v in verdicts if v.error), "rates": rates(verdicts)}
            by_qid[who] = {v.qid: v for v in verdicts}
    if len(found) == 2:
        out["agreement"] = agreement(found["human"], found["judge"])
    return out, by_qid


def write_report(run_dir: Path, n_samples: int = PAGE_SAMPLES, seed: int = 0) -> Path:
    from .page import render

    data = load(run_dir)
    numbers = collect(run_dir, data)
    papers = per_paper(run_dir, data)
    numbers["why_nothing"] = why_lines(papers)
    numbers["review"], verdicts = review_numbers(run_dir / "audit")
    # Reviewed queries first, so their verdicts are on the page beside their context.
    reviewed = {qid for by_qid in verdicts.values() for qid in by_qid}
    shown = [e for e in data.rows if e.qid in reviewed][:n_samples]
    shown += [e for e in sample(data.rows, n_samples, seed) if e.qid not in reviewed]
    shown = shown[:n_samples]
    weakest = sorted((a for a in data.answers if a.method in FUZZY_METHODS),
                     key=lambda a: (a.score, a.arxiv_id))[:15]
    out = run_dir / "audit" / "report.html"
    write_atomic(out, render(run_dir, numbers, shown, weakest, papers, verdicts))
    figures = {k: v for k, v in numbers.items() if k != "values"}
    write_atomic(run_dir / "audit" / "audit.json", json.dumps(figures, indent=1, default=str))
    write_atomic(run_dir / "audit" / "numbers.json", json.dumps(
        {k: v for k, v in figures.items() if not isinstance(v, (list, dict)) or k in (
            "funnel", "rejects", "examples", "papers", "answer_drops", "match_methods",
            "generators")}, indent=2))
    return out
