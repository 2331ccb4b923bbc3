"""Benchmark: the thin link's cost on synthetic programs of 250 to 2,000 modules (summaries only, as in a build).

Each module defines 40 functions (sizes 1-400 instructions, a quarter of them static), each calling 3 others,
90% in its own module, 10% anywhere; plus 10 variables. Times loading the msgpack summaries and
the thin link itself, and reports its peak memory growth.

    python tools/bench_thinlink.py [--modules 250 500 1000 2000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twopass import thinlink  # noqa: E402


def synthetic(modules: int, seed: int = 0, functions: int = 40) -> tuple[dict[str, dict], dict[str, str]]:
    rng = random.Random(seed)
    names = [f"mod{i:05d}" for i in range(modules)]
    sums = {}
    for m in names:
        fns = {}
        for j in range(functions):
            local = rng.random() < 0.25
            calls = [f"{m}_f{rng.randrange(functions)}" if rng.random() < 0.9 else
                     f"{rng.choice(names)}_f{rng.randrange(functions)}" for _ in range(3)]
            api = not local and rng.random() < 0.2  # a library (no main): its default-visibility API is the roots
            fns[f"{m}_f{j}"] = {"linkage": "internal" if local else "external",
                                "visibility": "default" if api else "hidden",
                                "insts": int(rng.paretovariate(1.0) * 30) % 400 + 1, "calls": sorted(set(calls)),
                                "refs": [f"{m}_v{rng.randrange(10)}"], "why_not": ""}
        variables = {f"{m}_v{k}": {"linkage": "internal", "visibility": "default", "kind": "variable", "refs": [],
                                   "import": k < 3}  # three constants, imported where imported code reads them
                     for k in range(10)}
        sums[m] = {"functions": fns, "variables": variables, "renamable": True, "used": []}
    digests = {m: f"{i:08x}" + "0" * 56 for i, m in enumerate(names)}
    return sums, digests


def main(argv: list[str] | None = None) -> int:
    import msgpack

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", type=int, nargs="+", default=[250, 500, 1000, 2000])
    args = ap.parse_args(argv)
    for n in args.modules:
        sums, digests = synthetic(n)
        raw = {m: msgpack.packb(s) for m, s in sums.items()}
        tracemalloc.start()
        start = time.perf_counter()
        loaded = thinlink.load_summaries(raw)
        mid = time.perf_counter()
        decisions = thinlink.thin_link(loaded, digests, thinlink.LinkOptions())
        end = time.perf_counter()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        stats = thinlink.statistics(decisions)
        print(f"{n:5d} modules: load {mid - start:.2f}s, thin link {end - mid:.2f}s, peak +{peak / 2**20:.0f} MB; "
              f"{stats['imported_functions']} imports, {stats['promoted']} promoted, "
              f"{stats['internalized']} internalized")
    return 0


if __name__ == "__main__":
    sys.exit(main())
