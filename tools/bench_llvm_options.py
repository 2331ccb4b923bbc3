"""Measure LLVM options that exist but are off (or at their defaults) in twopass's builds, on Lua 5.4 for x86-64
(-O2) and AArch64 (-Oz) (issue #14, item 5): does any of them take >= 0.5% off the linked `.text`?

Candidates, each passed as `-mllvm OPTION` (both rounds' workers get it): the machine outliner's reruns
(`-machine-outliner-reruns=N`: outline again after the first pass, which also outlines from outlined
functions), outlining from linkonce_odr functions (`-enable-linkonceodr-outlining`), and the global function
merger's profitability thresholds (`-global-merging-*`, declared in llvm/lib/CGData/StableFunctionMap.cpp; LLVM
22's defaults: min-merges 2, min-instrs 1, max-params unlimited, skip-no-params true, inst-overhead 1.2,
param-overhead 2.0, call-overhead 1.0, extra-threshold 0). Every option is checked against llvmlite's LLVM first
(twopass's own check, which refuses an unknown option with LLVM's words).

For each target and each size-guard setting (`--size-guard off` and `on`), the defaults and every candidate are
built by `twopass build -j 2 --no-cache`, one build at a time, linked by LLD 22 as zig cc links (`--icf=all`),
and measured: the program's `.text`, its change against the defaults' build with the same guard setting
(negative is smaller), what the size guard kept, and the final objects' outlined and merged function counts
(`--report`'s per-module `round2` entries, which are round one's remade objects when the guard keeps those):
whether the option changed anything at all. Lua's test suite (`testes/all.lua`, user tests; under
qemu-aarch64-static for AArch64) runs for the defaults and for every candidate at least `--suite-threshold`
percent smaller; an executable already tested (the same bytes) is not run again.

The `-global-merging-*` options act where LLVM finalizes a function map: in each worker's local map and where
round one's maps are merged, which twopass does itself, in Python, with the same options
(`twopass.cgdata.MergeThresholds.from_llvm_options`), as lld's in-process merge reads its cl::opts.

    python tools/bench_llvm_options.py [--targets x86_64 aarch64] [--guard off on]
                                       [--candidate="OPT [OPT...]" ...] [--suite-threshold 0.3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.linking import link, text_size  # noqa: E402
from tools.lua import run_lua_tests  # noqa: E402
from tools.zig import build_bitcode  # noqa: E402
from twopass.errors import TwopassError  # noqa: E402
from twopass.llvm import check_options  # noqa: E402

CFLAGS = {"x86_64": [], "aarch64": ["-Xclang", "-Oz"]}
LEVEL = {"x86_64": "-O2", "aarch64": "-Oz"}
ASSEMBLER = {"x86_64": [], "aarch64": ["--assembler", f"{sys.executable} -m ziglang cc -target aarch64-linux-musl "
                                                      "-g0 -c"]}

#: Each candidate is the -mllvm options of one build; the empty one (the defaults) is always measured first.
CANDIDATES: list[tuple[str, ...]] = [
    ("-machine-outliner-reruns=1",),
    ("-machine-outliner-reruns=2",),
    ("-enable-linkonceodr-outlining",),
    ("-global-merging-skip-no-params=false",),
    ("-global-merging-min-instrs=10",),
    ("-global-merging-max-params=1",),
    ("-global-merging-max-params=3",),
    ("-global-merging-min-merges=3",),
    ("-global-merging-param-overhead=1.0",),
    ("-global-merging-inst-overhead=2.0",),
    ("-global-merging-call-overhead=3.0",),
    ("-global-merging-extra-threshold=10",),
]


def build(bitcode: list[Path], out: Path, target: str, guard: str, options: tuple[str, ...]) -> dict:
    """One twopass build into `out`, linked: .text, what the guard kept, the final counts, build seconds."""
    report = out.with_suffix(".json")
    mllvm = [a for o in options for a in ("-mllvm", o)]
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out), "-j", "2", "-q",
                    "--no-cache", "--size-guard", guard, "--report", str(report), *ASSEMBLER[target], *mllvm],
                   check=True)
    seconds = time.monotonic() - start
    rep = json.loads(report.read_text())
    exe = link(sorted(out.glob("*.o")), out.with_suffix(".exe"), target, icf=True)
    final = [m.get("round2") or {} for m in rep["modules"]]  # round one's remade objects if the guard kept them
    return {"exe": Path(exe), "text": text_size(exe), "seconds": seconds,
            "kept": (rep.get("size_guard") or {}).get("kept", "round two (no guard)"),
            "outlined": sum(r.get("outlined_functions", 0) for r in final),
            "merged": sum(r.get("merged_functions", 0) for r in final)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="+", choices=sorted(CFLAGS), default=["x86_64", "aarch64"])
    ap.add_argument("--guard", nargs="+", choices=["off", "on"], default=["off", "on"],
                    help="size-guard settings to measure (default: both)")
    ap.add_argument("--candidate", action="append", metavar="'OPT [OPT...]'",
                    help="-mllvm options of one candidate build, space-separated (repeatable; replaces the list)")
    ap.add_argument("--suite-threshold", type=float, default=0.3,
                    help="run Lua's suite for candidates at least this many percent smaller (default 0.3)")
    ap.add_argument("--suite-timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    candidates = [tuple(shlex.split(c)) for c in args.candidate] if args.candidate else CANDIDATES
    try:
        check_options(tuple(sorted({o for c in candidates for o in c})))
    except TwopassError as e:
        print(f"bench_llvm_options: {e}", file=sys.stderr)
        return 2

    suite: dict[str, bool] = {}  # sha256 of an executable -> did the suite pass

    def run_suite(exe: Path, target: str) -> str:
        digest = hashlib.sha256(exe.read_bytes()).hexdigest()
        if digest not in suite:
            passed, tail = run_lua_tests(exe, target, timeout=args.suite_timeout)
            suite[digest] = passed
            if not passed:
                print(f"suite failed for {exe.name}:\n{tail}", file=sys.stderr)
        return "passed" if suite[digest] else "FAILED"

    for target in args.targets:
        bitcode = build_bitcode(target, debug=False, cflags=CFLAGS[target])
        print(f"\n### Lua 5.4, {target} {LEVEL[target]}\n\n"
              "| option | size guard | kept | .text | vs default | outlined | merged | build s | suite |\n"
              "|---|---|---|---:|---:|---:|---:|---:|---|", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-llvm-options-") as tmp:
            for guard in args.guard:
                base = 0
                for i, options in enumerate([(), *candidates]):
                    label = ' '.join(f'`{o}`' for o in options) or 'defaults'
                    print(f"[{target} guard {guard}] {label}", file=sys.stderr, flush=True)
                    r = build(bitcode, Path(tmp) / f"{guard}-{i}", target, guard, options)
                    base = base or r["text"]
                    delta = 100.0 * (r["text"] - base) / base
                    tested = run_suite(r["exe"], target) if not options or -delta >= args.suite_threshold else "-"
                    print(f"| {label} | {guard} | {r['kept']} "
                          f"| {r['text']:,} | {delta:+.2f}% | {r['outlined']:,} | {r['merged']:,} "
                          f"| {r['seconds']:.1f} | {tested} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
