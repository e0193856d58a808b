"""The demo's mini arXiv index (Kaggle snapshot lines) and its gold answers, built from corpus.py.

scripts/make_demo_data.py writes them to data/demo_arxiv.jsonl and data/demo_gold.json; a test
checks that the bundled files are what these functions produce.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from pathlib import Path

from autoscholar.parse.lexicon import SURNAME_PARTICLES as PARTICLES
from autoscholar.resources import resource
from autoscholar.sources.demo.corpus import ARXIV, ARXIV_TIMES, CALLOUT, PAPERS, REFS


def demo_gold_path() -> Path:
    """The bundled gold (data/demo_gold.json, written by scripts/make_demo_data.py)."""
    return resource("data", "demo_gold.json")


# ------------------------------------------------------------------ mini arXiv index


def _parse_name(name: str) -> list[str]:
    """'Laurens van der Maaten' -> ['van der Maaten', 'Laurens', ''] (Kaggle authors_parsed)."""
    parts = name.split()
    last_start = len(parts) - 1
    while last_start > 1 and parts[last_start - 1] in PARTICLES:
        last_start -= 1
    return [" ".join(parts[last_start:]), " ".join(parts[:last_start]), ""]


def _created(arxiv_id: str, date: str) -> str:
    day = dt.date.fromisoformat(date)
    time = ARXIV_TIMES.get(arxiv_id, "12:00:00")
    return f"{day.strftime('%a')}, {day.day} {day.strftime('%b %Y')} {time} GMT"


def index_record(arxiv_id: str) -> dict:
    """One line of the Kaggle arXiv metadata snapshot, keys in the snapshot's order."""
    title, authors, date, category = ARXIV[arxiv_id]
    joined = authors[0] if len(authors) == 1 else ", ".join(authors[:-1]) + " and " + authors[-1]
    return {
        "id": arxiv_id,
        "submitter": authors[0],
        "authors": joined,
        "title": title,
        "comments": None,
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": category,
        "license": None,
        # Abstracts are not facts we carry; the matcher uses ids, titles, authors and dates.
        "abstract": "  Abstract not included in the autoscholar demo index.\n",
        "versions": [{"version": "v1", "created": _created(arxiv_id, date)}],
        "update_date": date,
        "authors_parsed": [_parse_name(a) for a in authors],
    }


def index_lines() -> list[str]:
    return [json.dumps(index_record(i), separators=(",", ":")) for i in sorted(ARXIV)]


# ------------------------------------------------------------------ gold


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a markup paragraph (the demo text has no abbreviations to trip on)."""
    return [s for s in re.split(r"(?<=\.)\s+(?=[A-Z{])", paragraph.strip()) if s]


def plain_sentence(sentence: str) -> str:
    """The sentence as a reader sees it with the callouts taken out."""
    text = CALLOUT.sub("", sentence).replace("~", "")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s+([,.;:)])", r"\1", text).strip()


def snippet(sentence: str) -> str:
    """The longest callout-free stretch of a sentence: distinctive and verbatim in the PDF."""
    pieces = [p.replace("~", "").strip(" ,.;:") for p in CALLOUT.split(sentence)[::3]]
    return re.sub(r"\s+", " ", max(pieces, key=len))


def _related_paragraphs(section: dict, path: list[str]):
    path = [*path, _heading_title(section["heading"])]
    for paragraph in section.get("paragraphs", []):
        yield " > ".join(path), paragraph
    for sub in section.get("subsections", []):
        yield from _related_paragraphs(sub, path)


def _heading_title(heading: str) -> str:
    return re.sub(r"^\d+(\.\d+)*\.?\s+", "", heading)


def _verdict(key: str, published: dt.date) -> str | None:
    """Why a cited reference cannot be an answer, or None when it must be one."""
    arxiv_id = REFS[key]["arxiv"]
    if arxiv_id is None:
        return "not-on-arxiv"
    if dt.date.fromisoformat(ARXIV[arxiv_id][2]) > published:
        return "newer-than-source"
    return None


def gold() -> dict:
    papers = []
    for spec in PAPERS:
        published = dt.date.fromisoformat(spec["published"])
        related = next(s for s in spec["sections"] if s.get("related"))
        sentences, dropped, answers = [], {}, []
        for section, paragraph in _related_paragraphs(related, []):
            for sentence in split_sentences(paragraph):
                keys = [k for m in CALLOUT.finditer(sentence) for k in m.group(2).split(",")]
                if not keys:
                    continue
                keys = list(dict.fromkeys(keys))
                ids = [REFS[k]["arxiv"] for k in keys if _verdict(k, published) is None]
                for k in keys:
                    if _verdict(k, published):
                        dropped[k] = {"key": k, "title": REFS[k]["title"], "arxiv_id": REFS[k]["arxiv"],
                                      "reason": _verdict(k, published)}
                answers.extend(i for i in ids if i not in answers)
                sentences.append({
                    "section": section,
                    "snippet": snippet(sentence),
                    "text": plain_sentence(sentence),
                    "refs": [{"key": k, "title": REFS[k]["title"], "arxiv_id": REFS[k]["arxiv"]}
                             for k in keys],
                    "gold_arxiv_ids": ids,
                })
        papers.append({
            "paper_id": spec["paper_id"],
            "title": spec["title"],
            "published": spec["published"],
            "style": spec["style"],
            "columns": spec["columns"],
            "related_heading": related["heading"],
            "gold_arxiv_ids": answers,
            "dropped": list(dropped.values()),
            "sentences": sentences,
        })
    return {
        "description": "Gold answers of the autoscholar offline demo: for every Related Work "
                       "sentence that cites something, the arXiv ids that must survive matching.",
        "index": "demo_arxiv.jsonl",
        "papers": papers,
    }


def gold_text() -> str:
    return json.dumps(gold(), indent=1, ensure_ascii=False) + "\n"
