"""Size table: every twopass mode against LLD 22's own ThinLTO with one and with two rounds, linked `.text`,
on Lua 5.4 (x86-64 -O2, AArch64 -Oz) and brotli's command-line tool (-O2, where global outlining loses), for
both targets. LLD runs with the outliner and the global function merger on, as twopass has them; every
program is linked as zig cc links it (`-no-pie`), with `--icf=all`, and twopass compiles for that link as LLD
does (`--relocation-model static`: tools/linking.py's relocation_flags). The guarded row also gives the size
guard's choice and its estimate of the objects' share of `.text` next to that share in the link (from the link map).

    python tools/bench_size.py [--programs lua-x86_64 ...] [--page docs/benchmarks-size.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import brotli  # noqa: E402
from tools.bench import LLD_OPTS  # noqa: E402
from tools.bench_sizeguard import ASSEMBLER, CFLAGS, linked_contribution  # noqa: E402
from tools.linking import link, relocation_flags, text_size  # noqa: E402
from tools.zig import build_bitcode  # noqa: E402
from twopass import sizeguard  # noqa: E402

PROGRAMS = ["lua-x86_64", "lua-aarch64", "brotli-x86_64", "brotli-aarch64"]
MODES = {"never": ["--outliner", "never"], "local": ["--outliner", "local"],
         "global": ["--size-guard", "off"], "guarded": []}


def measure(program: str, tmp: Path) -> dict:
    name, target = program.split("-", 1)
    bitcode = build_bitcode(target, cflags=CFLAGS[target]) if name == "lua" else brotli.build_bitcode(target)
    row: dict = {}
    for rounds in (1, 2):
        exe = tmp / f"lld-{rounds}"
        link(bitcode, exe, target, icf=True, extra=LLD_OPTS, thinlto_two_rounds=rounds == 2)
        row[f"lld-{rounds}"] = text_size(exe)
    for mode, flags in MODES.items():
        out, report = tmp / mode, tmp / f"{mode}.json"
        subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out), "-j", "2",
                        "-q", "--no-cache", "--report", str(report), *ASSEMBLER[target], *relocation_flags(target),
                        *flags], check=True)
        objs = sorted(out.glob("*.o"))
        exe, mapfile = tmp / f"{mode}.exe", tmp / f"{mode}.map"
        link(objs, exe, target, icf=True, extra=[f"-Map={mapfile}"])
        row[mode] = text_size(exe)
        if mode == "guarded":
            row["kept"] = json.loads(report.read_text()).get("size_guard", {}).get("kept", "")
            row["estimate"] = sizeguard.estimate({o.name: o.read_bytes() for o in objs}).total
            row["linked"] = linked_contribution(mapfile.read_text(), {str(o) for o in objs})
    return row


def table(rows: dict[str, dict]) -> str:
    lines = ["| program | lld-1 | lld-2 | never | local | global | guarded | guard kept | estimate | linked | "
             "guarded vs lld-2 |", "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for program, r in rows.items():
        cells = [f"{r[k]:,}" for k in ("lld-1", "lld-2", "never", "local", "global", "guarded")]
        err = 100.0 * (r["estimate"] - r["linked"]) / r["linked"]
        lines.append(f"| {program} | {' | '.join(cells)} | {r['kept']} | {r['estimate']:,} | {r['linked']:,} "
                     f"({err:+.2f}%) | {100.0 * (r['guarded'] - r['lld-2']) / r['lld-2']:+.2f}% |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", nargs="+", default=PROGRAMS, choices=PROGRAMS)
    ap.add_argument("--page", type=Path, help="also write the table, with how it was made, to this file")
    args = ap.parse_args(argv)
    rows = {}
    for program in args.programs:
        with tempfile.TemporaryDirectory(prefix="bench-size-") as tmp:
            rows[program] = measure(program, Path(tmp))
        print(program, json.dumps(rows[program]), flush=True)
    text = table(rows)
    print(text)
    if args.page:
        doc = (__doc__ or "").split("\n\n")[0].replace("\n", " ")
        args.page.write_text(f"# Code size\n\n{doc}\n\nMade by `python tools/bench_size.py --page {args.page}`; "
                             "`.text` bytes of the linked program.\n\n" + text)
    bad = [p for p, r in rows.items() if r["guarded"] > r["local"]]
    if bad:
        print(f"the guarded build is larger than --outliner local: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
