"""Progress on stderr, so stdout stays clean for JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeRemainingColumn)


class bar:
    """A rich progress bar on stderr when it is a terminal; silent otherwise (CI, pipes)."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not sys.stderr.isatty(),
            transient=False,
        )

    def __enter__(self) -> Callable[[], None]:
        self.bar.__enter__()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)


def counter(label: str) -> Progress:
    """An open-ended progress line on stderr (a terminal only): `with counter(...) as bar:`
    then `bar.update(bar.task_ids[0], completed=n)`."""
    line = Progress(SpinnerColumn(), TextColumn(f"[bold]{label}[/] {{task.completed:,}}"),
                    console=Console(stderr=True), disable=not sys.stderr.isatty())
    line.add_task(label, total=None)
    return line
