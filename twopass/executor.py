"""Where a round's jobs run: the interface every round goes through, and the local process pool behind it.

A round is data: which worker function, the process-global LLVM options its workers start with (LLVM reads
them once per process, so each round needs fresh workers), the codegen data file those options name, and the
bytes jobs name by digest (exporters of imported functions), which each worker fetches once instead of
having them pickled into every job. An executor runs `(key, job)` pairs of a round and yields an `Outcome` per
job as it ends; a distributed executor implements the same `run` (distributed.py), and may leave bytes of a
result where they were made: a `Held` stands in for them, a later job may carry it in their place (and is then
run where they are), and `fetch` brings them here when this machine needs them (its cache).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

if TYPE_CHECKING:
    from .pool import Outcome, Pool

LOCAL_PRELOAD = ("twopass.workers", "llvmlite.binding")  # what every worker process imports before its setup
CGDATA = "<cgdata>"  # in a round's LLVM options: wherever the executor put the round's codegen data file


@dataclass(frozen=True)
class Round:
    name: str
    func: Callable[[Any], Any]  # a module-level function of twopass.workers: picklable by reference
    llvm_options: tuple[str, ...] = ()
    cgdata: bytes | None = None  # the file CGDATA names
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes, for workers.blob()
    keep: tuple[str, ...] = ()  # result fields an executor may leave where they were made (a Held instead)
    keep_copy: bool = False  # the caller fetches the kept fields too (its cache): bring a copy with the result
    small: bool = False  # jobs so quick that a remote executor's cost per task would outweigh them

    def options_for(self, cgdata_path: str | None) -> tuple[str, ...]:
        return tuple(o.replace(CGDATA, cgdata_path) if cgdata_path else o for o in self.llvm_options)


@dataclass(frozen=True)
class Held:
    """The `attr` bytes of the result an executor knows as `key`, still where that result was made."""

    key: str
    attr: str
    size: int

    def __len__(self) -> int:  # as the bytes it stands for, for reports
        return self.size


class Executor(Protocol):
    keeps_files: bool  # its rounds' workers share a directory on this machine for the whole build, where one
    # round's may leave files for the next's (the summaries' prints of the modules)

    def run(self, round_: Round, jobs: Iterable[tuple[str, Any]], stop_on_failure: bool = True
            ) -> Iterator[Outcome]: ...

    def call(self, func: Callable, *args: Any) -> Any:
        """`func(*args)` where the executor runs work: for work between rounds (the merge)."""

    def fetch(self, held: list[Held]) -> list[bytes]: ...

    def check(self) -> None:
        """Raise what would have kept this executor from running work (a cluster it could not reach), for a
        build whose work the cache did: before its outputs are written, not after."""

    def prepare(self) -> None:
        """Start what the rounds will need, once the cache has not answered the build whole: its start then
        overlaps the parent's planning."""


class LocalExecutor:
    """A pool of worker processes on this machine, fresh for every round (see pool.py for why processes), its
    files in one directory for as long as the executor lives."""

    keeps_files = True

    def __init__(self, jobs: int = os.cpu_count() or 1):
        self.jobs = max(1, jobs)
        self._dir: str | None = None

    def run(self, round_: Round, jobs: Iterable[tuple[str, Any]], stop_on_failure: bool = True
            ) -> Iterator[Outcome]:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="twopass-build-")
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        with local_pool(round_, self.jobs, self._dir) as pool:
            yield from pool.run(jobs, stop_on_failure=stop_on_failure)

    def call(self, func: Callable, *args: Any) -> Any:
        return func(*args)

    def fetch(self, held: list[Held]) -> list[bytes]:
        raise AssertionError("a local pool holds nothing back")

    def check(self) -> None:
        pass

    def prepare(self) -> None:
        from . import zygote

        zygote.start(LOCAL_PRELOAD)


@contextlib.contextmanager
def local_pool(round_: Round, processes: int, directory: str | None = None) -> Iterator[Pool]:
    """Worker processes on this machine started for the round, its files in `directory` (else one of their own)."""
    from . import workers
    from .pool import Pool  # its imports cost a warm build, which needs no workers

    with contextlib.nullcontext(directory) if directory else tempfile.TemporaryDirectory(prefix="twopass-round-") \
            as tmp:
        cgdata = write_round_files(round_, tmp)
        # The fork server imports twopass and llvmlite once (LLVM is not fork-safe once initialized, so
        # workers fork from a server that never ran it; the parent loads LLVM only when it must).
        with Pool(processes, round_.func, workers.start, (round_.options_for(cgdata), tmp),
                  preload=LOCAL_PRELOAD) as pool:
            yield pool


DATA_FILE = "data.cgdata"  # the round's codegen data, in the directory of its shipped bytes


def write_round_files(round_: Round, directory: str) -> str | None:
    """The round's codegen data and blobs into `directory`, where workers.start points its workers; the data's
    path (None without data)."""
    path = None
    if round_.cgdata is not None:
        path = os.path.join(directory, DATA_FILE)
        _write(path, round_.cgdata)
    for digest, data in round_.blobs.items():
        _write(os.path.join(directory, digest), data)
    return path


def _write(path: str, data: bytes) -> None:
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
