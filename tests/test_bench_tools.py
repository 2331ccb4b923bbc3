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


def test_commands_are_shown_without_machine_paths():
    cache = str(bench.corpus.default_cache_dir())
    cmd = f"{sys.executable} -m twopass build {cache}/bitcode/x86_64-abc/a.o {cache}/bitcode/x86_64-abc/b.o -o /w/o"
    assert bench.sanitize(cmd, "/w") == "python -m twopass build $CORPUS/bitcode/x86_64-abc/*.o -o $WORK/o"
