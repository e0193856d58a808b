"""Score the PyMuPDF backend against Grobid TEI (silver standard) on the shared real papers.

For each PDF in ../shared/data/pdf with a paired TEI file: is the Related Work section found
by each backend (contexts.find_target_sections with the default targets), and precision/recall
of (citing sentence, cited reference title) pairs inside those sections, PyMuPDF vs TEI, with
sentences and titles compared fuzzily (rapidfuzz). Then every PDF in the folder is parsed once
to check that none fails and that the papers with a Related Work heading get it found.
Papers whose TEI has no target section are listed but not counted in P/R (no silver pairs).
The TEI is a silver standard: where Grobid loses text (SPECTER's "(Tu et al., 2017; Zhang
et al., 2018; ...)" list is cut after the first name in the TEI itself) or reads two references
as one biblStruct (the TEI reader then refuses to link to it), correct PyMuPDF pairs count as
false positives; --details lists every disagreement to check by hand.

    python scripts/eval_parse.py [--data ../shared/data] [--json out.json] [--details]
                                 [--gold-only | --no-gold]
Then the same backends are scored against the exact LaTeX gold in ../shared/data/latex_pairs
(scripts/latex_gold.py): Related Work found, citation precision and recall per paper and overall.
Prints markdown tables; --details also lists every disagreeing pair per paper (the callout as
printed, the entry key and title, and the name+year check) to adjudicate by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz

from autoscholar.contexts import find_target_sections
from autoscholar.errors import ParseError
from autoscholar.parse.citations import surname_forms
from autoscholar.parse.lexicon import DEFAULT_SECTIONS
from autoscholar.parse.pymupdf.pdf import parse_pdf
from autoscholar.parse.grobid.tei import read_tei
from autoscholar.records import Paper, ParsedPaper
from autoscholar.text import ascii_letters

sys.path.insert(0, str(Path(__file__).resolve().parent))
import latex_gold  # noqa: E402  (a sibling script)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SENT_MIN = 80.0  # rapidfuzz score for "the same sentence"
TITLE_MIN = 85.0  # ... and for "the same reference"

PAIRS = {  # pdf stem -> TEI path (relative to tei/)
    "s2orc-doc2json__2020.acl-main.207": "s2orc-doc2json__2020.acl-main.207.tei.xml",
    "s2orc-doc2json__N18-3011": "s2orc-doc2json__N18-3011.tei.xml",
    "mmda__e5910c027af0ee9c1901c57f6579d903aedee7f4": "mmda__e5910c027af0ee9c1901c57f6579d903aedee7f4.tei.xml",
    **{f"OS-IA-Pipegrobid__paper_{n}": f"OS-IA-Pipegrobid/paper{n:02d}.tei.xml"
       for n in (2, 3, 4, 5, 6, 7, 24, 29, 30)},
}
# MANIFEST.md "RW heading" column: papers printed with a Related Work(s) heading
RW_HEADING_NO = {"papermage__2304.02623v1", "s2orc-doc2json__N18-3011", "science-parse__proto06",
                 "OS-IA-Pipegrobid__paper_24", "OS-IA-Pipegrobid__paper_29"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def pairs(parsed: ParsedPaper, info: dict | None = None) -> dict[tuple[str, str], bool | None]:
    """(sentence, reference title) for every linked callout in the target sections, each with
    its name+year check: does the sentence print the entry's first-author surname and year?
    (None where that cannot be checked: numeric callouts, entries without year or authors.)
    ``info``, when given, is filled with pair -> (callout text, entry key, raw sentence)."""
    bib = {e.key: e for e in parsed.bibliography}
    out: dict[tuple[str, str], bool | None] = {}
    for section in find_target_sections(parsed, DEFAULT_SECTIONS):
        for para in section.paragraphs:
            for sent in para.sentences:
                for cite in sent.cites:
                    numeric = cite.text.lstrip("[( ")[:1].isdigit()
                    for key in cite.keys:
                        if key not in bib:
                            continue
                        entry = bib[key]
                        pair = (_norm(sent.text), _norm(entry.title or entry.raw[:150]))
                        ok = None
                        if not numeric and entry.year and entry.authors:
                            ok = str(entry.year) in sent.text and _prints_name(entry.authors[0], sent.text)
                        out[pair] = ok
                        if info is not None:
                            info.setdefault(pair, (cite.text, key, sent.text))
    return out


def _prints_name(author: str, sentence: str) -> bool:
    """Does the sentence print this author's surname as a whole name (one to three words)?"""
    words = [ascii_letters(w) for w in re.split(r"[^\w]+", sentence)]
    words = [w for w in words if w]
    printed = {"".join(words[i:i + n]) for n in (1, 2, 3) for i in range(len(words))}
    return bool(surname_forms(author) & printed)


def _sent_same(a: str, b: str) -> bool:
    if fuzz.ratio(a, b) >= SENT_MIN:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 0.6 * len(long_) and fuzz.partial_ratio(short, long_) >= 90:
        return True
    # one parser split where the other did not ("... [25]. (ii) Text ...", a bulleted item run
    # into the sentence before it): a whole sentence found verbatim inside the other's is
    # the same citing context
    return len(short) >= 60 and fuzz.partial_ratio(short, long_) >= 97


def _title_same(a: str, b: str) -> bool:
    if fuzz.ratio(a, b) >= TITLE_MIN:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 15 and fuzz.partial_ratio(short, long_) >= 92


def match(pred: list[tuple[str, str]], gold: list[tuple[str, str]]) -> list[bool]:
    """Greedy one-to-one matching of pairs; for each pred pair, was it matched?"""
    used = [False] * len(gold)
    hit = [False] * len(pred)
    for i, (s, t) in enumerate(pred):
        for j, (gs, gt) in enumerate(gold):
            if not used[j] and _title_same(t, gt) and _sent_same(s, gs):
                used[j] = hit[i] = True
                break
    return hit


def _detail(pair: tuple[str, str], ok: bool | None, info: tuple[str, str, str]) -> dict:
    cite, key, sentence = info
    return {"sentence": sentence, "title": pair[1], "callout": cite, "key": key,
            "name_year": ok}


def details(result: dict) -> str:
    """Every disagreeing pair per paper: what only PyMuPDF has, what only the TEI has."""
    mark = {True: "name+year printed", False: "name+year NOT printed", None: "unchecked"}
    lines: list[str] = []
    for r in result["paired"]:
        if not r.get("only_pdf") and not r.get("only_tei"):
            continue
        lines += ["", f"### {r['paper']}"]
        for side, label in (("only_pdf", "only PyMuPDF"), ("only_tei", "only TEI")):
            for d in r.get(side, []):
                lines.append(f"- [{label}] {d['callout']!r} -> {d['key']} \"{d['title'][:70]}\" "
                             f"({mark[d['name_year']]})\n    {d['sentence'][:300]}")
    return "\n".join(lines)


def _paper(stem: str) -> Paper:
    return Paper(paper_id=stem, venue="local", source="local")


def evaluate(data: Path) -> dict:
    rows = []
    for stem, tei_rel in PAIRS.items():
        pdf_path, tei_path = data / "pdf" / f"{stem}.pdf", data / "tei" / tei_rel
        if not pdf_path.exists() or not tei_path.exists():
            continue
        gold_doc = read_tei(tei_path.read_bytes(), _paper(stem))
        row = {"paper": stem}
        try:
            pred_doc = parse_pdf(_paper(stem), pdf_path)
        except ParseError as exc:
            row.update(error=str(exc), pred_rw=False, tei_rw=bool(find_target_sections(gold_doc, DEFAULT_SECTIONS)))
            rows.append(row)
            continue
        gold_info: dict = {}
        pred_info: dict = {}
        gold_ok, pred_ok = pairs(gold_doc, gold_info), pairs(pred_doc, pred_info)
        gold, pred = sorted(gold_ok), sorted(pred_ok)
        hit_p, hit_r = match(pred, gold), match(gold, pred)
        hits_p, hits_r = sum(hit_p), sum(hit_r)
        # adjudication by name+year: an unmatched PyMuPDF pair whose sentence prints the
        # entry's surname and year is a link the silver standard missed; an unmatched TEI pair
        # whose sentence does not is a silver-standard error
        silver_missed = sum(1 for p, h in zip(pred, hit_p) if not h and pred_ok[p] is True)
        silver_wrong = sum(1 for g, h in zip(gold, hit_r) if not h and gold_ok[g] is False)
        row.update(
            tei_rw=[" > ".join(s.path) for s in find_target_sections(gold_doc, DEFAULT_SECTIONS)][:1],
            pred_rw=[" > ".join(s.path) for s in find_target_sections(pred_doc, DEFAULT_SECTIONS)][:1],
            gold=len(gold), pred=len(pred), hits_p=hits_p, hits_r=hits_r,
            bib_tei=len(gold_doc.bibliography), bib_pdf=len(pred_doc.bibliography),
            silver_missed=silver_missed, silver_wrong=silver_wrong,
            only_pdf=[_detail(p, pred_ok[p], pred_info[p]) for p, h in zip(pred, hit_p) if not h],
            only_tei=[_detail(g, gold_ok[g], gold_info[g]) for g, h in zip(gold, hit_r) if not h],
        )
        rows.append(row)
    sweep = []
    for pdf_path in sorted((data / "pdf").glob("*.pdf")):
        stem = pdf_path.stem
        try:
            doc = parse_pdf(_paper(stem), pdf_path)
            found = [" > ".join(s.path) for s in find_target_sections(doc, DEFAULT_SECTIONS)]
            linked = sum(1 for _ in pairs(doc))
            sweep.append({"paper": stem, "rw_heading": stem not in RW_HEADING_NO,
                          "found": found[:1], "pairs": linked, "bib": len(doc.bibliography)})
        except ParseError as exc:
            sweep.append({"paper": stem, "rw_heading": stem not in RW_HEADING_NO, "error": str(exc)})
    return {"paired": rows, "sweep": sweep}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "–"


def report(result: dict) -> str:
    lines = ["| paper | RW (TEI) | RW (PyMuPDF) | TEI pairs | PyMuPDF pairs | P | R | "
             "P / R adjudicated |",
             "|---|---|---|---|---|---|---|---|"]
    tp_p = tp_r = n_pred = n_gold = ap = ag = 0
    for r in result["paired"]:
        if "error" in r:
            lines.append(f"| {r['paper']} | {'yes' if r['tei_rw'] else 'no'} | ERROR {r['error']} | | | | | |")
            continue
        tei = r["tei_rw"][0] if r["tei_rw"] else "no"
        pdf = r["pred_rw"][0] if r["pred_rw"] else "no"
        if not r["tei_rw"]:  # no silver pairs to score against: shown, not counted
            lines.append(f"| {r['paper']} | {tei} | {pdf} | – | {r['pred']} | n/a | n/a | |")
            continue
        adj_p, adj_r = r["hits_p"] + r["silver_missed"], r["gold"] - r["silver_wrong"]
        bad = f"{_ratio(adj_p, r['pred'])} / {_ratio(r['hits_r'], adj_r)}"
        ap, ag = ap + adj_p, ag + adj_r
        lines.append(f"| {r['paper']} | {tei} | {pdf} | {r['gold']} | {r['pred']} | "
                     f"{_ratio(r['hits_p'], r['pred'])} | {_ratio(r['hits_r'], r['gold'])} | {bad} |")
        tp_p, tp_r = tp_p + r["hits_p"], tp_r + r["hits_r"]
        n_pred, n_gold = n_pred + r["pred"], n_gold + r["gold"]
    found = sum(1 for r in result["paired"] if r.get("tei_rw") and r.get("pred_rw"))
    want = sum(1 for r in result["paired"] if r.get("tei_rw"))
    lines.append(f"| **overall** | {want} | {found}/{want} found | {n_gold} | {n_pred} | "
                 f"**{_ratio(tp_p, n_pred)}** | **{_ratio(tp_r, n_gold)}** | "
                 f"{_ratio(ap, n_pred)} / {_ratio(tp_r, ag)} |")
    lines += ["", "P and R count every disagreement with the TEI against PyMuPDF. Adjudicated "
              "(author-year callouts only, by rule): an unmatched PyMuPDF pair whose sentence "
              "prints the cited entry's first-author surname and year counts as correct (Grobid "
              "dropped or left that callout unlinked), and an unmatched TEI pair whose sentence "
              "prints neither is dropped from the gold (Grobid linked the wrong entry)."]
    lines += ["", "| PDF | RW heading (MANIFEST) | section found by PyMuPDF | RW pairs | bib entries |",
              "|---|---|---|---|---|"]
    for s in result["sweep"]:
        if "error" in s:
            lines.append(f"| {s['paper']} | {'yes' if s['rw_heading'] else 'no'} | ERROR {s['error']} | | |")
        else:
            lines.append(f"| {s['paper']} | {'yes' if s['rw_heading'] else 'no'} | "
                         f"{s['found'][0] if s['found'] else '—'} | {s['pairs']} | {s['bib']} |")
    return "\n".join(lines)


def _grobid_tei(paper: Paper, folder: Path) -> ParsedPaper | None:
    tei = folder / "paper.tei.xml"
    return read_tei(tei.read_bytes(), paper) if tei.exists() else None


GOLD_PARSERS = {"pymupdf": lambda paper, folder: parse_pdf(paper, folder / "paper.pdf"),
                "grobid": _grobid_tei}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    ap.add_argument("--details", action="store_true",
                    help="also list every disagreeing pair per paper")
    ap.add_argument("--gold-only", action="store_true", help="only the LaTeX gold scores")
    ap.add_argument("--no-gold", action="store_true", help="only the TEI silver scores")
    args = ap.parse_args(argv)
    if not (args.data / "pdf").is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 2
    result: dict = {}
    if not args.gold_only:
        result = evaluate(args.data)
        print(report(result))
        if args.details:
            print(details(result))
    pairs_dir = args.data / "latex_pairs"
    if not args.no_gold and pairs_dir.is_dir():
        rows = latex_gold.evaluate(pairs_dir, GOLD_PARSERS)
        result["latex_gold"] = rows
        print("\n## LaTeX gold (latex_pairs)\n")
        print(latex_gold.report(rows))
        if args.details:
            print(latex_gold.details(rows))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
