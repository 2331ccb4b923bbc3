#!/usr/bin/env python3
"""Lua 5.4 as a real-world test corpus: ThinLTO bitcode, linking, .text size and Lua's own test suite.

Lua 5.4 (with its official test suite, ``testes/``) is taken from the ``lupa`` source distribution on PyPI,
which vendors it at ``lupa-2.8/third-party/lua54/``.  Everything below is cached under one directory
(default ``$TWOPASS_CORPUS_CACHE``, else ``$XDG_CACHE_HOME/twopass-corpus``, else
``~/.cache/twopass-corpus``), never in the repository:

    downloads/lupa-2.8.tar.gz          the sdist (pip download, sha256-checked)
    lua54-lupa-2.8/                    Lua's sources and testes/, extracted once
    zig/                               zig's global and local cache (crt, libc stubs, compiler_rt)
    bitcode/<target>[-g]-<hash>/*.o    ThinLTO bitcode, keyed by sources + flags + zig version
    link/<target>-<hash>.json          zig's ld.lld command line for the target, captured once
    bin/                               executables the CLI links

Targets (the flags the demo corpus in ``data/`` uses):

    x86_64    -target x86_64-linux-gnu   -O2   (runs natively)
    aarch64   -target aarch64-linux-musl -Oz   (static; runs under qemu-aarch64-static)

Beware: zig's driver hands clang ``-Os`` for ``-Oz`` (functions get ``optsize``, not ``minsize``, so
AArch64's default machine outliner, which only works on minsize functions, never runs), and
``-mframe-pointer=all`` at x86_64 -O2.  ``build_bitcode(..., cflags=["-Xclang", "-Oz"])`` (CLI:
``--cflag=-Xclang --cflag=-Oz``) gives real -Oz.

Lua is built from every ``*.c`` except ``onelua.c`` (an amalgamation), ``ltests.c`` (internal-test
library) and ``luac.c`` (the other ``main``), with ``-std=gnu99 -DLUA_USE_LINUX`` (Lua's own Linux
configuration minus readline; ``dlopen`` resolves in glibc and is a failing stub in static musl, so the
same flags build and pass on both targets).  Outputs are deterministic and free of absolute paths: the
compiler runs in the source directory on relative file names, and the source directory and zig's
installation (which supplies the libc headers) are rewritten by ``-ffile-prefix-map`` and
``-fdebug-compilation-dir=.``.  ``zig cc`` turns debug info on by itself at -O2, so the non-debug
variants pass an explicit ``-g0``.

Linking reproduces ``zig cc -target T <opt> OBJS -o OUT`` exactly (byte-identical output): zig's ld.lld
command line is captured once per target with ``ZIG_VERBOSE_LINK=1`` and replayed through
``zig ld.lld``, so flags zig's driver refuses (``--icf=all``, ``-mllvm ...``) can be added.  Bitcode
inputs make lld run ThinLTO in process; ``-mllvm -codegen-data-thinlto-two-rounds`` makes it run
codegen twice, the second round using the codegen data of the first.

The test suite runs as ``lua -e"_U=true" all.lua`` inside a fresh copy of ``testes/`` ("user tests":
``_soft``, ``_port`` and ``_nomsg``, which skip main.lua, big.lua and non-portable parts).  One
adjustment, for musl only (the aarch64 target): literals.lua tests the decimal comma with
``if os.setlocale("pt_BR") or os.setlocale("ptb") then ... end`` — a check that the locale exists,
which is not guarded by ``_port``.  musl's setlocale accepts *every* name (it has no locale data; the
decimal point stays '.'), so the check passes and the test fails.  We load a one-line shim that makes
``os.setlocale`` report failure for names other than "C", "POSIX" and "" (what glibc does for a
locale that is not installed), so the block is skipped exactly as on a system without pt_BR; nothing
else changes.  strings.lua's locale tests are already skipped by ``_port``.

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
import functools
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

# Bump when anything here changes what build_bitcode or the link template would produce.
CORPUS_FORMAT = 1

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


@dataclass(frozen=True)
class Target:
    name: str
    triple: str
    opt: str  # used to compile and to link (zig's link line depends on it: --gc-sections, -s, ...)
    machine: str  # platform.machine() of a host that runs it natively
    qemu: tuple[str, ...]  # user-mode emulators that run it elsewhere, first found wins
    musl: bool


TARGETS: dict[str, Target] = {
    "x86_64": Target("x86_64", "x86_64-linux-gnu", "-O2", "x86_64", ("qemu-x86_64-static", "qemu-x86_64"),
                     musl=False),
    "aarch64": Target("aarch64", "aarch64-linux-musl", "-Oz", "aarch64", ("qemu-aarch64-static", "qemu-aarch64"),
                      musl=True),
}


class CorpusError(RuntimeError):
    """A step of the corpus tooling failed; the message says which and why."""


# --------------------------------------------------------------------------------------------------
# Small helpers


def _target(target: str | Target) -> Target:
    if isinstance(target, Target):
        return target
    try:
        return TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})") from None


def default_cache_dir() -> Path:
    """``$TWOPASS_CORPUS_CACHE``, else ``$XDG_CACHE_HOME/twopass-corpus``, else ``~/.cache/twopass-corpus``."""
    explicit = os.environ.get("TWOPASS_CORPUS_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "twopass-corpus"


def _cache(cache_dir: str | os.PathLike | None) -> Path:
    path = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = path.expanduser().absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dir_spellings(path: Path) -> list[str]:
    """The absolute spellings of ``path`` a tool might see (as given, symlinks resolved), longest first."""
    return sorted({os.path.abspath(path), os.path.realpath(path)}, key=len, reverse=True)


def _run(cmd: Sequence[str], *, what: str, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-4000:]
        raise CorpusError(f"{what} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    return proc


def _publish_dir(tmp: Path, final: Path) -> None:
    """Atomically move a finished directory into place; if another process won the race, keep theirs."""
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# zig


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
    return _run([*zig_command(), "version"], what="zig version").stdout.strip()


def zig_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = env["ZIG_LOCAL_CACHE_DIR"] = str(cache_dir / "zig")
    env.pop("ZIG_VERBOSE_LINK", None)
    env.pop("ZIG_VERBOSE_CC", None)
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------------
# 1. Lua sources


def fetch_lua(cache_dir: str | os.PathLike | None = None) -> Path:
    """The Lua 5.4 source directory (``*.c``, ``*.h``, ``testes/``), downloaded and extracted once.

    The lupa sdist is fetched with pip (``--no-binary lupa`` gets the same file as ``--no-binary
    :all:`` but lets pip use wheels for lupa's build requirements while it prepares metadata: about a
    minute instead of four) and checked against a pinned sha256.  An sdist already present in
    ``<cache>/downloads/`` is used without pip.
    """
    cache = _cache(cache_dir)
    dest = cache / LUA_DIRNAME
    if (dest / "lua.h").is_file() and (dest / "testes" / "all.lua").is_file():
        return dest

    downloads = cache / "downloads"
    sdist = downloads / LUPA_SDIST
    if not sdist.is_file() or _sha256_file(sdist) != LUPA_SDIST_SHA256:
        downloads.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=downloads, prefix=".pip-") as tmp:
            _run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                  "--no-binary", "lupa", f"lupa=={LUPA_VERSION}", "-d", tmp], what="pip download of the lupa sdist")
            got = Path(tmp) / LUPA_SDIST
            if not got.is_file():
                raise CorpusError(f"pip download did not produce {LUPA_SDIST} (got {os.listdir(tmp)})")
            digest = _sha256_file(got)
            if digest != LUPA_SDIST_SHA256:
                raise CorpusError(f"{LUPA_SDIST}: sha256 {digest}, expected {LUPA_SDIST_SHA256}")
            os.replace(got, sdist)

    prefix = LUA_IN_SDIST + "/"
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".lua54-"))
    try:
        with tarfile.open(sdist) as tar:
            members = []
            for m in tar.getmembers():
                if not m.name.startswith(prefix) or not (m.isfile() or m.isdir()):
                    continue
                m.name = m.name[len(prefix):]
                members.append(m)
            if not members:
                raise CorpusError(f"{sdist}: no {LUA_IN_SDIST}/ in the archive")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, members=members, filter="data")
            else:  # Python < 3.11.4: members are plain files and directories with relative names
                tar.extractall(tmp, members=members)
        if not (tmp / "lua.h").is_file() or not (tmp / "testes" / "all.lua").is_file():
            raise CorpusError(f"{sdist}: {LUA_IN_SDIST}/ lacks lua.h or testes/all.lua")
        if dest.exists():  # incomplete: replace it
            shutil.rmtree(dest)
        _publish_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def lua_sources(src_dir: Path) -> list[Path]:
    """The translation units of the ``lua`` executable, sorted by name."""
    srcs = sorted(p for p in src_dir.glob("*.c") if p.name not in EXCLUDED_SOURCES)
    if not srcs:
        raise CorpusError(f"no Lua sources in {src_dir}")
    return srcs


# --------------------------------------------------------------------------------------------------
# 2. Bitcode


def compile_flags(target: str | Target, debug: bool = False, cflags: Sequence[str] = ()) -> list[str]:
    """The flags that decide the output (the path-rewriting flags are added by :func:`build_bitcode`)."""
    t = _target(target)
    return ["-target", t.triple, t.opt, "-g" if debug else "-g0", *LUA_CFLAGS, *cflags]


def _prefix_map_flags(src_dir: Path) -> list[str]:
    flags = [f"-ffile-prefix-map={s}=zig" for s in _dir_spellings(zig_dir())]
    flags += [f"-ffile-prefix-map={s}=." for s in _dir_spellings(src_dir)]
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


def edit_sources(edits: dict[str, Sequence[tuple[str, str]]], cache_dir: str | os.PathLike | None = None,
                 drop: Sequence[str] = ()) -> Path:
    """A copy of Lua's sources with ``edits`` applied ({file: [(old, new), ...]}, every occurrence of each
    ``old``, which must occur) and the files in ``drop`` removed; cached by the edits, for
    :func:`build_bitcode`'s ``src_dir``."""
    cache = _cache(cache_dir)
    src = fetch_lua(cache)
    key = hashlib.sha256(json.dumps([sorted((k, list(map(list, v))) for k, v in edits.items()), sorted(drop)])
                         .encode()).hexdigest()[:16]
    out = cache / "edited" / key
    if (out / ".complete").is_file():
        return out
    tmp = Path(tempfile.mkdtemp(dir=_mkdirs(cache / "edited"), prefix=".edit-"))
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
        if out.exists():
            shutil.rmtree(out)
        _publish_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _mkdirs(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    t = _target(target)
    cache = _cache(cache_dir)
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
            proc = _run([*base, "-c", src.name, "-o", str(tmp / f"{src.stem}.o")], what=f"compiling {src.name}",
                        cwd=src_dir, env=env)
            if proc.stderr.strip():
                sys.stderr.write(proc.stderr)

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            list(pool.map(compile_one, srcs))

        forbidden = {s.encode() for d in (src_dir, zig_dir(), cache) for s in _dir_spellings(d)}
        for src in srcs:
            data = (tmp / f"{src.stem}.o").read_bytes()
            for bad in forbidden:
                if bad in data:
                    raise CorpusError(f"{src.stem}.o for {t.name} contains the absolute path {bad.decode()}")
        manifest = {"target": t.triple, "flags": compile_flags(t, debug, cflags), "zig": zig_version(),
                    "objects": [f"{s.stem}.o" for s in srcs]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        if out_dir.exists():  # incomplete (files deleted by hand): replace it
            shutil.rmtree(out_dir)
        _publish_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return objs


# --------------------------------------------------------------------------------------------------
# 3. Linking

OBJECTS_PLACEHOLDER = "{objects}"
OUTPUT_PLACEHOLDER = "{output}"


def _capture_link_template(t: Target, cache: Path) -> list[str]:
    """zig's final ld.lld argv for ``zig cc -target T <opt> IN.o -o OUT``, with placeholders.

    zig is run in its cache directory on relative names, so the line it prints has no spaces in paths
    and splits cleanly; every path in it is then made absolute.
    """
    zig_cache = cache / "zig"
    zig_cache.mkdir(parents=True, exist_ok=True)
    env = zig_env(cache)
    with tempfile.TemporaryDirectory(dir=zig_cache, prefix="capture-") as tmp:
        rel = Path(tmp).name
        (Path(tmp) / "m.c").write_text("int main(void) { return 0; }\n")
        _run([*zig_command(), "cc", "-target", t.triple, t.opt, "-c", f"{rel}/m.c", "-o", f"{rel}/m.o"],
             what="compiling the link probe", cwd=zig_cache, env=env)
        proc = _run([*zig_command(), "cc", "-target", t.triple, t.opt, f"{rel}/m.o", "-o", f"{rel}/m"],
                    what=f"zig cc link for {t.triple}", cwd=zig_cache, env=dict(env, ZIG_VERBOSE_LINK="1"))
        for line in proc.stderr.splitlines():
            argv = line.split()
            if not argv or os.path.basename(argv[0]) != "ld.lld":
                continue
            if any(a == "-o" and b == f"{rel}/m" for a, b in zip(argv, argv[1:])):
                break
        else:
            raise CorpusError(f"no ld.lld line for {rel}/m in zig's verbose link output:\n{proc.stderr[-4000:]}")

    template = []
    for arg in argv[1:]:
        if arg == f"{rel}/m.o":
            template.append(OBJECTS_PLACEHOLDER)
        elif arg == f"{rel}/m":
            template.append(OUTPUT_PLACEHOLDER)
        elif not arg.startswith("-") and not os.path.isabs(arg) and (zig_cache / arg).exists():
            template.append(str(zig_cache / arg))
        else:
            template.append(arg)
    if template.count(OBJECTS_PLACEHOLDER) != 1 or template.count(OUTPUT_PLACEHOLDER) != 1:
        raise CorpusError(f"cannot make a template of zig's link line: {' '.join(argv)}")
    return template


def _template_files(template: Iterable[str]) -> list[str]:
    return [a for a in template if os.path.isabs(a) and not a.startswith("-") and a not in ("/",)]


def link_template(target: str | Target, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """zig's ld.lld arguments for ``target`` (without ``ld.lld``), with ``{objects}`` / ``{output}``.

    Captured once and stored under ``<cache>/link/``; captured again when zig changed or any file it
    references (crt1.o, libc stubs, compiler_rt in zig's cache) has gone.
    """
    t = _target(target)
    cache = _cache(cache_dir)
    key = hashlib.sha256(json.dumps([CORPUS_FORMAT, zig_version(), t.triple, t.opt, str(cache)]).encode())
    path = cache / "link" / f"{t.name}-{key.hexdigest()[:16]}.json"
    if path.is_file():
        try:
            template = json.loads(path.read_text())["argv"]
        except (ValueError, KeyError):
            template = None
        if template and all(os.path.exists(f) for f in _template_files(template) if f.startswith(str(cache))):
            return template
    template = _capture_link_template(t, cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"target": t.triple, "opt": t.opt, "zig": zig_version(), "argv": template}, indent=1))
    os.replace(tmp, path)
    return template


BITCODE_MAGICS = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")  # raw bitcode, bitcode wrapper


def is_bitcode(path: str | os.PathLike) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in BITCODE_MAGICS


def link(objects: Sequence[str | os.PathLike], output: str | os.PathLike, target: str | Target, icf: bool = False,
         extra: Sequence[str] = (), thinlto_two_rounds: bool = False, jobs: int = 2,
         cache_dir: str | os.PathLike | None = None, command_only: bool = False):
    """Link ``objects`` into the executable ``output`` exactly as ``zig cc -target T <opt>`` would.

    Native objects and bitcode both work (also mixed); with bitcode, lld runs ThinLTO in process with
    ``--thinlto-jobs=jobs``.  ``icf`` adds ``--icf=all``; ``thinlto_two_rounds`` adds
    ``-mllvm -codegen-data-thinlto-two-rounds`` (bitcode inputs only); ``extra`` is appended verbatim
    (lld options, e.g. ``["-mllvm", "-enable-machine-outliner"]``).

    Two rounds only change anything where the machine outliner (or ``-enable-global-merge-func``)
    runs, which with zig's flags is nowhere by default (see the module docstring); where it runs, the
    second round outlines sequences seen in other modules into per-module copies that only
    ``--icf=all`` folds, so without ICF the .text grows.

    ``command_only`` returns ``(argv, env)`` of the ld.lld run instead of running it (for benchmarks).
    """
    t = _target(target)
    cache = _cache(cache_dir)
    objs = [os.path.abspath(o) for o in objects]
    if not objs:
        raise ValueError("link: no objects")
    for o in objs:
        if not os.path.isfile(o):
            raise CorpusError(f"link: no such file: {o}")
    any_bitcode = any(is_bitcode(o) for o in objs)
    any_archive = any(o.endswith(".a") for o in objs)
    if thinlto_two_rounds and not (any_bitcode or any_archive):
        raise ValueError("link: thinlto_two_rounds needs bitcode inputs (lld's in-process ThinLTO)")
    out = Path(output).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)

    argv: list[str] = []
    for arg in link_template(t, cache):
        if arg == OBJECTS_PLACEHOLDER:
            argv.extend(objs)
        elif arg == OUTPUT_PLACEHOLDER:
            argv.append(str(out))
        else:
            argv.append(arg)
    if any_bitcode or any_archive:
        argv.append(f"--thinlto-jobs={jobs}")
    if thinlto_two_rounds:
        argv += ["-mllvm", "-codegen-data-thinlto-two-rounds"]
    if icf:
        argv.append("--icf=all")
    argv.extend(extra)
    cmd, env = [*zig_command(), "ld.lld", *argv], zig_env(cache)
    if command_only:
        return cmd, env
    proc = _run(cmd, what=f"linking {out.name} for {t.triple}", env=env)
    sys.stdout.write(proc.stdout)  # e.g. --print-icf-sections, --print-gc-sections
    sys.stderr.write(proc.stderr)  # warnings
    return out


# --------------------------------------------------------------------------------------------------
# 4. .text size


def _elf_sections(data: bytes) -> dict[str, tuple[int, int, int]]:
    """name -> (sh_type, sh_offset, sh_size) from an ELF file's section headers (32/64-bit, either endian)."""
    if data[:4] != b"\x7fELF":
        raise CorpusError("not an ELF file")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise CorpusError(f"unsupported ELF class/data {ei_class}/{ei_data}")
    end = "<" if ei_data == 1 else ">"
    if ei_class == 2:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        shdr = end + "IIQQQQIIQQ"  # name type flags addr offset size link info addralign entsize
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        shdr = end + "IIIIIIIIII"
    if shoff == 0:
        return {}
    if shentsize < struct.calcsize(shdr) or shoff + shentsize > len(data):
        raise CorpusError("truncated or malformed ELF section header table")

    def header(i: int) -> tuple[int, ...]:
        off = shoff + i * shentsize
        if off + shentsize > len(data):
            raise CorpusError("truncated ELF section header table")
        return struct.unpack_from(shdr, data, off)

    first = header(0)
    if shnum == 0:  # more than 0xff00 sections: the count is in section 0's sh_size
        shnum = first[5]
    if shstrndx == 0xFFFF:  # SHN_XINDEX: the index is in section 0's sh_link
        shstrndx = first[6]
    if not 0 < shstrndx < shnum:
        raise CorpusError("ELF file has no section name table")
    strtab = header(shstrndx)
    names = data[strtab[4]:strtab[4] + strtab[5]]
    sections = {}
    for i in range(shnum):
        h = header(i)
        name_end = names.find(b"\0", h[0])
        name = names[h[0]:name_end if name_end >= 0 else len(names)].decode("utf-8", "replace")
        sections.setdefault(name, (h[1], h[4], h[5]))
    return sections


def text_size(executable: str | os.PathLike) -> int:
    """Size in bytes of the ``.text`` section (pure Python; agrees with ``llvm-readelf -S``)."""
    sections = _elf_sections(Path(executable).read_bytes())
    if ".text" not in sections:
        raise CorpusError(f"{executable}: no .text section")
    return sections[".text"][2]


# --------------------------------------------------------------------------------------------------
# 5. Lua's test suite


def runner_for(target: str | Target) -> list[str] | None:
    """The command prefix that runs ``target`` executables here ([] natively), or None if nothing can."""
    t = _target(target)
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
    t = _target(target)
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
    t = _target(target)
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


# --------------------------------------------------------------------------------------------------
# 6. Command line


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
        cache = _cache(args.cache_dir)
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
