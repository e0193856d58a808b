"""Section headings found on the LaTeX pairs: the project's PyMuPDF structure vs PyMuPDF's own
layout analysis (pymupdf4llm with pymupdf-layout, its ONNX model), both against the
\\section titles of the .tex sources.

    python scripts/eval_headings.py [--data ../shared/data] [--no-layout]

Per paper: gold \\section titles (comments dropped, appendix included), how many each parser
prints as a heading (fuzzy match on normalised text), whether the gold Related Work heading is
among them, and seconds spent. pymupdf4llm's headings are its markdown '#' lines. The layout
model is only measured here; the parser does not depend on it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_SECTION = re.compile(r"\\section\*?\s*(?:\[[^\]]*\])?\s*\{")


def _braced(text: str, start: int) -> str:
    depth, out = 1, []
    for ch in text[start:]:
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            break
        out.append(ch)
    return "".join(out)


def norm(text: str) -> str:
    text = re.sub(r"\\[a-zA-Z]+\*?", " ", text)
    text = re.sub(r"[*_#`{}~\\$]", " ", text)
    text = re.sub(r"^\s*(?:[0-9]+(?:\.[0-9]+)*\.?|[A-Z](?:\.[0-9]+)*\.?|[IVX]+\.)\s+", "", text)
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def gold_sections(src: Path) -> list[str]:
    titles = []
    for tex in sorted(src.rglob("*.tex")):
        text = "\n".join(ln.split("%")[0] if not ln.lstrip().startswith("%") else ""
                         for ln in tex.read_text(errors="replace").splitlines())
        for m in _SECTION.finditer(text):
            title = norm(_braced(text, m.end()))
            if title:
                titles.append(title)
    return titles


def found(gold: list[str], heads: list[str]) -> int:
    heads = [norm(h) for h in heads]
    return sum(any(fuzz.ratio(g, h) >= 90 for h in heads) for g in gold)


def ours(pdf: Path) -> list[str]:
    from autoscholar.parse.pymupdf.pdf import parse_pdf
    from autoscholar.records import Paper

    doc = parse_pdf(Paper(paper_id=pdf.parent.name, venue="local"), pdf)
    return [s.title for s in doc.sections]


def layout_model(pdf: Path) -> list[str]:
    import pymupdf4llm  # activates pymupdf.layout when it is installed

    md = pymupdf4llm.to_markdown(str(pdf), show_progress=False)
    return [ln.lstrip("#").strip() for ln in md.splitlines() if ln.startswith("#")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-layout", action="store_true", help="only the project's parser")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    root = args.data / "latex_pairs"
    parsers = {"pymupdf (ours)": ours}
    if not args.no_layout:
        parsers["pymupdf4llm + layout"] = layout_model
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "gold.json").exists()):
        gold = gold_sections(folder / "src")
        rw = norm(json.loads((folder / "gold.json").read_text()).get("related_work_heading") or "")
        row = {"paper": folder.name, "gold": len(gold)}
        for name, fn in parsers.items():
            t = time.perf_counter()
            try:
                heads = fn(folder / "paper.pdf")
            except Exception as exc:  # a measurement: one failing paper is a row, not a stop
                heads = []
                row[f"{name} error"] = f"{type(exc).__name__}: {exc}"[:120]
            row[name] = {"found": found(gold, heads), "rw": bool(rw) and found([rw], heads) == 1,
                         "heads": len(heads), "seconds": round(time.perf_counter() - t, 2)}
        rows.append(row)
    names = list(parsers)
    print("| paper | gold sections | " + " | ".join(f"{n}: found / RW / heads / s" for n in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for r in rows:
        cells = [f"{r[n]['found']} / {'yes' if r[n]['rw'] else 'NO'} / {r[n]['heads']} / "
                 f"{r[n]['seconds']}" for n in names]
        print(f"| {r['paper']} | {r['gold']} | " + " | ".join(cells) + " |")
    g = sum(r["gold"] for r in rows)
    tot = [f"{sum(r[n]['found'] for r in rows)}/{g} ({sum(r[n]['found'] for r in rows) / g:.2f}) / "
           f"{sum(r[n]['rw'] for r in rows)}/{len(rows)} / {sum(r[n]['heads'] for r in rows)} / "
           f"{sum(r[n]['seconds'] for r in rows):.1f}" for n in names]
    print(f"| **overall** | {g} | " + " | ".join(tot) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
