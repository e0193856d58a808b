"""The audit's numbers: one streamed read of the run directory, then every figure the page shows
(and audit.json holds), the distributions as summaries, and why each silent paper stopped."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..combine import member_runs, stage_files
from ..io import complete_lines, count_lines, read_jsonl, reject_reasons
from ..match import leak_cutoff
from ..publish import SPLITS
from ..records import FUZZY_METHODS, Example, MatchedQuery, Paper, ResolvedAnswer
from ..stages import STAGES

FUNNEL = (("listing", "papers listed"),) + tuple((s.name, s.counts) for s in STAGES if s.counts)
REJECTING = ("fetch", "parse", "contexts", "generate", "publish")
TEMPLATE_GENERATOR = "offline-template"
NO_DATE = "none: leaks unchecked"
# A question that already holds this share of an answer title's content words is answerable by
# a title search alone (PaSa wants fine-grained queries, not titles in disguise).
TRIVIAL_OVERLAP = 0.8
NEAR_MISS_SHOWN = 30

# PaSa (He et al. 2025, arXiv:2501.10120v2) Table 2: papers |P|, queries |Q|, answers per query
# (mean, 50th and 90th percentile) for each conference of AutoScholarQuery.
PASA_TABLE2 = {
    ("iclr", 2023): {"papers": 888, "queries": 5204, "mean": 2.46, "p50": 2.0, "p90": 5.0},
    ("icml", 2023): {"papers": 981, "queries": 5743, "mean": 2.37, "p50": 2.0, "p90": 5.0},
    ("neurips", 2023): {"papers": 1948, "queries": 11761, "mean": 2.59, "p50": 2.0, "p90": 5.0},
    ("cvpr", 2024): {"papers": 1336, "queries": 9528, "mean": 2.94, "p50": 2.0, "p90": 6.0},
    ("acl", 2024): {"papers": 485, "queries": 3315, "mean": 2.16, "p50": 2.0, "p90": 4.0},
}

_STOP = frozenset("""a an and are as at be by for from how in into is it its of on or over that the
their these this those to towards under using via what which with without based study studies
paper papers work works""".split())


@dataclass
class Loaded:
    """What one pass over the run directory keeps: the published rows and, from match.jsonl
    (large records: each carries its context), only the answers and drop evidence."""

    examples: dict[str, list[Example]]
    answers: list[ResolvedAnswer] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    queries: Counter = field(default_factory=Counter)  # matched queries per source paper
    leaks: Counter = field(default_factory=Counter)  # newer-than-source drops per source paper
    near_misses: list[dict] = field(default_factory=list)
    unindexed: list[dict] = field(default_factory=list)  # printed arXiv ids not in the index
    empty: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def rows(self) -> list[Example]:
        return [e for s in SPLITS for e in self.examples[s]]


def _records(run_dir: Path, name: str, model):
    """A stage file's records: the run's, or each member's of a combined folder in turn."""
    for path in stage_files(run_dir, name):
        yield from read_jsonl(path, model)


def _lines(run_dir: Path, name: str) -> list[bytes]:
    return [ln for path in stage_files(run_dir, name) for ln in complete_lines(path)]


def _count(run_dir: Path, name: str) -> int:
    return sum(count_lines(path) for path in stage_files(run_dir, name))


def _reasons(run_dir: Path, stage: str) -> dict[str, int]:
    found: Counter = Counter()
    for path in stage_files(run_dir, f"{stage}.rejects.jsonl"):
        found.update(reject_reasons(path))
    return dict(found)


def _examples(run_dir: Path) -> dict[str, list[Example]]:
    return {s: list(read_jsonl(run_dir / "dataset" / f"{s}.jsonl", Example)) for s in SPLITS}


def published(run_dir: Path) -> list[Example]:
    """The published rows only (no pass over match.jsonl)."""
    return [e for rows in _examples(run_dir).values() for e in rows]


def load(run_dir: Path) -> Loaded:
    out = Loaded(_examples(run_dir))
    for m in _records(run_dir, "match.jsonl", MatchedQuery):
        paper = m.query.context.source.paper_id
        refs = {r.key: r for r in m.query.context.refs}
        out.answers.extend(m.answers)
        # A printed id the index lacks, kept as an answer (match.py's printed_id=keep) or
        # dropped below: either way the index does not vouch for it.
        out.unindexed.extend({"query_id": m.query.query_id, "arxiv_id": a.arxiv_id,
                              "reference": a.raw, "kept": True}
                             for a in m.answers if a.method == "printed-id-unverified")
        out.queries[paper] += 1
        for d in m.dropped:
            out.dropped[d.reason] += 1
            if not m.answers:
                out.empty[paper][d.reason] += 1
            if d.reason == "newer-than-source":
                out.leaks[paper] += 1
            elif d.reason in ("below-threshold", "ambiguous"):
                out.near_misses.append({"query_id": m.query.query_id, "reason": d.reason,
                                        "score": d.score, "reference": d.raw[:300]})
            elif (d.reason in ("not-on-arxiv", "id-not-in-index") and d.key in refs
                  and refs[d.key].arxiv_id):
                out.unindexed.append({"query_id": m.query.query_id, "kept": False,
                                      "arxiv_id": refs[d.key].arxiv_id, "reference": d.raw[:300]})
        if not m.answers and not m.dropped:
            out.empty[paper]["no-answer-keys"] += 1
    return out


# ---------------------------------------------------------------- summaries


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "mean": None, "p50": None, "p90": None, "min": None, "max": None}
    return {"n": len(values), "mean": round(sum(values) / len(values), 4),
            "p50": round(percentile(values, 50), 4), "p90": round(percentile(values, 90), 4),
            "min": min(values), "max": max(values)}


def histogram(values: list[float], width: float) -> dict[str, int]:
    """Counts per bin [k*width, (k+1)*width), keyed by the bin's lower edge."""
    bins = Counter(int(v // width) for v in values)
    return {f"{k * width:g}": bins[k] for k in sorted(bins)}


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def title_overlap(question: str, titles: list[str]) -> float:
    """Largest share of an answer title's content words that the question repeats."""
    asked = words(question)
    shares = [len(asked & words(t)) / len(words(t)) for t in titles if words(t)]
    return max(shares, default=0.0)


def date_basis(published, year) -> str:
    """Where the leak rule's date for a source paper came from."""
    if published is not None:
        return "publication date"
    return "year only (Dec 31)" if year else NO_DATE


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# ---------------------------------------------------------------- the figures


def collect(run_dir: Path, loaded: Loaded | None = None) -> dict:
    """Every figure of the report, as audit.json holds it."""
    data = loaded or load(run_dir)
    rows = data.rows
    counts = {stage: _count(run_dir, f"{stage}.jsonl") for stage, _ in FUNNEL}
    per_query = [len(e.answer_arxiv_id) for e in rows]
    overlap = [title_overlap(e.question, e.answer) for e in rows]
    fuzzy = [a.score for a in data.answers if a.method in FUZZY_METHODS]
    rejects = {stage: _reasons(run_dir, stage) for stage in REJECTING}
    template = sum(1 for e in rows if e.generator == TEMPLATE_GENERATOR)
    published_per_paper = Counter(e.source_meta.paper_id for e in rows)
    return {
        "funnel": counts,
        "funnel_steps": _steps(counts, len(rows)),
        "contexts_front_matter": front_matter_contexts(run_dir),
        "rejects": rejects,
        "examples": {s: len(v) for s, v in data.examples.items()},
        "papers": {s: len({e.source_meta.paper_id for e in v}) for s, v in data.examples.items()},
        "answer_drops": dict(sorted(data.dropped.items())),
        "match_methods": dict(sorted(Counter(a.method for a in data.answers).items())),
        # Answers resting on a printed id alone, and answers kept despite a doubt: counted
        # apart so a reader sees how much of the dataset no index record vouches for.
        "printed_id_unverified": sum(a.method == "printed-id-unverified" for a in data.answers),
        "match_flags": dict(sorted(Counter(f for a in data.answers for f in a.flags).items())),
        "answers_resolved": len(data.answers),
        "duplicates_removed": {"answers (same arXiv id twice in a query)":
                               data.dropped.get("duplicate", 0),
                               "queries (near-duplicate questions)":
                               rejects["publish"].get("near-duplicate", 0)},
        "date_rule": _date_rule(run_dir, data),
        "printed_unindexed": {"count": len(data.unindexed),
                              "ids": sorted({u["arxiv_id"] for u in data.unindexed}),
                              "examples": data.unindexed[:NEAR_MISS_SHOWN]},
        "near_misses": {"count": len(data.near_misses),
                        "closest": sorted(data.near_misses,
                                          key=lambda n: -(n["score"] or 0))[:NEAR_MISS_SHOWN]},
        "template_share": _share(template, len(rows)),
        "trivial_share": _share(sum(1 for v in overlap if v >= TRIVIAL_OVERLAP), len(rows)),
        "generators": dict(sorted(Counter(e.generator for e in rows).items())),
        "by_venue": by_venue(rows, run_dir),
        "distributions": {
            "answers_per_query": {**summary(per_query), "histogram": histogram(per_query, 1)},
            "queries_per_paper": {**summary(list(published_per_paper.values())),
                                  "histogram": histogram(list(published_per_paper.values()), 1)},
            "question_words": {**summary([len(e.question.split()) for e in rows]),
                               "histogram": histogram([len(e.question.split()) for e in rows], 5)},
            "title_overlap": {**summary(overlap), "histogram": histogram(overlap, 0.1)},
            "match_scores": {**summary(fuzzy), "histogram": histogram(fuzzy, 2)},
        },
        # The raw values behind the plots; write_report keeps them out of audit.json.
        "values": {"answers_per_query": per_query, "question_words":
                   [len(e.question.split()) for e in rows], "fuzzy_scores": fuzzy,
                   "title_overlap": overlap},
    }


def front_matter_contexts(run_dir: Path) -> dict[str, int]:
    """Contexts the front-matter fallback made (no Related Work heading), counted apart."""
    from ..front_matter import FRONT_MATTER
    from ..records import CitationContext

    papers: set[str] = set()
    n = 0
    for c in _records(run_dir, "contexts.jsonl", CitationContext):
        if FRONT_MATTER in c.section:
            n += 1
            papers.add(c.source.paper_id)
    return {"contexts": n, "papers": len(papers)}


def _steps(counts: dict[str, int], published: int) -> list[dict]:
    """The funnel with its shares; a share only between steps that count the same thing
    (papers, contexts, queries): 3 contexts per paper is not a 300% step."""
    steps = [(stage, what, counts[stage]) for stage, what in FUNNEL]
    steps.append(("dataset", "queries published", published))
    out, first, previous = [], {}, None
    for stage, what, n in steps:
        unit = what.split()[0] if what.startswith("papers") else what.split()[-1]
        unit = "queries" if what.startswith("queries") else unit
        same = previous is not None and previous[0] == unit
        first.setdefault(unit, (stage, n))
        out.append({"stage": stage, "what": what, "records": n, "unit": unit,
                    "of_previous": _share(n, previous[1]) if same else None,
                    "of_first": _share(n, first[unit][1]) if first[unit][0] != stage else None,
                    "first": first[unit][0]})
        previous = (unit, n)
    return out


def by_venue(rows: list[Example], run_dir: Path | None = None) -> list[dict]:
    """PaSa's Table 2 columns for each venue and year of the dataset, beside PaSa's figures.
    A combined folder has a row for each member run, one with no row left included (every
    query dropped, e.g. as a near-duplicate of another venue's), and local folders apart."""
    groups: dict[tuple, list[Example]] = defaultdict(list)
    members = member_runs(run_dir) if run_dir is not None else []
    if members:
        label = {}
        for m in members:
            shown = m["name"] if m["venue"] == "local" else m["venue"]
            groups[(shown, m["year"])] = []
            label.update((p.paper_id, (shown, m["year"])) for p in
                         read_jsonl(run_dir / m["run_dir"] / "fetch.jsonl", Paper))
        for e in rows:
            groups[label[e.source_meta.paper_id]].append(e)
    else:
        for e in rows:
            groups[(e.source_meta.venue, e.source_meta.year)].append(e)
    out = []
    for (venue, year), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        counts = [len(e.answer_arxiv_id) for e in group]
        s = summary(counts)
        out.append({"venue": venue, "year": year,
                    "papers": len({e.source_meta.paper_id for e in group}),
                    "queries": len(group), "mean": s["mean"], "p50": s["p50"], "p90": s["p90"],
                    "pasa": PASA_TABLE2.get(((venue or "").lower(), year))})
    return out


def _listing(run_dir: Path) -> list[Paper]:
    return list(_records(run_dir, "listing.jsonl", Paper))


def _date_rule(run_dir: Path, data: Loaded) -> dict:
    """Answers dropped as newer than their source paper, by where that paper's date came from
    (the venue's publication date, or only its year), and how many papers each basis covers."""
    papers = {p.paper_id: p for p in _listing(run_dir)}
    dropped: Counter = Counter()
    for paper_id, n in data.leaks.items():
        p = papers.get(paper_id)
        basis = date_basis(p.published, p.year) if p else "not in listing"
        dropped[f"{basis} ({p.source or p.venue})" if p else basis] += n
    basis_papers = Counter(f"{date_basis(p.published, p.year)} ({p.source or p.venue})"
                           for p in papers.values())
    return {"answers_dropped": sum(data.leaks.values()),
            "dropped_by_date_source": dict(sorted(dropped.items())),
            "papers_by_date_source": dict(sorted(basis_papers.items()))}


# ---------------------------------------------------------------- per paper


def _paper_date(paper: Paper) -> str:
    """The date the leakage rule judges this paper's answers by (match.leak_cutoff)."""
    cutoff = leak_cutoff(paper.published, paper.year)
    if cutoff is None:
        return NO_DATE
    return cutoff.isoformat() if paper.published else f"{paper.year} (year only)"


def _rejects_by_paper(run_dir: Path, stage: str, parts: int) -> dict[str, Counter]:
    """A stage's reject reasons per source paper; its keys are the paper id followed by
    `parts` ':'-separated counters (contexts: 1, queries: 2)."""
    out: dict[str, Counter] = defaultdict(Counter)
    for line in _lines(run_dir, f"{stage}.rejects.jsonl"):
        row = json.loads(line)
        key = row["key"].rsplit(":", parts)[0] if parts else row["key"]
        out[key][row["reason"]] += 1
    return out


def _first_reject(run_dir: Path) -> dict[str, str]:
    stopped: dict[str, str] = {}
    for stage in ("fetch", "parse", "contexts"):
        for line in _lines(run_dir, f"{stage}.rejects.jsonl"):
            row = json.loads(line)
            detail = f" ({row['detail'][:120]})" if row.get("detail") else ""
            stopped.setdefault(row["key"], f"{stage}: {row['reason']}{detail}")
    return stopped


def _counted(counter: Counter) -> str:
    return ", ".join(f"{reason} x{n}" for reason, n in counter.most_common())


def per_paper(run_dir: Path, loaded: Loaded | None = None) -> list[dict]:
    """One row per listed paper: how far it got and, if it published nothing, why."""
    from ..records import CitationContext

    data = loaded or load(run_dir)
    papers = _listing(run_dir)
    contexts = Counter(c.source.paper_id
                       for c in _records(run_dir, "contexts.jsonl", CitationContext))
    published = Counter(e.source_meta.paper_id for e in data.rows)
    stopped = _first_reject(run_dir)
    fetched = {p.paper_id for p in _records(run_dir, "fetch.jsonl", Paper)}
    parsed = {json.loads(ln)["paper"]["paper_id"] for ln in _lines(run_dir, "parse.jsonl")}
    generate_rejects = _rejects_by_paper(run_dir, "generate", 1)
    publish_rejects = _rejects_by_paper(run_dir, "publish", 2)
    ran = {stage: all(p.exists() for p in stage_files(run_dir, f"{stage}.jsonl"))
           for stage in ("generate", "match")}
    ran["publish"] = (run_dir / "dataset").is_dir()
    rows = []
    for p in papers:
        why = ""
        if not published[p.paper_id]:
            why = _why(p.paper_id, stopped, fetched, parsed, contexts, data,
                       generate_rejects, publish_rejects, ran)
        rows.append({"paper_id": p.paper_id, "title": p.title, "date": _paper_date(p),
                     "contexts": contexts[p.paper_id], "queries": data.queries[p.paper_id],
                     "published": published[p.paper_id], "why_nothing": why})
    return rows


def _why(paper_id, stopped, fetched, parsed, contexts, data, generate_rejects,
         publish_rejects, ran) -> str:
    """The first stage that left this paper with nothing, in a few words."""
    later = next((stage for stage in ("generate", "match", "publish") if not ran[stage]), None)
    if paper_id in stopped:
        return stopped[paper_id]
    if paper_id not in fetched:
        return "fetch: not fetched yet"
    if paper_id not in parsed:
        return "parse: not parsed yet"
    if not contexts[paper_id]:
        return "contexts: no citation contexts"
    if generate_rejects.get(paper_id) and not data.queries[paper_id] and ran["match"]:
        return f"generate: every context rejected ({_counted(generate_rejects[paper_id])})"
    if later:
        return f"{later}: not run yet"
    if not data.queries[paper_id]:
        if generate_rejects.get(paper_id):
            return f"generate: every context rejected ({_counted(generate_rejects[paper_id])})"
        return "generate: no queries (not generated yet, or none matched)"
    empty = data.empty.get(paper_id)
    rejected = publish_rejects.get(paper_id, Counter())
    if rejected.get("near-duplicate") and not rejected.get("no-answer-on-arxiv"):
        return f"publish: every query a near-duplicate ({rejected['near-duplicate']})"
    if empty:
        what = _counted(empty)
        leaked = " (every match newer than the paper: leaks)" if set(empty) == {
            "newer-than-source"} else ""
        dup = (f"; {rejected['near-duplicate']} near-duplicate"
               if rejected.get("near-duplicate") else "")
        return f"match: every answer unmatched or dropped: {what}{leaked}{dup}"
    return "publish: not published yet (run publish)"


def why_lines(papers: list[dict]) -> list[str]:
    """One line per paper that published nothing."""
    return [f"{p['paper_id']}: {p['why_nothing']}" for p in papers if not p["published"]]
