"""What debug info costs in time: Lua 5.4 x86-64 -O2, a cold two-round build with `-g0`, `-gdwarf-4` and
`-gdwarf-5` bitcode, by twopass (2 jobs, no cache, then the link) and by LLD 22's own two rounds (in-process
ThinLTO, 2 jobs, the outliner and the global function merger on), interleaved run by run. The figure that
matters is each tool's `-g`/`-g0` ratio of wall time.

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
    walls: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-debug-") as tmp:
        work = Path(tmp)
        for run in range(args.runs):
            for v, objs in bitcode.items():
                out = work / f"{v}-{run}"
                cmd = [sys.executable, "-m", "twopass", "build", *map(str, objs), "-o", str(out), "-j", "2", "-q",
                       "--no-cache"]
                build = measure(cmd)["wall"]
                lcmd, lenv = link(sorted(out.glob("*.o")), out.with_suffix(".exe"), "x86_64", icf=True,
                                  command_only=True)
                walls.setdefault(("twopass", v), []).append(build + measure(lcmd, lenv)["wall"])
                lcmd, lenv = link(objs, work / f"lld-{v}-{run}.exe", "x86_64", icf=True, extra=LLD_OPTS,
                                  thinlto_two_rounds=True, command_only=True)
                walls.setdefault(("lld-2", v), []).append(measure(lcmd, lenv)["wall"])
    print("| tool | -g0 wall | -gdwarf-4 wall | ratio | -gdwarf-5 wall | ratio |\n|---|---:|---:|---:|---:|---:|")
    for tool in ("twopass", "lld-2"):
        med = {v: statistics.median(walls[(tool, v)]) for v in VARIANTS}
        print(f"| {tool} | {med['g0']:.2f} s | {med['dwarf4']:.2f} s | {med['dwarf4'] / med['g0']:.2f} | "
              f"{med['dwarf5']:.2f} s | {med['dwarf5'] / med['g0']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
