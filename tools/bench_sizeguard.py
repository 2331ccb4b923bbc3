"""Check the size guard's estimate against real links: Lua 5.4 for x86-64 (-O2) and AArch64 (-Oz), and brotli's
command-line tool for x86-64 (-O2: a real program where global outlining loses), built with
`--rounds 1`, two rounds without the guard, two rounds with it and `--outliner local`; each linked by LLD 22 as
zig cc links (`--icf=all`, `-Map`). For each: the estimate of what the objects add to `.text`, what they add
in the link (from the map: their input sections and the padding before each), the error, and the program's
`.text`. The guarded build must be no larger than `--outliner local`.

    python tools/bench_sizeguard.py [--programs lua-x86_64 lua-aarch64 brotli-x86_64]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import brotli  # noqa: E402
from tools.linking import link, text_size  # noqa: E402
from tools.zig import build_bitcode  # noqa: E402
from twopass import sizeguard  # noqa: E402

CFLAGS = {"x86_64": [], "aarch64": ["-Xclang", "-Oz"]}
ASSEMBLER = {"x86_64": [], "aarch64": ["--assembler", f"{sys.executable} -m ziglang cc -target aarch64-linux-musl "
                                                      "-g0 -c"]}
VARIANTS = {"rounds 1": ["--rounds", "1"], "local": ["--outliner", "local"],
            "two rounds, no guard": ["--size-guard", "off"], "two rounds, guarded": []}
_MAP_LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+(\d+)( +)(\S.*)$")


def linked_contribution(map_text: str, objects: set[str]) -> int:
    """Bytes of the output `.text` that input sections of `objects` occupy, each with the padding before it."""
    total, in_text, end = 0, False, None
    for line in map_text.splitlines():
        m = _MAP_LINE.match(line)
        if not m:
            continue
        vma, size, rest = int(m[1], 16), int(m[2], 16), m[5]
        if len(m[4]) == 1:  # an output section: one space after the alignment
            in_text = rest == ".text"
            end = vma
            continue
        if not in_text or ":(" not in rest:
            continue  # another output section, or a symbol line
        path = rest.split(":(", 1)[0]
        if path in objects:
            total += size + (vma - end if end is not None and vma >= end else 0)
        end = vma + size
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", nargs="+", default=["lua-x86_64", "lua-aarch64", "brotli-x86_64"])
    args = ap.parse_args(argv)
    print("| program | build | kept | estimate | linked (map) | error | program .text |\n"
          "|---|---|---|---:|---:|---:|---:|")
    worst = 0.0
    for program in args.programs:
        name, target = program.split("-", 1)
        bitcode = build_bitcode(target, cflags=CFLAGS[target]) if name == "lua" else brotli.build_bitcode(target)
        texts = {}
        with tempfile.TemporaryDirectory(prefix="bench-sizeguard-") as tmp:
            for variant, flags in VARIANTS.items():
                out = Path(tmp) / variant.replace(" ", "-").replace(",", "")
                report = out.with_suffix(".json")
                subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out), "-j", "2",
                                "-q", "--no-cache", "--report", str(report), *ASSEMBLER[target], *flags], check=True)
                objs = sorted(out.glob("*.o"))
                est = sizeguard.estimate({o.name: o.read_bytes() for o in objs}).total
                exe, mapfile = out.with_suffix(".exe"), out.with_suffix(".map")
                link(objs, exe, target, icf=True, extra=[f"-Map={mapfile}"])
                got = linked_contribution(mapfile.read_text(), {str(o) for o in objs})
                import json
                kept = json.loads(report.read_text()).get("size_guard", {}).get("kept", "")
                err = 100.0 * (est - got) / got
                worst = max(worst, abs(err))
                texts[variant] = text_size(exe)
                print(f"| {program} | {variant} | {kept} | {est:,} | {got:,} | {err:+.2f}% | {texts[variant]:,} |")
        assert texts["two rounds, guarded"] <= texts["local"], f"{program}: the guarded build is larger than local"
    print(f"\nworst estimate error {worst:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
