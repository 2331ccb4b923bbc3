#!/usr/bin/env python3
"""Regenerate the bundled demo corpus in ``data/``.

The C sources in ``data/src/`` are compiled with the clang that ships in the
``ziglang`` Python package into LLVM ThinLTO bitcode:

    data/x86_64/*.o     -target x86_64-linux-gnu   -O2 -g0 -flto=thin
    data/aarch64/*.o    -target aarch64-linux-musl -Oz -g0 -flto=thin
    data/x86_64-g/*.o   -target x86_64-linux-gnu   -O2 -g  -flto=thin (DWARF 4, zig's default)
    data/x86_64-g5/*.o  -target x86_64-linux-gnu   -O2 -gdwarf-5 -flto=thin (clang's and gcc's default)
    data/ll/checksum.ll the x86_64 flags plus -S -emit-llvm (textual IR)

and the x86_64 set is linked and run natively to produce
``data/expected-output.txt``.

The outputs are reproducible: the compiler runs with ``data/`` as its working
directory on relative source paths, and every absolute directory the compiler
could record (the data directory and the zig installation that supplies the
libc headers) is rewritten with ``-ffile-prefix-map`` /
``-fdebug-compilation-dir``.  Zig's caches are pointed at a temporary
directory so nothing is left behind in the repository.

Note: ``zig cc`` turns debug info on by itself at -O2 (not at -Oz), so the
non-debug variants pass an explicit ``-g0``.

Usage:
    python tools/make_demo.py            # (re)write whatever changed
    python tools/make_demo.py --check    # exit 1 if anything is stale
    python tools/make_demo.py --no-run   # skip the native link-and-run step
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
SRC = DATA / "src"
EXPECTED = DATA / "expected-output.txt"

# Module whose textual IR is written to data/ll/ (x86_64 flags).
LL_MODULE = "checksum"

COMMON_FLAGS = ["-std=c11", "-flto=thin"]


@dataclass(frozen=True)
class Variant:
    outdir: str
    target: str
    flags: tuple[str, ...]


VARIANTS = (
    Variant("x86_64", "x86_64-linux-gnu", ("-O2", "-g0")),
    Variant("aarch64", "aarch64-linux-musl", ("-Oz", "-g0")),
    Variant("x86_64-g", "x86_64-linux-gnu", ("-O2", "-g")),
    Variant("x86_64-g5", "x86_64-linux-gnu", ("-O2", "-gdwarf-5")),
)
LL_VARIANT = VARIANTS[0]


def _dir_spellings(path: Path) -> list[str]:
    """The absolute spellings of ``path`` a compiler might see (as given and
    with symlinks resolved), longest first so the most specific map wins."""
    spellings = {os.path.abspath(path), os.path.realpath(path)}
    return sorted(spellings, key=len, reverse=True)


def zig_dir() -> Path:
    spec = importlib.util.find_spec("ziglang")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("make_demo: the 'ziglang' package is not installed "
                 "(pip install ziglang)")
    return Path(list(spec.submodule_search_locations)[0])


def prefix_map_flags() -> list[str]:
    flags: list[str] = []
    # Zig's bundled headers (stddef.h, stdio.h, ...) live under the package
    # directory; debug info would otherwise record them by absolute path.
    for spelling in _dir_spellings(zig_dir()):
        flags.append(f"-ffile-prefix-map={spelling}=zig")
    for spelling in _dir_spellings(DATA):
        flags.append(f"-ffile-prefix-map={spelling}=.")
    flags.append("-fdebug-compilation-dir=.")
    return flags


def zig_env(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = cache
    env["ZIG_LOCAL_CACHE_DIR"] = cache
    return env


def zig_cc(args: list[str], env: dict[str, str]) -> None:
    cmd = [sys.executable, "-m", "ziglang", "cc", *args]
    proc = subprocess.run(cmd, cwd=DATA, env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"make_demo: command failed ({proc.returncode}): "
                 + " ".join(cmd))
    if proc.stderr.strip():
        sys.stderr.write(proc.stderr)


def sources() -> list[Path]:
    srcs = sorted(SRC.glob("*.c"))
    if not srcs:
        sys.exit(f"make_demo: no C sources in {SRC}")
    return srcs


def build(stage: Path, env: dict[str, str]) -> dict[str, Path]:
    """Compile everything into ``stage``; map data-relative name -> file."""
    pmap = prefix_map_flags()
    produced: dict[str, Path] = {}
    for var in VARIANTS:
        for src in sources():
            rel_out = f"{var.outdir}/{src.stem}.o"
            out = stage / rel_out
            out.parent.mkdir(parents=True, exist_ok=True)
            zig_cc(["-target", var.target, *var.flags, *COMMON_FLAGS, *pmap,
                    "-c", f"src/{src.name}", "-o", str(out)], env)
            produced[rel_out] = out
    rel_out = f"ll/{LL_MODULE}.ll"
    out = stage / rel_out
    out.parent.mkdir(parents=True, exist_ok=True)
    # zig cc adds its own -c, which clang reports as unused next to -S.
    zig_cc(["-target", LL_VARIANT.target, *LL_VARIANT.flags, *COMMON_FLAGS,
            *pmap, "-Wno-unused-command-line-argument", "-S", "-emit-llvm",
            f"src/{LL_MODULE}.c", "-o", str(out)], env)
    produced[rel_out] = out
    return produced


def run_native(objs: list[Path], stage: Path, env: dict[str, str]) -> bytes:
    exe = stage / "demo"
    zig_cc(["-target", "x86_64-linux-gnu", *map(str, objs), "-o", str(exe)],
           env)
    proc = subprocess.run([str(exe)], capture_output=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout.decode(errors="replace"))
        sys.exit(f"make_demo: demo program exited with {proc.returncode}")
    return proc.stdout


def can_run_x86_64_linux() -> bool:
    return sys.platform.startswith("linux") and platform.machine() in (
        "x86_64", "AMD64")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="only report whether data/ is up to date")
    ap.add_argument("--no-run", action="store_true",
                    help="do not link and run the x86_64 set")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="make_demo-") as tmp:
        tmp_path = Path(tmp)
        env = zig_env(str(tmp_path / "zig-cache"))
        stage = tmp_path / "out"
        produced = build(stage, env)

        if not args.no_run:
            if can_run_x86_64_linux():
                objs = [produced[f"{LL_VARIANT.outdir}/{s.stem}.o"]
                        for s in sources()]
                out = stage / EXPECTED.name
                out.write_bytes(run_native(objs, tmp_path, env))
                produced[EXPECTED.name] = out
            else:
                print("make_demo: not on x86_64 Linux, skipping the native "
                      "run (expected-output.txt left as is)")

        # Outputs in our directories that no longer correspond to a source.
        owned_dirs = {v.outdir for v in VARIANTS} | {"ll"}
        stale = sorted(
            p for d in owned_dirs if (DATA / d).is_dir()
            for p in (DATA / d).iterdir()
            if p.suffix in (".o", ".ll")
            and f"{d}/{p.name}" not in produced)

        forbidden = [s.encode() for d in (REPO, zig_dir(), tmp_path)
                     for s in _dir_spellings(d)]
        changed = 0
        for rel in sorted(produced):
            new = produced[rel]
            dest = DATA / rel
            data = new.read_bytes()
            for bad in forbidden:
                if bad in data:
                    # The prefix maps should make this impossible.
                    sys.exit(f"make_demo: {rel} contains the absolute path "
                             f"{bad.decode()}")
            same = dest.is_file() and dest.read_bytes() == data
            if same:
                status = "unchanged"
            else:
                changed += 1
                status = "stale" if args.check else "wrote"
                if not args.check:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(new, dest)
            print(f"{status:9} data/{rel} ({len(data)} bytes)")
        for p in stale:
            changed += 1
            rel = p.relative_to(DATA)
            if args.check:
                print(f"stale     data/{rel} (no longer produced)")
            else:
                p.unlink()
                print(f"removed   data/{rel}")

    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"make_demo: {changed} file(s) {'stale' if args.check else 'changed'}"
          f"; data/ totals {total} bytes")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
