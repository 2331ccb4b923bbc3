"""Build speed and memory against LLD 22's own two rounds on Lua 5.4, side by side and interleaved in one run.

Per target (x86-64 -O2, AArch64 -Oz) and repeat, in this order:

    lld cold       ld.lld, ThinLTO two rounds (outliner, function merger, --icf=all), no cache
    twopass cold   `twopass build` on an empty cache, then ld.lld --icf=all of its objects
    lld warm       ld.lld again with --thinlto-cache-dir, the cache warmed by the same link
    twopass warm   the cold build's command again (its outputs still there, as LLD's), then the link
    lld edit       one module edited (a string constant in lua.c), on a copy of lld's warm cache
    twopass edit   the same edit on a copy of twopass's warm cache, then the link

Every run is timed by its wall clock alone; each repeat then runs both cold builds once more under
tools/bench.py's sampler, for the CPU time and the peak PSS of each process tree (the sampler reads /proc 50
times a second, which slows a tree of five processes more than one: it is kept out of the wall times). Ratios
are the median over repeats of each repeat's twopass/lld ratio (this machine's load drifts by more than the
differences measured). The cold build's report gives where its time goes: worker CPU by phase, the parent's
own CPU, and the core-seconds no worker used (`idle`), between rounds and inside them.

    python tools/bench_speed.py [--repeat 5] [--jobs 2] [--targets x86_64 aarch64] [--page docs/benchmarks-speed.md]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import corpus  # noqa: E402
from tools.bench import CFLAGS, ENV, LLD_OPTS, combine, measure  # noqa: E402
from tools.bench_cache import EDIT  # noqa: E402

def cache_for(kind: str, cache: Path) -> Path:
    """The cache a run of `kind` starts with: none for a cold run, the warm one for a warm run, a copy of the
    warm one for an edit (so the next repeat's warm run finds it as it was)."""
    if kind == "cold":
        shutil.rmtree(cache, ignore_errors=True)
    elif kind == "edit":
        shutil.rmtree(f"{cache}-edit", ignore_errors=True)
        shutil.copytree(cache, f"{cache}-edit")
        return Path(f"{cache}-edit")
    return cache


ASSEMBLED_BY = {"in-process": "in process by LLVM 22", "zig": "by zig cc, a process per module",
                "gnu-as": "by GNU as (binutils-aarch64-linux-gnu), a process per module"}
TARGETS = {"x86_64": {"cold": 1.55, "warm": 1.5, "edit": 1.0},
           "aarch64": {"cold": 1.6, "memory": 1.5}}
KINDS = ("cold", "warm", "edit")


class Target:
    def __init__(self, name: str, work: Path, jobs: int, assembler: str):
        self.name, self.work, self.jobs = name, work, jobs
        self.bitcode = corpus.build_bitcode(name, cflags=CFLAGS[name])
        self.edited = corpus.build_bitcode(name, cflags=CFLAGS[name], src_dir=corpus.edit_sources(EDIT))
        commands = {"gnu-as": "aarch64-linux-gnu-as",
                    "zig": " ".join([*corpus.zig_command(), "cc", "-target", "aarch64-linux-musl", "-g0", "-c"])}
        self.assembler = [] if name == "x86_64" or assembler == "in-process" else \
            ["--assembler", commands[assembler]]

    def lld(self, kind: str, n: int, sample: bool = False) -> dict:
        cache = cache_for(kind, self.work / f"{self.name}-lld-cache-{n}")
        if kind == "warm":  # warmed by one link of the same inputs (the cold link had no cache)
            self._link_lld(self.bitcode, [f"--thinlto-cache-dir={cache}"])
        extra = [f"--thinlto-cache-dir={cache}"] if kind != "cold" else []
        return self._link_lld(self.edited if kind == "edit" else self.bitcode, extra, sample)

    def _link_lld(self, bitcode: list[Path], extra: list[str], sample: bool = False) -> dict:
        cmd, env = corpus.link(bitcode, self.work / f"{self.name}-lld.exe", self.name, icf=True,
                               thinlto_two_rounds=True, jobs=self.jobs, extra=[*LLD_OPTS, *extra], command_only=True)
        return measure(cmd, env, sample)

    def twopass(self, kind: str, n: int, sample: bool = False) -> dict:
        cache = cache_for(kind, self.work / f"{self.name}-cache-{n}")
        out = self.work / f"{self.name}-{'cold' if kind == 'warm' else kind}-{n}"  # warm: the cold command again
        report = out.with_suffix(".json")
        if kind != "warm":
            shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "twopass", "build", *map(str, self.edited if kind == "edit" else self.bitcode),
               "-o", str(out), "-j", str(self.jobs), "-q", "--cache-dir", str(cache), "--report", str(report),
               *self.assembler]
        built = measure(cmd, ENV, sample)
        link_cmd, env = corpus.link(sorted(out.glob("*.o")), out.with_suffix(".exe"), self.name, icf=True,
                                    command_only=True)
        linked = measure(link_cmd, env, sample)
        return {**combine(built, linked), "build_wall": built["wall"], "link_wall": linked["wall"],
                "report": json.loads(report.read_text())}


def profile(report: dict, wall: float, jobs: int) -> dict:
    """Where a cold build's time went, from its report (worker seconds per phase; the parent's own CPU; the
    core-seconds no worker ran a job: before and between rounds, and at the rounds' ends)."""
    by_phase: dict[str, float] = {"summary": report["llvm_seconds"].get("summary", 0.0)}
    for m in report["modules"]:
        for rnd in ("round1", "round2"):
            for phase, s in m.get(rnd, {}).get("seconds", {}).items():
                by_phase[f"{rnd} {phase}"] = by_phase.get(f"{rnd} {phase}", 0.0) + s
    busy = sum(end - start for _, _, _, start, end in report.get("timeline", []))
    return {"worker_seconds": {k: round(v, 3) for k, v in sorted(by_phase.items())},
            "parent_cpu": report.get("parent_cpu_seconds"), "phases": report["phases_seconds"],
            "jobs_wall_seconds": round(busy, 3), "idle_core_seconds": round(jobs * wall - busy, 3),
            "orchestration_overhead": report.get("orchestration_overhead")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--targets", nargs="+", help="default: both, or AArch64 alone for another assembler (x86-64 "
                                                 "is assembled by llvmlite whichever is named)")
    ap.add_argument("--page", type=Path, help="also write the tables as this Markdown page")
    ap.add_argument("--json", type=Path, help="also write every run's figures here")
    ap.add_argument("--assembler", choices=("in-process", "zig", "gnu-as"), default="in-process",
                    help="AArch64's: LLVM's shared library in the workers (twopass[cross]), or zig cc or GNU as "
                         "per module")
    args = ap.parse_args(argv)
    args.targets = args.targets or (list(TARGETS) if args.assembler == "in-process" else ["aarch64"])
    results = {}
    with tempfile.TemporaryDirectory(prefix="twopass-speed-") as tmp:
        for name in args.targets:
            t = Target(name, Path(tmp), args.jobs, args.assembler)
            runs: dict[str, list[dict]] = {f"{tool} {k}": [] for k in (*KINDS, "sampled")
                                           for tool in ("lld", "twopass")}
            runs["python -c pass"] = []  # the interpreter's own start here, a part of every twopass run
            for n in range(args.repeat):
                for kind in KINDS:
                    runs[f"lld {kind}"].append(t.lld(kind, n))
                    runs[f"twopass {kind}"].append(t.twopass(kind, n))
                runs["python -c pass"].append(measure([sys.executable, "-c", "pass"], ENV))
                runs["lld sampled"].append(t.lld("cold", n, sample=True))
                runs["twopass sampled"].append(t.twopass("cold", n, sample=True))
                print(f"{name} #{n}: " + ", ".join(f"{k} {v[-1]['wall']:.2f}s" for k, v in runs.items()), flush=True)
            results[name] = summarize(runs, args.jobs)
    text = page(results, args)
    print(text)
    if args.page:
        args.page.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0


def summarize(runs: dict[str, list[dict]], jobs: int) -> dict:
    med = {k: {f: statistics.median(r[f] for r in v) if v[0][f] is not None else None for f in ("wall", "cpu", "rss")}
           for k, v in runs.items()}
    ratios = {}
    for kind in KINDS:
        pairs = list(zip(runs[f"twopass {kind}"], runs[f"lld {kind}"]))
        ratios[kind] = {"wall": statistics.median(a["wall"] / b["wall"] for a, b in pairs),
                        "pairs": [round(a["wall"] / b["wall"], 3) for a, b in pairs]}
    cold = list(zip(runs["twopass sampled"], runs["lld sampled"]))
    ratios["memory"] = {"wall": statistics.median(a["rss"] / b["rss"] for a, b in cold),
                        "pairs": [round(a["rss"] / b["rss"], 3) for a, b in cold]}
    ratios["cpu"] = {"wall": statistics.median(a["cpu"] / b["cpu"] for a, b in cold),
                     "pairs": [round(a["cpu"] / b["cpu"], 3) for a, b in cold]}
    # From the unsampled cold builds: a worker's phases are timed by the clock, which the sampler's own CPU
    # (on the same cores) stretches; LLD's CPU time is not stretched by waiting.
    floor = [llvm_work(a["report"]) / b["cpu"] for a, b in zip(runs["twopass cold"], runs["lld sampled"])]
    ratios["llvm"] = {"wall": statistics.median(floor), "pairs": [round(f, 3) for f in floor]}
    colds = runs["twopass cold"]
    middle = sorted(colds, key=lambda r: r["wall"])[len(colds) // 2]
    warm = {"build": statistics.median(r["build_wall"] for r in runs["twopass warm"]),
            "link": statistics.median(r["link_wall"] for r in runs["twopass warm"]),
            "python": med["python -c pass"]["wall"], "lld": med["lld warm"]["wall"]}
    return {"medians": med, "ratios": ratios, "profile": profile(middle["report"], middle["build_wall"], jobs),
            "warm": warm,
            "overhead": statistics.median(r["report"]["orchestration_overhead"] for r in colds),
            "per_job": statistics.median(dispatch_overhead(r["report"]) for r in colds)}


def llvm_work(report: dict) -> float:
    """The workers' seconds in LLVM's optimizer and code generators alone (both rounds): what a build with
    nothing of twopass's own would cost in llvmlite's LLVM. Over LLD's CPU it is this machine's floor, which
    moves with the processor (llvmlite's assertions build against LLD's release build)."""
    llvm = {"round1": ("opt", "codegen"), "round2": ("codegen",)}
    return sum(s for m in report["modules"] for rnd, phases in llvm.items()
               for p, s in m.get(rnd, {}).get("seconds", {}).items() if p in phases)


def dispatch_overhead(report: dict) -> float:
    """Jobs' wall as the parent saw them (sent to answered) over the workers' own seconds in them, minus one:
    what handing jobs out and taking answers in costs, without the phases between rounds."""
    seen = sum(end - start for _, _, _, start, end in report["timeline"])
    return seen / sum(report["llvm_seconds"].values()) - 1


def page(results: dict, args) -> str:
    lines = ["# Build speed and memory against LLD 22's two rounds", "",
             f"Made by `python tools/bench_speed.py --repeat {args.repeat} --jobs {args.jobs} --assembler "
             f"{args.assembler}` (see its docstring for what runs). Lua 5.4; each twopass time includes the "
             "`ld.lld --icf=all` link of its objects; AArch64's assembly text is assembled "
             f"{ASSEMBLED_BY[args.assembler]}. "
             "Ratios are the median over repeats of each repeat's twopass/LLD ratio, every repeat's ratio listed.",
             ""]
    for name, res in results.items():
        med, ratios, goals = res["medians"], res["ratios"], TARGETS.get(name, {})
        lines += [f"## {name}", "", "| run | wall s | CPU s | peak PSS MB |", "|---|---:|---:|---:|"]
        lines += [f"| {k} | {v['wall']:.3f} | " + (f"{v['cpu']:.2f} | {v['rss'] / 2**20:.0f} |" if v["cpu"] is not None
                                                     else "| |") for k, v in med.items()]
        lines += ["", "| twopass / LLD | ratio | goal | per repeat |", "|---|---:|---:|---|"]
        for kind, label in (("cold", "cold wall"), ("warm", "warm + link wall"), ("edit", "one-module edit wall"),
                            ("cpu", "cold CPU"), ("llvm", "cold CPU of LLVM's optimizer and codegen alone"),
                            ("memory", "cold peak memory")):
            goal = goals.get(kind)
            lines.append(f"| {label} | {ratios[kind]['wall']:.3f} | {'<= ' + str(goal) if goal else ''} | "
                         f"{', '.join(map(str, ratios[kind]['pairs']))} |")
        p, w = res["profile"], res["warm"]
        lines += ["", f"The warm row's parts (medians): `twopass build` {w['build']:.3f} s, of which the "
                      f"interpreter's own start is {w['python']:.3f} s here (`python -c pass`, with this "
                      f"environment's `.pth` files), then the link of its objects {w['link']:.3f} s; LLD's whole "
                      f"cached relink takes {w['lld']:.3f} s.",
                  "", "The row of LLVM's optimizer and code generators alone is the floor on this machine: the "
                      "workers' seconds in them (both rounds) over LLD's whole CPU. Everything between it and the cold "
                      "CPU row is twopass's own (summaries, importing, layout and assembly, the parent, processes).",
                  "", f"Orchestration overhead (the report's: phases' wall over worker seconds per job, minus one): "
                      f"{res['overhead']:.3f} (goal <= 0.03). Handing jobs out and taking answers in alone "
                      f"(jobs' wall as the parent saw them over the workers' own seconds, minus one): "
                      f"{res['per_job']:.3f}; the rest is the parent's phases between rounds and the start.", "",
                  "Where the median cold build's time went (seconds):", "", "| | seconds |", "|---|---:|"]
        lines += [f"| worker {k} | {v:.3f} |" for k, v in p["worker_seconds"].items()]
        lines += [f"| parent CPU | {p['parent_cpu']} |", f"| jobs' wall, summed | {p['jobs_wall_seconds']:.3f} |",
                  f"| idle core-seconds (cores x build wall - jobs' wall) | {p['idle_core_seconds']:.3f} |",
                  f"| phases (parent's view) | {json.dumps(p['phases'])} |", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
