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
from tools.linking import OBJECTS_PLACEHOLDER, OUTPUT_PLACEHOLDER, link, link_template, text_size
from tools.zig import build_bitcode, zig_command

ASSEMBLER = {"x86_64": [], "aarch64": ["--assembler", f"{sys.executable} -m ziglang cc -target aarch64-linux-musl "
                                                      "-g0 -c"]}
CFLAGS = {"x86_64": [], "aarch64": ["-Xclang", "-Oz"]}


@pytest.fixture(scope="module")
def demo_g(tmp_path_factory):
    out = tmp_path_factory.mktemp("debug") / "out"
    run_twopass("build", DATA / "x86_64-g", "-o", out, "-j", "2", "-q", "--no-cache", check=True)
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
    for a in link_template("x86_64"):
        argv += [str(p) for p in sorted(demo_g.glob("*.o"))] if a == OBJECTS_PLACEHOLDER else \
            [str(tmp_path / "demo")] if a == OUTPUT_PLACEHOLDER else [] if a == "--gc-sections" else [a]
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
    sizes = {}
    for debug in (False, True):
        bitcode = build_bitcode(target, debug=debug, cflags=CFLAGS[target])
        out = tmp_path / f"g{int(debug)}"
        run_twopass("build", *bitcode, "-o", out, "-j", "2", "-q", "--no-cache", *ASSEMBLER[target], check=True)
        sizes[debug] = text_size(link(sorted(out.glob("*.o")), out.with_suffix(".exe"), target, icf=True))
        if debug:
            left = [o.name for o in sorted(out.glob("*.o")) if len(elf.read(o.read_bytes()).section(".text").data)]
            assert not left, f"code left in .text: {left}"
    assert abs(sizes[True] - sizes[False]) <= 0.001 * sizes[False], sizes
