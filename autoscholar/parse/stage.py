"""parse stage: Paper with a PDF -> ParsedPaper, through the configured backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..config import Settings
from ..errors import ParseError
from ..io import read_jsonl
from ..records import Paper, ParsedPaper, Reject
from ..runner import StageStats, key_of, require, run_stage
from . import BACKENDS


def parse_papers(items: list[tuple[Paper, Path]], settings: Settings,
                 run_dir: Path) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]:
    """Dispatch to the configured backend; results come back in completion order."""
    return BACKENDS[settings.parser].parse_batch(items, settings, run_dir)


def parse(settings: Settings, run_dir: Path) -> StageStats:
    papers = list(read_jsonl(require(run_dir, "fetch"), Paper))

    def work(items: list[tuple[str, Paper]]) -> Iterator[tuple[str, list | Reject]]:
        pairs = [(paper, Path(paper.pdf_path or "")) for _, paper in items]
        for paper, result in parse_papers(pairs, settings, run_dir):
            if isinstance(result, ParseError):
                yield paper.paper_id, Reject(stage="parse", key=paper.paper_id,
                                             reason=result.reason, detail=result.detail,
                                             transient=result.transient)
            else:
                yield paper.paper_id, [result]

    return run_stage(run_dir, "parse", [(p.paper_id, p) for p in papers], work,
                     key_of("paper", "paper_id"), label=f"parse ({settings.parser})")
