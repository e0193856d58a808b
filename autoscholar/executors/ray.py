"""The Ray executor (--executor ray): a stage's pending inputs in shards, each a Ray task.

Each task runs the stage's own `work` (pickled by Ray's cloudpickle; stages keep it free of
open clients, see generate/stage.py) over its shard and writes part files and a completion
marker under <run>/parts/<stage>/ (parts.py); the driver merges the parts into the stage
files in input order, so they are byte for byte what the local executor writes. On a cluster
the run directory must be on a filesystem every node sees (NFS, Lustre, a PVC).

Resuming: a killed driver leaves finished shards' markers, merged (not redone) on the next
run; a lost worker's task is retried by Ray (its attempt's parts are never read); a shard that
failed on its own (an LLM endpoint down) stops the stage once the others in flight are in.

LLM calls from every worker share one Ledger actor: --llm-concurrency requests in flight in
the whole cluster, not per worker, and one --max-cost budget (cost.Budget, in the actor).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from ..errors import AutoscholarError, InputError, ServiceError
from ..generate.cost import Budget, BudgetExceeded
from .parts import Parts, Shard, cut


def _ray():
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs Ray: pip install 'autoscholar[ray]'") from None
    return ray


def _run_shard(parts: Parts, stage: str, shard: Shard, work, cpus: int) -> dict:
    """One shard, in a Ray worker process."""
    from .. import executors

    executors._task_cpus = cpus
    return parts.write(stage, shard, work)


class RayExecutor:
    def __init__(self, settings):
        import importlib.util

        if importlib.util.find_spec("ray") is None:  # before any stage, not at the first one
            _ray()
        self.address = settings.ray_address
        self.shard_size = settings.shard_size
        self.cpus_per_task = 1
        self._started = False  # a local instance we started (and stop at close)
        self._actors: list = []
        self._task = None

    # ------------------------------------------------------------ the cluster

    def _connect(self):
        ray = _ray()
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home
            if self.address:
                ray.init(address=self.address, logging_level="WARNING")
            else:  # a local instance on this machine only, no dashboard
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False,
                         _node_ip_address="127.0.0.1", logging_level="WARNING")
                self._started = True
        if self._task is None:
            self._task = ray.remote(num_cpus=self.cpus_per_task, max_retries=3)(_run_shard)
        return ray

    def close(self) -> None:
        if not self._actors and not self._started:
            return
        ray = _ray()
        for actor in self._actors:
            try:
                ray.kill(actor)
            except Exception:  # already gone with a dead cluster: nothing to release
                pass
        self._actors.clear()
        if self._started:
            ray.shutdown()
            self._started = False

    # ------------------------------------------------------------ a stage

    def run(self, stage: str, work, pending: Iterable, append, run_dir: Path) -> None:
        ray = self._connect()
        parts = Parts(Path(run_dir) / "parts" / stage)
        finished = parts.finished()
        try:
            work_ref = ray.put(work)  # pickled once, not once per shard
        except (TypeError, AttributeError, ValueError) as exc:  # cloudpickle's refusals
            raise InputError(f"the {stage} stage's work cannot be sent to Ray workers "
                             f"({type(exc).__name__}: {exc}); run it with --executor local") \
                from None
        parts_ref = ray.put(parts)
        # Shards queued or running, at most two per CPU of the cluster: the inputs of the
        # rest are not read yet (pending is a stream).
        limit = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        window: deque = deque()
        failure: BaseException | None = None
        shards = cut(pending, self.shard_size, finished)
        try:
            for shard in shards:
                if shard.marker is None:
                    future = self._task.remote(parts_ref, stage, shard, work_ref,
                                               self.cpus_per_task)
                    shard.items = None  # the task has them; keep no copy here
                    window.append((shard, future))
                else:
                    window.append((shard, None))
                while len(window) >= limit or (window and _ready(ray, window[0])):
                    failure = self._merge_first(ray, window, parts, append, stage)
                    if failure is not None:
                        break
                if failure is not None:
                    break
            # Stopped or not, every shard already given out is waited for and merged: its
            # answers may be paid for.
            while window:
                error = self._merge_first(ray, window, parts, append, stage)
                failure = failure or error
        except BaseException:  # Ctrl-C: cancel what is queued; finished shards keep markers
            for _, future in window:
                if future is not None:
                    ray.cancel(future, force=True)
            raise
        if failure is not None:
            raise failure
        parts.clean()

    def _merge_first(self, ray, window: deque, parts: Parts, append,
                     stage: str) -> BaseException | None:
        shard, future = window.popleft()
        marker = shard.marker
        if future is not None:
            try:
                marker = ray.get(future)
            except Exception as exc:  # noqa: BLE001 - the shard's own error, for the user
                return _unwrap(ray, exc, stage)
        parts.merge(shard, marker, append)
        return None

    # ------------------------------------------------------------ LLM calls

    def budget(self, settings) -> "SharedBudget":
        from ..generate.cost import price_for

        price = price_for(settings)
        Budget(settings.llm_max_cost, price)  # refuses --max-cost without a price, at once
        # A slot held by a worker that died is given back once its request cannot be running.
        lease = settings.llm_timeout * (settings.llm_max_retries + 1) + 60
        return SharedBudget(self, (settings.llm_max_cost, price,
                                   max(1, settings.llm_concurrency), lease))

    def ledger(self, args: tuple):
        ray = self._connect()
        actor = ray.remote(num_cpus=0, max_restarts=0)(Ledger).remote(*args)
        self._actors.append(actor)
        return actor


def _ready(ray, entry) -> bool:
    _, future = entry
    if future is None:
        return True
    done, _ = ray.wait([future], timeout=0)
    return bool(done)


def _unwrap(ray, exc: Exception, stage: str) -> BaseException:
    """The shard's own error (an AutoscholarError reads as one line), not Ray's wrapper."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, AutoscholarError):
        return cause
    if isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                        ray.exceptions.ObjectLostError)):
        return ServiceError(f"{stage}: a Ray worker was lost on every retry of a shard "
                            f"({type(exc).__name__}); rerun to go on (finished shards are "
                            "kept)")
    if isinstance(cause, BaseException):
        return cause
    return exc


class Ledger:
    """The budget and request rate of every worker's LLM calls, in one Ray actor (async: a
    request waiting for a slot does not hold up the others)."""

    def __init__(self, max_cost, price, slots: int, lease_seconds: float):
        self.budget = Budget(max_cost, price)
        self.free = slots
        self.lease_seconds = lease_seconds
        self.leases: dict[int, tuple[float, bool, float]] = {}  # id -> reserved, slot, expiry
        self.waiting: list = []
        self.next_id = 1
        self.paid: list[dict] = []

    def _release(self) -> None:
        self.free += 1
        if self.waiting:
            self.waiting.pop(0).set()

    def _expire(self) -> None:
        now = time.monotonic()
        for lease, (reserved, slot, expiry) in list(self.leases.items()):
            if slot and expiry < now:
                del self.leases[lease]
                self.budget.settle(reserved, None)
                self._release()

    async def reserve(self, prompt_tokens: int, max_tokens: int, batch: bool = False):
        import asyncio

        slot = not batch  # a Batch API request is not in flight here: no slot
        while slot and self.free <= 0:
            self._expire()
            if self.free > 0:
                break
            wake = asyncio.Event()
            self.waiting.append(wake)
            try:
                await asyncio.wait_for(wake.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
            finally:
                if wake in self.waiting:
                    self.waiting.remove(wake)
        if slot:
            self.free -= 1
        try:
            reserved = self.budget.reserve(prompt_tokens, max_tokens, batch=batch)
        except BudgetExceeded as exc:
            if slot:
                self._release()
            return 0, str(exc)
        lease = self.next_id
        self.next_id += 1
        self.leases[lease] = (reserved, slot, time.monotonic() + self.lease_seconds)
        return lease, None

    async def settle(self, lease: int, usage: dict | None, batch: bool = False) -> None:
        reserved, slot, _ = self.leases.pop(lease, (0.0, False, 0.0))
        self.budget.settle(reserved, usage, batch=batch)
        if usage is not None and not batch:  # batch usage: the driver's Endpoint has it
            self.paid.append(usage)
        if slot:
            self._release()

    async def report(self) -> dict:
        return {"paid": self.paid, "spent": self.budget.spent, "requests": self.budget.requests}


class SharedBudget:
    """cost.Budget's reserve/settle, answered by the Ledger actor; `reserve` waits for a free
    request slot. The actor is made when first needed (a resumed run with nothing left to
    generate starts no Ray); pickled, it is its actor's handle, so every worker's Endpoint
    holds one."""

    def __init__(self, executor: RayExecutor | None, args: tuple | None, actor=None):
        self._executor, self._args, self._actor = executor, args, actor

    def actor(self):
        if self._actor is None:
            self._actor = self._executor.ledger(self._args)
        return self._actor

    def __reduce__(self):
        return (SharedBudget, (None, None, self.actor()))

    def reserve(self, prompt_tokens: int, max_tokens: int, batch: bool = False):
        lease, refused = _ray().get(self.actor().reserve.remote(prompt_tokens, max_tokens,
                                                                batch))
        if refused:
            raise BudgetExceeded(refused)
        return lease

    def settle(self, reserved, usage: dict | None, batch: bool = False) -> None:
        _ray().get(self.actor().settle.remote(int(reserved or 0), usage, batch))

    @property
    def paid_by_workers(self) -> list[dict]:
        """Usage of each request the workers sent (their own Endpoints are copies)."""
        if self._actor is None:
            return []
        return _ray().get(self._actor.report.remote())["paid"]
