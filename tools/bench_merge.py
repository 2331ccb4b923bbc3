"""Benchmark: merging codegen data from many modules must grow linearly and stay cheap.

Builds N synthetic round-one payloads (a hash tree and a function map per module, drawn from shared pools
so that modules overlap the way real ones do), then times the whole merge (parse + merge + finalize +
serialize) for growing N in fresh processes, and reports time per module and peak memory.

    python tools/bench_merge.py [--modules 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twopass.cgdata import CodeGenData, Merger, OutlinedHashTree, StableFunction, StableFunctionMap, dump  # noqa
from twopass.cgdata.records import write_map, write_tree  # noqa: E402


def synthetic_payloads(n_modules: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """Per module: ~40 outlined sequences and ~60 functions, as Lua-sized modules produce."""
    rnd = random.Random(seed)
    pool = [rnd.getrandbits(64) for _ in range(400)]
    payloads = []
    for m in range(n_modules):
        tree = OutlinedHashTree()
        for _ in range(40):
            tree.insert([rnd.choice(pool) for _ in range(rnd.randint(2, 8))], rnd.randint(2, 6))
        fmap = StableFunctionMap()
        for f in range(60):
            h = rnd.choice(pool) if rnd.random() < 0.3 else rnd.getrandbits(64)
            ops = {(rnd.randrange(20), rnd.randrange(3)): rnd.choice(pool[:20]) for _ in range(rnd.randint(0, 3))}
            fmap.insert(StableFunction(h, f"fn_{m}_{f}", f"module_{m}.c", 20, ops))
        payloads += [("outline", write_tree(tree)), ("merge", write_map(fmap))]
    return payloads


def run_one(n_modules: int) -> dict:
    payloads = synthetic_payloads(n_modules)
    start = time.perf_counter()
    merger = Merger()
    for kind, data in payloads:
        merger.add_payload(kind, data, "bench")
    out = dump(merger.result())
    seconds = time.perf_counter() - start
    return {"modules": n_modules, "payload_bytes": sum(len(d) for _, d in payloads), "output_bytes": len(out),
            "seconds": round(seconds, 4), "ms_per_module": round(1000 * seconds / n_modules, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modules", type=int, default=2000)
    ap.add_argument("--json")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    sizes = [args.modules // 8, args.modules // 4, args.modules // 2, args.modules]
    rows = [json.loads(subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True,
                                      check=True, text=True).stdout) for n in sizes]
    print(f"{'modules':>8} {'payload MB':>11} {'seconds':>8} {'ms/module':>10} {'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['modules']:>8} {r['payload_bytes'] / 1e6:>11.2f} {r['seconds']:>8.3f} {r['ms_per_module']:>10.3f}"
              f" {r['peak_rss_mb']:>12.1f}")
    growth = rows[-1]["ms_per_module"] / rows[0]["ms_per_module"]
    print(f"time per module, {sizes[-1]} vs {sizes[0]} modules: {growth:.2f}x (1.0 = perfectly linear)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "per_module_growth": growth}, indent=2) + "\n")


if __name__ == "__main__":
    main()
