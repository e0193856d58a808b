"""The local executor: a stage's work runs in this process, as it always has (its own threads
for LLM calls, its own worker processes for parsing)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class LocalExecutor:
    def run(self, stage: str, work, pending: Iterable, append, run_dir: Path) -> None:
        for key, outcome in work(pending):
            append(key, outcome)

    def budget(self, settings):
        from ..generate.cost import Budget, price_for

        return Budget(settings.llm_max_cost, price_for(settings))

    def close(self) -> None:
        pass
