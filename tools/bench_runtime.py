"""How fast is the Lua that twopass builds? Runtime of a fixed workload, against lld 22's in-process ThinLTO.

Builds Lua 5.4 (x86-64 -O2, natively run) four ways, all linked with `ld.lld --icf=all`:
    lld-1       lld's ThinLTO (importing across modules), outliner and function merging, one codegen round
    lld-2       the same with -mllvm -codegen-data-thinlto-two-rounds
    import      twopass build --import (thin link: import, promotion, internalization), two rounds
    no-import   twopass build --no-import (each module alone), two rounds
checks each with Lua's test suite, then runs tools/workload.lua on each, interleaved (A B C D A B C D ...)
--repeat times, and reports CPU-time medians and min (wall too), `.text` bytes and the ratios
import/lld-2 (target <= 1.03) and import/no-import.

    python tools/bench_runtime.py [--repeat 7] [--iterations 4] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import corpus  # noqa: E402

LLD_OPTS = ["-mllvm", "-enable-machine-outliner", "-mllvm", "-enable-global-merge-func"]
WORKLOAD = ROOT / "tools" / "workload.lua"


def build(work: Path, jobs: int) -> dict[str, Path]:
    bitcode = corpus.build_bitcode("x86_64")
    exes = {}
    for name, two in (("lld-1", False), ("lld-2", True)):
        exes[name] = work / name
        corpus.link(bitcode, exes[name], "x86_64", icf=True, extra=LLD_OPTS, thinlto_two_rounds=two, jobs=jobs)
    for name, flag in (("import", "--import"), ("no-import", "--no-import")):
        out = work / f"{name}-objs"
        subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out), flag,
                        "-j", str(jobs), "--no-cache", "-q", *corpus.relocation_flags("x86_64")], check=True, cwd=ROOT)
        exes[name] = work / name
        corpus.link(sorted(out.rglob("*.o")), exes[name], "x86_64", icf=True)
    return exes


def run_once(exe: Path, iterations: int) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system) of one run: on a shared machine CPU time moves less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([str(exe), str(WORKLOAD), str(iterations)], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, out.stdout.strip()


def instructions(exe: Path, iterations: int) -> int | None:
    """Instructions one run executes, counted by valgrind (callgrind): unlike time on a shared machine, this does
    not move between runs. None when valgrind is not installed."""
    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="twopass-callgrind-") as tmp:
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", str(exe),
                               str(WORKLOAD), str(iterations)], capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", proc.stderr)[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=4, help="workload iterations per run (~0.6 s each)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="also write the raw figures here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="twopass-runtime-") as tmp:
        exes = build(Path(tmp), args.jobs)
        suite = {name: corpus.run_lua_tests(exe, "x86_64")[0] for name, exe in exes.items()}
        sizes = {name: corpus.text_size(exe) for name, exe in exes.items()}
        counted = {name: instructions(exe, 1) for name, exe in exes.items()}
        times: dict[str, list[float]] = {name: [] for name in exes}
        cpu: dict[str, list[float]] = {name: [] for name in exes}
        outputs = set()
        for _ in range(args.repeat):
            for name, exe in exes.items():
                seconds, cpu_seconds, printed = run_once(exe, args.iterations)
                times[name].append(seconds)
                cpu[name].append(cpu_seconds)
                outputs.add(printed)
    med = {name: statistics.median(ts) for name, ts in cpu.items()}
    result = {"repeat": args.repeat, "iterations": args.iterations, "cpus": os.cpu_count(),
              "seconds": times, "cpu_seconds": cpu, "median_cpu": med,
              "min_cpu": {n: min(ts) for n, ts in cpu.items()},
              "median_wall": {n: statistics.median(ts) for n, ts in times.items()},
              "instructions": counted, "text_bytes": sizes, "lua_suite_passed": suite, "same_output": len(outputs) == 1,
              "ratios": {"import/lld-2": med["import"] / med["lld-2"], "import/lld-1": med["import"] / med["lld-1"],
                         "import/no-import": med["import"] / med["no-import"]}}
    print(f"Lua 5.4 x86-64 -O2, tools/workload.lua x{args.iterations}, {args.repeat} interleaved runs (CPU seconds)")
    for name in exes:
        print(f"  {name:10} median {med[name]:.3f}s  min {min(cpu[name]):.3f}s  "
              f"(wall median {result['median_wall'][name]:.3f}s)  .text {sizes[name]:,}  "
              f"suite {'pass' if suite[name] else 'FAIL'}")
    if all(counted.values()):
        result["ratios"].update({f"instructions {a}/{b}": counted[a] / counted[b]
                                 for a, b in (("import", "lld-2"), ("import", "no-import"))})
        print("  instructions of one workload iteration (valgrind): " +
              ", ".join(f"{n} {c:,}" for n, c in counted.items()))
        print("  instructions import/lld-2 {:.4f}   import/no-import {:.4f}".format(
            result["ratios"]["instructions import/lld-2"], result["ratios"]["instructions import/no-import"]))
    r = result["ratios"]
    print(f"  import/lld-2 {r['import/lld-2']:.3f} (target <= 1.03)   import/lld-1 {r['import/lld-1']:.3f}   "
          f"import/no-import {r['import/no-import']:.3f}   same output: {result['same_output']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0 if all(suite.values()) and result["same_output"] else 1


if __name__ == "__main__":
    sys.exit(main())
