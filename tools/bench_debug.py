"""What debug info costs in time: Lua 5.4 x86-64 -O2, a cold two-round build with `-g0`, `-gdwarf-4` and
`-gdwarf-5` bitcode, by twopass (2 jobs, no cache, then the link) and by LLD 22's own two rounds (in-process
ThinLTO, 2 jobs, the outliner and the global function merger on), interleaved run by run. The figure that
matters is each tool's `-g`/`-g0` ratio, of wall time and of CPU time (of the whole process tree, which a
shared machine's load moves less): the median over runs of each run's ratio (a run's three builds are
minutes apart at most, while the machine's load drifts by more than the difference between the tools).

    python tools/bench_debug.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench import LLD_OPTS, measure  # noqa: E402
from tools.linking import link  # noqa: E402
from tools.zig import build_bitcode  # noqa: E402

VARIANTS = {"g0": [], "dwarf4": ["-gdwarf-4"], "dwarf5": ["-gdwarf-5"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    bitcode = {v: build_bitcode("x86_64", debug=bool(f), cflags=f) for v, f in VARIANTS.items()}
    walls: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-debug-") as tmp:
        work = Path(tmp)
        for run in range(args.runs):
            for v, objs in bitcode.items():
                out = work / f"{v}-{run}"
                cmd = [sys.executable, "-m", "twopass", "build", *map(str, objs), "-o", str(out), "-j", "2", "-q",
                       "--no-cache"]
                build = measure(cmd)
                lcmd, lenv = link(sorted(out.glob("*.o")), out.with_suffix(".exe"), "x86_64", icf=True,
                                  command_only=True)
                linked = measure(lcmd, lenv)
                for what in ("wall", "cpu"):
                    walls.setdefault(("twopass", v, what), []).append(build[what] + linked[what])
                lcmd, lenv = link(objs, work / f"lld-{v}-{run}.exe", "x86_64", icf=True, extra=LLD_OPTS,
                                  thinlto_two_rounds=True, command_only=True)
                lld = measure(lcmd, lenv)
                for what in ("wall", "cpu"):
                    walls.setdefault(("lld-2", v, what), []).append(lld[what])
    print("| tool | time | -g0 | -gdwarf-4 | ratio | -gdwarf-5 | ratio | per-run ratios (4; 5) |\n"
          "|---|---|---:|---:|---:|---:|---:|---|")
    for tool in ("twopass", "lld-2"):
        for what in ("wall", "cpu"):
            runs = {v: walls[(tool, v, what)] for v in VARIANTS}
            ratios = {v: [g / z for g, z in zip(runs[v], runs["g0"])] for v in ("dwarf4", "dwarf5")}
            med = {v: statistics.median(r) for v, r in runs.items()}
            each = "; ".join(", ".join(f"{r:.2f}" for r in ratios[v]) for v in ("dwarf4", "dwarf5"))
            print(f"| {tool} | {what} | {med['g0']:.2f} s | {med['dwarf4']:.2f} s | "
                  f"{statistics.median(ratios['dwarf4']):.2f} | {med['dwarf5']:.2f} s | "
                  f"{statistics.median(ratios['dwarf5']):.2f} | {each} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
