"""Benchmark: what the cache saves on Lua 5.4 (x86-64, -O2), as ratios measured side by side in one run.

Runs, interleaved and repeated (cold, warm, edit, cold, warm, edit, ...):
- cold: an empty cache;
- warm: the same build again, nothing changed (target: <= 3% of cold);
- edit: one module's source changed (a string constant in lua.c: the code and so the merged codegen data stay
  the same) on a cache warmed by the unedited build (target: <= 25% of cold).
Each run is a whole `twopass build` process; ratios use the median of the runs.

    python tools/bench_cache.py [--repeat 3] [--jobs 2] [--json out.json] [--flag=--no-import]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import corpus  # noqa: E402

EDIT = {"lua.c": [('"cannot create state: not enough memory"', '"cannot create a state: out of memory"')]}


# As a user runs it: with Python's bytecode cache (some shells here set PYTHONDONTWRITEBYTECODE).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_build(inputs: list[Path], out: Path, cache: Path, jobs: int, flags: list[str]) -> tuple[float, dict]:
    report = out.with_suffix(".json")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, inputs), "-o", str(out), "-j", str(jobs),
                    "--cache-dir", str(cache), "--report", str(report), "-q", *flags], check=True, env=ENV)
    return time.perf_counter() - start, json.loads(report.read_text())


def timed_python() -> float:
    """The floor under any warm build: starting the interpreter and doing nothing."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=ENV)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--flag", action="append", default=[], help="an extra `twopass build` option (e.g. --no-import)")
    args = ap.parse_args(argv)
    original = corpus.build_bitcode("x86_64")
    edited = corpus.build_bitcode("x86_64", src_dir=corpus.edit_sources(EDIT))
    changed = [a.name for a, b in zip(original, edited) if a.read_bytes() != b.read_bytes()]
    assert changed == ["lua.o"], changed
    times: dict[str, list[float]] = {"cold": [], "warm": [], "edit": [], "python -c pass": []}
    detail = {}
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as tmp:
        root = Path(tmp)
        for i in range(args.repeat):
            cache = root / f"cache{i}"
            t, detail["cold"] = timed_build(original, root / f"cold{i}", cache, args.jobs, args.flag)
            times["cold"].append(t)
            shutil.copytree(cache, root / f"warm-copy{i}")
            t, detail["warm"] = timed_build(original, root / f"warm{i}", cache, args.jobs, args.flag)
            times["warm"].append(t)
            t, detail["edit"] = timed_build(edited, root / f"edit{i}", root / f"warm-copy{i}", args.jobs, args.flag)
            times["edit"].append(t)
            times["python -c pass"].append(timed_python())
    med = {k: statistics.median(v) for k, v in times.items()}
    ratios = {"warm/cold": med["warm"] / med["cold"], "edit/cold": med["edit"] / med["cold"],
              "python startup/cold": med["python -c pass"] / med["cold"]}
    print(f"Lua 5.4 x86-64, {len(original)} modules, --jobs {args.jobs} {' '.join(args.flag)}, "
          f"{args.repeat} interleaved runs")
    for k, v in times.items():
        print(f"  {k:14} median {med[k]:.2f}s  min {min(v):.2f}s  runs {', '.join(f'{x:.2f}' for x in v)}")
    print(f"  warm/cold {ratios['warm/cold']:.3f} (target <= 0.03)   edit/cold {ratios['edit/cold']:.3f} "
          f"(target <= 0.25)   interpreter start alone/cold {ratios['python startup/cold']:.3f}")
    print(f"  edit run: round 2 misses {detail['edit']['cache']['round2_misses_because']}, "
          f"streams {json.dumps(detail['edit']['cache']['streams'])}")
    if args.json:
        Path(args.json).write_text(json.dumps({"times": times, "ratios": ratios, "reports": detail}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
