"""Regenerate data/demo_arxiv.jsonl and data/demo_gold.json from autoscholar/sources/demo/corpus.py.

Usage: python scripts/make_demo_data.py   (tests/test_demo.py checks the files are current)
"""

from __future__ import annotations

from pathlib import Path

from autoscholar.sources.demo.gold import gold_text, index_lines

DATA = Path(__file__).resolve().parents[1] / "data"


def main() -> None:
    (DATA / "demo_arxiv.jsonl").write_text("\n".join(index_lines()) + "\n", encoding="utf-8")
    (DATA / "demo_gold.json").write_text(gold_text(), encoding="utf-8")
    print(f"wrote {DATA / 'demo_arxiv.jsonl'} and {DATA / 'demo_gold.json'}")


if __name__ == "__main__":
    main()
