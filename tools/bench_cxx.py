"""C++ size: ninja (from its PyPI sdist, built by its own CMake with clang++-19 -flto=thin) linked through
`-fuse-ld=twopass` against `-fuse-ld=lld` with LLD 22's own ThinLTO, one and two rounds (outliner and global
function merger on, `--icf=all`, as twopass has them), on the same bitcode objects: linked `.text` and the
count of dynamic symbols, for the `ninja` executable and the `ninja_test` executable (googletest's, from
Debian, is native code beside the bitcode). The objects are compiled once; only the links differ.

    python tools/bench_cxx.py [--page docs/benchmarks-cxx.md]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench_ld import wrappers  # noqa: E402
from tools.linking import text_size  # noqa: E402
from tools.ninjasrc import TARGETS, cmake_build, fetch_ninja  # noqa: E402
from twopass import objfile  # noqa: E402

LLD = ["-Wl,--icf=all", "-Wl,-mllvm,-enable-machine-outliner", "-Wl,-mllvm,-enable-global-merge-func"]
LINKS = {"lld, one round": ["-fuse-ld=lld", *LLD],
         "lld, two rounds": ["-fuse-ld=lld", *LLD, "-Wl,-mllvm,-codegen-data-thinlto-two-rounds"],
         "twopass": ["-fuse-ld=twopass"],
         "twopass, one round": ["-fuse-ld=twopass", "-Wl,--twopass-rounds=1"]}


def toolchain(tmp: Path) -> dict[str, str]:
    """PATH with `ld.twopass` (this checkout) and `ld.lld` (ziglang's LLD 22) for clang's -fuse-ld."""
    wrappers(tmp / "bin")
    return dict(os.environ, PATH=f"{tmp / 'bin'}{os.pathsep}{os.environ['PATH']}", TWOPASS_LDFLAGS="")


def dynamic_symbols(path: Path) -> int:
    sections = objfile.elf_sections(path.read_bytes(), str(path))
    dynsym = next((s for s in sections if s.name == ".dynsym"), None)
    return 0 if dynsym is None else len(dynsym.data) // 24 - 1


def measure(tmp: Path) -> dict[str, dict[str, tuple[int, int]]]:
    env = toolchain(tmp)
    build = tmp / "build"
    proc = cmake_build(fetch_ninja(), build, "clang++-19", "-fuse-ld=twopass", env)
    if proc.returncode:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    rows: dict[str, dict[str, tuple[int, int]]] = {}
    for target in TARGETS:
        line = subprocess.run(["ninja", "-C", str(build), "-t", "commands", target], capture_output=True,
                              text=True, check=True).stdout.splitlines()[-1]
        argv = [a for a in shlex.split(line.removeprefix(": && ").removesuffix(" && :"))
                if a != "-fuse-ld=twopass"]
        out = argv.index("-o")
        for label, flags in LINKS.items():
            exe = tmp / f"{target}-{label.replace(' ', '').replace(',', '-')}"
            cmd = [*argv[:out], *flags, "-o", str(exe), *argv[out + 2:]]
            subprocess.run(cmd, cwd=build, env=env, check=True, capture_output=True)
            rows.setdefault(target, {})[label] = (text_size(exe), dynamic_symbols(exe))
    return rows


def page(rows: dict[str, dict[str, tuple[int, int]]]) -> str:
    lines = ["# C++ size: ninja through ld.twopass and through LLD 22's ThinLTO", "",
             "Made by `python tools/bench_cxx.py` (see its docstring). Linked `.text` bytes (dynamic symbols in "
             "brackets); the last column is twopass over LLD's two rounds.", "",
             "| program | " + " | ".join(LINKS) + " | twopass / lld two rounds |",
             "|---|" + "---:|" * (len(LINKS) + 1)]
    for target, row in rows.items():
        cells = [f"{row[label][0]:,} ({row[label][1]})" for label in LINKS]
        ratio = row["twopass"][0] / row["lld, two rounds"][0]
        lines.append(f"| {target} | " + " | ".join(cells) + f" | {ratio:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--page", help="write the table here (markdown)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cxx-") as tmp:
        text = page(measure(Path(tmp)))
    print(text)
    if args.page:
        Path(args.page).write_text(text)


if __name__ == "__main__":
    main()
