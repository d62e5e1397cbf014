"""Restoring a batch on Ray: a pool of actors holding the models, fed with back-pressure.

Each actor is a ``Worker`` (one per GPU, or one per ``cpus_per_actor`` cores), so weights load
once per actor. Files are handed out as actors become free, at most ``in_flight`` queued on
each, so a million-file batch never sits in Ray's object store. An actor that dies (killed,
out of memory, its node lost) is replaced, within bounds; the files it held go to another
actor, and a file tried ``attempts`` times is reported failed, not lost. Outputs are staged
by the actors beside their final names on storage every node sees; the driver (``Batch``)
records them and renames them into place, so the manifest has one writer.

Needs the ``cluster`` extra (``pip install 'facemend[cluster]'``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from typing_extensions import Self

from ..errors import FacemendError, SettingsError
from ..params import BatchSettings
from .worker import FileJob, FileOutcome, Worker, WorkerSpec

log = logging.getLogger(__name__)

#: what Ray reserves per CPU actor for scheduling: the models and one large photo's working set
ACTOR_MEMORY = 2 << 30
#: cores per actor when no GPU is used: models run single-threaded best side by side (see README)
DEFAULT_CPUS_PER_ACTOR = 1.0
#: how long the pool may wait for its first actor to start (a node joining, models importing)
START_TIMEOUT_S = 600.0
#: environment the driver passes to its actors (the same paths on every node, or unset)
FORWARDED_ENV = ("FACEMEND_MODELS", "FACEMEND_DOWNLOAD_MIRROR")


@dataclass(frozen=True)
class PoolLayout:
    """How many actors, and what each asks of Ray."""

    actors: int
    num_cpus: float
    num_gpus: float
    threads: int  # torch threads per actor

    def describe(self) -> str:
        each = f"{self.num_gpus:g} GPU" if self.num_gpus else f"{self.num_cpus:g} CPU"
        return f"{self.actors} Ray worker{'s' * (self.actors != 1)}, {each} each"


def pool_layout(resources: Mapping[str, float], batch: BatchSettings, device: str = "auto") -> PoolLayout:
    """The pool for a cluster with ``resources`` (Ray's ``cluster_resources()``).

    One actor per GPU when there are GPUs (and the device is not ``cpu``); otherwise one per
    ``cpus_per_actor`` cores, no more than the cluster's memory holds. Asking for more than
    the cluster has is refused: an actor Ray cannot place would hold its files forever.
    """
    cpus = float(resources.get("CPU", 0.0))
    gpus = float(resources.get("GPU", 0.0)) if device in ("auto", "cuda") else 0.0
    if gpus >= 1:
        actors = batch.actors or int(gpus)
        per = batch.cpus_per_actor or 1.0
        if actors > gpus:
            raise SettingsError(f"--actors {actors}: the Ray cluster has {gpus:g} GPUs (one worker each)")
        return PoolLayout(actors, per, 1.0, max(1, int(per)))
    per = batch.cpus_per_actor or (cpus / batch.actors if batch.actors else DEFAULT_CPUS_PER_ACTOR)
    fit = int(cpus // per)
    if "memory" in resources:
        fit = min(fit, int(resources["memory"] // ACTOR_MEMORY))
    actors = batch.actors or max(1, fit)
    if actors * per > cpus + 1e-9:
        raise SettingsError(
            f"{actors} Ray workers of {per:g} CPU need {actors * per:g} CPUs; the cluster has {cpus:g} "
            "(fewer --actors or --cpus-per-actor)"
        )
    return PoolLayout(actors, per, 0.0, max(1, int(per)))


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise FacemendError("--ray needs Ray: pip install 'facemend[cluster]'") from None
    return ray


def connect(address: str) -> None:
    """Start Ray on this machine (``auto``: sized to it) or join the cluster at ``address``."""
    ray = _ray()
    try:
        ray.init(
            address="local" if address == "auto" else address,
            include_dashboard=False,
            log_to_driver=False,  # workers' errors come back as outcomes; their logs stay in Ray's folder
            logging_level=logging.WARNING,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise FacemendError(f"cannot join the Ray cluster at {address}: {exc}") from None


@dataclass
class _Slot:
    """One place in the pool: its current actor, which generation it is, whether it has started."""

    actor: Any
    generation: int = 0
    ready: Any = None  # the ref of its start-up call until it answers
    pid: int | None = None
    load: int = 0  # files queued on it
    dead: bool = False


class RayExecutor:
    """Restores jobs on a Ray actor pool (a context manager; see the module docstring).

    ``batch.ray``: ``auto`` starts a Ray runtime on this machine (stopped at the end); an
    address joins a running cluster (``HOST:6379`` from a node of it, ``ray://HOST:10001``
    from elsewhere). An already initialised Ray (a test, a notebook, the server) is used as it is.
    """

    def __init__(self, spec: WorkerSpec, batch: BatchSettings) -> None:
        if batch.ray is None:
            raise SettingsError("RayExecutor needs batch.ray: auto or a cluster address")
        self.address: str = batch.ray
        self.spec = spec
        self.batch = batch
        self.layout: PoolLayout | None = None
        self._slots: list[_Slot] = []
        self._replacements = 0
        #: files sent to another actor after theirs stopped
        self.retried = 0
        self._started_ray = False
        self._remote: Any = None

    # ----- start and stop ----------------------------------------------------------------
    def __enter__(self) -> Self:
        ray = _ray()
        if not ray.is_initialized():
            connect(self.address)
            self._started_ray = True
        try:
            self.layout = pool_layout(ray.cluster_resources(), self.batch, self.spec.settings.device)
            log.info("%s", self.layout.describe())
            self.spec = dataclasses.replace(self.spec, threads=self.layout.threads)
            self._remote = ray.remote(Worker)
            self._slots = [self._start(_Slot(actor=None, generation=-1)) for _ in range(self.layout.actors)]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        ray = _ray()
        for slot in self._slots:
            if slot.actor is not None:
                _kill(ray, slot.actor)
        self._slots = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def _start(self, slot: _Slot) -> _Slot:
        """A fresh actor in ``slot``; it takes work once its start-up call answers."""
        assert self.layout is not None
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        options: dict[str, Any] = {"num_cpus": self.layout.num_cpus, "num_gpus": self.layout.num_gpus}
        if not self.layout.num_gpus:
            options["memory"] = ACTOR_MEMORY
        if env:
            options["runtime_env"] = {"env_vars": env}
        slot.actor = self._remote.options(**options).remote(self.spec)
        slot.generation += 1
        slot.ready = slot.actor.pid.remote()
        slot.pid = None
        slot.load = 0
        return slot

    def worker_pids(self) -> list[int]:
        """Process ids of the actors running now (those that have started)."""
        return [slot.pid for slot in self._slots if slot.pid is not None and not slot.dead]

    # ----- the work ----------------------------------------------------------------------
    def run(self, jobs: Iterable[FileJob]) -> Iterator[FileOutcome]:
        ray = _ray()
        source = iter(jobs)
        retries: deque[tuple[FileJob, int, int]] = deque()  # (job, attempts made, slot it failed on)
        running: dict[Any, tuple[int, int, FileJob, int]] = {}  # ref -> (slot, generation, job, attempts)
        more = True
        waiting_since = time.monotonic()
        while True:
            more = self._feed(source, retries, running) and more
            starting = {slot.ready: index for index, slot in enumerate(self._slots) if slot.ready is not None}
            if not running and not retries and not more:
                return
            if not running and not starting:
                raise FacemendError("every Ray worker has stopped; run the same command again to go on")
            ready, _ = ray.wait([*running, *starting], num_returns=1, timeout=10.0)
            if not ready:
                if not running and time.monotonic() - waiting_since > START_TIMEOUT_S:
                    raise FacemendError(
                        f"no Ray worker could start in {START_TIMEOUT_S / 60:.0f} minutes "
                        f"({self.layout.describe() if self.layout else ''}): is there room on the cluster?"
                    )
                continue
            ref = ready[0]
            if ref in starting:
                self._started(ray, starting[ref], ref)
                waiting_since = time.monotonic()
                continue
            index, generation, job, attempts = running.pop(ref)
            self._slots[index].load -= 1
            outcome = self._collect(ray, ref, index, generation, job, attempts, retries)
            if outcome is not None:
                yield outcome

    def _feed(
        self, source: Iterator[FileJob], retries: deque[tuple[FileJob, int, int]], running: dict[Any, Any]
    ) -> bool:
        """Top up every started actor to ``in_flight`` files; False once ``source`` is used up."""
        more = True
        live = [i for i, slot in enumerate(self._slots) if slot.pid is not None and not slot.dead]
        for index in live:
            slot = self._slots[index]
            while slot.load < self.batch.in_flight:
                work = self._next_retry(retries, index, len(live))
                if work is None:
                    job = next(source, None) if more else None
                    if job is None:
                        more = False
                        break
                    work = (job, 0)
                job, attempts = work
                running[slot.actor.run.remote(job)] = (index, slot.generation, job, attempts)
                slot.load += 1
        return more

    @staticmethod
    def _next_retry(retries: deque[tuple[FileJob, int, int]], index: int, live: int) -> tuple[FileJob, int] | None:
        """A file to try again, on another actor than the one it was lost on (unless there is no other)."""
        for position, (job, attempts, failed_on) in enumerate(retries):
            if failed_on != index or live == 1:
                del retries[position]
                return job, attempts
        return None

    def _started(self, ray: Any, index: int, ref: Any) -> None:
        slot = self._slots[index]
        slot.ready = None
        try:
            slot.pid = int(ray.get(ref))
        except ray.exceptions.RayError as exc:
            log.warning("a Ray worker failed to start: %s", exc)
            self._replace(ray, index, slot.generation)

    def _collect(
        self,
        ray: Any,
        ref: Any,
        index: int,
        generation: int,
        job: FileJob,
        attempts: int,
        retries: deque[tuple[FileJob, int, int]],
    ) -> FileOutcome | None:
        """The outcome of ``ref``, or None when its file went back to be tried again."""
        try:
            outcome: FileOutcome = ray.get(ref)
            return outcome
        except ray.exceptions.RayActorError as exc:
            attempts += 1
            log.warning("a Ray worker stopped (%s) while restoring %s", type(exc).__name__, job.source)
            self._replace(ray, index, generation)
            if attempts < self.batch.attempts:
                retries.append((job, attempts, index))
                self.retried += 1
                return None
            return FileOutcome.failed(
                job,
                f"{job.source}: its Ray worker stopped {attempts} times while restoring it "
                "(out of memory, or its node lost?)",
            )
        except ray.exceptions.RayError as exc:  # an error escaped Worker.run: this file fails, the batch goes on
            return FileOutcome.failed(job, f"{job.source}: {getattr(exc, 'cause', None) or exc}")

    def _replace(self, ray: Any, index: int, generation: int) -> None:
        """Put a new actor in place of a dead one, once per death, a bounded number of times."""
        slot = self._slots[index]
        if slot.generation != generation or slot.dead:
            return  # already replaced (its other queued files fail too)
        _kill(ray, slot.actor)
        if self._replacements >= len(self._slots) * self.batch.attempts:
            slot.dead, slot.actor, slot.ready = True, None, None
            return
        self._replacements += 1
        self._start(slot)


def _kill(ray: Any, actor: Any) -> None:
    try:
        ray.kill(actor, no_restart=True)
    except (ValueError, ray.exceptions.RayError) as exc:  # gone already: nothing to stop
        log.debug("ignored while stopping a Ray worker: %s", exc)
