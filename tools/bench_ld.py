"""Benchmark: Lua 5.4 x86-64 linked by `clang-19 -flto=thin -fuse-ld=twopass` against `clang-19 -fuse-ld=lld`
with LLD 22 running its own two rounds (`-Wl,-mllvm,-codegen-data-thinlto-two-rounds`, the outliner and the
global function merger on as twopass has them, `--icf=all`), side by side and interleaved in one run, as a build
system runs the link step: cold (each tool's `--thinlto-cache-dir` empty), warm (the same link again on that
cache) and after a one-module edit (lua.c's string constant, recompiled, on a copy of the warm cache): wall,
`.text`, and what twopass's extra index-only run of the linker costs as a share of the link (wall times alone:
tools/bench_speed.py measures CPU and memory).
Both `-fuse-ld` names find a script that starts the tool directly (LLD: ziglang's zig binary, not through
`python -m ziglang`, whose interpreter start would count once per LLD run, twice in twopass's link).

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
    import ziglang

    bindir.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    zig = Path(ziglang.__file__).parent / "zig"
    for name, cmd in (("ld.twopass", f"{shlex.quote(sys.executable)} -m twopass ld"),
                      ("ld.lld", f"{shlex.quote(str(zig))} ld.lld")):
        path = bindir / name
        path.write_text(f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(root))} exec {cmd} "$@"\n')
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


KINDS = ("cold", "warm", "edit")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--page", type=Path, help="also write the table as this Markdown page")
    args = ap.parse_args(argv)
    import os
    import shutil

    from tools.bench_cache import EDIT
    from tools.bench_speed import cache_for
    from tools.lua import edit_sources
    with tempfile.TemporaryDirectory(prefix="bench-ld-") as tmp:
        work = Path(tmp)
        wrappers(work / "bin")
        env = dict(os.environ, PATH=f"{work / 'bin'}{os.pathsep}{os.environ['PATH']}", TWOPASS_LDFLAGS="")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: with Python's bytecode cache
        inputs = compile_lua(work, env)
        (work / "edited").mkdir()  # lua.o of the edited lua.c beside the same library
        shutil.copy(work / "liblua.a", work / "edited" / "liblua.a")
        subprocess.run([CLANG, *FLAGS, "-flto=thin", "-c", str(edit_sources(EDIT) / "lua.c"), "-o",
                        str(work / "edited" / "lua.o")], check=True, env=env)
        edited = [str(work / "edited" / "lua.o"), str(work / "edited" / "liblua.a"), "-lm", "-ldl"]
        jobs = f"-Wl,--thinlto-jobs={args.jobs}"
        tools = {
            "twopass": ["-fuse-ld=twopass"],
            "lld two rounds": ["-fuse-ld=lld", "-Wl,--icf=all", "-Wl,-mllvm,-codegen-data-thinlto-two-rounds",
                               "-Wl,-mllvm,-enable-machine-outliner", "-Wl,-mllvm,-enable-global-merge-func"],
        }

        def link(tool: str, kind: str, n: int) -> dict:
            cache = cache_for(kind, work / f"cache-{tool.split()[0]}-{n}")
            cmd = [CLANG, "-O2", "-flto=thin", *tools[tool], *(edited if kind == "edit" else inputs), jobs,
                   f"-Wl,--thinlto-cache-dir={cache}", "-o", str(work / f"lua-{tool.split()[0]}-{kind}")]
            return measure(cmd, env, sample=False)  # wall time alone: see tools/bench.py's measure

        runs: dict[str, list[dict]] = {f"{tool} {kind}": [] for kind in KINDS for tool in tools}
        for n in range(args.runs):
            for kind in KINDS:
                for tool in tools:
                    runs[f"{tool} {kind}"].append(link(tool, kind, n))
        cold = [CLANG, "-O2", "-flto=thin", *tools["twopass"], *inputs, jobs, "-o", str(work / "lua-index")]
        index = [index_only_seconds(cold, env) for _ in range(args.runs)]
        rows = {name: statistics.median(r["wall"] for r in results) for name, results in runs.items()}
        text = {tool: text_size(work / f"lua-{tool.split()[0]}-cold") for tool in tools}
        ratios = {kind: statistics.median(a["wall"] / b["wall"] for a, b in
                                          zip(runs[f"twopass {kind}"], runs[f"lld two rounds {kind}"]))
                  for kind in KINDS}
        per = {kind: [round(a["wall"] / b["wall"], 2) for a, b in
                      zip(runs[f"twopass {kind}"], runs[f"lld two rounds {kind}"])] for kind in KINDS}
    lines = [f"Lua 5.4 x86-64, clang-19 -O2 -flto=thin, {args.jobs} jobs, median of {args.runs} interleaved runs",
             "", "| link | wall s |", "|---|---:|"]
    for name, wall in rows.items():
        lines.append(f"| {name} | {wall:.3f} |")
    lines += ["", "| twopass / lld, wall | median of the runs' ratios | per run |", "|---|---:|---|"]
    lines += [f"| {kind} | {ratios[kind]:.2f}x | {', '.join(map(str, per[kind]))} |" for kind in KINDS]
    share = statistics.median(index) / rows["twopass cold"]
    lines += ["", f".text: twopass {text['twopass']:,}, lld {text['lld two rounds']:,} "
                  f"({text['twopass'] / text['lld two rounds']:.4f}); the index-only run "
                  f"{statistics.median(index):.3f} s = {100 * share:.1f}% of twopass's cold link."]
    print("\n".join(lines))
    if args.page:
        args.page.write_text("# As the link step: `clang -fuse-ld=twopass` against `clang -fuse-ld=lld`\n\n"
                             f"Made by `python tools/bench_ld.py --runs {args.runs} --jobs {args.jobs} --page "
                             f"{args.page}` (see its docstring for what runs).\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
