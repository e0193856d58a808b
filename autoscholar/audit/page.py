"""The report page: one self-contained HTML file (plots embedded as PNG data URIs, no script,
no external resource). All text from papers is escaped, since PDF text is untrusted."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from ..publish import SPLITS
from ..records import Example, ResolvedAnswer
from .figures import NO_DATE, TRIVIAL_OVERLAP
from .review import QUERY_FIELDS, Verdict

CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}.ex{border:1px solid #ddd;padding:8px;margin:8px 0}
.papers td:nth-child(3){white-space:nowrap}.q{font-weight:bold}
.ctx{font-size:90%;color:#444;margin-top:4px}.m{font-size:80%;color:#777}img{margin:4px}
.plots{display:flex;flex-wrap:wrap}.bad{color:#a00}
.papers td:first-child{overflow-wrap:anywhere;width:15em}.papers td:nth-child(2){min-width:18em}"""


def _esc(value) -> str:
    return html.escape(str(value))


def plot(values: list[float], title: str, xlabel: str, bins: int | list = 20) -> str:
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
    return f'<img class=plot alt="{_esc(title)}" src="data:image/png;base64,{data}">'


def table(header: list[str], rows: list[list], css: str = "") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table{f' class={css}' if css else ''}><tr>{head}</tr>{body}</table>"


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _num(value) -> str:
    return "-" if value is None else f"{value:g}"


def _rate_cell(r: dict) -> str:
    if not r.get("n"):
        return "not reviewed"
    return f"{_pct(r['rate'])} [{_pct(r['low'])}, {_pct(r['high'])}] ({r['k']}/{r['n']})"


def _review(review: dict) -> str:
    """Qualified rates with Wilson 95% intervals for the person and the judge, and kappa."""
    who = [w for w in ("human", "judge") if review.get(w)]
    if not who:
        return ("<p>No review yet: <code>autoscholar audit RUN --export-review FILE.csv</code>, "
                "fill it, then <code>--import-review FILE.csv</code>; or "
                "<code>--judge MODEL</code>.</p>")
    fields = ("query_qualified", *QUERY_FIELDS, "answer_qualified", "answer_qualified_all")
    rows = [[f] + [_rate_cell(review[w]["rates"][f]) for w in who] for f in fields]
    rows.append(["PaSa's own check (100 pairs)", "queries 94.0%, answers 93.7%", ""][:len(who) + 1])
    out = table(["rubric (Wilson 95% interval)", *[
        f"{w}: {review[w].get('model') or review[w].get('source', '')}" for w in who]], rows,
        css="review")
    if review.get("agreement"):
        out += table(["agreement judge vs person", "items", "Cohen's kappa", "raw agreement"],
                     [[f, a["items"], _num(a["kappa"]), _pct(a["agree"])]
                      for f, a in review["agreement"].items()], css="agreement")
    return out


def _verdict_line(v: Verdict | None, who: str) -> str:
    if v is None:
        return ""
    if v.error:
        return f"<div class='m bad'>{who}: {_esc(v.error)}</div>"
    marks = ", ".join(f"{f} {'yes' if getattr(v, f) else 'no' if getattr(v, f) is False else '?'}"
                      for f in QUERY_FIELDS)
    return f"<div class=m>{who}: {marks}. {_esc(v.reason)}</div>"


def _sample(example: Example, verdicts: dict[str, dict[str, Verdict]]) -> str:
    judged = {w: verdicts[w].get(example.qid) for w in verdicts}

    def mark(aid: str) -> str:
        out = []
        for w, v in judged.items():
            if v is not None and v.answers.get(aid) is not None:
                out.append(f"{w}: {'qualified' if v.answers[aid] else 'not qualified'}")
        return f" <b>{_esc('; '.join(out))}</b>" if out else ""

    answers = "".join(
        f"<li><code>{_esc(aid)}</code> {_esc(title)} "
        f"<span class=m>[{_esc(p.method)} {p.score:.0f}; ref: {_esc(p.raw[:160])}]</span>"
        f"{mark(aid)}</li>"
        for aid, title, p in zip(example.answer_arxiv_id, example.answer, example.answer_provenance)
    )
    src = example.source_meta
    return (
        f"<div class=ex><div class=q>{_esc(example.question)}</div><ul>{answers}</ul>"
        f"<div class=ctx><b>{_esc(src.paper_id)}</b> · {_esc(src.title[:120])} · "
        f"{_esc(example.section)}<br>{_esc(example.context)}</div>"
        f"<div class=m>{_esc(example.qid)} · {_esc(src.venue)} {_esc(src.year or '')} · "
        f"{_esc(example.generator)} · {_esc(example.prompt_version)}</div>"
        + "".join(_verdict_line(v, w) for w, v in judged.items()) + "</div>"
    )


def _venues(rows: list[dict]) -> str:
    def pasa(r, k):
        return _num(r["pasa"][k]) if r["pasa"] else "-"

    return table(["venue", "year", "papers", "queries", "answers/query mean", "p50", "p90",
                  "PaSa papers", "PaSa queries", "PaSa mean", "PaSa p50", "PaSa p90"],
                 [[r["venue"], r["year"] or "", r["papers"], r["queries"], _num(r["mean"]),
                   _num(r["p50"]), _num(r["p90"]), pasa(r, "papers"), pasa(r, "queries"),
                   pasa(r, "mean"), pasa(r, "p50"), pasa(r, "p90")] for r in rows]
                 or [["-", "", 0, 0, "-", "-", "-", "-", "-", "-", "-", "-"]], css="venues")


def _distributions(n: dict) -> tuple[str, str]:
    d, v = n["distributions"], n["values"]
    per_query = v["answers_per_query"]
    plots = "".join([
        plot(per_query, "answers per query", "answers",
             bins=list(range(1, max(per_query or [1]) + 2))),
        plot(v["question_words"], "question length", "words"),
        plot(v["fuzzy_scores"], "fuzzy match scores", "score"),
        plot(v["title_overlap"], "question vs answer-title overlap", "share of title words",
             bins=[i / 10 for i in range(11)]),
    ])
    numbers = table(["distribution", "n", "mean", "p50", "p90", "min", "max"],
                    [[k, s["n"], _num(s["mean"]), _num(s["p50"]), _num(s["p90"]),
                      _num(s["min"]), _num(s["max"])] for k, s in d.items()], css="dist")
    return f"<div class=plots>{plots}</div>", numbers


def render(run_dir: Path, numbers: dict, samples: list[Example], weakest: list[ResolvedAnswer],
           papers: list[dict], verdicts: dict[str, dict[str, Verdict]]) -> str:
    n = numbers
    funnel = table(["stage", "what", "records", "of previous step", "of the first step counting it"],
                   [[s["stage"], s["what"], s["records"], _pct(s["of_previous"]),
                     f"{_pct(s['of_first'])} of {s['first']}" if s["of_first"] is not None
                     else "-"] for s in n["funnel_steps"]], css="funnel")
    splits = table(["split", "queries", "source papers"],
                   [[s, n["examples"][s], n["papers"][s]] for s in SPLITS])
    rejects = table(["stage", "reason", "count"],
                    [[st, r, c] for st, reasons in n["rejects"].items()
                     for r, c in sorted(reasons.items())] or [["-", "none", 0]])
    drops = table(["reason an answer was dropped", "count"],
                  sorted(n["answer_drops"].items()) or [["none", 0]])
    dups = table(["duplicates removed", "count"], list(n["duplicates_removed"].items()))
    date = n["date_rule"]
    dated = table(["answers dropped as newer than the source paper, by its date's source",
                   "answers"], list(date["dropped_by_date_source"].items())
                  or [["none", 0]]) + table(["source papers by date source", "papers"],
                                            list(date["papers_by_date_source"].items())
                                            or [["none", 0]])
    methods = table(["match method", "answers"], sorted(n["match_methods"].items()))
    methods += (f"<p>{n['printed_id_unverified']} answer(s) rest on a printed arXiv id the "
                f"index lacks (printed-id-unverified: title as printed, not checked).</p>"
                + "".join(f"<p>{c} answer(s) flagged {html.escape(f)}.</p>"
                          for f, c in n["match_flags"].items()))
    weak = table(["score", "arXiv id", "arXiv title", "reference as printed"],
                 [[f"{a.score:.1f}", a.arxiv_id, a.title, a.raw[:200]] for a in weakest]
                 or [["-", "-", "-", "no fuzzy matches"]])
    near = table(["score", "why dropped", "query", "reference as printed"],
                 [[_num(m["score"]) if m["score"] is not None else "not recorded", m["reason"],
                   m["query_id"], m["reference"][:200]] for m in n["near_misses"]["closest"]]
                 or [["-", "-", "-", "no near misses"]])
    unindexed = table(["printed arXiv id", "query", "reference as printed"],
                      [[u["arxiv_id"], u["query_id"], u["reference"][:200]]
                       for u in n["printed_unindexed"]["examples"]]
                      or [["-", "-", "none: every printed id is in the index"]])
    paper_table = table(["paper", "title", "date", "contexts", "queries", "published",
                         "why nothing was published"],
                        [[p["paper_id"], p["title"], p["date"], p["contexts"], p["queries"],
                          p["published"], p["why_nothing"]] for p in papers]
                        or [["-", "no papers listed", "", 0, 0, 0, ""]], css="papers")
    undated = sum(1 for p in papers if p["date"] == NO_DATE)
    warning = (f"<p><b>{undated} source paper(s) have no date</b>: answers newer than them "
               f"cannot be dropped as leaks; pass --year.</p>" if undated else "")
    why = "".join(f"<li>{_esc(line)}</li>" for line in n.get("why_nothing", []))
    silent = (f"<h3>Why {len(n['why_nothing'])} paper(s) published nothing</h3>"
              f"<ul class=why>{why}</ul>" if why else "")
    plots, dist_numbers = _distributions(n)
    total = sum(n["examples"].values())
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>autoscholar audit: {_esc(run_dir.name)}</title><style>{CSS}</style></head><body>
<h1>Data-quality report: {_esc(run_dir.name)}</h1>
<p>{total} published queries; {n["answers_resolved"]} answers resolved to arXiv;
template-generated: {_pct(n["template_share"])}; questions repeating an answer's title
(&ge;{TRIVIAL_OVERLAP:.0%} of its words): {_pct(n["trivial_share"])};
generators: {_esc(json.dumps(n["generators"]))}.</p>
<h2>Funnel</h2>{funnel}{splits}
<p>Citation contexts from the front-matter fallback (no Related Work heading found):
{n["contexts_front_matter"]["contexts"]} in {n["contexts_front_matter"]["papers"]} paper(s).</p>
<h2>Rejects</h2>{rejects}{drops}{dups}
<h2>Leak rule</h2><p>{date["answers_dropped"]} answers dropped as first posted after their source
paper.</p>{dated}
<h2>Papers</h2>{warning}{silent}{paper_table}
<h2>Matching</h2>{methods}<h3>Weakest fuzzy matches (check these first)</h3>{weak}
<h3>Near misses: under the threshold or ambiguous ({n["near_misses"]["count"]})</h3>{near}
<h3>Printed arXiv ids not in the index ({n["printed_unindexed"]["count"]})</h3>{unindexed}
<h2>Venues beside PaSa's Table 2</h2>{_venues(n["by_venue"])}
<h2>Distributions</h2>{plots}{dist_numbers}
<h2>Review (PaSa's rubric)</h2>{_review(n.get("review") or {})}
<h2>Samples</h2>{"".join(_sample(e, verdicts) for e in samples) or "<p>no published queries</p>"}
</body></html>
"""
