"""publish stage: matched queries -> deduplicated, split dataset (JSONL + Hugging Face parquet).

Publishing is recomputed from the whole match output every time: it is cheap, and so the
dataset depends only on what the earlier stages produced, never on how often they were resumed.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

import jsonlines
from pydantic import BaseModel

from . import __version__
from .card import Rows, dataset_card
from .combine import stage_files
from .config import Settings
from .near_duplicates import near_duplicate_queries
from .errors import InputError
from .records import AnswerProvenance, Example, MatchedQuery, PublishedSource, Reject
from .io import atomic_file, read_jsonl_at, write_atomic
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


@dataclass
class _Entry:
    """What publish keeps of a matched query until it writes it: the record itself stays on
    disk (`where`: its file and byte offset), so memory grows by a line's worth per query."""

    query_id: str
    paper_id: str
    question: str
    reasons: str | None  # why it has no answer; None: it has answers
    where: tuple[int, int]


class _Lines:
    """Matched queries read back from their files by offset (a handle per file, kept open)."""

    def __init__(self, paths: list[Path]):
        self.paths, self.handles = paths, {}

    def __call__(self, entry: _Entry) -> MatchedQuery:
        number, offset = entry.where
        if number not in self.handles:
            self.handles[number] = self.paths[number].open("rb")
        fh = self.handles[number]
        fh.seek(offset)
        return MatchedQuery.model_validate_json(fh.readline())

    def close(self) -> None:
        for fh in self.handles.values():
            fh.close()


def _entries(run_dir: Path) -> tuple[list[Path], list[_Entry]]:
    """Every query of the run's match output once (the first wins), in query order."""
    paths: list[Path] = []
    first: dict[str, _Entry] = {}
    # A combined folder (combine.py) publishes its members' match.jsonl, each where it is.
    for path in stage_files(run_dir, "match.jsonl"):
        # A wrong folder must not publish an empty dataset, nor a cut match.jsonl a smaller one.
        paths.append(require(path.parent, "match"))
        for offset, mq in read_jsonl_at(paths[-1], MatchedQuery):
            q = mq.query
            if q.query_id not in first:
                reasons = None if mq.answers else (
                    ",".join(sorted({d.reason for d in mq.dropped}) or ["no-answer-keys"]))
                first[q.query_id] = _Entry(q.query_id, q.context.source.paper_id, q.question,
                                           reasons, (len(paths) - 1, offset))
    return paths, sorted(first.values(), key=lambda e: natural_key(e.query_id))


def publish(settings: Settings, run_dir: Path) -> PublishStats:
    """Two passes over match.jsonl: the first keeps a small entry per query (id, paper,
    question) to find near-duplicates and the splits; the second reads each published query
    again and streams it to the JSONL and parquet files, so memory does not grow with the
    size of the records."""
    paths, matched = _entries(run_dir)
    rejects: list[Reject] = []
    answered = []
    for entry in matched:
        if entry.reasons is None:
            answered.append(entry)
        else:
            rejects.append(Reject(stage="publish", key=entry.query_id,
                                  reason="no-answer-on-arxiv", detail=entry.reasons))
    dropped = near_duplicate_queries([(e.query_id, e.paper_id, e.question) for e in answered])
    kept = []
    for entry in answered:
        if entry.query_id in dropped:
            rejects.append(Reject(stage="publish", key=entry.query_id, reason="near-duplicate",
                                  detail=f"kept {dropped[entry.query_id]}"))
        else:
            kept.append(entry)

    split_of = assign_splits([e.paper_id for e in kept], settings)
    by_split: dict[str, list[_Entry]] = {s: [] for s in SPLITS}
    for entry in kept:
        by_split[split_of[entry.paper_id]].append(entry)

    out = run_dir / "dataset"
    stats = PublishStats()
    rows = Rows(counts={split: 0 for split in SPLITS})
    load = _Lines(paths)
    try:
        for split in SPLITS:
            examples = (to_example(load(entry), f"AutoScholarQuery_{split}_{i}")
                        for i, entry in enumerate(by_split[split]))
            papers = _write_split(out, split, examples, rows)
            stats.examples[split] = rows.counts[split]
            stats.papers[split] = len(papers)
    finally:
        load.close()
    write_atomic(run_dir / "publish.rejects.jsonl",
                 "".join(r.model_dump_json() + "\n" for r in rejects))
    stats.rejects = dict(Counter(r.reason for r in rejects))
    # The card last: it describes the files above, and the push uploads it after them.
    write_atomic(out / "hf" / "README.md", dataset_card(run_dir, rows, settings, stats))
    return stats


BATCH = 200  # rows per arrow batch on the way to parquet (held as Python dicts until written)


def _write_split(out: Path, split: str, examples: Iterable[Example], rows: Rows) -> set[str]:
    """One split's JSONL and parquet (the Hub's layout, `datasets.load_dataset(out / "hf")`
    reads it), written as the examples come; the source papers it holds."""
    import datasets  # slow import: only when publishing
    import pyarrow as pa

    features = datasets.Features(features_of(Example))
    schema = features.arrow_schema
    staging = out / "hf" / "data" / f".{split}.arrow.tmp"
    staging.parent.mkdir(parents=True, exist_ok=True)
    papers: set[str] = set()
    try:
        with (atomic_file(out / f"{split}.jsonl") as raw,
              pa.OSFile(str(staging), "wb") as sink,
              pa.ipc.new_stream(sink, schema) as arrow):
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
            jsonl = jsonlines.Writer(text, compact=True, sort_keys=False)
            batch: list[dict] = []
            for example in examples:
                record = example.model_dump(mode="json")
                jsonl.write(record)
                rows.add(split, example)
                papers.add(example.source_meta.paper_id)
                batch.append(features.encode_example(record))
                if len(batch) == BATCH:
                    arrow.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                arrow.write_table(pa.Table.from_pylist(batch, schema=schema))
            text.flush()
            text.detach()  # the handle is atomic_file's to close, after its fsync
        with atomic_file(out / "hf" / "data" / f"{split}-00000-of-00001.parquet") as fh:
            _parquet(staging, features, fh)
    finally:
        staging.unlink(missing_ok=True)
    return papers


def _parquet(arrow_path: Path, features, fh) -> None:
    """The parquet file `datasets.Dataset.from_dict(rows).to_parquet()` writes, byte for byte,
    from a memory-mapped arrow file: the same writer options and row groups, each made
    contiguous in memory (at most datasets' 100 MB row group) as from_dict's one table is."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import config
    from datasets.arrow_writer import get_parquet_column_options, get_writer_batch_size_from_data_size
    from datasets.io.parquet import get_writer_batch_size_from_features

    schema = features.arrow_schema
    with pa.memory_map(str(arrow_path)) as source:
        table = pa.ipc.open_stream(source).read_all()
        size = (get_writer_batch_size_from_features(features)
                or get_writer_batch_size_from_data_size(table.num_rows, table.nbytes))
        cdc = config.DEFAULT_CDC_OPTIONS
        writer = pq.ParquetWriter(fh, schema=schema, use_content_defined_chunking=cdc,
                                  write_page_index=True, **get_parquet_column_options(features, schema))
        for offset in range(0, table.num_rows, size):
            writer.write_table(table.slice(offset, size).combine_chunks())
        writer.add_key_value_metadata({"content_defined_chunking": json.dumps(cdc)})
        writer.close()


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
