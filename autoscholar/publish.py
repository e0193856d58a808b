"""publish stage: matched queries -> deduplicated, split dataset (JSONL + Hugging Face parquet).

Publishing is recomputed from the whole match output every time: it is cheap, and so the
dataset depends only on what the earlier stages produced, never on how often they were resumed.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

import jsonlines
from pydantic import BaseModel

from . import __version__
from .card import dataset_card
from .combine import stage_files
from .config import Settings
from .near_duplicates import near_duplicate_queries
from .errors import InputError
from .records import AnswerProvenance, Example, MatchedQuery, PublishedSource, Reject
from .io import read_jsonl, write_atomic
from .runner import require

SPLITS = ("train", "dev", "test")


@dataclass
class PublishStats:
    examples: dict[str, int] = field(default_factory=dict)
    papers: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)


def natural_key(text: str) -> list:
    """'demo-2:10:1' sorts after 'demo-2:9:0'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def split_size(value: float | None, what: str) -> int | float | None:
    """A count of queries (whole number >= 1), a fraction of the papers (below 1), or None."""
    if value is None or value < 1:
        return value
    if value != int(value):
        raise InputError(f"{what} {value} is neither a fraction below 1 nor a whole number of "
                         "queries")
    return int(value)


def assign_splits(paper_ids: list[str], settings: Settings) -> dict[str, str]:
    """Split by source paper, so no paper's queries leak between splits. Deterministic: papers
    are ordered by a seeded hash and the first ones go to test, then dev, the rest to train.
    `paper_ids` has one entry per query, so a size given as a count of queries is met by
    taking whole papers in that order until the split holds at least that many queries."""
    per_paper = Counter(paper_ids)
    ordered = sorted(
        per_paper,
        key=lambda p: hashlib.sha256(f"{settings.split_seed}:{p}".encode()).hexdigest(),
    )
    n = len(ordered)
    test = split_size(settings.test_size, "--test-size")
    dev = split_size(settings.dev_size, "--dev-size")
    def papers_for(size, fraction: float, start: int) -> int:
        if isinstance(size, int):
            taken = queries = 0
            while start + taken < n and queries < size:
                queries += per_paper[ordered[start + taken]]
                taken += 1
            return taken
        share = fraction if size is None else size
        return round(n * share) if n >= 10 else (1 if n >= 3 else 0)

    n_test = papers_for(test, settings.test_fraction, 0)
    n_dev = papers_for(dev, settings.dev_fraction, n_test)
    if (isinstance(test, int) or isinstance(dev, int)) and n_test + n_dev >= n > 0:
        raise InputError(f"--test-size {settings.test_size} / --dev-size {settings.dev_size} take "
                         f"all {n} source papers ({len(paper_ids)} queries): none is left to train")
    split = {}
    for i, paper_id in enumerate(ordered):
        split[paper_id] = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
    return split


def published_time(mq: MatchedQuery) -> str:
    date = mq.query.context.source.published
    return date.strftime("%Y%m%d") if date else ""


def to_example(mq: MatchedQuery, qid: str) -> Example:
    q, src = mq.query, mq.query.context.source
    raw = {ref.key: ref.raw for ref in q.context.refs}
    return Example(
        qid=qid,
        question=q.question,
        answer=[a.title for a in mq.answers],
        answer_arxiv_id=[a.arxiv_id for a in mq.answers],
        source_meta=PublishedSource(
            published_time=published_time(mq),
            paper_id=src.paper_id,
            title=src.title,
            venue=src.venue,
            year=src.year,
        ),
        query_id=q.query_id,
        section=q.context.section,
        context=q.context.text,
        answer_provenance=[
            AnswerProvenance(key=a.key, raw=raw.get(a.key, a.raw), method=a.method, score=a.score)
            for a in mq.answers
        ],
        generator=q.generator,
        prompt_version=q.prompt_version,
    )


def _jsonl_bytes(rows: list[Example]) -> bytes:
    buf = io.StringIO()
    with jsonlines.Writer(buf, compact=True, sort_keys=False) as writer:
        for row in rows:
            writer.write(row.model_dump(mode="json"))
    return buf.getvalue().encode("utf-8")


def publish(settings: Settings, run_dir: Path) -> PublishStats:
    # A wrong folder must not publish an empty dataset, nor a cut match.jsonl a smaller one.
    first: dict[str, MatchedQuery] = {}
    # A combined folder (combine.py) publishes its members' match.jsonl, each where it is.
    for path in stage_files(run_dir, "match.jsonl"):
        for mq in read_jsonl(require(path.parent, "match"), MatchedQuery):
            first.setdefault(mq.query.query_id, mq)  # one query is published once: the first wins
    matched = sorted(first.values(), key=lambda m: natural_key(m.query.query_id))
    rejects: list[Reject] = []
    answered = []
    for mq in matched:
        if mq.answers:
            answered.append(mq)
        else:
            reasons = sorted({d.reason for d in mq.dropped}) or ["no-answer-keys"]
            rejects.append(Reject(stage="publish", key=mq.query.query_id,
                                  reason="no-answer-on-arxiv", detail=",".join(reasons)))
    dropped = near_duplicate_queries(
        [(m.query.query_id, m.query.context.source.paper_id, m.query.question) for m in answered]
    )
    kept = []
    for mq in answered:
        if mq.query.query_id in dropped:
            rejects.append(Reject(stage="publish", key=mq.query.query_id, reason="near-duplicate",
                                  detail=f"kept {dropped[mq.query.query_id]}"))
        else:
            kept.append(mq)

    split_of = assign_splits([m.query.context.source.paper_id for m in kept], settings)
    by_split: dict[str, list[MatchedQuery]] = {s: [] for s in SPLITS}
    for mq in kept:
        by_split[split_of[mq.query.context.source.paper_id]].append(mq)

    out = run_dir / "dataset"
    stats = PublishStats()
    examples: dict[str, list[Example]] = {}
    for split in SPLITS:
        rows = [to_example(mq, f"AutoScholarQuery_{split}_{i}")
                for i, mq in enumerate(by_split[split])]
        examples[split] = rows
        write_atomic(out / f"{split}.jsonl", _jsonl_bytes(rows))
        stats.examples[split] = len(rows)
        stats.papers[split] = len({r.source_meta.paper_id for r in rows})
    write_atomic(run_dir / "publish.rejects.jsonl",
                 "".join(r.model_dump_json() + "\n" for r in rejects))
    stats.rejects = dict(Counter(r.reason for r in rejects))
    write_hf(out / "hf", examples, settings, stats, run_dir)
    return stats


def write_hf(hf_dir: Path, examples: dict[str, list[Example]], settings: Settings,
             stats: PublishStats, run_dir: Path) -> None:
    """Parquet files in the Hub's layout plus a dataset card: `push` uploads this folder as is,
    and `datasets.load_dataset(str(hf_dir))` reads it locally. Every split gets its file, with
    the full schema even at 0 rows, so an empty or partly empty dataset still loads."""
    import datasets  # slow import: only when publishing

    datasets.disable_progress_bars()  # our own progress goes to the terminal, not per file

    features = datasets.Features(features_of(Example))
    for split, rows in examples.items():
        records = [r.model_dump(mode="json") for r in rows]
        buf = io.BytesIO()
        # from_dict: from_list([]) loses the schema and fails on its own features.
        columns = {name: [r[name] for r in records] for name in features}
        datasets.Dataset.from_dict(columns, features=features).to_parquet(buf)
        write_atomic(hf_dir / "data" / f"{split}-00000-of-00001.parquet", buf.getvalue())
    # The card last: it describes the files above, and the push uploads it after them.
    write_atomic(hf_dir / "README.md", dataset_card(run_dir, examples, settings, stats))


def features_of(model: type[BaseModel]) -> dict:
    """The Hugging Face features of a record, from its annotations: the schema is stated, not
    inferred from rows, so it is the same for every split and exists when there are none."""
    from datasets import Value

    def feature(tp):
        args = [a for a in get_args(tp) if a is not type(None)]
        if get_origin(tp) in (Union, UnionType):
            return feature(args[0])
        if get_origin(tp) is list:
            return [feature(args[0])]
        if get_origin(tp) is Literal or tp is str:
            return Value("string")
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return features_of(tp)
        return Value({bool: "bool", int: "int64", float: "float64"}[tp])

    hints = get_type_hints(model)
    return {name: feature(hints[name]) for name in model.model_fields}
