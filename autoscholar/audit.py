"""audit stage: one self-contained HTML page (numbers, plots, samples) a person can read.

Everything shown comes from the run directory's files; all text from papers is escaped, since
PDF text is untrusted.
"""

from __future__ import annotations

import base64
import html
import io
import json
import random
from collections import Counter
from pathlib import Path

from dataclasses import dataclass

from .config import Settings
from .io import count_lines, read_jsonl, reject_reasons, write_atomic
from .match import leak_cutoff
from .publish import SPLITS
from .records import FUZZY_METHODS, Example, MatchedQuery
from .stages import STAGES

FUNNEL = (("listing", "papers listed"),) + tuple((s.name, s.counts) for s in STAGES if s.counts)
REJECTING = ("fetch", "parse", "contexts", "generate", "publish")


@dataclass
class AuditStats:
    report: str


def _plot(values: list[float], title: str, xlabel: str, bins: int | list = 20) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    if values:
        ax.hist(values, bins=bins, color="#4c72b0", edgecolor="white")
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table{f' class={css}' if css else ''}><tr>{head}</tr>{body}</table>"


def _fuzzy(answer) -> bool:
    return answer.method in FUZZY_METHODS


def _load(run_dir: Path) -> tuple[dict[str, list[Example]], list, Counter, Counter]:
    """One read of the published splits and one streamed pass over match.jsonl, whose records
    are large (each carries its context): resolved answers, drop reasons, queries per paper."""
    examples = {s: list(read_jsonl(run_dir / "dataset" / f"{s}.jsonl", Example)) for s in SPLITS}
    answers, dropped, queries = [], Counter(), Counter()
    for m in read_jsonl(run_dir / "match.jsonl", MatchedQuery):
        answers.extend(m.answers)
        dropped.update(d.reason for d in m.dropped)
        queries[m.query.context.source.paper_id] += 1
    return examples, answers, dropped, queries


def collect(run_dir: Path, loaded: tuple | None = None) -> dict:
    """The report's numbers, also useful on their own (tests, scripts)."""
    examples, answers, dropped, _ = loaded or _load(run_dir)
    rows = [e for s in SPLITS for e in examples[s]]
    return {
        "funnel": {stage: count_lines(run_dir / f"{stage}.jsonl") for stage, _ in FUNNEL},
        "rejects": {
            stage: reject_reasons(run_dir / f"{stage}.rejects.jsonl")
            for stage in REJECTING
        },
        "examples": {s: len(v) for s, v in examples.items()},
        "papers": {s: len({e.source_meta.paper_id for e in v}) for s, v in examples.items()},
        "answer_drops": dict(sorted(dropped.items())),
        "match_methods": dict(sorted(Counter(a.method for a in answers).items())),
        # Answers resting on a printed id alone, and answers kept despite a doubt: counted
        # apart so a reader sees how much of the dataset no index record vouches for.
        "printed_id_unverified": sum(a.method == "printed-id-unverified" for a in answers),
        "match_flags": dict(sorted(Counter(f for a in answers for f in a.flags).items())),
        "answers_resolved": len(answers),
        "answers_per_query": [len(e.answer_arxiv_id) for e in rows],
        "question_words": [len(e.question.split()) for e in rows],
        "fuzzy_scores": [a.score for a in answers if _fuzzy(a)],
        "generators": dict(sorted(Counter(e.generator for e in rows).items())),
    }


def per_paper(run_dir: Path, loaded: tuple | None = None) -> list[list]:
    """One row per listed paper: how far it got, and why it stopped if it did."""
    from .records import CitationContext, Paper

    examples, _, _, queries = loaded or _load(run_dir)
    papers = list(read_jsonl(run_dir / "listing.jsonl", Paper))
    contexts = Counter(c.source.paper_id
                       for c in read_jsonl(run_dir / "contexts.jsonl", CitationContext))
    published = Counter(e.source_meta.paper_id for rows in examples.values() for e in rows)
    stopped: dict[str, str] = {}
    for stage in ("fetch", "parse", "contexts"):
        path = run_dir / f"{stage}.rejects.jsonl"
        for line in path.read_text().splitlines() if path.exists() else []:
            row = json.loads(line)
            stopped.setdefault(row["key"], f"{stage}: {row['reason']}")
    return [[p.paper_id, p.title, _date(p), contexts[p.paper_id], queries[p.paper_id],
             published[p.paper_id], stopped.get(p.paper_id, "")] for p in papers]


NO_DATE = "none: leaks unchecked"


def _date(paper) -> str:
    """The date the leakage rule judges this paper's answers by (match.leak_cutoff)."""
    cutoff = leak_cutoff(paper.published, paper.year)
    if cutoff is None:
        return NO_DATE
    return cutoff.isoformat() if paper.published else f"{paper.year} (year only)"


def _sample(example: Example) -> str:
    answers = "".join(
        f"<li><code>{html.escape(aid)}</code> {html.escape(title)} "
        f"<span class=m>[{html.escape(p.method)} {p.score:.0f}; ref: {html.escape(p.raw[:160])}]"
        f"</span></li>"
        for aid, title, p in zip(example.answer_arxiv_id, example.answer,
                                 example.answer_provenance)
    )
    src = example.source_meta
    return (
        f"<div class=ex><div class=q>{html.escape(example.question)}</div><ul>{answers}</ul>"
        f"<div class=ctx><b>{html.escape(src.paper_id)}</b> · {html.escape(src.title[:120])} · "
        f"{html.escape(example.section)}<br>{html.escape(example.context)}</div>"
        f"<div class=m>{html.escape(example.qid)} · {html.escape(example.generator)} · "
        f"{html.escape(example.prompt_version)}</div></div>"
    )


def render(run_dir: Path, numbers: dict, samples: list[Example], weakest: list,
           papers: list[list]) -> str:
    funnel = _table(["stage", "what", "records"],
                    [[s, what, numbers["funnel"][s]] for s, what in FUNNEL])
    splits = _table(["split", "queries", "source papers"],
                    [[s, numbers["examples"][s], numbers["papers"][s]] for s in SPLITS])
    rejects = _table(["stage", "reason", "count"],
                     [[st, r, n] for st, reasons in numbers["rejects"].items()
                      for r, n in sorted(reasons.items())] or [["-", "none", 0]])
    drops = _table(["reason an answer was dropped", "count"],
                   sorted(numbers["answer_drops"].items()) or [["none", 0]])
    methods = _table(["match method", "answers"], sorted(numbers["match_methods"].items()))
    methods += (f"<p>{numbers['printed_id_unverified']} answer(s) rest on a printed arXiv id the "
                f"index lacks (printed-id-unverified: title as printed, not checked).</p>"
                + "".join(f"<p>{n} answer(s) flagged {html.escape(f)}.</p>"
                          for f, n in numbers["match_flags"].items()))
    weak = _table(["score", "arXiv id", "arXiv title", "reference as printed"],
                  [[f"{a.score:.1f}", a.arxiv_id, a.title, a.raw[:200]] for a in weakest]
                  or [["-", "-", "-", "no fuzzy matches"]])
    paper_table = _table(["paper", "title", "date", "contexts", "queries", "published",
                          "stopped at"],
                         papers or [["-", "no papers listed", "", 0, 0, 0, ""]], css="papers")
    undated = sum(1 for row in papers if row[2] == NO_DATE)
    warning = (f"<p><b>{undated} source paper(s) have no date</b>: answers newer than them "
               f"cannot be dropped as leaks; pass --year.</p>" if undated else "")
    total = sum(numbers["examples"].values())
    plots = "".join([
        _plot(numbers["answers_per_query"], "answers per query", "answers",
              bins=list(range(1, max(numbers["answers_per_query"] or [1]) + 2))),
        _plot(numbers["question_words"], "question length", "words"),
        _plot(numbers["fuzzy_scores"], "fuzzy match scores", "score"),
    ])
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>autoscholar audit: {html.escape(run_dir.name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}}.ex{{border:1px solid #ddd;padding:8px;margin:8px 0}}
.papers td:nth-child(3){{white-space:nowrap}}.q{{font-weight:bold}}.ctx{{font-size:90%;color:#444;margin-top:4px}}.m{{font-size:80%;
color:#777}}img{{margin:4px}}</style></head><body>
<h1>Data-quality report: {html.escape(run_dir.name)}</h1>
<p>{total} published queries; {numbers["answers_resolved"]} answers resolved to arXiv;
generators: {html.escape(json.dumps(numbers["generators"]))}.</p>
<h2>Funnel</h2>{funnel}{splits}
<h2>Rejects</h2>{rejects}{drops}
<h2>Papers</h2>{warning}{paper_table}
<h2>Matching</h2>{methods}<h3>Weakest fuzzy matches (check these first)</h3>{weak}
<h2>Distributions</h2>{plots}
<h2>Samples</h2>{"".join(_sample(e) for e in samples) or "<p>no published queries</p>"}
</body></html>
"""


def audit(settings: Settings, run_dir: Path) -> AuditStats:
    return AuditStats(report=str(write_report(run_dir)))


def write_report(run_dir: Path, n_samples: int = 25) -> Path:
    loaded = _load(run_dir)
    examples, answers, _, _ = loaded
    numbers = collect(run_dir, loaded)
    rows = [e for s in SPLITS for e in examples[s]]
    samples = random.Random(0).sample(rows, min(n_samples, len(rows)))
    weakest = sorted(filter(_fuzzy, answers), key=lambda a: (a.score, a.arxiv_id))[:15]
    out = run_dir / "audit" / "report.html"
    write_atomic(out, render(run_dir, numbers, samples, weakest, per_paper(run_dir, loaded)))
    write_atomic(run_dir / "audit" / "numbers.json", json.dumps(
        {k: v for k, v in numbers.items() if not isinstance(v, list)}, indent=2))
    return out
