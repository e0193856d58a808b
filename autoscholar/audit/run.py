"""`autoscholar audit RUN_DIR` with its options, in the order that makes each usable by the
next: gates checked for typos first, a review imported, the sample judged, the page written,
the sample exported, then the gates."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import InputError
from . import gates
from .figures import published
from .review import export_review as write_review
from .review import parse_review, sample, save_verdicts


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)  # what was done, for the terminal
    failed: list[str] = field(default_factory=list)  # gates that fell short


def run_audit(settings: Settings, run_dir: Path, *, export_review: Path | None = None,
              import_review: Path | None = None, judge: str | None = None,
              judge_flags: dict | None = None, sample_size: int = 100, seed: int = 0,
              fail_under: list[str] = ()) -> Outcome:
    from ..stages import run_named

    wanted = gates.parse_gates(list(fail_under))
    out = Outcome()
    audit_dir = run_dir / "audit"
    rows = published(run_dir) if (import_review or judge or export_review) else []
    if import_review:
        try:
            text = import_review.read_text("utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read the review {import_review}: "
                             f"{exc.strerror or exc}") from None
        verdicts = parse_review(text, import_review.name, {e.qid: e for e in rows})
        save_verdicts(audit_dir, "human", verdicts, source=import_review.name)
        out.lines.append(f"review: {len(verdicts)} queries' verdicts read from {import_review}")
    items = sample(rows, sample_size, seed)
    if judge:
        from .judge import judge as run_judge
        from .judge import judge_settings

        path, meta = run_judge(judge_settings(settings, judge, **(judge_flags or {})),
                               run_dir, items)
        cost = "" if meta.get("spent_usd") is None else f", ${meta['spent_usd']:.4f}"
        out.lines.append(f"judge: {len(items)} queries judged by {judge} "
                         f"({meta['requests_sent']} requests sent{cost}): {path}")
    stats = run_named("audit", settings, run_dir)
    out.lines.append(f"report:  {stats['report']}")
    if export_review:
        try:
            write_review(export_review, items)
        except OSError as exc:
            raise InputError(f"cannot write the review {export_review}: "
                             f"{exc.strerror or exc}") from None
        out.lines.append(f"review: {len(items)} queries written to {export_review} (seed {seed})")
    if wanted:
        numbers = json.loads((audit_dir / "audit.json").read_text("utf-8"))
        out.failed = gates.check(numbers, wanted)
    return out
