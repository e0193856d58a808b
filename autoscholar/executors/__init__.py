"""How a stage's pending inputs are run: EXECUTORS registry (--executor local | ray).

An executor has three methods:

    run(stage, work, pending, append, run_dir)   every outcome of `work` over `pending`
                                                 handed to `append` (runner.Appender) in
                                                 input order
    budget(settings)                             the --max-cost budget (and, on Ray, the
                                                 request rate) every LLM call of the run shares
    close()

`local` calls `work(pending)` in this process (the stage's work brings its own threads or
processes); `ray` cuts `pending` into shards run as Ray tasks, each writing part files that
the driver merges in key order (ray.py). build() and run_named() choose one for their stages
with `chosen(settings)`; `current()` is what runner.run_stage asks for.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings


def _local(settings: "Settings"):
    from .local import LocalExecutor

    return LocalExecutor()


def _ray(settings: "Settings"):
    from .ray import RayExecutor  # imports ray itself only when a stage has work to do

    return RayExecutor(settings)


EXECUTORS: dict[str, Callable[["Settings"], object]] = {"local": _local, "ray": _ray}

_current: contextvars.ContextVar = contextvars.ContextVar("executor", default=None)


def current(in_process: bool = False):
    """The executor the running build chose; the local one outside a build (a stage function
    called by itself, as tests do) and for work that must stay in this process."""
    found = _current.get()
    if found is None or in_process:
        from .local import LocalExecutor

        return LocalExecutor()
    return found


@contextmanager
def chosen(settings: "Settings") -> Iterator[object]:
    executor = EXECUTORS[settings.executor](settings)
    token = _current.set(executor)
    try:
        yield executor
    finally:
        _current.reset(token)
        executor.close()


# Set by a Ray task for the process running it: the CPUs Ray gave that task.
_task_cpus: int | None = None


def cpus() -> int:
    """The CPUs this process's work may use: the task's share under Ray (a parse task then
    starts one parser process, not one per core of a node other tasks share), else all."""
    return _task_cpus or os.cpu_count() or 1
