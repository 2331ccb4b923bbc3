"""A process pool that survives its workers dying, and says which job killed which worker and how.

concurrent.futures' pool breaks as a whole when one worker dies (an LLVM fatal error exits the process, the
kernel's OOM killer sends SIGKILL) and cannot tell which job was running. Here every worker runs one job at
a time, so a death is pinned to its job; the worker's stderr goes to a file, so LLVM's own `LLVM ERROR: ...`
line can be quoted; and a replacement worker is started when the build goes on (`--keep-going`).

Workers are forked from twopass's own fork server (`zygote`, zygote.py; never from this process: LLVM is not
fork-safe once initialized), or started as plain child processes (`subprocess`: what a daemonic process such
as a Dask worker may start, each in its own session), and run `initializer(*initargs)` once, which is where
process-global LLVM options get set. What a worker logs comes back with its job's answer. A
`subprocess` child spends a quarter of a second starting python and importing LLVM before it can take a job,
so the caller can start some ahead of need (`prestart`), at a quiet moment: a pool then begins with one ready.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable

from . import zygote
from .errors import TwopassError


@dataclass
class Outcome:
    """How one job ended: `value` on success, else a one-line `error` (and whether the worker died)."""

    key: Any
    value: Any = None
    error: str | None = None
    died: bool = False
    where: str = ""  # the machine it ran on, when that is not this one
    ran: tuple[int, float, float] | None = None  # (worker, sent, answered): time.monotonic() in this process


class _Records(list):
    """Where a worker's log records wait for its job's answer (a QueueHandler's queue: it formats each record
    so that it pickles)."""

    put_nowait = list.append


def _worker_main(conn, func, initializer, initargs, log_level, stderr_path) -> None:
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    records = _Records()
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]  # type: ignore[arg-type]
    root.setLevel(log_level)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        key, arg = job
        try:
            answer = (key, True, func(arg))
        except TwopassError as e:
            answer = (key, False, str(e))
        except Exception as e:  # a bug of ours: keep the trace in the log, report one line
            logging.getLogger("twopass.worker").debug("%s", traceback.format_exc())
            answer = (key, False, f"internal error: {type(e).__name__}: {e}")
        conn.send((*answer, records[:]))
        records.clear()
        _trim()  # while the parent takes the answer in and sends the next job


def _trim() -> None:
    """Give the heap the job freed back to the system: glibc keeps it, and after compiling one of Lua's modules
    a worker held 6 to 9 MB it no longer used, in every worker at once."""
    global _libc
    if _libc is None:
        import ctypes
        try:
            _libc = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc(0)


_libc: Any = None


def _spawn(preload: tuple[str, ...]) -> tuple[subprocess.Popen, Connection]:
    ours, theirs = socket.socketpair()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # what this process imports
    popen = subprocess.Popen([sys.executable, "-m", "twopass.pool", str(theirs.fileno()), *preload],
                             pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    theirs.close()
    return popen, Connection(ours.detach())


# Children started ahead of need, by what they preload: each waits for its setup on its socket, and exits
# when that closes (this process ending, however it ends, or _close_spares).
_SPARES: dict[tuple[str, ...], list[tuple[subprocess.Popen, Connection]]] = {}
_SPARES_LOCK = threading.Lock()


def _live_spares(preload: tuple[str, ...]) -> list[tuple[subprocess.Popen, Connection]]:
    """The spares for `preload` still alive (the dead reaped); under _SPARES_LOCK."""
    spares = _SPARES.setdefault(preload, [])
    for popen, conn in [s for s in spares if s[0].poll() is not None]:
        spares.remove((popen, conn))
        conn.close()
    return spares


def prestart(preload: tuple[str, ...], count: int) -> None:
    """Have `count` children waiting that have imported `preload`."""
    with _SPARES_LOCK:
        spares = _live_spares(preload)
        while len(spares) < count:
            spares.append(_spawn(preload))


def _take(preload: tuple[str, ...]) -> tuple[subprocess.Popen, Connection]:
    with _SPARES_LOCK:
        spares = _live_spares(preload)
        if spares:
            return spares.pop(0)
    return _spawn(preload)


def _close_spares() -> None:
    with _SPARES_LOCK:
        for spares in _SPARES.values():
            for popen, conn in spares:
                conn.close()
                zygote.reap(popen)
        _SPARES.clear()


atexit.register(_close_spares)


class _Child:
    """A worker as `python -m twopass.pool FD MODULE...`: the Process interface _Worker uses, over subprocess.
    Its socket closes when this process dies however it dies, and the child then exits after its current job."""

    def __init__(self, preload: tuple[str, ...]):
        self.popen, self.conn = _take(preload)
        self.sentinel = os.pidfd_open(self.popen.pid)

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        if self.popen.returncode is not None and self.sentinel >= 0:
            os.close(self.sentinel)
            self.sentinel = -1

    def kill(self) -> None:
        self.popen.kill()


class _Worker:
    def __init__(self, pool: "Pool"):
        self.stderr_path = os.path.join(pool.tmpdir, f"worker-{pool._started}.stderr")
        pool._started += 1
        setup = (pool.func, pool.initializer, pool.initargs, pool.log_level, self.stderr_path)
        self.proc: Any = _Child(pool.preload) if pool.start_method == "subprocess" else zygote.fork(pool.preload)
        self.conn = self.proc.conn
        self.conn.send(setup)
        self.job: tuple[Any, Any] | None = None
        self.index = pool._started - 1
        self.sent = 0.0

    def death_message(self) -> str:
        """LLVM's own fatal message when there is one, else how the process ended."""
        try:
            with open(self.stderr_path, "rb") as f:
                tail = f.read()[-8192:].decode("utf-8", "replace").splitlines()
        except OSError:
            tail = []
        for marker in ("LLVM ERROR:", "error:"):  # a fatal error, else a diagnostic (inline asm...)
            for line in tail:
                if marker in line:
                    return line[line.index(marker):].strip() if marker == "LLVM ERROR:" else \
                        line.strip().removeprefix("error: ")
        code = self.proc.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if -code == signal.SIGKILL else ""
            return f"worker killed by {name}{hint}"
        last = [ln.strip() for ln in tail if ln.strip()]
        return f"worker exited with status {code}" + (f": {last[-1]}" if last else "")

    def ask_to_stop(self) -> None:
        if self.proc.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass

    def stop(self, asked: bool = False) -> None:
        if not asked:
            self.ask_to_stop()
        if self.proc.is_alive():
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class Pool:
    """`with Pool(n, func, init, args) as p: for outcome in p.run(jobs): ...` (outcomes in completion order)."""

    def __init__(self, processes: int, func: Callable, initializer: Callable | None = None,
                 initargs: tuple = (), start_method: str = "zygote", preload: tuple[str, ...] = ()):
        """`preload`: modules the fork server (or each `subprocess` child) imports before its setup; a
        `subprocess` pool takes its children from those prestart made for the same preload, if any."""
        if start_method not in ("zygote", "subprocess"):
            raise ValueError(start_method)
        self.start_method = start_method
        self.func, self.initializer, self.initargs = func, initializer, initargs
        self.log_level = logging.getLogger().getEffectiveLevel()
        self.processes = max(1, processes)
        self.preload = preload
        self.tmpdir = tempfile.mkdtemp(prefix="twopass-pool-")
        self._started = 0
        self.workers: list[_Worker] = []

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for w in self.workers:  # all at once: each takes a few ms to end
            w.ask_to_stop()
        for w in self.workers:
            w.stop(asked=True)
        self.workers = []
        for name in os.listdir(self.tmpdir):
            os.unlink(os.path.join(self.tmpdir, name))
        os.rmdir(self.tmpdir)

    def run(self, jobs: Iterable[tuple[Any, Any]], stop_on_failure: bool = True,
            more: Callable[[], bool] = lambda: True):
        """Yield an Outcome per (key, arg) job. After a failure with stop_on_failure, no new job starts; nor
        once `more()` is false, and what is left stays in `jobs` if that is a deque (taken from as they go)."""
        queue = jobs if isinstance(jobs, deque) else deque(jobs)
        stopping = False
        while True:
            stopping = stopping or not more()
            if not stopping:
                self._dispatch(queue)
            busy = [w for w in self.workers if w.job is not None]
            if not busy:
                return
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
            outcomes = [self._collect(w) for w in busy if w.conn in ready or w.proc.sentinel in ready]
            stopping = stopping or (stop_on_failure and any(o.error for o in outcomes)) or not more()
            if not stopping:
                self._dispatch(queue)  # the workers go on while the caller takes these outcomes in
            yield from outcomes

    def _dispatch(self, queue: deque) -> None:
        """Start workers up to the jobs left, and give every idle one a job."""
        busy_count = sum(w.job is not None for w in self.workers)
        while len(self.workers) < min(self.processes, len(queue) + busy_count):
            self.workers.append(_Worker(self))
        for w in self.workers:
            if w.job is None and queue:
                w.job = queue.popleft()
                w.sent = time.monotonic()
                w.conn.send(w.job)

    def _collect(self, w: _Worker) -> Outcome:
        assert w.job is not None
        key = w.job[0]
        try:
            if w.conn.poll():
                got_key, ok, value, records = w.conn.recv()
                w.job = None
                for record in records:
                    logging.getLogger(record.name).handle(record)
                ran = (w.index, w.sent, time.monotonic())
                return Outcome(key, value=value, ran=ran) if ok else Outcome(key, error=value, ran=ran)
        except (EOFError, OSError):
            pass
        w.proc.join(5)
        message = w.death_message()
        w.stop()
        self.workers.remove(w)  # run() starts a fresh one if jobs remain
        return Outcome(key, error=message, died=True)


def serve_child(conn: Connection) -> None:
    """A worker once it runs: its setup comes on its socket, then its jobs. A child never given a setup (a
    spare never taken) sees the socket close and exits."""
    try:
        func, initializer, initargs, log_level, stderr_path = conn.recv()
    except (EOFError, OSError):
        return
    _worker_main(conn, func, initializer, initargs, log_level, stderr_path)


def _child_main(fd: int, preload: list[str]) -> None:
    """A `subprocess` worker: it imports its preload, then serves."""
    import importlib

    for name in preload:
        importlib.import_module(name)
    from . import pages

    pages.release("libllvmlite")  # pages only importing it touched (see pages.py)
    serve_child(Connection(fd))


if __name__ == "__main__":
    _child_main(int(sys.argv[1]), sys.argv[2:])
