"""Rounds on a Dask cluster: the executor behind `--scheduler` / `--scheduler-file`.

Every job is a Dask task; its result stays on the worker that made it. Round one's result comes back whole (a
second task to leave its IR behind cost the cluster more than the IR's bytes); the client keeps a `Held` in the
IR's place (the bytes only for a cache that wants them), and a round-two job naming that IR is sent to the
worker holding it (`workers=[...]`, `allow_other_workers=True`: elsewhere if that worker is gone, where Dask
recomputes round one from the graph). The client hands out jobs as worker threads free, largest first, as the
local pool does.
Job inputs travel inside the task (the scheduler keeps them, so a lost result can be made again); an exporter's
module and the merged data are one task each, so each reaches a worker once.

What runs on the workers, and how LLVM is kept out of the Dask worker process, is in daskworker.py; how the
client reaches the cluster, in daskconnect.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import pickle
import threading
import time
import uuid
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from .errors import TwopassError
from . import zygote
from .executor import LOCAL_PRELOAD, Held, Round, local_pool
from . import daskconnect, daskworker
from .daskconnect import Cluster
from .daskworker import Batch, Spec, mismatch, versions
from .pool import Outcome

class DaskExecutor:
    """`run` rounds as tasks on the cluster; `call` one function there; `fetch` what rounds left on workers.

    It connects in the background: importing Dask and greeting the workers take the client half a second,
    in which a round of small jobs (the summaries) runs in a local pool of `jobs` processes; what is left
    when the cluster is ready goes there. Nothing is sent before the workers' versions are checked."""

    keeps_files = False  # round one runs on other machines than the summaries may

    def __init__(self, cluster: Cluster, jobs: int = 1):
        self.cluster, self.jobs = cluster, max(1, jobs)
        self._client: Any = None
        self._failed: BaseException | None = None
        self._ready, self._started = threading.Event(), threading.Event()
        # The local pool's fork server, for the summaries run here while connecting: started now, while this
        # process has one thread, it is a fork of it (zygote.py), 0.05 s sooner to start than a fresh python.
        zygote.start(LOCAL_PRELOAD)
        self._connecting = threading.Thread(target=self._connect, name="twopass-connect", daemon=True)
        self._connecting.start()
        self._prefix = f"twopass-{uuid.uuid4().hex[:12]}"
        self._count = itertools.count()
        self._held: dict[str, Any] = {}  # Held.key -> the future of a result that stays on its worker
        self._shared: dict[str, Any] = {}  # digest -> a task holding bytes many jobs need
        self._holder: dict[str, str] = {}  # Held.key -> the worker that made it (its name)
        self._copies: dict[tuple[str, str], bytes] = {}  # (Held.key, attr) -> its bytes, brought with the result
        self.traffic = {"to_cluster": 0, "from_cluster": 0}  # pickled bytes between this client and the cluster

    def _connect(self) -> None:
        try:
            self._client = daskconnect.connect(self.cluster, self._started)
            self.ours = versions()
            self._check_versions()
        except BaseException as e:  # raised where the client is first needed, in the build's thread
            self._failed = e
        finally:
            self._ready.set()

    @property
    def client(self) -> Any:
        """Connected, or the error why not. Dask bounds a refused connection by the timeout, not a scheduler
        that accepts and never answers: twice the timeout after Dask is imported (reaching the scheduler,
        then its workers), the client gives up."""
        while not self._started.wait(0.05) and self._connecting.is_alive():
            pass
        if not self._ready.wait(2 * self.cluster.timeout + 1.0):
            self._failed = TwopassError(self.cluster.name, f"cannot reach the Dask scheduler within "
                                                           f"{self.cluster.timeout:g} s (it does not answer)")
            self._ready.set()
        if self._failed is not None:
            raise self._failed
        return self._client

    def check(self) -> None:
        self.client  # connected and the versions checked, or the error why not

    def prepare(self) -> None:
        pass  # connecting began when the executor was made

    def close(self) -> None:
        self._held.clear()
        self._copies.clear()
        self._shared.clear()
        self._holder.clear()
        try:
            self.check()  # waits for the connection, as long as that may take
        except BaseException:  # __exit__ says why
            pass
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        if exc[0] is None and self._failed is not None:  # what never had to wait for it: still say so
            raise self._failed

    def _check_versions(self) -> None:
        try:
            theirs = self._client.run(daskworker.greet, on_error="return")
        except Exception as e:  # a worker that cannot even import twopass
            raise TwopassError(self.cluster.name, f"cannot ask the workers their versions: {e}") from None
        names = {a: w.get("name") for a, w in self._client.scheduler_info(n_workers=-1)["workers"].items()}
        for address in sorted(theirs):
            v = theirs[address]
            why = f"cannot run twopass: {v}" if isinstance(v, BaseException) else mismatch(v, self.ours)
            if why:
                name = names.get(address)
                raise TwopassError(f"Dask worker {name} ({address})" if name not in (None, address)
                                   else f"Dask worker {address}", why)

    def _run_here(self, round_: Round, queue: deque, stop_on_failure: bool) -> Iterator[Outcome]:
        """Jobs from the front of the queue in a local pool, each as a process frees, until the cluster is
        ready, and after that too if the rest would end sooner here (_sooner_here, from the jobs done here so
        far); what is left stays in the queue."""
        took: list[float] = []
        rest_here: bool | None = None  # decided once the cluster is ready

        def more() -> bool:
            nonlocal rest_here
            if not self._ready.is_set():
                return True
            if rest_here is None:
                try:
                    threads = sum(self._client.nthreads().values()) if self._failed is None else 0
                except Exception:  # the cluster's run() says what is wrong with it
                    threads = 0
                rest_here = bool(threads and took and queue) and _sooner_here(
                    sum(took) / len(took), len(queue), self.jobs, threads)
            return rest_here

        with local_pool(round_, self.jobs) as pool:
            for outcome in pool.run(queue, stop_on_failure=False, more=more):
                if outcome.ran is not None:
                    took.append(outcome.ran[2] - outcome.ran[1])
                yield outcome
                if outcome.error and stop_on_failure:
                    queue.clear()

    def _key(self, what: str) -> str:
        return f"{self._prefix}-{what}-{next(self._count)}"

    def _bytes_task(self, data: bytes, worker: str | None = None, digest: str | None = None):
        """One task per distinct bytes (`digest`: their sha256, where the caller has it): dependents fetch it
        once per worker, and Dask can make it again. Made on the worker of the first job that needs it, not
        wherever Dask would put it: that job then finds it there, where Dask would move it between workers for
        most jobs."""
        digest = digest or hashlib.sha256(data).hexdigest()
        if digest not in self._shared:
            self._count_bytes("to_cluster", data)
            self._shared[digest] = self.client.submit(daskworker.identity, data, key=f"{self._prefix}-bytes-{digest}",
                                                      **_placed([worker] if worker else None))
        return self._shared[digest]

    def _count_bytes(self, way: str, obj: Any) -> Any:
        self.traffic[way] += len(obj) if isinstance(obj, bytes) else len(pickle.dumps(obj, protocol=5))
        return obj

    def call(self, func: Callable, *args: Any) -> Any:
        self._count_bytes("to_cluster", args)
        future = self.client.submit(func, *args, key=self._key(func.__name__))
        try:
            return self._count_bytes("from_cluster", future.result())
        finally:
            future.release()

    def fetch(self, held: list[Held]) -> list[bytes]:
        """The bytes each Held stands for: the copy that came with the result, else a task where it is."""
        away = [h for h in held if (h.key, h.attr) not in self._copies]
        futures = [self.client.submit(daskworker.field, self._held[h.key], h.attr, key=self._key("fetch"),
                                      **_placed(self._where(h))) for h in away]
        got = {(h.key, h.attr): self._count_bytes("from_cluster", outcome.value)
               for h, outcome in zip(away, self.client.gather(futures))}
        return [self._copies.get((h.key, h.attr)) or got[h.key, h.attr] for h in held]

    def _where(self, held: Held) -> list[str] | None:
        holders = self.client.who_has([self._held[held.key]]).get(self._held[held.key].key, ())
        return sorted(holders)[:1] or None

    def run(self, round_: Round, jobs: Iterable[tuple[str, Any]], stop_on_failure: bool = True
            ) -> Iterator[Outcome]:
        """Jobs in the order given, each sent when a worker thread frees (as the local pool hands them out,
        largest first): Dask would place a whole round at once by where its inputs are, not by how long its
        jobs take, and leave one worker idle at the end. One job per thread waits on each worker, so none
        idles while the client hears of the last. A job with a `Held` input goes to that input's worker
        while it has jobs of its own; a worker without any may take one of another's (_choose). A round of
        small jobs goes as two Batches per worker thread; before the cluster is ready here (_run_here), and
        after that too where the rest would end sooner here."""
        if round_.small and not self._ready.is_set():
            waiting = deque(jobs)
            yield from self._run_here(round_, waiting, stop_on_failure)
            jobs = list(waiting)
            if not jobs:
                return
        from distributed import as_completed

        self.check()  # nothing is sent before
        cgdata_digest = hashlib.sha256(round_.cgdata).hexdigest() if round_.cgdata is not None else None
        spec = Spec(round_.name, round_.func, round_.llvm_options, self.ours, round_.keep, cgdata_digest,
                    self._prefix)
        cgdata = self._bytes_task(round_.cgdata, None, cgdata_digest) if round_.cgdata is not None else None
        slots = _Slots(self.client)
        if round_.small and not round_.keep:
            jobs = _batches(list(jobs), 2 * slots.thread_count())
        queue = [(key, job, _held_fields(job)) for key, job in jobs]  # each job's Held inputs, found once
        members = {key: [k for k, _ in job.members] for key, job, _ in queue if isinstance(job, Batch)}
        moves = len(queue) // MOVES  # jobs that may still run away from their live input's worker
        tasks: dict[str, tuple[str, str, Any]] = {}  # future key -> (job key, worker it was sent to, future)
        ready = as_completed([], loop=self.client.loop)

        def send(worker: str, i: int) -> None:
            nonlocal moves
            key, job, held = queue.pop(i)
            if any(slots.address(self._holder.get(h.key)) not in (None, worker) for h in held.values()):
                moves -= 1
            needs = getattr(job, "blob_digests", lambda: ())()
            job, lifted = _lift(job)
            digests = {slot: hashlib.sha256(data).hexdigest() for slot, data in lifted.items()}
            if not isinstance(job, Batch):  # bytes no other job needs and no task holds yet travel inside the
                # job's own task (Dask keeps them with it, to make it again): one of their own costs more
                alone = {slot: data for slot, data in lifted.items()
                         if digests[slot] not in round_.blobs and digests[slot] not in self._shared}
                job = daskworker.restore(job, alone)
                lifted = {slot: data for slot, data in lifted.items() if slot not in alone}
            self._count_bytes("to_cluster", (key, job))
            full = self.client.submit(
                daskworker.task, spec, key, job, cgdata,
                {d: self._bytes_task(round_.blobs[d], worker, d) for d in needs},
                {name: (self._held[h.key], h.attr) for name, h in held.items()},
                {slot: self._bytes_task(data, worker, digests[slot]) for slot, data in lifted.items()},
                key=self._key(f"{round_.name.replace(' ', '-')}-{key}"), workers=[worker], allow_other_workers=True)
            self._held[full.key] = full
            tasks[full.key] = (key, worker, full)
            ready.add(full)
            slots.take(worker, full.key, sum(h.size for h in held.values()))

        def fill() -> None:
            sent = True
            while queue and not stopping and sent:
                sent = False
                for worker in slots.free():
                    if queue and (i := _choose(queue, worker, self._holder, slots, moves > 0)) is not None:
                        send(worker, i)
                        sent = True

        stopping = False
        fill()
        yield from _unrun(queue, tasks, stopping)
        for future in ready:
            key, worker, _ = tasks.pop(future.key)
            slots.give(worker, future.key)
            fill()
            yield from _unrun(queue, tasks, stopping)
            full_key = future.key
            try:
                got = self._count_bytes("from_cluster", future.result())
            except Exception as e:  # lost more often than Dask retries, or cancelled
                self._held.pop(full_key, None)
                if stopping and future.cancelled():  # as a local pool: jobs after a failure do not start
                    continue
                got = [Outcome(k, error=f"Dask task failed: {type(e).__name__}: {e}") for k in members.get(key, [key])]
            if not spec.keep:  # else the result stays on its worker for round two
                future.release()
            outcomes: list[Outcome] = got if isinstance(got, list) else [got]
            if spec.keep and len(outcomes) == 1 and not outcomes[0].error:  # the kept bytes came too: a task to
                # leave them behind (the outcome without them) cost the cluster more than bringing them here
                if round_.keep_copy:  # for `fetch`
                    for f in spec.keep:
                        if isinstance(data := getattr(outcomes[0].value, f, None), bytes) and data:
                            self._copies[full_key, f] = data
                outcomes[0] = _light(outcomes[0], spec.keep)
            if len(outcomes) == 1 and not outcomes[0].error and \
                    any(isinstance(getattr(outcomes[0].value, f, None), Held) for f in spec.keep):
                for f in spec.keep:
                    if isinstance(held := getattr(outcomes[0].value, f, None), Held):
                        setattr(outcomes[0].value, f, Held(full_key, f, len(held)))
                self._holder[full_key] = outcomes[0].where
            else:  # nothing of it stays needed on the worker
                self._held.pop(full_key, None)
            for outcome in outcomes:
                if outcome.error and stop_on_failure and not stopping:
                    stopping = True
                    for _, _, other in tasks.values():
                        other.cancel()
                yield outcome
            if not tasks:
                return


def _light(outcome: Outcome, keep: tuple[str, ...]) -> Outcome:
    """The outcome as the build sees it: a `Held` for each of the round's `keep` fields, left on the worker."""
    value: Any = outcome.value
    left = {f: Held("", f, len(v)) for f in keep if isinstance(v := getattr(value, f, None), bytes) and v}
    return dataclasses.replace(outcome, value=dataclasses.replace(value, **left)) if left else outcome


def _batches(jobs: list[tuple[str, Any]], count: int) -> list[tuple[str, Batch]]:
    """`count` Batches dealt from jobs in order (largest first), so each gets its share of the large ones."""
    dealt = [jobs[i::count] for i in range(min(count, len(jobs)))]
    return [(f"{part[0][0]}+{len(part) - 1}", Batch(tuple(part))) for part in dealt]


def _unrun(queue: list[tuple[str, Any, dict[str, Held]]], tasks: dict, stopping: bool) -> Iterator[Outcome]:
    """Jobs no worker can take: nothing runs and none is alive to take them."""
    if queue and not tasks and not stopping:
        for key, job, _ in queue:
            for k in [k for k, _ in job.members] if isinstance(job, Batch) else [key]:
                yield Outcome(k, error="no Dask worker is left to run it")
        queue.clear()


class _Slots:
    """How many jobs each live worker has been sent and not finished: one per thread plus one waiting."""

    WAITING = 1
    REFRESH = 1.0  # seconds between looks at which workers are alive

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sent: dict[str, int] = {}
        self.work: dict[str, int] = {}  # held bytes (a proxy for the work) of the jobs in flight, per worker
        self.sizes: dict[str, int] = {}  # future key -> those bytes
        self.names: dict[str, str] = {}  # a worker's name (what an Outcome says) -> its address
        self.threads: dict[str, int] = {}
        self.looked = 0.0

    def _look(self) -> None:
        if time.monotonic() - self.looked < self.REFRESH:
            return
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        self.threads = {a: int(w.get("nthreads", 1)) for a, w in sorted(workers.items())}
        self.names = {str(w.get("name", a)): a for a, w in workers.items()}
        self.looked = time.monotonic()

    def free(self) -> list[str]:
        """The live workers with room for another job, the most room first."""
        self._look()
        room = sorted((self.sent.get(a, 0) - n - self.WAITING, a) for a, n in self.threads.items())
        return [a for r, a in room if r < 0]

    def address(self, name: str | None) -> str | None:
        return self.names.get(name, name if name in self.threads else None) if name else None

    def take(self, worker: str, key: str, size: int) -> None:
        self.sent[worker] = self.sent.get(worker, 0) + 1
        self.work[worker] = self.work.get(worker, 0) + size
        self.sizes[key] = size

    def thread_count(self) -> int:
        self._look()
        return max(1, sum(self.threads.values()))

    def give(self, worker: str, key: str) -> None:
        self.sent[worker] -= 1
        self.work[worker] -= self.sizes.pop(key, 0)


ROUND_TRIP = 0.05  # seconds from handing a round of small jobs to the cluster to a worker's child running them


def _sooner_here(each: float, left: int, here: int, there: int) -> bool:
    """Whether `left` more jobs of `each` seconds end sooner on `here` local processes than on the cluster's
    `there` threads after a round trip to them: a program's few dozen summaries, not its thousands."""
    return left * each / max(1, here) <= left * each / max(1, there) + ROUND_TRIP


MOVES = 10  # at most one job in this many runs away from the live worker holding its input


def _choose(queue: list[tuple[str, Any, dict[str, Held]]], worker: str, holder: dict[str, str],
            slots: _Slots, may_move: bool = True) -> int | None:
    """The first job whose held input is on `worker`, else the first whose input is on no live worker, else
    the largest job whose holder would still have as much work left (queued and in flight) after giving it
    up as this worker would have with it: that moves its input but ends the round sooner, where taking more
    would only move inputs, and taking the largest such moves the fewest jobs. Moves are bounded (`may_move`,
    MOVES): each sends an input over the network, and round one's placement should leave little to even out."""
    held = [next(iter(fields.values()), None) for _, _, fields in queue]
    places = [slots.address(holder.get(h.key)) if h else None for h in held]
    for i, place in enumerate(places):
        if place == worker:
            return i
    for i, place in enumerate(places):
        if place is None:
            return i
    if not may_move:
        return None
    left: dict[str | None, int] = {}
    for h, place in zip(held, places):
        left[place] = left.get(place, 0) + (h.size if h else 0)
    for i in range(len(queue)):  # the largest that qualifies: the fewest jobs away from their input
        h = held[i]
        if h is not None and left[places[i]] + slots.work.get(places[i] or "", 0) - h.size >= \
                slots.work.get(worker, 0) + h.size:
            return i
    return None


def _held_fields(job: Any) -> dict[str, Held]:
    """The job's fields that stand for bytes still on a worker, by name."""
    if not dataclasses.is_dataclass(job):
        return {}
    return {f.name: v for f in dataclasses.fields(job) if isinstance(v := getattr(job, f.name), Held)}


_LIFT = 4096  # bytes fields at least this long travel as a task of their own


def _lift(job: Any) -> tuple[Any, dict]:
    """The job without its large bytes fields (a module's bitcode), and those by field name or tuple index:
    one task per distinct bytes, so a module's summary, its round one and its importers send it once."""
    if isinstance(job, Batch):
        parts = [(key, *_lift(member)) for key, member in job.members]
        return Batch(tuple((key, member) for key, member, _ in parts)), \
            {(n, slot): v for n, (_, _, big) in enumerate(parts) for slot, v in big.items()}
    if dataclasses.is_dataclass(job) and not isinstance(job, type):
        big: dict[str | int, bytes] = {f.name: v for f in dataclasses.fields(job)
                                       if isinstance(v := getattr(job, f.name), bytes) and len(v) >= _LIFT}
        return (dataclasses.replace(job, **{str(k): b"" for k in big}) if big else job), big
    if isinstance(job, tuple):
        big = {i: v for i, v in enumerate(job) if isinstance(v, bytes) and len(v) >= _LIFT}
        return tuple(b"" if i in big else v for i, v in enumerate(job)), big
    return job, {}


def _placed(where: list[str] | None) -> dict[str, Any]:
    """Prefer the worker holding the input, but run elsewhere rather than wait for one that is gone."""
    return {"workers": where, "allow_other_workers": True} if where else {}
