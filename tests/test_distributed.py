"""Both rounds on a real Dask cluster on 127.0.0.1 (`dask scheduler`, `dask worker` processes): the same bytes as
a local build, round two where its IR is, a machine lost mid-round, TLS, and the errors a user meets first."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time

import pytest

from conftest import DATA, ROOT, assert_clean_error, run_twopass
from test_build import corrupt, outputs

sys.path.insert(0, str(ROOT))
from tools import corpus  # noqa: E402
from tools.dask_cluster import Cluster, readme_config, self_signed  # noqa: E402

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The README's build cluster: its Dask configuration read by every process (the clusters the fault tests
    start of their own keep Dask's defaults, so both are built on)."""
    with Cluster(tmp_path_factory.mktemp("cluster"), workers=2, config=readme_config()) as c:
        yield c


@pytest.fixture(scope="module")
def lua():
    return corpus.build_bitcode("x86_64")


@pytest.fixture(scope="module")
def lua_local(tmp_path_factory, lua):
    out = tmp_path_factory.mktemp("lua-local") / "out"
    run_twopass("build", *lua, "-o", out, "-j", "2", "--no-cache", check=True)
    return outputs(out)


def test_lua_on_the_cluster_is_the_local_build(tmp_path, cluster, lua, lua_local):
    import dask
    import yaml

    out, report = tmp_path / "out", tmp_path / "report.json"
    proc = run_twopass("build", *lua, "-o", out, "--scheduler-file", cluster.scheduler_file, "--no-cache",
                       "--report", report, check=True)
    assert outputs(out) == lua_local
    where = json.loads(report.read_text())["placement"]
    assert set(where["workers"]["round 1"].values()) == {"w1", "w2"}  # both machines worked
    assert where["round2_tasks"] == len(lua)
    assert where["round2_on_round1_worker"] >= 0.9 * len(lua), where
    assert f"cluster: 2 workers; {where['round2_on_round1_worker']}/{len(lua)}" in proc.stderr.decode()
    # built on the README's configuration, which every process of the cluster read
    config = yaml.safe_load(readme_config())["distributed"]
    for key, value in (("worker.profile.enabled", config["worker"]["profile"]["enabled"]),
                       ("admin.tick.interval", config["admin"]["tick"]["interval"])):
        seen = cluster.client().run(dask.config.get, f"distributed.{key}")
        assert len(seen) == 2 and set(seen.values()) == {value}, (key, seen)
        assert cluster.client().run_on_scheduler(dask.config.get, f"distributed.{key}") == value


def test_the_client_cache_serves_a_cluster_build(tmp_path, cluster):
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first, second = tmp_path / "a", tmp_path / "b"
    args = ("--scheduler-file", cluster.scheduler_file, "-j", "2")
    run_twopass("build", DATA / "x86_64", "-o", first, *args, env=env, check=True)
    proc = run_twopass("build", DATA / "x86_64", "-o", second, *args, "--report", tmp_path / "r.json", env=env,
                       check=True)
    assert outputs(first) == outputs(second)
    cache = json.loads((tmp_path / "r.json").read_text())["cache"]
    streams = cache["streams"]
    assert all(c["misses"] == 0 for s in streams.values() for c in s.values()), streams
    assert "placement" not in json.loads((tmp_path / "r.json").read_text())  # nothing ran on the cluster
    local = tmp_path / "local"
    run_twopass("build", DATA / "x86_64", "-o", local, "--no-cache", check=True)
    assert outputs(local) == outputs(first), proc.stderr.decode()


def test_round_one_ir_that_the_client_keeps_comes_back_with_its_result(tmp_path, cluster):
    """--save-temps (as the cache) takes round one's IR here: brought with the result, not by a task of its own,
    it is the local build's, and round two still ran where it was made."""
    temps = {where: tmp_path / f"temps-{where}" for where in ("cluster", "local")}
    run_twopass("build", DATA / "x86_64", "-o", tmp_path / "c", "--scheduler-file", cluster.scheduler_file,
                "--no-cache", "--save-temps", temps["cluster"], "--report", tmp_path / "r.json", check=True)
    run_twopass("build", DATA / "x86_64", "-o", tmp_path / "l", "--no-cache", "--save-temps", temps["local"],
                check=True)
    assert outputs(tmp_path / "c") == outputs(tmp_path / "l")
    kept = outputs(temps["cluster"])
    assert kept == outputs(temps["local"])
    assert sum(name.endswith(".opt.bc") for name in kept) == len(list((DATA / "x86_64").glob("*.o")))
    report = json.loads((tmp_path / "r.json").read_text())
    ir = sum(m["round1"]["ir_bytes"] for m in report["modules"])
    assert report["cluster_bytes"]["from_cluster"] > ir  # it came back
    where = report["placement"]
    assert where["round2_on_round1_worker"] >= 0.5 * where["round2_tasks"], where


def test_llvm_killing_its_process_is_the_module_error_and_the_workers_live_on(tmp_path, cluster):
    bad = corrupt(tmp_path, "abort")
    proc = run_twopass("build", DATA / "x86_64", bad, "-o", tmp_path / "out", "--scheduler-file",
                       cluster.scheduler_file, "--no-cache")
    assert_clean_error(proc, str(bad), "no_such_instruction")
    assert not (tmp_path / "out").exists() or outputs(tmp_path / "out") == {}
    assert cluster.worker_count() == 2
    run_twopass("build", DATA / "x86_64", "-o", tmp_path / "after", "--scheduler-file", cluster.scheduler_file,
                "--no-cache", check=True)


def test_a_machine_lost_in_round_one_changes_nothing(tmp_path, lua, lua_local):
    """SIGKILL a worker and its nanny while it runs round one: Dask runs its tasks again on the other (round one
    from the graph, for results it held), and the objects are the same."""
    with Cluster(tmp_path / "cluster", workers=2) as c:
        result: dict = {}

        def build() -> None:
            result["proc"] = run_twopass("build", *lua, "-o", tmp_path / "out", "--scheduler-file",
                                         c.scheduler_file, "--no-cache", "--report", tmp_path / "r.json")

        t = threading.Thread(target=build)
        t.start()
        deadline = time.monotonic() + 120
        while not any("-round-1-" in k for k in c.processing().get("w2", [])):
            assert t.is_alive() and time.monotonic() < deadline, "round one never ran on w2"
            time.sleep(0.05)
        time.sleep(0.5)  # into the middle of a module's codegen
        below = c.descendants("w2")
        assert any("twopass.pool" in _cmdline(pid) for pid in below), below  # LLVM runs in a child
        c.kill("w2")
        t.join()
        proc = result["proc"]
        assert proc.returncode == 0, proc.stderr.decode()
        assert outputs(tmp_path / "out") == lua_local
        import json
        where = json.loads((tmp_path / "r.json").read_text())["placement"]["workers"]
        assert set(where["round 2"].values()) == {"w1"}
        assert not [pid for pid in below if _cmdline(pid)], "a dead worker's children outlived it"


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""  # gone


def test_tls_with_dasks_certificate_options(tmp_path):
    certs = self_signed(tmp_path / "certs")
    local = tmp_path / "local"
    run_twopass("build", DATA / "x86_64", "-o", local, "--no-cache", check=True)
    with Cluster(tmp_path / "cluster", workers=1, tls=certs) as c:
        assert c.address.startswith("tls://127.0.0.1:")
        tls = ("--tls-ca-file", certs["ca"], "--tls-cert", certs["cert"], "--tls-key", certs["key"])
        out = tmp_path / "out"
        run_twopass("build", DATA / "x86_64", "-o", out, "--scheduler", c.address, *tls, "--no-cache", check=True)
        assert outputs(out) == outputs(local)
        proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "plain", "--scheduler", c.address,
                           "--no-cache", "--scheduler-timeout", "3")
        assert_clean_error(proc, c.address, "needs --tls-ca-file, --tls-cert and --tls-key")
        proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "nokey", "--scheduler", c.address,
                           "--tls-ca-file", certs["ca"], "--tls-cert", certs["cert"], "--tls-key",
                           tmp_path / "missing.key", "--no-cache")
        assert_clean_error(proc, str(tmp_path / "missing.key"), "no such certificate or key file")
    assert not (tmp_path / "plain").exists() and not (tmp_path / "nokey").exists()


@pytest.mark.parametrize("where,needle", [(("--scheduler", "tcp://127.0.0.1:1"), "cannot reach the Dask scheduler"),
                                          (("--scheduler-file", "missing.json"), "no such scheduler file"),
                                          (("--scheduler-file", "garbage.json"), "not a Dask scheduler file")])
def test_no_scheduler_is_one_error_soon(tmp_path, where, needle):
    """Also when the cache holds every result, so the build never waited for the cluster: no outputs."""
    (tmp_path / "garbage.json").write_text("{\"type\": \"Scheduler\"")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    run_twopass("build", DATA / "x86_64", "-o", tmp_path / "warm", env=env, check=True)
    start = time.monotonic()
    proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "out", *where, "--scheduler-timeout", "2",
                       cwd=tmp_path, env=env)
    assert_clean_error(proc, where[1], needle)
    assert time.monotonic() - start < 30
    assert not (tmp_path / "out").exists()


def test_a_scheduler_that_never_answers_is_one_error_soon(tmp_path):
    import socket

    with socket.socket() as silent:  # the kernel accepts the connection; nothing ever answers on it
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        address = "tcp://127.0.0.1:%d" % silent.getsockname()[1]
        start = time.monotonic()
        proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "out", "--scheduler", address,
                           "--scheduler-timeout", "2", "--no-cache")
        assert_clean_error(proc, address, "cannot reach the Dask scheduler within 2 s")
        assert time.monotonic() - start < 30
    assert not (tmp_path / "out").exists()


def test_the_client_imports_dask_without_numpy_and_leaves_numpy_importable():
    """numpy's import was a third of the client's CPU for importing Dask; the cluster tests above run on a
    client without it. A library user's later `import numpy` must still work."""
    import subprocess

    child = ("import importlib.util, sys\n"
             "from twopass import daskconnect\n"
             "daskconnect.import_client()\n"
             "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
             "from distributed.protocol.utils import host_array\n"
             "assert len(host_array(8)) == 8\n"
             "if importlib.util.find_spec('numpy') is not None:\n"
             "    import numpy\n"
             "    assert numpy.zeros(3).sum() == 0\n"
             "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr


def test_both_scheduler_options_is_an_error(tmp_path):
    proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:1",
                       "--scheduler-file", "s.json")
    assert_clean_error(proc, "--scheduler", "not both")


def test_a_worker_with_another_twopass_is_named(tmp_path):
    other = tmp_path / "other"
    shutil.copytree(ROOT / "twopass", other / "twopass", ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "twopass" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.9-'))
    with Cluster(tmp_path / "cluster", workers=2, worker_env={"w2": {"PYTHONPATH": str(other)}}) as c:
        proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "out", "--scheduler-file", c.scheduler_file,
                           "--no-cache")
        line = assert_clean_error(proc, "Dask worker", "twopass 9.9.9-")
        assert "this client runs twopass" in line, line
    assert not (tmp_path / "out").exists()


def test_verify_determinism_builds_on_the_cluster_too(tmp_path, cluster):
    proc = run_twopass("verify-determinism", DATA / "x86_64", "--scheduler-file", cluster.scheduler_file,
                       check=True)
    out = proc.stdout.decode()
    assert "identical across 6 builds" in out and "cluster" in out, out
    assert "intermediates across the 4 without a cache" in out, out  # the cluster's IR too


def test_clang_links_cxx_through_the_cluster(tmp_path, cluster):
    """`clang -fuse-ld=twopass -Wl,--twopass-scheduler-file=...`: the link's rounds on the cluster, the same
    executable as a local link."""
    from ldkit import make_toolchain
    from test_ld import CXX_OUTPUT, build_cxx

    tc = make_toolchain(tmp_path / "tc")
    d = tmp_path / "cxx"
    build_cxx(tc, d)
    link = ("-O2", "-flto=thin", "-fuse-ld=twopass", "main.o", "-L.", "-lb", "-la")
    tc.cc(*link, "-o", "local", cxx=True, cwd=d)
    proc = tc.cc(*link, "-o", "cluster", f"-Wl,--twopass-scheduler-file={cluster.scheduler_file}",
                 "-Wl,--twopass-verbose", cxx=True, cwd=d)
    assert "cluster: " in proc.stderr, proc.stderr
    assert tc.run(d / "cluster").stdout == CXX_OUTPUT
    assert (d / "cluster").read_bytes() == (d / "local").read_bytes()


def _children(cluster) -> dict[str, tuple[list[int], list[int]]]:
    """Per worker: the pids of the children its rounds' pools hold, and of its spares."""
    def look():
        from twopass import daskworker, pool
        kept = sorted(w.proc.popen.pid for p, _, _ in daskworker._POOLS.values() for w in p.workers)
        return kept, sorted(popen.pid for spares in pool._SPARES.values() for popen, _ in spares
                            if popen.poll() is None)
    info = cluster.client().scheduler_info(n_workers=-1)["workers"]
    return {info[a]["name"]: v for a, v in cluster.client().run(look).items()}


def test_workers_keep_round_children_for_the_next_build_and_start_spares_when_quiet(tmp_path):
    """A long-lived cluster builds the same program again and again: the second build of the same options
    starts no process, and a round with new options (other merged data) takes the child started while the
    worker was quiet."""
    with Cluster(tmp_path / "cluster", workers=2) as c:
        def build(out, *inputs):
            run_twopass("build", *(inputs or [DATA / "x86_64"]), "-o", tmp_path / out, "--scheduler-file",
                        c.scheduler_file, "--no-cache", check=True)
            time.sleep(2)  # quiet: the workers start their spares
            return _children(c)

        first = build("a")
        assert all(len(spares) == 1 and kept for kept, spares in first.values()), first
        second = build("b")
        assert outputs(tmp_path / "a") == outputs(tmp_path / "b")
        assert second == first  # every round's child was kept, no spare was taken
        third = build("c", *sorted((DATA / "x86_64").glob("*.o"))[1:])  # other modules: other merged data
        for name, (kept, spares) in third.items():
            was_kept, was_spare = first[name]
            if set(kept) != set(was_kept):  # round two's new child is the spare, and a new spare waits
                assert set(was_spare) <= set(kept) and spares and not set(spares) & set(was_spare), third
        assert any(set(kept) != set(first[n][0]) for n, (kept, _) in third.items())
        local = tmp_path / "local"
        run_twopass("build", *sorted((DATA / "x86_64").glob("*.o"))[1:], "-o", local, "--no-cache", check=True)
        assert outputs(local) == outputs(tmp_path / "c")


def _summary_jobs():
    return [(p.name, (p.name, p.read_bytes())) for p in sorted((DATA / "x86_64").glob("*.o"))]


def _summaries(outcomes) -> dict[str, bytes]:
    got = {o.key: o for o in outcomes}
    assert not [o.error for o in got.values() if o.error]
    return {k: o.value[0] for k, o in got.items()}


def test_summaries_go_as_a_few_batches_with_each_outcome_its_own(cluster):
    """A summary takes less than Dask's cost per task: once connected, the round goes as two tasks per worker
    thread, each member's outcome its own (and an error names its module)."""
    from twopass import workers
    from twopass.daskconnect import Cluster as Where
    from twopass.distributed import DaskExecutor
    from twopass.executor import LocalExecutor, Round

    summary = Round("summary", workers.summarize, small=True)
    expected = _summaries(LocalExecutor(2).run(summary, _summary_jobs()))
    client = cluster.client()
    client.get_task_stream()  # the scheduler records tasks from now on
    start = time.time()
    with DaskExecutor(Where(None, str(cluster.scheduler_file)), 2) as ex:
        ex.client  # connected: nothing runs here
        outcomes = list(ex.run(summary, _summary_jobs()))
        assert {o.where for o in outcomes} <= {"w1", "w2"} and len(outcomes) == len(expected)
        assert _summaries(outcomes) == expected
        bad = [("bad.o", ("bad.o", b"BC\xc0\xde" + bytes(64)))] + _summary_jobs()[1:]
        errors = {o.key: o.error for o in ex.run(summary, bad, stop_on_failure=False) if o.error}
        assert list(errors) == ["bad.o"], errors
    keys = [str(t["key"]) for t in client.get_task_stream(start=start)]
    assert 0 < len([k for k in keys if "-summary-" in k]) <= 2 * 4 < 2 * len(expected)  # two rounds of <= 4


def test_the_rest_of_the_summaries_stays_here_only_when_that_ends_them_sooner():
    from twopass.distributed import ROUND_TRIP, _sooner_here
    assert _sooner_here(0.04, 15, 2, 2)  # Lua's last 15 with two workers: the round trip is all they would save
    assert not _sooner_here(0.01, 2000, 2, 64)  # a big program's: the cluster, by far
    assert not _sooner_here(0.04, 30, 2, 64)
    assert _sooner_here(0.04, 30, 2, 4) == (30 * 0.04 / 2 <= 30 * 0.04 / 4 + ROUND_TRIP)


def test_summaries_run_here_while_the_scheduler_does_not_answer(tmp_path):
    """The client summarizes in its own pool while it connects; a scheduler that never answers is still one
    error, after the timeout, and nothing went to the cluster."""
    import socket

    from twopass import workers
    from twopass.daskconnect import Cluster as Where
    from twopass.distributed import DaskExecutor
    from twopass.errors import TwopassError
    from twopass.executor import LocalExecutor, Round

    summary = Round("summary", workers.summarize, small=True)
    expected = _summaries(LocalExecutor(2).run(summary, _summary_jobs()))
    with socket.socket() as silent:  # accepts connections (the kernel does) but never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        address = "tcp://127.0.0.1:%d" % silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(TwopassError, match="cannot reach the Dask scheduler within 3 s"):
            with DaskExecutor(Where(address, None, 3.0), 2) as ex:
                outcomes = list(ex.run(summary, _summary_jobs()))
                assert {o.where for o in outcomes} == {""} and _summaries(outcomes) == expected
                assert time.monotonic() - start < 3
        assert time.monotonic() - start < 30


def test_a_worker_takes_another_holders_job_only_when_that_ends_the_round_sooner():
    from twopass.distributed import _choose, _Slots
    from twopass.executor import Held

    slots = _Slots(None)
    slots.threads, slots.names, slots.looked = {"a1": 1, "a2": 1}, {"w1": "a1", "w2": "a2"}, float("inf")
    holder = {f"k{i}": "w1" for i in range(5)}
    queue = [(f"m{i}", None, {"ir": Held(f"k{i}", "ir", size)}) for i, size in enumerate((50, 40, 30, 20, 10))]
    assert _choose(queue, "a1", holder, slots) == 0  # its own, largest first
    slots.take("a1", "f0", 90)  # w1 runs two of its own: 90 in flight, 150 queued
    assert _choose(queue, "a2", holder, slots) == 0  # w2 has none: the largest that keeps w1 ahead moves
    slots.take("a2", "f1", 230)  # w1 would keep 230 of its 240, w2 would have 240
    assert _choose(queue, "a2", holder, slots) is None  # w2 already has more than w1 would keep
    slots.give("a2", "f1")
    holder["k4"] = "w2"
    assert _choose(queue, "a2", holder, slots) == 4
    assert _choose(queue, "a1", holder, slots) == 0
    holder["k4"] = "w1"
    assert _choose(queue, "a2", holder, slots, may_move=False) is None  # none may move any more
