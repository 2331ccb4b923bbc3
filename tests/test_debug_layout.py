"""Debug info costs no code size: a -g build gets the layout of a -g0 build (every function in a section of its
own), its DWARF stays valid (llvm-dwarfdump --verify on the objects and on a program linked without ICF or
garbage collection), and a debugger finds functions, lines and local variables in the moved code."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests import elf
from tests.conftest import DATA, run_twopass
from tools.lua import run_lua_tests
from tools.linking import OBJECTS_PLACEHOLDER, OUTPUT_PLACEHOLDER, link, link_template, text_size
from tools.zig import build_bitcode, zig_command

ASSEMBLER = {"x86_64": [], "aarch64": ["--assembler", f"{sys.executable} -m ziglang cc -target aarch64-linux-musl "
                                                      "-g0 -c"]}
CFLAGS = {"x86_64": [], "aarch64": ["-Xclang", "-Oz"]}


@pytest.fixture(scope="module", params=["x86_64-g", "x86_64-g5"], ids=["dwarf4", "dwarf5"])
def demo_g(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("debug") / "out"
    run_twopass("build", DATA / request.param, "-o", out, "-j", "2", "-q", "--no-cache", check=True)
    return out


def test_every_function_leaves_text_in_a_g_build(demo_g):
    for obj in sorted(demo_g.glob("*.o")):
        e = elf.read(obj.read_bytes())
        assert len(e.section(".text").data) == 0, obj.name
        assert any(s.name.startswith(".text.") for s in e.sections), obj.name


def test_dwarf_verifies_on_objects_and_a_linked_program(demo_g, llvm_tool, tmp_path):
    for obj in sorted(demo_g.glob("*.o")):
        proc = llvm_tool("llvm-dwarfdump", "--verify", obj, check=False)
        assert proc.returncode == 0, proc.stdout.decode()[-2000:]
    argv = []
    # Without -O3 too: lld's string tail merging there (DWARF 5's .debug_str_offsets pointing into the middle
    # of a merged string) is valid, but llvm-dwarfdump --verify reports it, for a native zig cc build as well.
    for a in link_template("x86_64"):
        argv += [str(p) for p in sorted(demo_g.glob("*.o"))] if a == OBJECTS_PLACEHOLDER else \
            [str(tmp_path / "demo")] if a == OUTPUT_PLACEHOLDER else [] if a in ("--gc-sections", "-O3") else [a]
    subprocess.run([*zig_command(), "ld.lld", *argv], check=True, capture_output=True)
    proc = llvm_tool("llvm-dwarfdump", "--verify", tmp_path / "demo", check=False)
    assert proc.returncode == 0 and b"No errors." in proc.stdout, proc.stdout.decode()[-2000:]
    expected = (DATA / "expected-output.txt").read_text()
    assert subprocess.run([tmp_path / "demo"], capture_output=True, text=True).stdout == expected
    address = elf.read((tmp_path / "demo").read_bytes()).symbol("kv_put").value
    sym = llvm_tool("llvm-symbolizer", "--obj", tmp_path / "demo", hex(address + 4)).stdout.decode()
    assert "kv_put" in sym and "kvstore.c:" in sym
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed (.ci/run installs it)")
    gdb = subprocess.run(["gdb", "-batch", "-ex", "info line kv_init", "-ex", "info scope kv_init",
                          "-ex", "info address kv_put", tmp_path / "demo"], capture_output=True, text=True).stdout
    assert 'of "./src/kvstore.c" starts at address' in gdb  # kv_init: its module's first function, moved too
    assert "Symbol kv is multi-location" in gdb and "a variable in $rdi" in gdb
    assert 'Symbol "kv_put" is a function at address' in gdb


@pytest.mark.slow
@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_lua_g_text_is_its_g0_text(tmp_path, target):
    """-g0, then DWARF 4 (zig cc's default) and DWARF 5 (clang's and gcc's)."""
    sizes = {}
    for name, flags in (("g0", []), ("dwarf4", ["-gdwarf-4"]), ("dwarf5", ["-gdwarf-5"])):
        bitcode = build_bitcode(target, debug=bool(flags), cflags=CFLAGS[target] + flags)
        out = tmp_path / name
        run_twopass("build", *bitcode, "-o", out, "-j", "2", "-q", "--no-cache", *ASSEMBLER[target], check=True)
        exe = link(sorted(out.glob("*.o")), out.with_suffix(".exe"), target, icf=True)
        sizes[name] = text_size(exe)
        if name == "dwarf5":  # the DWARF 4 builds run the suite in test_lua.py
            passed, log = run_lua_tests(exe, target)
            assert passed, log
        if flags:
            left = [o.name for o in sorted(out.glob("*.o")) if len(elf.read(o.read_bytes()).section(".text").data)]
            assert not left, f"{name}: code left in .text: {left}"
    for name in ("dwarf4", "dwarf5"):
        assert abs(sizes[name] - sizes["g0"]) <= 0.001 * sizes["g0"], sizes
