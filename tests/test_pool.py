"""The worker pool: results, one-line failures pinned to their job, and recovery after a worker dies."""

from __future__ import annotations

import os

import pool_jobs
import pytest
from twopass.pool import Pool


def run(jobs, processes=2, stop_on_failure=False, start_method="forkserver"):
    with Pool(processes, pool_jobs.job, pool_jobs.init, ("t",), start_method=start_method) as pool:
        return {o.key: o for o in pool.run(jobs, stop_on_failure=stop_on_failure)}


def test_results_and_initializer():
    out = run([(i, ("ok", i)) for i in range(6)])
    assert {k: o.value[:2] for k, o in out.items()} == {i: ("t", 2 * i) for i in range(6)}
    assert len({o.value[2] for o in out.values()}) <= 2  # at most two worker processes


@pytest.mark.parametrize("start_method", ["forkserver", "subprocess"])
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


def test_stop_on_failure_starts_no_new_job():
    jobs = [(0, ("kill", 0))] + [(i, ("ok", i)) for i in range(1, 20)]
    out = run(jobs, processes=1, stop_on_failure=True)
    assert list(out) == [0]


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
