"""Precision and recall of reference -> arXiv resolution on real reference strings with gold ids.

Index: ../shared/data/arxiv (catalog_213k, cv-arxiv-daily, tts-papers) plus the gold papers the
catalogue lacks (title from the gold data where it has one). Gold references:
  unarxive-2023  bib_entry_raw of the unarXive 2023 sample with ids.arxiv_id
  tei            Grobid TEI biblStruct with idno type="arXiv" (string rebuilt from the fields)
  grobid-train   Grobid citation training <bibl> with idno type="arxiv" (the text as printed)
  latex-bbl      \bibitem entries of the LaTeX gold .bbl files that print an arXiv id or URL
                 (raw LaTeX: accents, \emph, {C}ase braces, \href wrappers)
Each reference that prints its id is tried twice: as printed (id path) and with the id cut out
(title path). A link to a paper other than the gold one is a false positive, also when the gold
paper is not in the index. Recall counts only references whose gold paper is in the index.

The failure classes of issue 11 are slices built by rule from real catalogue records
(match_slices.py): subtitle dropped or added at a colon, one word differing, a short catalogue
title inside a longer printed one, the same authors' other paper, records without authors, a
printed id the index lacks (those records are kept out of the index), a printed id of a paper by
other authors. Each slice reports precision, recall (on items whose answer exists) and false
links (links to a wrong paper, or any link where there is no right answer, over all items).

    python scripts/eval_match.py [--threshold 90] [--details] [--pad-to 2700000]
"""

from __future__ import annotations

import argparse
import csv
import glob
import itertools
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from autoscholar.arxiv.index import build_index_from_records, load_index
from autoscholar.arxiv.resolve import resolve
from autoscholar.arxiv.normalize import canonical_id, extract_arxiv_ids, normalize_title
from autoscholar.records import BibEntry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from match_slices import build_slices, choose_absent  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEI_NS = "{http://www.tei-c.org/ns/1.0}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# Some training files are not well-formed (xml:id="0"): read them leniently, still no entities.
LENIENT = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
PLACEHOLDER = "untitled gold record"
_ID_TEXT = re.compile(
    r"(?:arxiv(?:\s*preprint)?\s*[:.]?\s*|https?://arxiv\.org/(?:abs|pdf)/|abs/|10\.48550/arxiv\.)?"
    r"(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\s*\[[\w.-]+\])?",
    re.IGNORECASE)


@dataclass
class Gold:
    source: str
    path: str  # "id" | "title"
    entry: BibEntry
    gold_id: str


def kaggle(arxiv_id: str, title: str, authors: list[str], categories: str = "", date: str | None = None) -> dict:
    rec = {"id": arxiv_id, "title": title, "authors": ", ".join(authors), "categories": categories}
    if date:
        import datetime as dt
        d = dt.date.fromisoformat(date[:10])
        rec["versions"] = [{"version": "v1", "created": d.strftime("%a, %-d %b %Y 00:00:00 GMT")}]
    return rec


def catalog_records() -> dict[str, dict]:
    """Real arXiv metadata of ../shared/data/arxiv, one Kaggle-format dict per id."""
    out: dict[str, dict] = {}
    with open(DATA / "arxiv" / "catalog_213k.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            out[d["id"]] = kaggle(d["id"], d["title"], d.get("authors") or [],
                                  " ".join(d.get("categories") or []), d.get("date"))
    with open(DATA / "arxiv" / "cv-arxiv-daily__flattened_DERIVED.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            ident = canonical_id(d["id"])
            if ident and ident not in out:
                out[ident] = kaggle(ident, d["title"], [d["first_author"]] if d.get("first_author") else [],
                                    "", d.get("date"))
    with open(DATA / "arxiv" / "tts-papers__papers.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            ident = canonical_id(row["arxiv_id"]) if not row["arxiv_id"].startswith("s2:") else None
            if ident and ident not in out:
                out[ident] = kaggle(ident, row["title"], [a.strip() for a in row["authors"].split(",")],
                                    row.get("categories", ""), row.get("submitted"))
    return out


def strip_ids(text: str) -> str:
    return " ".join(_ID_TEXT.sub(" ", text).split())


def both_paths(source: str, entry: BibEntry, gold_id: str, has_title: bool = True) -> list[Gold]:
    """The id-path item if the id is printed; the title-path item if a title is printed."""
    out = []
    if gold_id in [i for i, _ in extract_arxiv_ids(entry.raw)]:
        out.append(Gold(source, "id", entry, gold_id))
    stripped = strip_ids(entry.raw)
    if has_title and gold_id not in [i for i, _ in extract_arxiv_ids(stripped)]:
        out.append(Gold(source, "title", entry.model_copy(update={"raw": stripped, "arxiv_id": None}), gold_id))
    return out


def unarxive_gold(extra: dict[str, dict]) -> tuple[list[Gold], list[BibEntry]]:
    gold, other = [], []
    path = DATA / "references" / "unarXive_data_sample_2023" / "arXiv_src_2212_086.jsonl"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            for key, bib in paper["bib_entries"].items():
                entry = BibEntry(key=key, raw=bib["bib_entry_raw"])
                ident = canonical_id((bib.get("ids") or {}).get("arxiv_id") or "")
                if ident:
                    gold += both_paths("unarxive-2023", entry, ident)
                    # Titles of cited papers are not in the sample: only the id path can
                    # find them, so they enter the index under a placeholder title.
                    extra.setdefault(ident, kaggle(ident, f"{PLACEHOLDER} {ident}", []))
                else:
                    other.append(entry)
    return gold, other


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def tei_gold(extra: dict[str, dict]) -> list[Gold]:
    """Grobid TEI references with an arXiv idno; the string is rebuilt from the parsed fields."""
    gold = []
    for name in sorted(glob.glob(str(DATA / "tei" / "**" / "*.xml"), recursive=True)):
        root = etree.parse(name, PARSER).getroot()
        for bib in root.iter(f"{TEI_NS}listBibl"):
            for bs in bib.iter(f"{TEI_NS}biblStruct"):
                idno = bs.find(f".//{TEI_NS}idno[@type='arXiv']")
                ident = canonical_id(idno.text or "") if idno is not None else None
                if not ident:
                    continue
                authors = []
                for pers in bs.iter(f"{TEI_NS}persName"):
                    fore = " ".join(f"{(f.text or '')[:1]}." for f in pers.findall(f"{TEI_NS}forename") if f.text)
                    authors.append(f"{fore} {_text(pers.find(f'{TEI_NS}surname'))}".strip())
                title = _text(bs.find(f".//{TEI_NS}title[@level='a']")) or _text(bs.find(f".//{TEI_NS}title"))
                venue = _text(bs.find(f"{TEI_NS}monogr/{TEI_NS}title")) if bs.find(f"{TEI_NS}analytic") is not None else ""
                date = bs.find(f".//{TEI_NS}date")
                year = (date.get("when") or "")[:4] if date is not None else ""
                raw = ". ".join(p for p in (", ".join(authors), title, venue, year) if p) + "."
                entry = BibEntry(key=bs.get("{http://www.w3.org/XML/1998/namespace}id") or "b",
                                 raw=f"{raw} {idno.text.strip() if idno.text.strip().lower().startswith('arxiv') else 'arXiv:' + idno.text.strip()}", title=title or None,
                                 authors=authors, year=int(year) if year.isdigit() else None)
                gold += both_paths("tei", entry, ident)
                if title and ident not in extra:
                    extra[ident] = kaggle(ident, title, authors)
    return gold


def grobid_train_gold(extra: dict[str, dict]) -> list[Gold]:
    gold = []
    corpus = DATA / "references" / "grobid_citation_training" / "corpus"
    for name in sorted(glob.glob(str(corpus / "*.xml"))):
        root = etree.parse(name, LENIENT).getroot()
        if root is None:
            continue
        for bibl in root.iter(f"{TEI_NS}bibl", "bibl"):
            idnos = [i for i in bibl.iter(f"{TEI_NS}idno", "idno") if (i.get("type") or "").lower() == "arxiv"]
            ident = canonical_id(idnos[0].text or "") if idnos else None
            if not ident:
                continue
            raw = _text(bibl)
            titles = [t for t in bibl.iter(f"{TEI_NS}title", "title") if t.get("level") == "a"]
            title = _text(titles[0]) if titles else ""
            gold += both_paths("grobid-train", BibEntry(key="b", raw=raw), ident, has_title=bool(title))
            if ident not in extra:
                authors = [_text(a) for a in bibl.iter(f"{TEI_NS}author", "author")]
                # No title printed: the id path still needs the paper in the index.
                extra[ident] = kaggle(ident, title or f"{PLACEHOLDER} {ident}", authors)
    return gold


def _skip_group(text: str, i: int, open_: str, close: str) -> int:
    """Index after a balanced group starting at text[i] == open_ (or i if there is none)."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text) or text[i] != open_:
        return i
    depth = 0
    for j in range(i, len(text)):
        depth += {open_: 1, close: -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    return len(text)


def bbl_gold(extra: dict[str, dict], other: list[BibEntry]) -> list[Gold]:
    gold = []
    for name in sorted(glob.glob(str(DATA / "references" / "latex_gold" / "*" / "*.bbl"))):
        text = open(name, encoding="utf-8").read()
        for chunk in text.split("\\bibitem")[1:]:
            chunk = chunk.split("\\end{thebibliography}")[0]
            i = _skip_group(chunk, 0, "[", "]")
            key_end = _skip_group(chunk, i, "{", "}")
            raw = " ".join(chunk[key_end:].replace("\\newblock", " ").split())
            raw = re.sub(r"\\href\s*\{([^{}]*)\}", r"\1 ", raw)  # keep the URL: it may hold the id
            ids = extract_arxiv_ids(raw)
            if ids:
                ident = ids[0][0]
                gold += both_paths("latex-bbl", BibEntry(key=chunk[i:key_end].strip("{} "), raw=raw), ident)
                extra.setdefault(ident, kaggle(ident, f"{PLACEHOLDER} {ident}", []))
            else:
                other.append(BibEntry(key="bbl", raw=raw))
    return gold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=90.0)
    ap.add_argument("--details", "--show-errors", action="store_true", dest="details",
                    help="list every error of every slice")
    ap.add_argument("--pad-to", type=int, default=0,
                    help="add generated records (as in bench_match.py) up to this many, e.g. 2700000")
    args = ap.parse_args()
    records = catalog_records()
    extra: dict[str, dict] = {}
    bbl_other: list[BibEntry] = []
    golds = tei_gold(extra) + grobid_train_gold(extra) + bbl_gold(extra, bbl_other)
    un_gold, un_other = unarxive_gold(extra)
    golds += un_gold
    absent = choose_absent(records, {g.gold_id for g in golds})
    for ident in absent:
        del records[ident]
    real = {k: v for k, v in records.items() if not v["title"].startswith(PLACEHOLDER)}
    added = {k: v for k, v in extra.items() if k not in records}
    records.update(added)
    norms = {normalize_title(r["title"]) for r in records.values()}
    items = build_slices(real, absent, norms)
    with tempfile.TemporaryDirectory() as tmp:
        stream = iter(records.values())
        if args.pad_to > len(records):
            from bench_match import generated_records
            stream = itertools.chain(stream, generated_records(list(real.values()), args.pad_to - len(records),
                                                               abstract=False))
        stats = build_index_from_records(stream, Path(tmp) / "index")
        index = load_index(Path(tmp) / "index")
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        errors = []
        start = time.perf_counter()
        for g in golds:
            res = resolve(g.entry, index, args.threshold)
            row = index.row_of(g.gold_id)
            # A placeholder title cannot be found by title: such gold counts as absent there.
            in_index = row is not None and not (g.path == "title" and index.titles[row].startswith(PLACEHOLDER))
            c = counts[(g.source, g.path)]
            c[0] += 1
            c[1] += in_index
            if res.arxiv_id:
                c[2] += 1
                c[3] += res.arxiv_id == g.gold_id
                if res.arxiv_id != g.gold_id:
                    errors.append(("wrong", f"{g.source}/{g.path}", g.gold_id, g.entry, res))
            elif in_index:
                errors.append(("missed", f"{g.source}/{g.path}", g.gold_id, g.entry, res))
        seconds = time.perf_counter() - start
        slice_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        methods: dict[str, Counter] = defaultdict(Counter)
        for it in items:
            res = resolve(it.entry, index, args.threshold)
            c = slice_counts[it.slice]
            c[0] += 1
            c[1] += it.want is not None
            c[2] += res.arxiv_id is not None
            c[3] += res.arxiv_id is not None and res.arxiv_id == it.want
            methods[it.slice][res.method] += 1
            if res.arxiv_id != it.want:
                kind = "missed" if res.arxiv_id is None else "wrong"
                errors.append((kind, f"{it.slice}/{it.rule}", it.want, it.entry, res))
        other_links = [(e, resolve(e, index, args.threshold)) for e in un_other + bbl_other]
        other_links = [(e, r) for e, r in other_links if r.arxiv_id]
    print(f"Index: {stats.records:,} records ({len(added)} gold papers added, {len(absent)} real records "
          f"kept out), built in {stats.seconds:.1f} s; {len(golds)} gold references resolved in "
          f"{seconds:.1f} s; threshold {args.threshold}\n")
    print("| source | path | refs | gold in index | linked | correct | precision | recall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (source, path), c in sorted(counts.items()):
        print(_row(source, path, c))
        totals[path] = [a + b for a, b in zip(totals[path], c)]
    for path, c in sorted(totals.items()):
        print(_row("**all**", path, c))
    print("\n| slice | refs | answer in index | linked | correct | precision | recall | false links | methods |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, c in slice_counts.items():
        print(_slice_row(name, c, methods[name]))
    everything = [sum(x) for x in zip(*slice_counts.values(), *totals.values())]
    print(_slice_row("**all (real + slices)**", everything, Counter()))
    print(f"\nEntries without a gold arXiv id (unarXive, .bbl) linked anyway: {len(other_links)} of "
          f"{len(un_other) + len(bbl_other)} (no gold: check them by eye with --details)")
    if args.details:
        for kind, where, want, entry, res in errors:
            print(f"\n[{kind}] {where} want={want} got={res.arxiv_id} "
                  f"{res.method} {res.score} {res.reason}\n  raw: {entry.raw[:300]}\n  got: {res.title}")
        for e, r in other_links:
            print(f"\n[no-gold link] {r.arxiv_id} {r.method} {r.score}\n  raw: {e.raw[:300]}\n  got: {r.title}")


def _slice_row(name: str, c: list[int], methods: Counter) -> str:
    n, present, linked, correct = c
    prec = f"{correct / linked:.3f}" if linked else "-"
    rec = f"{correct / present:.3f}" if present else "-"
    false = linked - correct
    shown = ", ".join(f"{m} {k}" for m, k in sorted(methods.items()))
    return f"| {name} | {n} | {present} | {linked} | {correct} | {prec} | {rec} | {false} ({false / n:.1%}) | {shown} |"


def _row(source: str, path: str, c: list[int]) -> str:
    n, present, linked, correct = c
    prec = f"{correct / linked:.3f}" if linked else "-"
    rec = f"{min(correct, present) / present:.3f}" if present else "-"
    return f"| {source} | {path} | {n} | {present} | {linked} | {correct} | {prec} | {rec} |"


if __name__ == "__main__":
    sys.exit(main())
