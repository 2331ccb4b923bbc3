"""Brotli's C sources and command-line tool from the `brotli` PyPI sdist: a real program on which global
outlining loses (its two-round `.text` is larger than one round's), for the size guard's benchmark and tests."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.corpus_common import cache_root, fetch_sdist, publish_dir, run_step, target_of
from tools.zig import zig_command, zig_env, zig_version

BROTLI_VERSION = "1.2.1"
BROTLI_SHA256 = "02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de"


def fetch_brotli(cache_dir: str | os.PathLike | None = None) -> Path:
    """The sdist's `c/` directory: common/, dec/, enc/, include/, tools/brotli.c."""
    return fetch_sdist("brotli", BROTLI_VERSION, BROTLI_SHA256, f"brotli-{BROTLI_VERSION}/c",
                       f"brotli-{BROTLI_VERSION}", ("tools/brotli.c", "include/brotli/encode.h"), cache_dir)


def sources(src: Path) -> list[Path]:
    return sorted([*src.glob("common/*.c"), *src.glob("dec/*.c"), *src.glob("enc/*.c"), src / "tools" / "brotli.c"])


def build_bitcode(target: str, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """ThinLTO bitcode of every translation unit (zig cc -O2, as tools/ builds Lua), cached by flags and zig."""
    t = target_of(target)
    cache = cache_root(cache_dir)
    src = fetch_brotli(cache)
    flags = ["-target", t.triple, "-O2", "-g0", "-flto=thin", f"-I{src / 'include'}", f"-ffile-prefix-map={src}=."]
    key = hashlib.sha256(json.dumps([BROTLI_VERSION, zig_version(), flags[:5]]).encode()).hexdigest()[:16]
    out = cache / "bitcode" / f"brotli-{t.name}-{key}"
    units = sources(src)
    objs = [out / f"{p.parent.name}_{p.stem}.o" for p in units]
    if all(o.is_file() for o in objs):
        return objs
    (cache / "bitcode").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache / "bitcode", prefix=".brotli-"))
    try:
        def compile_one(p: Path) -> None:
            run_step([*zig_command(), "cc", *flags, "-c", str(p), "-o", str(tmp / f"{p.parent.name}_{p.stem}.o")],
                     what=f"compiling {p.name}", env=zig_env(cache))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(compile_one, units))
        publish_dir(tmp, out, replace=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return objs
