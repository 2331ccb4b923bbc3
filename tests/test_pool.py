"""The worker pool: results, one-line failures pinned to their job, and recovery after a worker dies."""

from __future__ import annotations

import contextlib
import os

import pool_jobs
import pytest
from conftest import processes
from twopass.pool import Pool


def run(jobs, processes=2, stop_on_failure=False, start_method="zygote"):
    with Pool(processes, pool_jobs.job, pool_jobs.init, ("t",), start_method=start_method) as pool:
        return {o.key: o for o in pool.run(jobs, stop_on_failure=stop_on_failure)}


def test_results_and_initializer():
    out = run([(i, ("ok", i)) for i in range(6)])
    assert {k: o.value[:2] for k, o in out.items()} == {i: ("t", 2 * i) for i in range(6)}
    assert len({o.value[2] for o in out.values()}) <= 2  # at most two worker processes


@pytest.mark.parametrize("start_method", ["zygote", "subprocess"])
def test_deaths_are_pinned_to_their_job_and_the_rest_goes_on(start_method):
    """`subprocess` workers are what a daemonic process (a Dask worker) can start: the same outcomes."""
    jobs = [(0, ("ok", 1)), (1, ("kill", 0)), (2, ("ok", 2)), (3, ("llvm-fatal", 0)), (4, ("ok", 3)),
            (5, ("input", "m.bc")), (6, ("bug", 0)), (7, ("ok", 4))]
    out = run(jobs, start_method=start_method)
    assert [out[k].value[1] for k in (0, 2, 4, 7)] == [2, 4, 6, 8]
    assert out[1].died and out[1].error == "worker killed by SIGKILL (out of memory?)"
    assert out[3].died and out[3].error == "LLVM ERROR: Cannot select: intrinsic %llvm.bogus"
    assert not out[5].died and out[5].error == "m.bc: bad input"
    assert out[6].error == "internal error: ZeroDivisionError: division by zero"


def test_what_workers_log_comes_back_with_their_answers(caplog):
    caplog.set_level("WARNING")
    out = run([(i, ("log", f"job {i}")) for i in range(3)])
    assert [o.value for o in out.values()] and sorted(out) == [0, 1, 2]
    got = sorted(r.getMessage() for r in caplog.records if r.name == "twopass.worker")
    assert got == ["from job 0", "from job 1", "from job 2"]


def _children(pid: int) -> list[tuple[int, str, str]]:
    """(pid, name, command line) of each child of `pid`."""
    return [(p, name, cmdline) for p, parent, _, cmdline, name in processes() if parent == pid]


@contextlib.contextmanager
def _pool_in_a_child(code: str):
    """A python running `code` (which prints a line once its pool has answered, then waits for one on stdin),
    its output's first line, and its own pid; it must end with status 0 when let go."""
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        yield parent.stdout.readline(), parent.pid
    finally:
        parent.communicate("\n", timeout=30)
    assert parent.returncode == 0


def test_workers_fork_from_our_server_and_nothing_else_starts(tmp_path):
    """No resource tracker or other helper next to the server: its 9 MB were 6% of an AArch64 build's peak."""
    code = ("import os, sys, pool_jobs; from twopass.pool import Pool\n"
            "with Pool(2, pool_jobs.job, pool_jobs.init, ('t',)) as p:\n"
            "    pids = sorted({o.value[2] for o in p.run([(i, ('ok', i)) for i in range(4)])})\n"
            "    print(*pids, flush=True); sys.stdin.readline()\n")
    with _pool_in_a_child(code) as (line, pid):
        workers = [int(p) for p in line.split()]
        children = _children(pid)
        assert [name for _, name, _ in children] == ["twopass-server"], children
        server = children[0][0]
        assert sorted(p for p, _, _ in _children(server)) == workers
        assert {name for _, name, _ in _children(server)} == {"twopass-worker"}


_ANOTHER_THREAD = "stop = threading.Event(); threading.Thread(target=stop.wait).start()\n"
_FORK_FAILS = ("def no_memory(): raise OSError(12, 'Cannot allocate memory')\n"  # what strict overcommit gives
               "os.fork = no_memory; stop = threading.Event()\n")


@pytest.mark.parametrize("why", [_ANOTHER_THREAD, _FORK_FAILS], ids=["another thread", "fork fails"])
def test_the_server_starts_afresh_when_it_cannot_be_a_fork(why):
    """A fork copies only the thread that forks: a lock another thread holds (an import in Dask's connecting
    thread) would stay held in the copy; and a fork of a large process can fail for memory. The server is then
    `python -m twopass.zygote` of its own."""
    code = ("import os, sys, threading, pool_jobs; from twopass.pool import Pool\n" + why +
            "with Pool(1, pool_jobs.job, pool_jobs.init, ('t',)) as p:\n"
            "    print(next(iter(p.run([(0, ('ok', 21))]))).value[1], flush=True); sys.stdin.readline()\n"
            "stop.set()\n")
    with _pool_in_a_child(code) as (line, pid):
        assert line.strip() == "42"
        children = _children(pid)
        assert len(children) == 1 and children[0][1] == "twopass-server", children
        assert " -m twopass.zygote " in children[0][2]


def test_the_fork_server_ends_when_the_process_that_started_it_is_killed():
    import signal
    import subprocess
    import sys
    import time

    code = ("import time, pool_jobs; from twopass import zygote; "
            "print(zygote.fork(('pool_jobs',)).pid, zygote._SERVERS[('pool_jobs',)].popen.pid, flush=True); "
            "time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    pids = [int(p) for p in parent.stdout.readline().split()]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _exists(p)]
        time.sleep(0.05)
    assert pids == [], "outlived the process that started them"


def test_a_fork_server_started_ahead_and_never_used_is_killed_at_exit():
    """A build the cache answers after its server was started must not wait for the server's imports."""
    import subprocess
    import sys

    code = ("import pool_jobs; from twopass import zygote; zygote.start(('pool_jobs',)); "
            "print(zygote._SERVERS[('pool_jobs',)].popen.pid, flush=True)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert not _exists(int(proc.stdout))


def test_a_fork_server_that_cannot_start_is_one_error_with_its_reason():
    from twopass.errors import TwopassError

    with pytest.raises(TwopassError) as e:
        with Pool(1, pool_jobs.job, pool_jobs.init, ("t",), preload=("no_such_module_here",)) as pool:
            list(pool.run([(0, ("ok", 1))]))
    assert str(e.value) == ("twopass's fork server: exited with status 1 before starting a worker: "
                            "ModuleNotFoundError: No module named 'no_such_module_here'")


def test_a_fork_server_killed_between_rounds_is_replaced():
    import signal

    from twopass import zygote

    first = run([(0, ("ok", 1))])[0].value[2]
    server = zygote._SERVERS[()].popen
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    out = run([(i, ("ok", i)) for i in range(3)])
    assert [out[i].value[1] for i in range(3)] == [0, 2, 4] and first not in {o.value[2] for o in out.values()}
    assert zygote._SERVERS[()].popen is not server


def _exists(pid: int) -> bool:
    return any(p == pid for p, *_ in processes())


def test_stop_on_failure_starts_no_new_job():
    jobs = [(0, ("kill", 0))] + [(i, ("ok", i)) for i in range(1, 20)]
    out = run(jobs, processes=1, stop_on_failure=True)
    assert list(out) == [0]


def test_jobs_stop_starting_when_asked_and_the_rest_stays_in_the_callers_queue():
    """How a cluster build summarizes here while it connects: jobs from the shared deque until `more()` is false
    (the cluster is ready), the running ones finished, the rest left for the cluster."""
    from collections import deque
    queue = deque((i, ("ok", i)) for i in range(20))
    done = []
    with Pool(2, pool_jobs.job, pool_jobs.init, ("t",)) as pool:
        for outcome in pool.run(queue, stop_on_failure=False, more=lambda: len(done) < 3):
            done.append(outcome.key)
    assert 3 <= len(done) <= 3 + 2 * 2  # what was running, and what was handed out with the third's batch
    assert sorted(done + [k for k, _ in queue]) == list(range(20))


def test_subprocess_workers_run_in_their_own_session_and_end_with_the_pool():
    with Pool(1, pool_jobs.job, pool_jobs.init, ("t",), start_method="subprocess") as pool:
        (outcome,) = pool.run([(0, ("ok", 1))])
        pid = outcome.value[2]
        assert os.getsid(pid) == pid != os.getsid(0)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _spare_pids() -> list[int]:
    from twopass import pool as pool_module
    return [popen.pid for spares in pool_module._SPARES.values() for popen, _ in spares]


def test_subprocess_pools_start_from_a_spare_child_started_ahead_of_need():
    from twopass import pool as pool_module

    with Pool(1, pool_jobs.job, pool_jobs.init, ("a",), start_method="subprocess", preload=("pool_jobs",)) as pool:
        (first,) = pool.run([(0, ("ok", 1))])
    assert _spare_pids() == []  # none taken, none made
    pool_module.prestart(("pool_jobs",), 2)
    spares = _spare_pids()
    assert len(spares) == 2 and first.value[2] not in spares
    with Pool(1, pool_jobs.job, pool_jobs.init, ("b",), start_method="subprocess", preload=("pool_jobs",)) as pool:
        (second,) = pool.run([(0, ("ok", 2))])
        assert second.value == ("b", 4, spares[0])  # the oldest spare took this pool's setup
    assert _spare_pids() == spares[1:]
    with Pool(1, pool_jobs.job, pool_jobs.init, ("c",), start_method="subprocess") as pool:
        (other,) = pool.run([(0, ("ok", 3))])
        assert other.value[2] != spares[1]  # a spare is only for pools of its preload
    pool_module._close_spares()
    assert _spare_pids() == []
    with pytest.raises(ProcessLookupError):
        os.kill(spares[1], 0)


def test_a_spare_child_ends_when_the_process_that_started_it_is_killed():
    import signal
    import subprocess
    import sys
    import time

    code = ("import sys, time; from twopass import pool; pool.prestart(('pool_jobs',), 1); "
            "print(pool._SPARES[('pool_jobs',)][0][0].pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    spare = int(parent.stdout.readline())
    os.kill(spare, 0)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(spare, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"spare {spare} outlived its parent")
