"""The reviewable sample and PaSa's rubric (arXiv:2501.10120, Appendix A): a query is qualified
when it is complete, faithful to its source and unambiguous; an answer paper is qualified when
it meets the query. A person fills the rubric in a CSV (export / import), an LLM in judge.py;
both become Verdict records, whose rates carry Wilson 95% intervals."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from ..io import write_atomic
from ..records import Example

QUERY_FIELDS = ("complete", "faithful", "unambiguous")
COLUMNS = ("item", "kind", "qid", "venue", "question", "context", "arxiv_id", "answer_title",
           "printed_reference", "match_evidence", *QUERY_FIELDS, "qualified", "note")
VERDICT_FILES = {"human": "review.human.json", "judge": "review.judge.json"}
Z95 = 1.959963984540054
_YES = {"y", "yes", "1", "true", "t"}
_NO = {"n", "no", "0", "false", "f"}


class Verdict(BaseModel):
    """The rubric for one sampled query, filled by a person or a judge model."""

    model_config = ConfigDict(extra="forbid")
    qid: str
    complete: bool | None = None  # None: not reviewed
    faithful: bool | None = None
    unambiguous: bool | None = None
    answers: dict[str, bool | None] = Field(default_factory=dict)  # arXiv id -> qualified
    reason: str = ""  # the reviewer's (or judge's) note on the query
    answer_reasons: dict[str, str] = Field(default_factory=dict)
    error: str = ""  # the judge's answer could not be used (kept, not counted)

    @property
    def query_qualified(self) -> bool | None:
        marks = [getattr(self, f) for f in QUERY_FIELDS]
        return None if None in marks else all(marks)


# ---------------------------------------------------------------- the sample


def sample(rows: list[Example], n: int, seed: int = 0) -> list[Example]:
    """`n` queries drawn with a fixed seed, stratified by venue: each venue gets its share of
    the sample (largest remainder, at least one while n allows), drawn within the venue."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for e in sorted(rows, key=lambda e: e.qid):
        groups[f"{e.source_meta.venue} {e.source_meta.year or ''}".strip()].append(e)
    n = min(n, len(rows))
    if not n:
        return []
    quota = {v: n * len(g) / len(rows) for v, g in groups.items()}
    take = {v: min(len(groups[v]), max(1, math.floor(q))) for v, q in quota.items()}
    while sum(take.values()) > n:  # more venues than n: the smallest shares give way
        v = min((v for v in take if take[v]), key=lambda v: (quota[v], v))
        take[v] -= 1
    for v in sorted(quota, key=lambda v: (-(quota[v] - math.floor(quota[v])), v)):
        if sum(take.values()) >= n:
            break
        if take[v] < len(groups[v]):
            take[v] += 1
    rng = random.Random(seed)
    out = []
    for v in sorted(groups):
        out.extend(rng.sample(groups[v], take[v]))
    while len(out) < n:  # small venues exhausted: fill from what is left, still seeded
        left = [e for e in sorted(rows, key=lambda e: e.qid) if e not in out]
        out.append(rng.choice(left))
    return sorted(out, key=lambda e: e.qid)


def _cell(text: str) -> str:
    # Paper text is untrusted: a cell starting with these runs as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def review_csv(items: list[Example]) -> str:
    """One row for each query (its three rubric fields) and one per answer (qualified)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    for e in items:
        venue = f"{e.source_meta.venue} {e.source_meta.year or ''}".strip()
        writer.writerow({"item": e.qid, "kind": "query", "qid": e.qid, "venue": venue,
                         "question": _cell(e.question), "context": _cell(e.context)})
        for aid, title, prov in zip(e.answer_arxiv_id, e.answer, e.answer_provenance):
            writer.writerow({"item": f"{e.qid}#{aid}", "kind": "answer", "qid": e.qid,
                             "venue": venue, "arxiv_id": aid, "answer_title": _cell(title),
                             "printed_reference": _cell(prov.raw),
                             "match_evidence": f"{prov.method} score {prov.score:.1f}"})
    return buf.getvalue()


def export_review(path: Path, items: list[Example]) -> int:
    write_atomic(path, review_csv(items))
    return len(items)


def _mark(value: str, where: str) -> bool | None:
    v = (value or "").strip().lower()
    if not v:
        return None
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise InputError(f"{where}: {value!r} is not a verdict: write y or n (or leave it empty)")


def parse_review(text: str, name: str, known: dict[str, Example]) -> list[Verdict]:
    """The verdicts of a filled review CSV; a bad row is one error naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("kind", "qid", "arxiv_id", *QUERY_FIELDS, "qualified")
               if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{name} is not a review file from `audit --export-review`: no "
                         f"column {', '.join(missing)}")
    verdicts: dict[str, Verdict] = {}
    for row in reader:
        where = f"{name} line {reader.line_num}"
        qid = (row.get("qid") or "").strip()
        if qid not in known:
            raise InputError(f"{where}: query {qid!r} is not in this run's dataset")
        v = verdicts.setdefault(qid, Verdict(qid=qid))
        note = (row.get("note") or "").strip()
        if row["kind"] == "query":
            for f in QUERY_FIELDS:
                setattr(v, f, _mark(row[f], f"{where}, column {f}"))
            v.reason = note
        elif row["kind"] == "answer":
            aid = (row.get("arxiv_id") or "").strip()
            if aid not in known[qid].answer_arxiv_id:
                raise InputError(f"{where}: {aid!r} is not an answer of {qid}")
            v.answers[aid] = _mark(row["qualified"], f"{where}, column qualified")
            if note:
                v.answer_reasons[aid] = note
        else:
            raise InputError(f"{where}: kind {row['kind']!r} is neither query nor answer")
    return list(verdicts.values())


def save_verdicts(audit_dir: Path, who: str, verdicts: list[Verdict], **meta) -> Path:
    path = audit_dir / VERDICT_FILES[who]
    write_atomic(path, json.dumps({**meta, "verdicts": [v.model_dump() for v in verdicts]},
                                  indent=1, ensure_ascii=False))
    return path


def load_verdicts(audit_dir: Path, who: str) -> tuple[list[Verdict], dict]:
    path = audit_dir / VERDICT_FILES[who]
    if not path.exists():
        return [], {}
    try:
        data = json.loads(path.read_text("utf-8"))
        verdicts = [Verdict.model_validate(v) for v in data.pop("verdicts")]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is damaged ({exc.__class__.__name__}): delete it and import "
                         "or judge again") from None
    return verdicts, data


# ---------------------------------------------------------------- rates and agreement


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes in n trials (no continuity correction)."""
    if n == 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(marks: list[bool | None]) -> dict:
    seen = [m for m in marks if m is not None]
    k, n = sum(seen), len(seen)
    interval = wilson(k, n)
    return {"k": k, "n": n, "rate": round(k / n, 4) if n else None,
            "low": round(interval[0], 4) if interval else None,
            "high": round(interval[1], 4) if interval else None}


def rates(verdicts: list[Verdict]) -> dict:
    """Qualified rates; answers are counted among qualified queries, as PaSa reports them."""
    usable = [v for v in verdicts if not v.error]
    out = {f: rate([getattr(v, f) for v in usable]) for f in QUERY_FIELDS}
    out["query_qualified"] = rate([v.query_qualified for v in usable])
    out["answer_qualified"] = rate([a for v in usable if v.query_qualified
                                    for a in v.answers.values()])
    out["answer_qualified_all"] = rate([a for v in usable for a in v.answers.values()])
    return out


def cohen_kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters' yes/no labels on the same items."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    yes_a = sum(a for a, _ in pairs) / n
    yes_b = sum(b for _, b in pairs) / n
    expected = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    if expected == 1:  # both raters gave one label throughout: agreement is not informative
        return None
    return (observed - expected) / (1 - expected)


def agreement(human: list[Verdict], judge: list[Verdict]) -> dict:
    """Kappa between the person and the judge on the items both rated."""
    theirs = {v.qid: v for v in judge if not v.error}
    out = {}
    for f in (*QUERY_FIELDS, "query_qualified", "answer_qualified"):
        pairs = []
        for h in human:
            j = theirs.get(h.qid)
            if j is None:
                continue
            if f == "answer_qualified":
                pairs += [(a, j.answers[k]) for k, a in h.answers.items()
                          if a is not None and j.answers.get(k) is not None]
            else:
                a, b = getattr(h, f), getattr(j, f)
                if a is not None and b is not None:
                    pairs.append((a, b))
        kappa = cohen_kappa(pairs)
        out[f] = {"items": len(pairs), "kappa": None if kappa is None else round(kappa, 4),
                  "agree": round(sum(a == b for a, b in pairs) / len(pairs), 4) if pairs else None}
    return out
