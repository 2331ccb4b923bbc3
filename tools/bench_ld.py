"""Benchmark: Lua 5.4 x86-64 linked by `clang-19 -flto=thin -fuse-ld=twopass` against `clang-19 -fuse-ld=lld`
with LLD 22 running its own two rounds (`-Wl,-mllvm,-codegen-data-thinlto-two-rounds`, the outliner and the
global function merger on as twopass has them, `--icf=all`), side by
side and interleaved in one run: wall, CPU, peak memory, `.text`, and what twopass's extra index-only run of
the linker costs as a share of the link.

    python tools/bench_ld.py [--runs 3] [--jobs 2] [--page docs/benchmarks-ld.md]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench import measure  # noqa: E402
from tools.linking import text_size  # noqa: E402
from tools.lua import fetch_lua  # noqa: E402

CLANG = "clang-19"
FLAGS = ["-O2", "-std=gnu99", "-DLUA_USE_LINUX"]


def wrappers(bindir: Path) -> None:
    """`ld.twopass` (this checkout) and `ld.lld` (ziglang's LLD 22) where clang's -fuse-ld looks."""
    bindir.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    for name, cmd in (("ld.twopass", "-m twopass ld"), ("ld.lld", "-m ziglang ld.lld")):
        path = bindir / name
        path.write_text(f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(root))} exec {shlex.quote(sys.executable)} '
                        f'{cmd} "$@"\n')
        path.chmod(0o755)


def compile_lua(work: Path, env: dict) -> list[str]:
    src = fetch_lua()
    library = [s for s in sorted(src.glob("*.c")) if s.name not in ("lua.c", "luac.c", "onelua.c", "ltests.c")]
    for s in [*library, src / "lua.c"]:
        subprocess.run([CLANG, *FLAGS, "-flto=thin", "-c", str(s), "-o", str(work / f"{s.stem}.o")], check=True,
                       env=env)
    subprocess.run([sys.executable, "-m", "ziglang", "ar", "rcs", "liblua.a", *(f"{s.stem}.o" for s in library)],
                   check=True, cwd=work, env=env)
    return [str(work / "lua.o"), str(work / "liblua.a"), "-lm", "-ldl"]


def index_only_seconds(cmd: list[str], env: dict) -> float:
    """The index-only run twopass made for this link (from its -v lines), timed again on its own."""
    proc = subprocess.run([*cmd, "-Wl,-v"], capture_output=True, text=True, env=env, check=True)
    line = next(ln for ln in proc.stderr.splitlines() if "--thinlto-index-only=" in ln)
    argv = shlex.split(line.split(": ", 1)[1])
    index_dir = next(a for a in argv if a.startswith("--thinlto-prefix-replace=")).split(";", 1)[1]
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--page", type=Path, help="also write the table as this Markdown page")
    args = ap.parse_args(argv)
    import os
    with tempfile.TemporaryDirectory(prefix="bench-ld-") as tmp:
        work = Path(tmp)
        wrappers(work / "bin")
        env = dict(os.environ, PATH=f"{work / 'bin'}{os.pathsep}{os.environ['PATH']}", TWOPASS_LDFLAGS="")
        inputs = compile_lua(work, env)
        jobs = f"-Wl,--thinlto-jobs={args.jobs}"
        variants = {
            "twopass": [CLANG, "-O2", "-flto=thin", "-fuse-ld=twopass", *inputs, jobs,
                        "-o", str(work / "lua-twopass")],
            "lld two rounds": [CLANG, "-O2", "-flto=thin", "-fuse-ld=lld", *inputs, jobs, "-Wl,--icf=all",
                               "-Wl,-mllvm,-codegen-data-thinlto-two-rounds", "-Wl,-mllvm,-enable-machine-outliner",
                               "-Wl,-mllvm,-enable-global-merge-func", "-o", str(work / "lua-lld")],
        }
        runs: dict[str, list[dict]] = {v: [] for v in variants}
        for _ in range(args.runs):
            for name, cmd in variants.items():
                runs[name].append(measure(cmd, env))
        index = [index_only_seconds(variants["twopass"], env) for _ in range(args.runs)]
        rows = {}
        for name, results in runs.items():
            rows[name] = {k: statistics.median(r[k] for r in results) for k in ("wall", "cpu", "rss")}
        rows["twopass"]["text"] = text_size(work / "lua-twopass")
        rows["lld two rounds"]["text"] = text_size(work / "lua-lld")
    t, lld = rows["twopass"], rows["lld two rounds"]
    lines = [f"Lua 5.4 x86-64, clang-19 -O2 -flto=thin, {args.jobs} jobs, median of {args.runs} interleaved runs",
             "", "| link | wall s | CPU s | peak RSS MB | .text bytes |", "|---|---:|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss'] / 2**20:.0f} | {r['text']:,} |")
    share = statistics.median(index) / t["wall"]
    lines += ["", f"Ratios twopass / lld: wall {t['wall'] / lld['wall']:.2f}x, CPU {t['cpu'] / lld['cpu']:.2f}x, "
                  f".text {t['text'] / lld['text']:.4f}; the index-only run {statistics.median(index):.3f} s = "
                  f"{100 * share:.1f}% of twopass's link."]
    print("\n".join(lines))
    if args.page:
        args.page.write_text("# As the link step: `clang -fuse-ld=twopass` against `clang -fuse-ld=lld`\n\n"
                             f"Made by `python tools/bench_ld.py --runs {args.runs} --jobs {args.jobs} --page "
                             f"{args.page}` (see its docstring for what runs).\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
