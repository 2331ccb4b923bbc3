"""The benchmark's own measuring: what it reports for a process tree must be what the tree did."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from tools import bench  # noqa: E402

CHILDREN = """
import subprocess, sys, time
code = "x = bytearray(60 * 2**20); x[::4096] = b'1' * len(x[::4096]); import time; time.sleep(0.6)"
procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
t = time.process_time()
while time.process_time() - t < 0.3:
    pass
for p in procs:
    p.wait()
"""


def test_tree_memory_and_cpu_add_up_over_children():
    m = bench.measure([sys.executable, "-c", CHILDREN])
    assert m["rss"] >= 2 * 60 * 2**20  # two children touching 60 MB each, at the same time
    assert m["cpu"] >= 0.25 and m["wall"] >= 0.6


FORKS = """
import os, time
x = bytearray(100 * 2**20); x[::4096] = b'1' * len(x[::4096])
end = time.monotonic() + 1.5
while time.monotonic() < end:  # children that share those 100 MB, each living less than a sample's interval
    pid = os.fork()
    if pid == 0:
        time.sleep(0.015)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_processes_starting_and_ending_mid_sample_do_not_inflate_the_peak():
    """A child sharing its parent's pages, read before or after it ended, counted them twice: this tree read
    165-205 MB for its 109 (the same error put AArch64 builds with GNU as at 192-225 MB among steady 157s)."""
    m = bench.measure([sys.executable, "-c", FORKS])
    assert 100 * 2**20 <= m["rss"] <= 125 * 2**20, m["rss"] / 2**20


def test_commands_are_shown_without_machine_paths():
    cache = str(bench.corpus.default_cache_dir())
    cmd = f"{sys.executable} -m twopass build {cache}/bitcode/x86_64-abc/a.o {cache}/bitcode/x86_64-abc/b.o -o /w/o"
    assert bench.sanitize(cmd, "/w") == "python -m twopass build $CORPUS/bitcode/x86_64-abc/*.o -o $WORK/o"


def test_projection_places_largest_first_on_the_machine_free_soonest():
    from tools import bench_distributed as bd
    assert bd.makespan([2, 3, 2, 3, 2], 2, 0.0) == 7  # 3,2,2 | 3,2: largest first, not the optimum (6)
    assert bd.makespan([5, 1, 1, 1, 1, 1], 2, 0.0) == 5
    assert bd.makespan([1.0] * 8, 4, 0.5) == 3.0  # two tasks each, with the cost per task
    tasks = {"round 1": [4.0, 1.0, 1.0], "round 2": [2.0, 2.0]}
    assert bd.model(tasks, 1.0, 64, 0.0) == 1.0 + 4.0 + 2.0  # the critical path, given machines enough
    per_task = bd.fit_per_task(tasks, 1.0, bd.model(tasks, 1.0, 2, 0.25))
    assert abs(per_task - 0.25) < 1e-6


def test_the_floor_row_counts_llvms_optimizer_and_code_generators_from_a_real_report(tmp_path):
    """bench_speed's floor: the workers' opt and codegen seconds of both rounds, from a build's own report."""
    import json

    import pytest
    from conftest import DATA, run_twopass
    from tools import bench_speed

    proc = run_twopass("build", DATA / "x86_64", "-o", tmp_path / "out", "-q", "--no-cache", "--report",
                       tmp_path / "r.json")
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads((tmp_path / "r.json").read_text())
    by_round = [sum(s for p, s in m[r]["seconds"].items() if p in ("opt", "codegen"))
                for m in report["modules"] for r in ("round1", "round2")]
    assert bench_speed.llvm_work(report) == pytest.approx(sum(by_round)) and sum(by_round) > 0
    assert bench_speed.llvm_work(report) < sum(report["llvm_seconds"].values())  # parsing, layout, io are ours


def test_the_readmes_dask_configuration_sets_dasks_own_keys(tmp_path):
    """Dask ignores a key it does not know without a word: each of the README's must be one of Dask's (a
    process without the file has it: no KeyError), not its default already, and a process reading the file
    through DASK_CONFIG, as the scheduler and workers do, must see its value."""
    import os
    import subprocess

    import yaml
    from tools.dask_cluster import readme_config

    config = yaml.safe_load(readme_config())

    def leaves(tree, prefix=()):
        for key, value in tree.items():
            yield from leaves(value, (*prefix, key)) if isinstance(value, dict) else [((*prefix, key), value)]

    wanted = dict(leaves(config))
    assert len(wanted) >= 4
    (tmp_path / "twopass.yaml").write_text(readme_config())
    probe = ("import sys, dask, distributed\n"
             "for key in sys.argv[1:]:\n"
             "    print(key, dask.config.get(key), sep='\\t')\n")
    keys = [".".join(k) for k in wanted]
    seen = subprocess.run([sys.executable, "-c", probe, *keys], capture_output=True, text=True, check=True,
                          env={**os.environ, "DASK_CONFIG": str(tmp_path)}).stdout.splitlines()
    default = subprocess.run([sys.executable, "-c", probe, *keys], capture_output=True, text=True, check=True,
                             env={k: v for k, v in os.environ.items() if k != "DASK_CONFIG"}).stdout.splitlines()
    for (key, value), line, before in zip(wanted.items(), seen, default):
        assert line.split("\t")[1] == str(value), (key, line)
        assert before.split("\t")[1] != str(value), f"{'.'.join(key)} is Dask's default already"
