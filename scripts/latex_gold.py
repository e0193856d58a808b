"""Score Related Work extraction against exact LaTeX gold (../shared/data/latex_pairs).

Each pair folder holds ``paper.pdf`` and ``gold.json``: the Related Work section's cite keys
and each cited entry's title, authors and year, read from the .tex and .bib. A parsed paper's
Related Work is what the contexts stage mines (``contexts_for`` with default Settings, so the
front-matter fallback counts when it is on); its cited bibliography entries are matched to
gold entries by title (fuzzy), or by first-author surname and year when a title is missing or
garbled. Recall: gold RW keys matched by some predicted entry. Precision: predicted entries
that match a gold RW key. Grobid is scored where a TEI file sits beside the PDF as
``paper.tei.xml`` (none do today: there is no Grobid server here to make them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rapidfuzz import fuzz

from autoscholar.config import Settings
from autoscholar.contexts import contexts_for
from autoscholar.errors import ParseError
from autoscholar.parse.citations import surname_forms
from autoscholar.records import BibEntry, Paper, ParsedPaper, Reject
from autoscholar.text import ascii_letters

TITLE_MIN = 85.0


def _norm(text: str) -> str:
    text = re.sub(r"\\[a-zA-Z]+|[{}$]", " ", text or "")
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def _surname(name: str) -> str:
    name = name.strip()
    if "," in name:
        return name.split(",")[0]
    return name.split()[-1] if name.split() else ""


def entry_matches(pred: BibEntry, gold: dict) -> bool:
    """Same work: titles agree (fuzzy, or one inside the other), or, when the predicted title
    is short or missing, the raw entry prints the gold title; or first surname and year agree
    and the raw entry shares most of the title's words."""
    gt = _norm(gold.get("title") or "")
    pt = _norm(pred.title or "")
    raw = _norm(pred.raw)
    if gt and pt:
        if fuzz.ratio(pt, gt) >= TITLE_MIN:
            return True
        short, long_ = sorted((pt, gt), key=len)
        if len(short) >= 15 and fuzz.partial_ratio(short, long_) >= 92:
            return True
    if gt and len(gt) >= 15 and fuzz.partial_ratio(gt, raw) >= 92:
        return True
    authors = gold.get("authors") or []
    if authors and gold.get("year") and str(gold["year"])[:4] in pred.raw:
        words = {ascii_letters(w) for w in re.split(r"[^\w]+", pred.raw)}
        if surname_forms(authors[0]) & words or ascii_letters(_surname(authors[0])) in words:
            return not gt or fuzz.token_set_ratio(gt, raw) >= 70
    return False


def predicted(parsed: ParsedPaper) -> tuple[list[str], list[BibEntry], str]:
    """(sections mined, distinct cited entries in order, reject reason or "")."""
    found = contexts_for(parsed, Settings(_env_file=None))
    if isinstance(found, Reject):
        return [], [], f"{found.reason}: {found.detail}"
    sections, entries, keys = [], [], set()
    for ctx in found:
        if ctx.section not in sections:
            sections.append(ctx.section)
        for ref in ctx.refs:
            if ref.key not in keys:
                keys.add(ref.key)
                entries.append(ref)
    return sections, entries, ""


def score(parsed: ParsedPaper, gold: dict) -> dict:
    sections, entries, reject = predicted(parsed)
    gold_keys = [k for k in gold["related_work_keys"] if k in gold["entries"]]
    used: set[str] = set()
    extras = []
    for e in entries:
        hit = next((k for k in gold_keys if k not in used and entry_matches(e, gold["entries"][k])),
                   None)
        if hit is None:  # a second entry for a work already matched: a duplicate, not wrong
            hit = next((k for k in used if entry_matches(e, gold["entries"][k])), "dup")
            if hit == "dup":
                extras.append(f"{e.key}: {(e.title or e.raw)[:90]}")
            continue
        used.add(hit)
    misses = [f"{k}: {gold['entries'][k].get('title', '')[:90]}" for k in gold_keys if k not in used]
    return {"rw_heading": gold.get("related_work_heading"), "sections": sections[:3],
            "reject": reject, "gold": len(gold_keys), "pred": len(entries),
            "hits": len(used), "correct": len(entries) - len(extras),
            "misses": misses, "extras": extras,
            "front_matter": any("(front matter)" in s for s in sections)}


def _paper(stem: str) -> Paper:
    return Paper(paper_id=stem, venue="local", source="local")


def evaluate(root: Path, parsers: dict) -> list[dict]:
    """One row per (pair, parser). ``parsers``: name -> function(Paper, folder) -> ParsedPaper
    or None when that parser has no input for the folder."""
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "gold.json").exists()):
        gold = json.loads((folder / "gold.json").read_text())
        for name, parse in parsers.items():
            row = {"paper": folder.name, "parser": name}
            try:
                parsed = parse(_paper(folder.name), folder)
            except ParseError as exc:
                row.update(error=str(exc), gold=len(gold["related_work_keys"]), pred=0, hits=0, correct=0,
                           misses=[], extras=[], sections=[], reject="parse error")
                rows.append(row)
                continue
            if parsed is None:
                continue
            row.update(score(parsed, gold))
            rows.append(row)
    return rows


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "–"


def report(rows: list[dict]) -> str:
    lines = ["| paper | parser | RW heading (gold) | RW found | gold keys | pred entries | P | R |",
             "|---|---|---|---|---|---|---|---|"]
    totals: dict[str, list[int]] = {}
    for r in rows:
        found = r["sections"][0] if r["sections"] else f"no ({r.get('reject', '')[:60]})"
        lines.append(f"| {r['paper']} | {r['parser']} | {r.get('rw_heading')} | {found} | "
                     f"{r['gold']} | {r['pred']} | {_ratio(r['correct'], r['pred'])} | "
                     f"{_ratio(r['hits'], r['gold'])} |")
        t = totals.setdefault(r["parser"], [0, 0, 0, 0, 0, 0])
        t[0] += bool(r["sections"])
        t[1] += 1
        t[2] += r["hits"]
        t[3] += r["pred"]
        t[4] += r["gold"]
        t[5] += r["correct"]
    for name, (found, n, hits, pred, gold, correct) in totals.items():
        lines.append(f"| **overall** | {name} | {n} | {found}/{n} found | {gold} | {pred} | "
                     f"**{_ratio(correct, pred)}** | **{_ratio(hits, gold)}** |")
    return "\n".join(lines)


def details(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        if not r["misses"] and not r["extras"]:
            continue
        lines += ["", f"### {r['paper']} ({r['parser']})"]
        lines += [f"- [miss] {m}" for m in r["misses"]]
        lines += [f"- [extra] {e}" for e in r["extras"]]
    return "\n".join(lines)
