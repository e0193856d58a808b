"""Whether a finished build is worth exit 0: it published rows, and no stage failed on more
than --max-error-rate of its inputs.

The rate is judged on the run directory as it stands (the stage's rejects on disk over all its
inputs), not on one invocation's share of the work: a resumed build that had nothing left to do
gives the same verdict as the build that did the work, so rerunning cannot turn a run made
mostly of failed downloads into exit 0. Only failures count (FAILURE_REASONS); inputs that do
not qualify (no Related Work, no answer on arXiv) are the expected funnel, not errors.
"""

from __future__ import annotations

from pathlib import Path

from .io import reject_keys
from .records import FAILURE_REASONS


def failed_inputs(run_dir: Path, stage: str) -> dict[str, set[str]]:
    """The input keys each failure reason of a stage's rejects on disk rejected whole: counted
    by key, since generate also writes a reject for each single query it drops."""
    keys = reject_keys(run_dir / f"{stage}.rejects.jsonl")
    return {r: k for r, k in keys.items() if r in FAILURE_REASONS}


def problems(run_dir: Path, stats: dict[str, dict], max_error_rate: float) -> list[str]:
    """What is wrong with a build's result, one phrase each; empty when it is fine."""
    found = []
    for stage, s in stats.items():
        inputs = s.get("inputs")
        if not inputs:  # publish and audit have no per-input counts; nothing in is no rate
            continue
        failed = failed_inputs(run_dir, stage)
        count = min(len(set().union(*failed.values())), inputs)
        if count / inputs > max_error_rate:
            top = ", ".join(f"{len(k)} {r}" for r, k in sorted(failed.items(),
                                                                 key=lambda x: -len(x[1])))
            found.append(f"{stage} failed on {count} of {inputs} inputs ({top}; more than "
                         f"--max-error-rate {max_error_rate:g}; see {stage}.rejects.jsonl)")
    published = stats.get("publish", {}).get("examples")
    if published is not None and sum(published.values()) == 0:
        found.insert(0, "the build published nothing (0 dataset rows)")
    return found
