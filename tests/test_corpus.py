"""tools/corpus.py: Lua 5.4 as a corpus — bitcode, linking as zig cc does, .text size, Lua's own test suite.

The slow tests download the lupa sdist once (into the corpus cache, see ``corpus.default_cache_dir``),
build Lua with zig's clang and run Lua's test suite, natively on x86_64 and under qemu-aarch64-static
for AArch64.  Run ``pytest -s -k corpus`` to see the timings and .text sizes they print.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import corpus, lua  # noqa: E402

needs_zig = pytest.mark.skipif(importlib.util.find_spec("ziglang") is None,
                               reason="the ziglang package (zig's clang and lld) is not installed")


def needs_runner(target: str) -> None:
    if corpus.runner_for(target) is None:
        pytest.skip(f"cannot run {target} executables here (no qemu-user-static)")


# --------------------------------------------------------------------------------------------------
# Fast: ELF parsing, bitcode detection, configuration


def make_elf(sections: list[tuple[str, int, bytes]], *, bits: int = 64, big_endian: bool = False) -> bytes:
    """A minimal relocatable ELF with the given (name, sh_type, contents) sections and a .shstrtab."""
    end = ">" if big_endian else "<"
    names = b"\0"
    name_offsets = []
    for name, _, _ in sections + [(".shstrtab", 3, b"")]:
        name_offsets.append(len(names))
        names += name.encode() + b"\0"
    ehsize, shentsize = (64, 64) if bits == 64 else (52, 40)
    body = b""
    offsets = []
    for _, _, data in sections:
        offsets.append(ehsize + len(body))
        body += data
    offsets.append(ehsize + len(body))
    body += names
    shoff = ehsize + len(body)
    shnum = len(sections) + 2  # null + sections + shstrtab
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 2 if big_endian else 1, 1]) + b"\0" * 9
    if bits == 64:
        header = ident + struct.pack(end + "HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, ehsize, 0, 0, shentsize,
                                     shnum, shnum - 1)
        fmt = end + "IIQQQQIIQQ"
    else:
        header = ident + struct.pack(end + "HHIIIIIHHHHHH", 1, 3, 1, 0, 0, shoff, 0, ehsize, 0, 0, shentsize,
                                     shnum, shnum - 1)
        fmt = end + "IIIIIIIIII"
    shdrs = struct.pack(fmt, *[0] * 10)
    all_sections = sections + [(".shstrtab", 3, names)]
    for i, (_, sh_type, data) in enumerate(all_sections):
        shdrs += struct.pack(fmt, name_offsets[i], sh_type, 0, 0, offsets[i], len(data), 0, 0, 1, 0)
    assert len(header) == ehsize
    return header + body + shdrs


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("big_endian", [False, True])
def test_text_size_reads_section_headers(tmp_path, bits, big_endian):
    elf = make_elf([(".data", 1, b"d" * 7), (".text", 1, b"\x90" * 1234), (".text.unlikely", 1, b"x" * 5)],
                   bits=bits, big_endian=big_endian)
    path = tmp_path / "a.o"
    path.write_bytes(elf)
    assert corpus.text_size(path) == 1234


def test_text_size_refuses_non_elf_and_missing_text(tmp_path):
    (tmp_path / "not-elf").write_bytes(b"#!/bin/sh\n")
    with pytest.raises(corpus.CorpusError, match="not an ELF"):
        corpus.text_size(tmp_path / "not-elf")
    (tmp_path / "no-text").write_bytes(make_elf([(".data", 1, b"1234")]))
    with pytest.raises(corpus.CorpusError, match="no .text"):
        corpus.text_size(tmp_path / "no-text")


def test_is_bitcode_on_the_demo_corpus(tmp_path):
    objs = sorted((ROOT / "data" / "x86_64").glob("*.o"))
    assert objs and all(corpus.is_bitcode(o) for o in objs)
    (tmp_path / "elf.o").write_bytes(make_elf([(".text", 1, b"\xc3")]))
    assert not corpus.is_bitcode(tmp_path / "elf.o")


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("TWOPASS_CORPUS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert corpus.default_cache_dir() == tmp_path / "xdg" / "twopass-corpus"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert corpus.default_cache_dir() == Path.home() / ".cache" / "twopass-corpus"
    monkeypatch.setenv("TWOPASS_CORPUS_CACHE", str(tmp_path / "explicit"))
    assert corpus.default_cache_dir() == tmp_path / "explicit"


def test_test_command_shims_setlocale_for_musl_only(monkeypatch):
    def runner_for(target):
        return ["qemu"] if corpus.target_of(target).name == "aarch64" else []

    monkeypatch.setattr(lua, "runner_for", runner_for)
    x86 = corpus.lua_test_command("lua", "x86_64")
    arm = corpus.lua_test_command("lua", "aarch64")
    assert x86 == [os.path.abspath("lua"), "-e", "_U=true", "all.lua"]
    assert arm == ["qemu", os.path.abspath("lua"), "-e", "_U=true", "-e", corpus.MUSL_LOCALE_SHIM, "all.lua"]
    monkeypatch.setattr(lua, "runner_for", lambda target: None)
    with pytest.raises(corpus.CorpusError, match="qemu"):
        corpus.lua_test_command("lua", "aarch64")
    with pytest.raises(ValueError, match="unknown target"):
        corpus.compile_flags("riscv64")


# --------------------------------------------------------------------------------------------------
# Slow: the real corpus


@pytest.fixture(scope="session")
def cache() -> Path:
    """The shared corpus cache (downloaded and built once, reused by later runs)."""
    if importlib.util.find_spec("ziglang") is None:
        pytest.skip("the ziglang package is not installed")
    path = corpus.default_cache_dir()
    corpus.fetch_lua(path)
    return path


def fresh_cache(cache: Path, where: Path) -> Path:
    """An empty cache directory seeded only with the sdist (so no second download)."""
    (where / "downloads").mkdir(parents=True)
    shutil.copy2(cache / "downloads" / corpus.LUPA_SDIST, where / "downloads" / corpus.LUPA_SDIST)
    return where


@pytest.mark.slow
@needs_zig
def test_fetch_lua_gives_sources_and_testes(cache):
    src = corpus.fetch_lua(cache)
    names = {p.name for p in corpus.lua_sources(src)}
    assert len(names) == 33 and {"lvm.c", "lua.c", "lapi.c"} <= names
    assert not names & corpus.EXCLUDED_SOURCES
    assert (src / "testes" / "all.lua").is_file()
    assert '"5"' in (src / "lua.h").read_text() and 'LUA_VERSION_MINOR\t"4"' in (src / "lua.h").read_text()


@pytest.mark.slow
@needs_zig
@pytest.mark.parametrize("target,debug", [("x86_64", False), ("aarch64", False), ("x86_64", True)],
                         ids=["x86_64", "aarch64", "x86_64-g"])
def test_bitcode_is_deterministic_and_path_free(cache, tmp_path, target, debug):
    """Two builds in different cache dirs (so different absolute source paths) give identical bytes."""
    builds = []
    for name in ("one", "two"):
        start = time.monotonic()
        objs = corpus.build_bitcode(target, fresh_cache(cache, tmp_path / name), debug=debug)
        print(f"\n{target}{' -g' if debug else ''} bitcode, cold cache: {time.monotonic() - start:.2f} s "
              f"({len(objs)} modules, {sum(o.stat().st_size for o in objs)} bytes)")
        builds.append(objs)
    one, two = builds
    assert [o.name for o in one] == [o.name for o in two] and len(one) == 33
    assert one[0].parent.name == two[0].parent.name  # the cache key does not depend on where the cache is
    for a, b in zip(one, two):
        assert corpus.is_bitcode(a)
        assert a.read_bytes() == b.read_bytes(), a.name
        for d in (tmp_path, corpus.zig_dir()):
            assert str(d).encode() not in a.read_bytes()


@pytest.mark.slow
@needs_zig
def test_bitcode_is_cached(cache):
    first = corpus.build_bitcode("x86_64", cache)
    stamps = [o.stat().st_mtime_ns for o in first]
    start = time.monotonic()
    again = corpus.build_bitcode("x86_64", cache)
    took = time.monotonic() - start
    assert again == first and [o.stat().st_mtime_ns for o in again] == stamps
    print(f"\ncached build_bitcode: {took * 1000:.0f} ms")


TINY = {
    "main.c": "int twice(int); int thrice(int);\nint main(int argc, char **argv) "
              "{ (void)argv; return twice(argc) + thrice(argc) - 5 * argc; }\n",
    "util.c": "int twice(int x) { return 2 * x; }\nint thrice(int x) { return 3 * x; }\n",
}


@pytest.mark.slow
@needs_zig
@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
@pytest.mark.parametrize("kind", ["native", "bitcode"])
def test_link_is_byte_identical_to_zig_cc(cache, tmp_path, target, kind):
    t = corpus.TARGETS[target]
    for name, text in TINY.items():
        (tmp_path / name).write_text(text)
    flags = ["-target", t.triple, t.opt, "-g0", *(["-flto=thin"] if kind == "bitcode" else [])]
    env = corpus.zig_env(cache)
    objs = []
    for name in TINY:
        obj = tmp_path / name.replace(".c", ".o")
        subprocess.run([*corpus.zig_command(), "cc", *flags, "-c", name, "-o", obj.name], cwd=tmp_path, env=env,
                       check=True)
        assert corpus.is_bitcode(obj) == (kind == "bitcode")
        objs.append(obj)
    subprocess.run([*corpus.zig_command(), "cc", "-target", t.triple, t.opt, *map(str, objs), "-o",
                    str(tmp_path / "by-zig")], env=env, check=True)
    ours = corpus.link(objs, tmp_path / "ours", target, cache_dir=cache)
    assert ours.read_bytes() == (tmp_path / "by-zig").read_bytes()
    assert corpus.text_size(ours) > 0

    runner = corpus.runner_for(target)
    if runner is not None:
        assert subprocess.run([*runner, str(ours)]).returncode == 0

    folded = corpus.link(objs, tmp_path / "icf", target, icf=True, cache_dir=cache)
    assert corpus.text_size(folded) <= corpus.text_size(ours)
    if kind == "native":
        with pytest.raises(ValueError, match="bitcode"):
            corpus.link(objs, tmp_path / "x", target, thinlto_two_rounds=True, cache_dir=cache)


@pytest.mark.slow
@needs_zig
def test_text_size_agrees_with_llvm_readelf(cache, tmp_path, llvm_tool):
    objs = corpus.build_bitcode("aarch64", cache)
    exe = corpus.link(objs, tmp_path / "lua", "aarch64", cache_dir=cache)
    out = llvm_tool("llvm-readelf", "-S", "-W", exe).stdout.decode()
    line = next(ln for ln in out.splitlines() if " .text " in ln)
    fields = line.split("]", 1)[1].split()  # Name Type Address Off Size ...
    assert corpus.text_size(exe) == int(fields[4], 16)


@pytest.mark.slow
@needs_zig
@pytest.mark.parametrize("icf", [False, True], ids=["", "icf"])
@pytest.mark.parametrize("two_rounds", [False, True], ids=["one-round", "two-rounds"])
@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_lld_thinlto_lua_passes_the_test_suite(cache, tmp_path, target, two_rounds, icf):
    needs_runner(target)
    objs = corpus.build_bitcode(target, cache)
    start = time.monotonic()
    exe = corpus.link(objs, tmp_path / "lua", target, icf=icf, thinlto_two_rounds=two_rounds, cache_dir=cache)
    linked = time.monotonic()
    passed, tail = corpus.run_lua_tests(exe, target, cache)
    tested = time.monotonic()
    print(f"\n{target} lld ThinLTO {'two rounds' if two_rounds else 'one round'}{' --icf=all' if icf else ''}: "
          f".text {corpus.text_size(exe)} bytes; link {linked - start:.2f} s; test suite {tested - linked:.2f} s")
    assert passed, tail
    assert corpus.PASS_MARKER in tail


@pytest.mark.slow
@needs_zig
def test_run_lua_tests_reports_failures(cache, tmp_path):
    needs_runner("x86_64")
    if corpus.runner_for("x86_64"):
        pytest.skip("needs an x86_64 host (the fake interpreters are shell scripts)")
    liar = tmp_path / "liar"
    liar.write_text(f"#!/bin/sh\necho '{corpus.PASS_MARKER}'\nexit 1\n")
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'all.lua:1: assertion failed!'\nexit 3\n")
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    for p in (liar, broken, slow):
        p.chmod(0o755)
    assert corpus.run_lua_tests(liar, "x86_64", cache) == (False, f"{corpus.PASS_MARKER}\n[exit status 1]")
    passed, tail = corpus.run_lua_tests(broken, "x86_64", cache)
    assert not passed and "assertion failed" in tail and "exit status 3" in tail
    passed, tail = corpus.run_lua_tests(slow, "x86_64", cache, timeout=1)
    assert not passed and "timed out" in tail


@pytest.mark.slow
@needs_zig
def test_musl_needs_the_setlocale_shim(cache, tmp_path, monkeypatch):
    """Why MUSL_LOCALE_SHIM exists: without it literals.lua fails on musl (setlocale accepts "pt_BR")."""
    needs_runner("aarch64")
    exe = corpus.link(corpus.build_bitcode("aarch64", cache), tmp_path / "lua", "aarch64", cache_dir=cache)
    monkeypatch.setattr(lua, "MUSL_LOCALE_SHIM", "")
    passed, tail = corpus.run_lua_tests(exe, "aarch64", cache)
    assert not passed and "literals.lua" in tail, tail


@pytest.mark.slow
@needs_zig
def test_cli(cache, tmp_path):
    env = dict(os.environ, TWOPASS_CORPUS_CACHE=str(cache))
    cli = [sys.executable, str(ROOT / "tools" / "corpus.py")]
    out = subprocess.run([*cli, "bitcode", "--target", "x86_64"], env=env, capture_output=True, text=True, check=True)
    paths = out.stdout.split()
    assert [Path(p) for p in paths] == corpus.build_bitcode("x86_64", cache)

    exe = tmp_path / "lua"
    proc = subprocess.run([*cli, "lld-thinlto", "--target", "x86_64", "--two-rounds", "-o", str(exe)], env=env,
                          capture_output=True, text=True)
    print("\n" + proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f".text: {corpus.text_size(exe)} bytes" in proc.stdout
    assert "tests: PASS" in proc.stdout

    proc = subprocess.run([*cli, "text-size", str(tmp_path / "nope")], env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
