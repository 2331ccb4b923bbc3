"""Lua 5.4 built as its own makefile does, linked by `clang-19 -flto=thin -fuse-ld=twopass`: `liblua.a`, `lua`
and a `luac` (lupa's Lua has no luac.c, so a small one: it lists a chunk's code and dumps it with liblua's
internal, hidden luaU_dump and luaP_opmodes), `liblua.so` loaded by a native `lua`; writer and reader builds
from the clang command line; AArch64 through zig's own ld.lld line and `twopass ld`."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from tests.ldkit import make_toolchain
from tools import corpus

pytestmark = pytest.mark.slow
CFLAGS = ["-O2", "-std=gnu99", "-DLUA_USE_LINUX", "-fPIC"]
LUAC = r'''
#include <stdio.h>
#include "lua.h"
#include "lauxlib.h"
#include "lobject.h"
#include "lstate.h"
#include "lundump.h"
#include "lopcodes.h"
#include "lopnames.h"
static int writer(lua_State *L, const void *p, size_t size, void *file) {
    (void)L;
    return size != 0 && fwrite(p, size, 1, (FILE *)file) != 1;
}
int main(int argc, char **argv) {
    lua_State *L = luaL_newstate();
    if (argc != 3 || luaL_loadfile(L, argv[1]) != LUA_OK) {
        fputs("usage: luac chunk.lua out.luac\n", stderr);
        return 1;
    }
    const Proto *f = ((const LClosure *)lua_topointer(L, -1))->p;
    printf("main <%s:%d,%d> (%d instructions)\n", getstr(f->source), f->linedefined, f->lastlinedefined, f->sizecode);
    for (int pc = 0; pc < f->sizecode; pc++) {
        OpCode op = GET_OPCODE(f->code[pc]);
        printf("\t%d\t%s\t%d\n", pc + 1, opnames[op], (int)getOpMode(op));
    }
    FILE *out = fopen(argv[2], "wb");
    int status = luaU_dump(L, f, writer, out, 0);
    fclose(out);
    lua_close(L);
    return status;
}
'''


@pytest.fixture(scope="module")
def lua(tmp_path_factory):
    """Lua's library objects in liblua.a, lua.o and luac.o, all ThinLTO bitcode; a native lua.o too."""
    tc = make_toolchain(tmp_path_factory.mktemp("ld-lua"))
    src = corpus.fetch_lua()
    d = tc.bindir.parent / "lua"
    d.mkdir()
    library = [s for s in sorted(src.glob("*.c")) if s.name not in ("lua.c", "luac.c", "onelua.c", "ltests.c")]
    (d / "luac.c").write_text(LUAC)
    for s in [*library, src / "lua.c", d / "luac.c"]:
        tc.cc(*CFLAGS, f"-I{src}", "-flto=thin", "-c", s, "-o", d / f"{s.stem}.o")
    tc.cc(*CFLAGS, "-c", src / "lua.c", "-o", d / "lua-native.o")
    tc.ar("liblua.a", *(f"{s.stem}.o" for s in library), cwd=d)
    return tc, d


def passes_suite(exe: Path, target: str = "x86_64") -> None:
    ok, tail = corpus.run_lua_tests(exe, target)
    assert ok, tail


def test_lua_and_luac_from_liblua_a(lua, tmp_path):
    tc, d = lua
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "lua.o", "liblua.a", "-lm", "-ldl", "-o", tmp_path / "lua",
          cwd=d)
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "luac.o", "liblua.a", "-lm", "-o", tmp_path / "luac", cwd=d)
    passes_suite(tmp_path / "lua")
    (tmp_path / "chunk.lua").write_text("local t = {} for i = 1, 3 do t[i] = i * i end print(t[3])\n")
    listing = tc.run(tmp_path / "luac", tmp_path / "chunk.lua", tmp_path / "chunk.luac").stdout
    assert "main <" in listing and "FORPREP" in listing and "RETURN" in listing
    assert tc.run(tmp_path / "lua", tmp_path / "chunk.luac").stdout == "9\n"


def test_liblua_so_loaded_by_a_native_lua(lua, tmp_path):
    tc, d = lua
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "-shared", "-Wl,--whole-archive", "liblua.a",
          "-Wl,--no-whole-archive", "-lm", "-ldl", "-o", tmp_path / "liblua.so", cwd=d)
    tc.cc("-fuse-ld=twopass", "lua-native.o", f"-L{tmp_path}", "-llua", f"-Wl,-rpath,{tmp_path}", "-lm", "-ldl",
          "-o", tmp_path / "lua", cwd=d)
    passes_suite(tmp_path / "lua")


def test_writer_then_reader_from_the_clang_command_line(lua, tmp_path):
    tc, d = lua
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "lua.o", "liblua.a", "-lm", "-ldl", "-o", tmp_path / "writer",
          "-Wl,-plugin-opt=-codegen-data-generate", cwd=d)
    data = tmp_path / "writer.cgdata"
    assert data.stat().st_size > 1000
    report = tmp_path / "reader.json"
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "lua.o", "liblua.a", "-lm", "-ldl", "-o", tmp_path / "reader",
          f"-Wl,-plugin-opt=-codegen-data-use-path={data}", f"-Wl,--twopass-report={report}", cwd=d)
    used = json.loads(report.read_text())["cgdata_used"]
    assert used["sequences"] > 100 and used["sequences_used_percent"] > 50
    passes_suite(tmp_path / "reader")


def test_aarch64_through_zigs_own_link_line(tmp_path):
    if corpus.runner_for("aarch64") is None:
        pytest.skip("no way to run aarch64 programs here (qemu-aarch64-static is not installed)")
    tc = make_toolchain(tmp_path)
    bitcode = corpus.build_bitcode("aarch64", cflags=["-Xclang", "-Oz"])
    template = corpus.link_template("aarch64")
    exe = tmp_path / "lua"
    argv = []
    for a in template:
        argv += [str(b) for b in bitcode] if a == corpus.OBJECTS_PLACEHOLDER else \
            [str(exe)] if a == corpus.OUTPUT_PLACEHOLDER else [a]
    assembler = f"{shlex.quote(sys.executable)} -m ziglang cc -target aarch64-linux-musl -g0 -c"
    tc.twopass_ld(*argv, f"--twopass-assembler={assembler}")
    passes_suite(exe, "aarch64")
