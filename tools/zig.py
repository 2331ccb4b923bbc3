"""zig as the corpus's compiler: how to run it, and Lua's ThinLTO bitcode built with its clang.

Beware: zig's driver hands clang ``-Os`` for ``-Oz`` (functions get ``optsize``, not ``minsize``, so
AArch64's default machine outliner, which only works on minsize functions, never runs), and
``-mframe-pointer=all`` at x86_64 -O2.  ``build_bitcode(..., cflags=["-Xclang", "-Oz"])`` (CLI:
``--cflag=-Xclang --cflag=-Oz``) gives real -Oz.

Outputs are deterministic and free of absolute paths: the compiler runs in the source directory on
relative file names, and the source directory and zig's installation (which supplies the libc headers)
are rewritten by ``-ffile-prefix-map`` and ``-fdebug-compilation-dir=.``.  ``zig cc`` turns debug info
on by itself at -O2, so the non-debug variants pass an explicit ``-g0``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from tools.corpus_common import (CORPUS_FORMAT, CorpusError, Target, cache_root, dir_spellings, publish_dir,
                                 run_step, target_of)
from tools.lua import LUA_CFLAGS, fetch_lua, lua_sources

def zig_dir() -> Path:
    """The ``ziglang`` package directory (zig's executable and its ``lib/`` with the libc headers)."""
    spec = importlib.util.find_spec("ziglang")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError("the 'ziglang' package is not installed (pip install -e '.[test]')")
    return Path(list(spec.submodule_search_locations)[0])


def zig_command() -> list[str]:
    """How to run zig: its executable directly (what ``python -m ziglang`` execs), else through Python."""
    exe = zig_dir() / ("zig.exe" if os.name == "nt" else "zig")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "ziglang"]


@functools.lru_cache(maxsize=None)
def zig_version() -> str:
    return run_step([*zig_command(), "version"], what="zig version").stdout.strip()


def zig_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = env["ZIG_LOCAL_CACHE_DIR"] = str(cache_dir / "zig")
    env.pop("ZIG_VERBOSE_LINK", None)
    env.pop("ZIG_VERBOSE_CC", None)
    env.update(extra)
    return env


def compile_flags(target: str | Target, debug: bool = False, cflags: Sequence[str] = ()) -> list[str]:
    """The flags that decide the output (the path-rewriting flags are added by :func:`build_bitcode`)."""
    t = target_of(target)
    return ["-target", t.triple, t.opt, "-g" if debug else "-g0", *LUA_CFLAGS, *cflags]


def _prefix_map_flags(src_dir: Path) -> list[str]:
    flags = [f"-ffile-prefix-map={s}=zig" for s in dir_spellings(zig_dir())]
    flags += [f"-ffile-prefix-map={s}=." for s in dir_spellings(src_dir)]
    return flags + ["-fdebug-compilation-dir=."]


def bitcode_key(target: str | Target, src_dir: Path, debug: bool = False, cflags: Sequence[str] = ()) -> str:
    """Hash of everything that decides the bitcode: sources and headers, flags, zig version."""
    h = hashlib.sha256()
    meta = {"format": CORPUS_FORMAT, "zig": zig_version(), "flags": compile_flags(target, debug, cflags),
            "units": [p.name for p in lua_sources(src_dir)]}
    h.update(json.dumps(meta, sort_keys=True).encode())
    for p in sorted([*src_dir.glob("*.c"), *src_dir.glob("*.h")]):
        h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()



def build_bitcode(target: str | Target, cache_dir: str | os.PathLike | None = None,
                  debug: bool = False, jobs: int | None = None, cflags: Sequence[str] = (),
                  src_dir: Path | None = None) -> list[Path]:
    """ThinLTO bitcode of every Lua translation unit for ``target`` ("x86_64" or "aarch64").

    Cached by :func:`bitcode_key`: a repeated call only hashes the sources.  The objects are checked to
    contain none of the absolute directories involved (sources, zig, cache).  ``cflags`` are appended to
    the compile flags (e.g. ``["-Xclang", "-Oz"]``: zig's driver turns ``-Oz`` into clang's ``-Os``, so
    the aarch64 bitcode has ``optsize`` but not ``minsize`` unless -Oz is also passed to cc1 directly).
    """
    cflags = list(cflags)
    t = target_of(target)
    cache = cache_root(cache_dir)
    src_dir = src_dir or fetch_lua(cache)
    srcs = lua_sources(src_dir)
    key = bitcode_key(t, src_dir, debug, cflags)
    out_dir = cache / "bitcode" / f"{t.name}{'-g' if debug else ''}-{key[:16]}"
    objs = [out_dir / f"{s.stem}.o" for s in srcs]
    if (out_dir / "manifest.json").is_file() and all(o.is_file() for o in objs):
        return objs

    (cache / "bitcode").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache / "bitcode", prefix=f".{t.name}-"))
    try:
        base = [*zig_command(), "cc", *compile_flags(t, debug, cflags), *_prefix_map_flags(src_dir)]
        env = zig_env(cache)

        def compile_one(src: Path) -> None:
            proc = run_step([*base, "-c", src.name, "-o", str(tmp / f"{src.stem}.o")], what=f"compiling {src.name}",
                        cwd=src_dir, env=env)
            if proc.stderr.strip():
                sys.stderr.write(proc.stderr)

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            list(pool.map(compile_one, srcs))

        forbidden = {s.encode() for d in (src_dir, zig_dir(), cache) for s in dir_spellings(d)}
        for src in srcs:
            data = (tmp / f"{src.stem}.o").read_bytes()
            for bad in forbidden:
                if bad in data:
                    raise CorpusError(f"{src.stem}.o for {t.name} contains the absolute path {bad.decode()}")
        manifest = {"target": t.triple, "flags": compile_flags(t, debug, cflags), "zig": zig_version(),
                    "objects": [f"{s.stem}.o" for s in srcs]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        publish_dir(tmp, out_dir, replace=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return objs
