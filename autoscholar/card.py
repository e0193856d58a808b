"""The Hugging Face dataset card (`dataset/hf/README.md`): YAML metadata the Hub reads, then a
body saying where every row came from.

Everything the body states is read from the run directory as it stands when publishing: the
stages' recorded settings (`<stage>.settings.json`), the parser named in parse.jsonl, the
arXiv index's meta.json, and the audit's figures when they describe this very dataset.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import __version__
from .combine import member_dirs, member_runs, stage_files
from .config import Settings
from .errors import InputError
from .records import Example

SPLITS = ("train", "dev", "test")

# The Hub's size buckets (huggingface_hub DatasetCardData.size_categories), smallest first.
SIZE_BUCKETS = ((10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"),
                (10**6, "100K<n<1M"), (10**7, "1M<n<10M"), (10**8, "10M<n<100M"),
                (10**9, "100M<n<1B"), (10**10, "1B<n<10B"), (10**11, "10B<n<100B"),
                (10**12, "100B<n<1T"))

# license: other must name the licence (hub-docs datasetcard.md): the rows quote papers whose
# licences differ from one paper to the next, so there is no single id to give.
OTHER_LICENSE_NAME = "mixed-source-papers"

LICENSE_NOTE = """\
The `context` field quotes the source papers' Related Work paragraphs verbatim, and
`answer_provenance.raw` their printed reference strings. That text stays under each source
paper's own licence (which varies from paper to paper and venue to venue, and is often "all
rights reserved"); the licence in this card's metadata (`{license}`) can only cover what the
dataset adds: the questions, the answer lists and the matching. Check the source papers' terms
before redistributing `context`, or drop the column (`dataset.remove_columns("context")`)."""

EMPTY_NOTE = """
This dataset has no rows. Its files have the full schema: read them with
`datasets.load_dataset(path, streaming=True)` or pyarrow (`load_dataset` without streaming
refuses a split of 0 rows).
"""

CITATION = """\
```bibtex
@misc{{autoscholar_{slug},
  title  = {{AutoScholarQuery-style queries: {venue}}},
  note   = {{Built with autoscholar {version}}},
}}
@article{{he2025pasa,
  title   = {{PaSa: An LLM Agent for Comprehensive Academic Paper Search}},
  author  = {{He, Yichen and Huang, Guanhua and Feng, Peiyuan and Lin, Yuan and Zhang, Yuchen
             and Li, Hang and E, Weinan}},
  journal = {{arXiv preprint arXiv:2501.10120}},
  year    = {{2025}}
}}
```"""


def size_category(n: int) -> str:
    for bound, name in SIZE_BUCKETS:
        if n < bound:
            return name
    return "n>1T"


def _recorded(run_dir: Path, stage: str) -> dict:
    """A stage's recorded settings; for a combined folder, the values all its members share."""
    found = [_recorded_one(path) for path in stage_files(run_dir, f"{stage}.settings.json")]
    return {k: v for k, v in found[0].items() if all(f.get(k, v) == v and k in f for f in found)}


def _recorded_one(path: Path) -> dict:
    try:
        values = json.loads(path.read_text()).get("values", {})
    except (OSError, ValueError, AttributeError):
        return {}  # a run without records (or a damaged one): the card says "unknown"
    return values if isinstance(values, dict) else {}


def parsers(run_dir: Path) -> list[str]:
    """'pymupdf 1.26.4' for each parser and version in parse.jsonl (only those two fields)."""
    found: Counter = Counter()
    for path in stage_files(run_dir, "parse.jsonl"):  # a combined folder: each member's
        try:
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue
                    found[" ".join(str(v) for v in (row.get("parser"), row.get("parser_version"))
                                   if v)] += 1
        except OSError:
            continue
    return sorted(name for name in found if name)


def prompt_hash(version: str) -> str | None:
    """sha256 of the prompt file the generator sent (None: a template generator, no file)."""
    from .generate.prompt import template

    try:
        return hashlib.sha256(template(version).encode("utf-8")).hexdigest()
    except OSError:
        return None


def index_built(settings: Settings) -> str | None:
    """When the arXiv index was built (its meta.json), which dates the snapshot behind it."""
    from .match import index_source

    try:
        meta = index_source(settings) / "meta.json"
        return str(json.loads(meta.read_text()).get("built") or "") or None
    except (InputError, OSError, ValueError, AttributeError):
        return None


@dataclass
class Rows:
    """What the card says of the published rows, gathered as publish writes them (it streams
    them to disk and keeps none): rows per split, and the venues, years, prompts and
    generators that made them."""

    counts: dict[str, int] = field(default_factory=dict)  # split -> rows, in split order
    venues: set[str] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    prompts: set[str] = field(default_factory=set)
    generators: set[str] = field(default_factory=set)

    def add(self, split: str, row: Example) -> None:
        self.counts[split] = self.counts.get(split, 0) + 1
        if row.source_meta.venue:
            self.venues.add(row.source_meta.venue)
        if row.source_meta.year:
            self.years.add(row.source_meta.year)
        if row.prompt_version:
            self.prompts.add(row.prompt_version)
        self.generators.add(row.generator)


def provenance(run_dir: Path, settings: Settings, rows: Rows) -> list[str]:
    venues, years = sorted(rows.venues), sorted(rows.years)
    generated = _recorded(run_dir, "generate")
    prompts = sorted(rows.prompts)
    prompt_lines = []
    for version in prompts:
        digest = prompt_hash(version)
        prompt_lines.append(f"{version} (sha256 {digest})" if digest else
                            f"{version} (a template, no prompt file)")
    matched = _recorded(run_dir, "match")
    index = matched.get("arxiv_index_sha256")
    # A combined folder's settings name no venue's index; its members' indexes may differ.
    built = None if member_dirs(run_dir) else index_built(settings)
    return [
        f"- Venues: {', '.join(venues) or settings.venue}; years: "
        f"{', '.join(map(str, years)) or settings.year or 'unknown'}",
        f"- Parser: {', '.join(parsers(run_dir)) or _recorded(run_dir, 'parse').get('parser') or 'unknown'}",
        f"- Query generator: {', '.join(sorted(rows.generators)) or generated.get('llm') or 'unknown'}"
        f" (temperature {generated.get('llm_temperature', 'unknown')})",
        f"- Prompt: {'; '.join(prompt_lines) or generated.get('prompt_version') or 'unknown'}",
        f"- arXiv index: sha256 {index or 'unknown'}"
        + (f", built {built}" if built else ", build date unknown")
        + f"; match threshold {matched.get('match_threshold', 'unknown')}",
        f"- Tool: autoscholar {__version__}; split seed `{settings.split_seed}`",
        *([f"- Member runs (one per venue-year, near-duplicates removed across them): "
           + ", ".join(f"{m['name']} ({m['papers']} papers)" for m in member_runs(run_dir))]
          if member_runs(run_dir) else []),
    ]


def stage_counts(run_dir: Path) -> list[str]:
    from .status import totals

    found = totals(run_dir)
    members = member_dirs(run_dir)
    if members:  # the record stages summed over the members; publish is the folder's own
        found = {**_summed([totals(m) for m in members]),
                 **{k: v for k, v in found.items() if k == "publish"}}
    return [f"| {stage} | {c['records']} | {c['rejects'] or 0} |" for stage, c in found.items()]


def _summed(all_totals: list[dict]) -> dict:
    out: dict = {}
    for each in all_totals:
        for stage, c in each.items():
            if stage in ("publish", "audit"):
                continue
            have = out.setdefault(stage, {"records": 0, "rejects": 0})
            have["records"] += c["records"]
            have["rejects"] += c["rejects"] or 0
    return out


def _rate(found: dict) -> str:
    return (f"{found['rate']:.2f} (95% CI {found['low']:.2f}-{found['high']:.2f}, n={found['n']})"
            if found.get("n") else "not reviewed")


def audit_headline(run_dir: Path, counts: dict[str, int]) -> list[str]:
    """The audit's headline figures, only when audit.json describes this dataset: an audit of
    an earlier publish (other counts) would put another dataset's figures on this card."""
    try:
        figures = json.loads((run_dir / "audit" / "audit.json").read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(figures, dict) or figures.get("examples") != counts:
        return []
    lines = []
    answers = ((figures.get("distributions") or {}).get("answers_per_query") or {}).get("mean")
    if answers is not None:
        lines.append(f"- Mean answers per query: {answers:.2f}")
    for key, what in (("template_share", "Template-generated questions"),
                      ("trivial_share", "Questions repeating an answer's title")):
        if isinstance(figures.get(key), (int, float)):
            lines.append(f"- {what}: {figures[key]:.1%}")
    review = figures.get("review") or {}
    for who in ("human", "judge"):
        rates = (review.get(who) or {}).get("rates") or {}
        for field in ("query_qualified", "answer_qualified"):
            if field in rates:
                lines.append(f"- {field} ({who} review): {_rate(rates[field])}")
    kappa = ((review.get("agreement") or {}).get("query_qualified") or {}).get("kappa")
    if kappa is not None:
        lines.append(f"- Judge vs person agreement on query_qualified: Cohen's kappa {kappa:.2f}")
    return lines


def metadata(rows: Rows, settings: Settings, members: list[dict] | None = None) -> dict:
    # datasets (5.x) cannot load a 0-row split without streaming=True (huggingface/datasets
    # PR 8401), so the card lists the splits with rows; with none at all it lists every split,
    # whose files have the full schema, so load_dataset(path, streaming=True) and pyarrow work.
    listed = [s for s, n in rows.counts.items() if n] or list(rows.counts)
    venue = f"{settings.venue} {settings.year or ''}".strip()
    if members:  # a combined dataset (combine.py): every member run, in venue-year order
        venue = ", ".join(f"{m['venue']} {m['year'] or ''}".strip() if m["venue"] != "local"
                          else m["name"] for m in members)
    meta = {"license": settings.license}
    if settings.license == "other":
        meta["license_name"] = OTHER_LICENSE_NAME
    meta.update({
        "pretty_name": f"AutoScholarQuery-style queries: {venue}",
        "language": ["en"],
        "task_categories": ["text-retrieval"],
        "size_categories": [size_category(sum(rows.counts.values()))],
        "tags": ["scholarly-search", "autoscholarquery"],
        "configs": [{"config_name": "default", "data_files": [
            {"split": s, "path": f"data/{s}-00000-of-00001.parquet"} for s in listed]}],
    })
    return meta


def dataset_card(run_dir: Path, rows: Rows, settings: Settings, stats) -> str:
    meta = metadata(rows, settings, member_runs(run_dir))
    venue = meta["pretty_name"].split(": ", 1)[1]
    table = "\n".join(f"| {s} | {stats.examples[s]} | {stats.papers[s]} |" for s in SPLITS)
    counts = stats.examples
    audit = audit_headline(run_dir, counts)
    audit_text = ("\n".join(audit) if audit else
                  "No audit of this dataset yet: run `autoscholar audit RUN_DIR`, then "
                  "`autoscholar publish RUN_DIR` again to put its figures here.")
    slug = "".join(c if c.isalnum() else "_" for c in venue.lower())
    header = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"""---
{header}---

# {meta["pretty_name"]}

Fine-grained scholarly search queries, each paired with the arXiv papers that answer it, mined
from the Related Work sections of {venue} papers by autoscholar {__version__} (the construction
of PaSa's AutoScholarQuery). Splits are by source paper: no paper's queries are in two splits.

| split | queries | source papers |
|---|---|---|
{table}

Dropped while publishing: {dict(sorted(stats.rejects.items())) or "nothing"}.
{EMPTY_NOTE if not any(rows.counts.values()) else ""}
## Usage

```python
from datasets import load_dataset

dataset = load_dataset("OWNER/NAME")  # the Hub repo; or a local copy: load_dataset("path/to/hf")
print(dataset["train"][0]["question"], dataset["train"][0]["answer_arxiv_id"])
```

## Provenance

{chr(10).join(provenance(run_dir, settings, rows))}

Records and rejects of each stage in the run:

| stage | records | rejects |
|---|---|---|
{chr(10).join(stage_counts(run_dir))}

## Audit

{audit_text}

## Fields
- `qid`, `question`: the query.
- `answer`, `answer_arxiv_id`: arXiv titles and ids (no version), index-aligned. Only papers whose
  first arXiv version predates the source paper are kept.
- `source_meta`: `published_time` (YYYYMMDD), `paper_id`, `title`, `venue`, `year` of the paper
  the query was mined from.
- Provenance: `query_id`, `section`, `context` (the paragraph, with `\\cite{{key}}` markers),
  `answer_provenance` (each answer's bibliography key, raw reference string, match method and
  score), `generator`, `prompt_version`.

## Licence

{LICENSE_NOTE.format(license=settings.license)}

## Known limits
- Questions are written by a model (or a template, for offline builds) from one paragraph; the
  audit's review sample, not every row, was checked against PaSa's rubric.
- Answers are only the cited papers found on arXiv (by printed id or fuzzy title match above the
  threshold) whose first version predates the source paper: a query's answer list is a subset of
  the papers the authors cited, and of the papers that would answer it.
- Related Work sections, citations and bibliographies are read from PDFs: layout errors can cut
  or merge paragraphs and mislink a citation to its reference.

## Citation

{CITATION.format(slug=slug, venue=venue, version=__version__)}
"""
