#!/usr/bin/env python3
"""Lua 5.4 as a real-world test corpus: ThinLTO bitcode, linking, .text size and Lua's own test suite.

The command line, and the one module tests and benchmarks import: the work lives in tools/lua.py (Lua's
sources and test suite), tools/zig.py (the compiler and the bitcode), tools/linking.py (linking as zig cc
does, .text size) and tools/corpus_common.py (targets, cache, errors), whose names are re-exported here.

Everything is cached under one directory (default ``$TWOPASS_CORPUS_CACHE``, else
``$XDG_CACHE_HOME/twopass-corpus``, else ``~/.cache/twopass-corpus``), never in the repository:

    downloads/lupa-2.8.tar.gz          the sdist (pip download, sha256-checked)
    lua54-lupa-2.8/                    Lua's sources and testes/, extracted once
    zig/                               zig's global and local cache (crt, libc stubs, compiler_rt)
    bitcode/<target>[-g]-<hash>/*.o    ThinLTO bitcode, keyed by sources + flags + zig version
    link/<target>-<hash>.json          zig's ld.lld command line for the target, captured once
    bin/                               executables the CLI links

Targets (the flags the demo corpus in ``data/`` uses):

    x86_64    -target x86_64-linux-gnu   -O2   (runs natively)
    aarch64   -target aarch64-linux-musl -Oz   (static; runs under qemu-aarch64-static)

Usage:
    python tools/corpus.py fetch                                   # print the Lua source dir
    python tools/corpus.py bitcode --target x86_64 [--debug] [--cflag F]...  # print the bitcode paths
    python tools/corpus.py lld-thinlto --target aarch64 [--two-rounds] [--icf] [--jobs N] [-- LLD_ARGS]
    python tools/corpus.py link --target x86_64 OBJ... -o OUT [--icf] [--two-rounds]
    python tools/corpus.py test --target x86_64 LUA_EXE           # run the test suite on an executable
    python tools/corpus.py text-size EXE
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

if not __package__:  # run as `python tools/corpus.py`: import `tools` (and twopass) from this checkout
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from tools.corpus_common import (CORPUS_FORMAT, TARGETS, CorpusError, Target, cache_root,  # noqa: E402,F401
                                 default_cache_dir, target_of)
from tools.linking import (OBJECTS_PLACEHOLDER, OUTPUT_PLACEHOLDER, is_bitcode, link,  # noqa: E402,F401
                           link_template, relocation_flags, text_size)
from tools.lua import (EXCLUDED_SOURCES, LUA_CFLAGS, LUPA_SDIST, LUPA_SDIST_SHA256, LUPA_VERSION,  # noqa: E402,F401
                       MUSL_LOCALE_SHIM, PASS_MARKER, edit_sources, fetch_lua, lua_sources, lua_test_command,
                       run_lua_tests, runner_for)
from tools.zig import (bitcode_key, build_bitcode, compile_flags, zig_command, zig_dir, zig_env,  # noqa: E402,F401
                       zig_version)


def _add_common(p: argparse.ArgumentParser, target: bool = True) -> None:
    if target:
        p.add_argument("--target", choices=sorted(TARGETS), default="x86_64")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help=f"cache directory (default {default_cache_dir()})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="corpus.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("fetch", help="download and extract Lua once; print its source directory")
    _add_common(p, target=False)

    p = sub.add_parser("bitcode", help="build (or reuse) the ThinLTO bitcode; print one path a line")
    _add_common(p)
    p.add_argument("--debug", action="store_true", help="-g instead of -g0")
    p.add_argument("--cflag", action="append", default=[], help="an extra compile flag (repeatable)")

    p = sub.add_parser("lld-thinlto", help="link Lua's bitcode with lld's in-process ThinLTO and run the tests")
    _add_common(p)
    p.add_argument("--debug", action="store_true", help="use the -g bitcode")
    p.add_argument("--cflag", action="append", default=[], help="an extra compile flag (repeatable)")
    p.add_argument("--two-rounds", action="store_true", help="-mllvm -codegen-data-thinlto-two-rounds")
    p.add_argument("--icf", action="store_true", help="--icf=all")
    p.add_argument("--jobs", type=int, default=2, help="--thinlto-jobs (default 2)")
    p.add_argument("--no-test", action="store_true", help="only link and print the .text size")
    p.add_argument("-o", "--output", type=Path, help="executable (default under <cache>/bin/)")
    p.add_argument("extra", nargs="*", help="extra ld.lld arguments (after --)")

    p = sub.add_parser("link", help="link objects (native or bitcode) exactly as zig cc would")
    _add_common(p)
    p.add_argument("objects", nargs="+", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--icf", action="store_true", help="--icf=all")
    p.add_argument("--two-rounds", action="store_true", help="-mllvm -codegen-data-thinlto-two-rounds")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--extra", action="append", default=[], help="an extra ld.lld argument (repeatable)")

    p = sub.add_parser("test", help="run Lua's test suite with an executable")
    _add_common(p)
    p.add_argument("lua", type=Path)
    p.add_argument("--timeout", type=float, default=600)

    p = sub.add_parser("text-size", help="print the .text size of an ELF file in bytes")
    p.add_argument("file", type=Path)

    args = ap.parse_args(argv)
    try:
        return _dispatch(args)
    except (CorpusError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _report_tests(lua: Path, target: str, cache_dir: Path | None, timeout: float = 600) -> bool:
    start = time.monotonic()
    passed, tail = run_lua_tests(lua, target, cache_dir, timeout=timeout)
    took = time.monotonic() - start
    print(f"tests: {'PASS' if passed else 'FAIL'} ({took:.2f} s)")
    if not passed:
        print(f"command (in a copy of testes/): {' '.join(lua_test_command(lua, target))}")
        print(tail)
    return passed


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "text-size":
        print(text_size(args.file))
        return 0
    if args.cmd == "fetch":
        print(fetch_lua(args.cache_dir))
        return 0
    if args.cmd == "bitcode":
        start = time.monotonic()
        for obj in build_bitcode(args.target, args.cache_dir, debug=args.debug, cflags=args.cflag):
            print(obj)
        print(f"bitcode for {args.target}: {time.monotonic() - start:.2f} s", file=sys.stderr)
        return 0
    if args.cmd == "link":
        out = link(args.objects, args.output, args.target, icf=args.icf, extra=args.extra,
                   thinlto_two_rounds=args.two_rounds, jobs=args.jobs, cache_dir=args.cache_dir)
        print(f"{out}: .text {text_size(out)} bytes")
        return 0
    if args.cmd == "test":
        return 0 if _report_tests(args.lua, args.target, args.cache_dir, args.timeout) else 1
    if args.cmd == "lld-thinlto":
        cache = cache_root(args.cache_dir)
        start = time.monotonic()
        objs = build_bitcode(args.target, cache, debug=args.debug, cflags=args.cflag)
        built = time.monotonic()
        cflags_tag = [hashlib.sha256("\0".join(args.cflag).encode()).hexdigest()[:8]] if args.cflag else []
        name = "-".join(["lua", args.target, "lld", *(["g"] if args.debug else []), *cflags_tag,
                         *(["2r"] if args.two_rounds else []), *(["icf"] if args.icf else [])])
        out = args.output or cache / "bin" / name
        link(objs, out, args.target, icf=args.icf, extra=args.extra, thinlto_two_rounds=args.two_rounds,
             jobs=args.jobs, cache_dir=cache)
        linked = time.monotonic()
        print(f"executable: {out}")
        print(f"bitcode: {len(objs)} modules ({built - start:.2f} s)")
        print(f"link: lld ThinLTO{' two rounds' if args.two_rounds else ''}{' --icf=all' if args.icf else ''}"
              f" ({linked - built:.2f} s)")
        print(f".text: {text_size(out)} bytes")
        if args.no_test:
            return 0
        return 0 if _report_tests(out, args.target, cache) else 1
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
