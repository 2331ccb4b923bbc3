"""Where a round's jobs run: the interface every round goes through, and the local process pool behind it.

A round is data: which worker function, the process-global LLVM options its workers start with (LLVM reads
them once per process, so each round needs fresh workers), the codegen data file those options name, and the
bytes jobs name by digest (exporters of imported functions), which each worker fetches once instead of
having them pickled into every job. An executor runs `(key, job)` pairs of a round and yields an `Outcome` per
job as it ends; a distributed executor implements the same `run`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

if TYPE_CHECKING:
    from .pool import Outcome

CGDATA = "<cgdata>"  # in a round's LLVM options: wherever the executor put the round's codegen data file


@dataclass(frozen=True)
class Round:
    name: str
    func: Callable[[Any], Any]  # a module-level function of twopass.workers: picklable by reference
    llvm_options: tuple[str, ...] = ()
    cgdata: bytes | None = None  # the file CGDATA names
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes, for workers.blob()

    def options_for(self, cgdata_path: str | None) -> tuple[str, ...]:
        return tuple(o.replace(CGDATA, cgdata_path) if cgdata_path else o for o in self.llvm_options)


class Executor(Protocol):
    def run(self, round_: Round, jobs: Iterable[tuple[str, Any]], stop_on_failure: bool = True
            ) -> Iterator[Outcome]: ...


class LocalExecutor:
    """A pool of worker processes on this machine, fresh for every round (see pool.py for why processes)."""

    def __init__(self, jobs: int = os.cpu_count() or 1, log_queue: Callable[[], Any] | None = None):
        self.jobs, self.log_queue = max(1, jobs), log_queue

    def run(self, round_: Round, jobs: Iterable[tuple[str, Any]], stop_on_failure: bool = True
            ) -> Iterator[Outcome]:
        from . import workers
        from .pool import Pool  # multiprocessing's imports are 10% of a warm build, which needs no workers

        with tempfile.TemporaryDirectory(prefix="twopass-round-") as tmp:
            cgdata = None
            if round_.cgdata is not None:
                cgdata = os.path.join(tmp, "data.cgdata")
                _write(cgdata, round_.cgdata)
            for digest, data in round_.blobs.items():
                _write(os.path.join(tmp, digest), data)
            # The fork server imports twopass and llvmlite once (LLVM is not fork-safe once initialized, so
            # workers fork from a server that never ran it; the parent loads LLVM only when it must).
            with Pool(self.jobs, round_.func, workers.start, (round_.options_for(cgdata), tmp),
                      self.log_queue() if self.log_queue else None,
                      preload=("twopass.workers", "llvmlite.binding")) as pool:
                yield from pool.run(jobs, stop_on_failure=stop_on_failure)


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
