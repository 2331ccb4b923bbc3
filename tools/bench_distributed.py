"""Both rounds on a Dask cluster against the local pool, and what more machines would give.

Lua 5.4 x86-64 (-O2, importing) built with the local pool (`-j 2`) and on a real Dask cluster of two workers on
127.0.0.1 (`dask worker --nthreads 1` each, started by tools/dask_cluster.py), interleaved --repeat times after
one warm-up each, cold (`--no-cache`), each build after 2 s of quiet (when cluster workers start the children
their next rounds take; the same build again finds every round's child kept from the last). Reports:
    wall overhead   the median over the interleaved pairs of cluster wall / local wall - 1 (goal <= 10%): the
                    machine's load drifts by more than the overhead between pairs, and a pair shares it;
                    also against a local build made beside each pair with every process of the cluster
                    stopped (SIGSTOP), the three in one order and the next repeat's in the other (with Dask's
                    defaults an idle cluster's scheduler, workers and nannies slow the paired local builds by
                    about 6%); and the CPU seconds of every process; once for each of SETTINGS, a cluster of
                    its own: Dask's defaults and the README's configuration for a build cluster
    bytes moved     client <-> cluster (the report's cluster_bytes) and worker <-> worker (Dask's counters),
                    per module
    placement       round-two tasks that ran on their round-one worker
    projection      from the cluster build's own task times: the critical path (every round's longest task
                    plus the client's serial phases) and the wall time on 4, 16 and 64 one-core machines
                    (each round's tasks placed largest first, as twopass submits them, plus a per-task cost
                    fitted so that the model gives the measured wall on two); the same for 2,000 modules
                    whose task times are drawn from Lua's, with the thin link and merge of synthetic
                    2,000-module programs timed here (tools/bench_thinlink.py, tools/bench_merge.py).

    python tools/bench_distributed.py [--repeat 5] [--json out.json] [--page docs/benchmarks-distributed.md]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import corpus  # noqa: E402
from tools.dask_cluster import Cluster, readme_config  # noqa: E402

MACHINES = (2, 4, 16, 64)
SERIAL = ("plan", "thin link", "merge", "size guard", "write")


QUIET = 2.0  # seconds of nothing before each build: what a cluster's workers see between a team's builds


def build(bitcode, out: Path, *extra, cluster: Cluster | None = None, cpu: dict | None = None
          ) -> tuple[float, dict]:
    """The build's wall; with `cpu`, the CPU seconds of the build's own processes and of `cluster`'s added to
    its lists."""
    report = out.with_suffix(".json")
    time.sleep(QUIET)  # and what the workers do when quiet (start spare children) is not timed in a local build
    own, theirs = _children_cpu(), cluster.cpu_seconds() if cluster else {}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out), "--no-cache",
                    "-q", "--report", str(report), *extra], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.setdefault("build", []).append(_children_cpu() - own)
        for kind, seconds in (cluster.cpu_seconds() if cluster else {}).items():
            cpu.setdefault(kind, []).append(seconds - theirs.get(kind, 0.0))
    return wall, json.loads(report.read_text())


def _children_cpu() -> float:
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def makespan(tasks: list[float], machines: int, per_task: float) -> float:
    """Largest first onto the machine free soonest."""
    free = [0.0] * machines
    for t in sorted(tasks, reverse=True):
        heapq.heapreplace(free, free[0] + t + per_task)
    return max(free)


def rounds(report: dict) -> dict[str, list[float]]:
    mods = report["modules"]
    total = sum(m["input_bytes"] for m in mods) or 1
    summary = report["llvm_seconds"].get("summary", 0.0)
    return {"summary": [summary * m["input_bytes"] / total for m in mods],
            "round 1": [sum(m["round1"]["seconds"].values()) for m in mods],
            "round 2": [sum(m["round2"]["seconds"].values()) for m in mods if "round2" in m]}


def model(tasks: dict[str, list[float]], serial: float, machines: int, per_task: float) -> float:
    return serial + sum(makespan(t, machines, per_task) for t in tasks.values() if t)


def fit_per_task(tasks, serial: float, measured: float) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if model(tasks, serial, 2, mid) < measured else (lo, mid)
    return lo


def synthetic_serial(modules: int) -> dict[str, float]:
    """The thin link and the merge of a synthetic program of `modules` modules, timed here."""
    import msgpack

    from tools.bench_merge import run_one
    from tools.bench_thinlink import synthetic
    from twopass import thinlink

    sums, digests = synthetic(modules)
    start = time.perf_counter()
    thinlink.thin_link(thinlink.load_summaries({m: msgpack.packb(s) for m, s in sums.items()}), digests,
                       thinlink.LinkOptions())
    link = time.perf_counter() - start
    return {"thin link": link, "merge": run_one(modules)["seconds"]}


# The clusters' Dask configuration measured, by name (None: Dask's own defaults)
RECOMMENDED = "the README's configuration"
SETTINGS = {"Dask's default settings": None, RECOMMENDED: readme_config}


def pairs(bitcode, repeat: int, config) -> dict:
    """Local and cluster builds interleaved, with a cluster whose processes read `config()` (a YAML text) from
    their DASK_CONFIG directory."""
    walls: dict[str, list[float]] = {"alone": [], "local": [], "cluster": []}
    reports = []
    cpu: dict[str, dict[str, list[float]]] = {"local": {}, "cluster": {}}
    with tempfile.TemporaryDirectory(prefix="twopass-bench-dist-") as tmp:
        with Cluster(Path(tmp) / "cluster", workers=2, config=config() if config else None) as cluster:
            _pairs(bitcode, repeat, Path(tmp), cluster, walls, reports, cpu)
    return {"walls": walls, "cpu": cpu, "median": sorted(reports, key=lambda r: r[0])[len(reports) // 2]}


def _pairs(bitcode, repeat: int, tmp: Path, cluster: Cluster, walls: dict, reports: list, cpu: dict) -> None:
    dist = ("--scheduler-file", str(cluster.scheduler_file))
    build(bitcode, tmp / "warm-local", "-j", "2")
    build(bitcode, tmp / "warm-cluster", *dist)

    def alone(i: int) -> None:
        with cluster.frozen():
            walls["alone"].append(build(bitcode, tmp / f"alone{i}", "-j", "2")[0])

    def local(i: int) -> None:
        walls["local"].append(build(bitcode, tmp / f"local{i}", "-j", "2", cluster=cluster, cpu=cpu["local"])[0])

    def clustered(i: int) -> None:
        peer = sum(cluster.client().run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values())
        wall, report = build(bitcode, tmp / f"cluster{i}", *dist, cluster=cluster, cpu=cpu["cluster"])
        peer = sum(cluster.client().run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values()) \
            - peer
        walls["cluster"].append(wall)
        reports.append((wall, report, peer))

    for i in range(repeat):  # every other repeat the other way round: the first of three ran faster, in one run
        for run in (alone, local, clustered) if i % 2 == 0 else (clustered, local, alone):
            run(i)


def summary(run: dict) -> dict:
    alone, local, clustered = run["walls"]["alone"], run["walls"]["local"], run["walls"]["cluster"]
    return {"alone_wall": alone, "local_wall": local, "cluster_wall": clustered,
            "overhead": statistics.median(c / a - 1 for a, c in zip(local, clustered)),
            "overhead_of_medians": statistics.median(clustered) / statistics.median(local) - 1,
            "overhead_against_alone": statistics.median(c / a - 1 for a, c in zip(alone, clustered)),
            "cpu_seconds": {build_: {kind: statistics.median(v) for kind, v in kinds.items()}
                            for build_, kinds in run["cpu"].items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--modules", type=int, default=2000, help="the synthetic program's modules")
    ap.add_argument("--json")
    ap.add_argument("--page", help="write the results as a Markdown page")
    args = ap.parse_args()
    bitcode = corpus.build_bitcode("x86_64")
    runs = {name: pairs(bitcode, args.repeat, config) for name, config in SETTINGS.items()}
    wall, report, peer = runs[RECOMMENDED]["median"]
    n = len(report["modules"])
    moved = dict(report["cluster_bytes"], worker_to_worker=peer)
    tasks = rounds(report)
    serial = sum(report["phases_seconds"].get(p, 0.0) for p in SERIAL)
    per_task = fit_per_task(tasks, serial, wall)
    lua = {"critical_path": serial + sum(max(t) for t in tasks.values() if t),
           **{str(m): model(tasks, serial, m, per_task) for m in MACHINES}}
    rng = random.Random(0)
    big = {name: [rng.choice(t) for _ in range(args.modules)] for name, t in tasks.items() if t}
    timed = synthetic_serial(args.modules)
    big_serial = sum(v * args.modules / n for p, v in report["phases_seconds"].items()
                     if p in SERIAL and p not in timed) + sum(timed.values())
    synth = {"critical_path": big_serial + sum(max(t) for t in big.values()),
             **{str(m): model(big, big_serial, m, per_task) for m in MACHINES}}
    placement = report["placement"]
    result = {"modules": n, "repeat": args.repeat,
              "settings": {name: summary(run) for name, run in runs.items()}, "bytes": moved,
              "bytes_per_module": {k: v / n for k, v in moved.items()},
              "round2_on_round1_worker": f"{placement['round2_on_round1_worker']}/{placement['round2_tasks']}",
              "per_task_seconds": per_task, "serial_seconds": serial, "projection_lua": lua,
              "projection_synthetic": {"modules": args.modules, "serial_seconds": big_serial, **synth}}
    lines = []

    def say(line: str) -> None:
        print(line)
        lines.append(line)

    for name, r in result["settings"].items():
        say(f"Lua x86-64, {n} modules, workers with {name}: local -j 2 {statistics.median(r['local_wall']):.2f}s, "
            f"2 Dask workers {statistics.median(r['cluster_wall']):.2f}s (overhead {100 * r['overhead']:+.1f}%, "
            f"median of {args.repeat} interleaved pairs; {100 * r['overhead_of_medians']:+.1f}% between the "
            f"medians; {100 * r['overhead_against_alone']:+.1f}% against local -j 2 with the cluster stopped, "
            f"{statistics.median(r['alone_wall']):.2f}s)")
        for build_, kinds in r["cpu_seconds"].items():
            say(f"  CPU seconds per {build_} build (medians): " + ", ".join(f"{k} {v:.2f}" for k, v in kinds.items())
                + f", in all {sum(kinds.values()):.2f}")
    say("bytes per module: " + ", ".join(f"{k} {v / 1024:.1f} KiB" for k, v in result["bytes_per_module"].items()))
    say(f"round two on its round-one worker: {result['round2_on_round1_worker']}; fitted cost per task "
          f"{1000 * per_task:.0f} ms, client serial phases {serial:.2f}s")
    for name, proj in (("Lua", lua), (f"{args.modules} modules", synth)):
        say(f"{name}: critical path {proj['critical_path']:.2f}s; " +
              ", ".join(f"{m} machines {proj[str(m)]:.2f}s" for m in MACHINES))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.page:
        Path(args.page).write_text(page(result, lines, args))
    return 0


def _all(setting: dict, kind: str) -> float:
    return sum(setting["cpu_seconds"][kind].values())


def page(result: dict, lines: list[str], args) -> str:
    rows = ["| | critical path | " + " | ".join(f"{m} machines" for m in MACHINES) + " |",
            "|---|---:|" + "---:|" * len(MACHINES)]
    for name, key in (("Lua (measured on 2)", "projection_lua"),
                      (f"{result['projection_synthetic']['modules']} modules", "projection_synthetic")):
        proj = result[key]
        rows.append(f"| {name} | {proj['critical_path']:.2f} s | "
                    + " | ".join(f"{proj[str(m)]:.2f} s" for m in MACHINES) + " |")
    moved = result["bytes_per_module"]
    kinds = list(next(iter(result["settings"].values()))["cpu_seconds"]["cluster"])
    return "\n".join([
        "# twopass on a Dask cluster", "",
        "Made by `python tools/bench_distributed.py" + (f" --repeat {args.repeat}" if args.repeat != 5 else "")
        + f" --page {args.page}` (see its docstring for the method). Two `dask worker --nthreads 1` on 127.0.0.1 "
        "against the local pool with `-j 2`, on the same two cores, Lua 5.4 x86-64 -O2 cold (`--no-cache`), "
        "interleaved.", "",
        "Each configuration is its own cluster, paired with local builds made while it is idle on the "
        "machine: Dask's defaults, and the README's configuration for a build cluster (its YAML block, read "
        "through `DASK_CONFIG` by the scheduler, workers and nannies: the workers' profiler off, and Dask's "
        "periodic health, memory and system checks made seconds apart instead of many times a second).", "",
        "| | " + " | ".join(names := list(result["settings"])) + " |", "|---|" + "---:|" * len(names),
        "| local pool, -j 2 (median) | " + " | ".join(f"{statistics.median(r['local_wall']):.2f} s"
                                                    for r in result["settings"].values()) + " |",
        "| 2 Dask workers (median) | " + " | ".join(f"{statistics.median(r['cluster_wall']):.2f} s"
                                                  for r in result["settings"].values()) + " |",
        "| overhead, median of the interleaved pairs (goal <= 10%) | "
        + " | ".join(f"{100 * r['overhead']:+.1f}%" for r in result["settings"].values()) + " |",
        "| overhead between the medians | "
        + " | ".join(f"{100 * r['overhead_of_medians']:+.1f}%" for r in result["settings"].values()) + " |",
        "| local pool, -j 2, the cluster stopped (median) | "
        + " | ".join(f"{statistics.median(r['alone_wall']):.2f} s" for r in result["settings"].values()) + " |",
        "| overhead against the local build with the cluster stopped, median of the repeats | "
        + " | ".join(f"{100 * r['overhead_against_alone']:+.1f}%" for r in result["settings"].values()) + " |",
        "| CPU seconds of every process, cluster build over local build (medians, below) | "
        + " | ".join(f"{100 * (_all(r, 'cluster') / _all(r, 'local') - 1):+.1f}%"
                     for r in result["settings"].values()) + " |", "",
        "Each repeat is three builds in a row, every other repeat in the other order: local with every process "
        "of the cluster stopped (SIGSTOP: the machine as if it had no cluster), local with the cluster idle "
        "beside it, and on the cluster. The pairs share the machine with the idle cluster, whose own processes "
        "(scheduler, workers, nannies) slow the local build too; the row with the cluster stopped counts that "
        "against the cluster.", "",
        "CPU seconds per build (medians; `build` is the `twopass build` process and its children: the local "
        "pool's workers, and for a cluster build its client and the summaries made here while it connects):", "",
        "| Dask configuration | kind of build | " + " | ".join(kinds) + " | in all |",
        "|---|---|" + "---:|" * (len(kinds) + 1),
        *[f"| {name} | {build_} | " + " | ".join(f"{cpu.get(k, 0.0):.2f}" for k in kinds)
          + f" | {sum(cpu.values()):.2f} |"
          for name, r in result["settings"].items() for build_, cpu in r["cpu_seconds"].items()], "",
        "With the README's configuration from here on. "
        f"Bytes per module: {moved['to_cluster'] / 1024:.1f} KiB to the cluster, {moved['from_cluster'] / 1024:.1f} "
        f"KiB back, {moved['worker_to_worker'] / 1024:.1f} KiB between workers. Round two on its round-one worker: "
        f"{result['round2_on_round1_worker']}.", "",
        "Projected wall time (one-core machines; each round's tasks largest first; a cost per task of "
        f"{1000 * result['per_task_seconds']:.0f} ms fitted to the measured two-machine wall):", "", *rows, "",
        "```", *lines, "```", ""])


if __name__ == "__main__":
    sys.exit(main())
