"""`twopass build` proven on Lua 5.4 with Lua's own test suite (x86-64 natively, AArch64 -Oz under qemu):
every outliner mode and fold mode, with and without debug info, and what each does to `.text`."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import elf
from conftest import ROOT
from test_layout import check_comdat_groups

sys.path.insert(0, str(ROOT))
from tools import corpus  # noqa: E402

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
MODES = {"global": [], "comdat": ["--fold-outlined", "comdat"], "rounds1": ["--rounds", "1"],
         "local": ["--outliner", "local"], "never": ["--outliner", "never"]}
IMPORT_MODES = {"import": ["--import"], "import-local": ["--import", "--outliner", "local"],
                "import-never": ["--import", "--outliner", "never"]}
CFLAGS = {"x86_64": [], "aarch64": ["-Xclang", "-Oz"]}  # zig's driver alone would give -Os (see tools/corpus.py)
ASSEMBLER = {"x86_64": [],
             "aarch64": ["--assembler", f"{shlex.quote(sys.executable)} -m ziglang cc -target aarch64-linux-musl "
                                        "-g0 -c"]}
GNU_AS = "aarch64-linux-gnu-as"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """build(target, mode, debug) -> output directory, each built once per test module."""
    root = tmp_path_factory.mktemp("lua")
    done: dict[tuple, Path] = {}

    def build(target: str, mode: str, debug: bool = False) -> Path:
        key = (target, mode, debug)
        if key not in done:
            bitcode = corpus.build_bitcode(target, debug=debug, cflags=CFLAGS[target])
            out = root / f"{target}-{mode}{'-g' if debug else ''}"
            proc = subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out),
                                   "-j", "2", "-q", *ASSEMBLER[target], *{**MODES, **IMPORT_MODES}[mode]],
                                  capture_output=True)
            assert proc.returncode == 0, proc.stderr.decode()
            assert len(list(out.glob("*.o"))) == len(bitcode)
            done[key] = out
        return done[key]

    return build


def link(objects_dir: Path, target: str, exe: Path, icf: bool = True, extra: tuple[str, ...] = ()) -> Path:
    corpus.link(sorted(objects_dir.glob("*.o")), exe, target, icf=icf, extra=extra)
    return exe


def needs_runner(target: str) -> None:
    if corpus.runner_for(target) is None:
        pytest.skip(f"no way to run {target} programs here (qemu-aarch64-static is not installed)")


def needs_gnu_as() -> None:
    if shutil.which(GNU_AS) is None:
        pytest.skip(f"{GNU_AS} is not installed (binutils-aarch64-linux-gnu)")


@pytest.mark.parametrize("debug", [False, True], ids=["", "g"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_every_variant_passes_the_lua_suite(builds, tmp_path, target, mode, debug):
    needs_runner(target)
    exe = link(builds(target, mode, debug), target, tmp_path / "lua", icf=mode != "comdat")
    passed, tail = corpus.run_lua_tests(exe, target)
    assert passed, tail


@pytest.mark.parametrize("variant", ["global", "comdat", "gdwarf-5"])
def test_aarch64_assembled_by_gnu_as_passes_the_lua_suite(tmp_path, llvm_tool, variant):
    """GNU as (binutils-aarch64-linux-gnu) as the external assembler: a process per module, but no LLVM loaded
    for it (AArch64 peak memory 1.6x LLD's instead of 2.0x with LLVM's library in every worker). With DWARF 5
    it builds the line table from LLVM's `.file`/`.loc` itself, and the program's DWARF verifies."""
    needs_runner("aarch64")
    needs_gnu_as()
    out = tmp_path / "objs"
    debug = variant == "gdwarf-5"
    bitcode = corpus.build_bitcode("aarch64", debug=debug, cflags=CFLAGS["aarch64"] + (["-gdwarf-5"] if debug else []))
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(out), "-j", "2", "-q",
                    "--no-cache", "--assembler", GNU_AS, *MODES["comdat" if variant == "comdat" else "global"]],
                   check=True)
    assert any(s.name.startswith(".text.OUTLINED_FUNCTION") for p in out.glob("*.o")
               for s in elf.read(p.read_bytes()).sections)
    exe = link(out, "aarch64", tmp_path / "lua", icf=variant != "comdat")
    passed, tail = corpus.run_lua_tests(exe, "aarch64")
    assert passed, tail
    if debug:
        proc = llvm_tool("llvm-dwarfdump", "--verify", exe, check=False)
        assert proc.returncode == 0 and b"No errors." in proc.stdout, proc.stdout[-2000:]


def test_gnu_as_cannot_read_llvms_dwarf4_file_directives_and_says_so(tmp_path):
    """binutils 2.40 takes `.file N "dir" "name"` only in DWARF 5 mode (after a `.file 0`); LLVM prints it for
    DWARF 4 as well. The build fails naming the module and quoting GNU as's own error line, not its heading."""
    needs_gnu_as()
    bitcode = corpus.build_bitcode("aarch64", debug=True, cflags=CFLAGS["aarch64"] + ["-gdwarf-4"])
    proc = subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(tmp_path / "o"),
                           "-j", "2", "-q", "--no-cache", "--no-import", "--assembler", GNU_AS],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert re.search(r"^error: \S+\.o: assembler failed: module\.s:\d+: Error: junk at end of line", proc.stderr,
                     re.M), proc.stderr


@pytest.mark.parametrize("mode", IMPORT_MODES)
@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_thin_link_variants_pass_the_lua_suite(builds, tmp_path, target, mode):
    """Import, promotion and internalization across Lua's 33 modules, in every outliner mode."""
    needs_runner(target)
    exe = link(builds(target, mode), target, tmp_path / "lua")
    passed, tail = corpus.run_lua_tests(exe, target)
    assert passed, tail


@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_text_size_two_rounds_le_local_le_none(builds, tmp_path, target):
    sizes = {mode: corpus.text_size(link(builds(target, mode), target, tmp_path / mode))
             for mode in ("never", "local", "global")}
    no_icf = corpus.text_size(link(builds(target, "comdat"), target, tmp_path / "comdat", icf=False))
    print(f"{target}: .text never {sizes['never']}, local {sizes['local']}, two rounds {sizes['global']} "
          f"(--icf=all); comdat without ICF {no_icf}")
    assert sizes["global"] <= sizes["local"] <= sizes["never"]
    assert no_icf <= sizes["global"] * 1.01


def test_comdat_groups_are_shared_across_modules(builds):
    objs = {p.name: elf.read(p.read_bytes()) for p in sorted(builds("x86_64", "comdat").glob("*.o"))}
    assert check_comdat_groups(objs) > 20


def test_debuggers_resolve_ordinary_functions(builds, tmp_path, llvm_tool):
    """addr2line and gdb on a linked -g Lua find ordinary functions at the same source lines as without
    outlining; the objects pass llvm-dwarfdump --verify, and so does the program linked without ICF and
    --gc-sections (whose compile units' ranges cover the moved functions; what ICF or --gc-sections drops has
    its DWARF tombstoned by lld, which --verify flags, as it does in lld's own LTO output)."""
    for p in sorted(builds("x86_64", "global", True).glob("*.o")):
        out = llvm_tool("llvm-dwarfdump", "--verify", p).stdout.decode()
        assert "No errors." in out, (p.name, out[-2000:])
    whole = link(builds("x86_64", "global", True), "x86_64", tmp_path / "lua-no-icf", icf=False,
                 extra=("--no-gc-sections",))
    out = llvm_tool("llvm-dwarfdump", "--verify", whole, check=False).stdout.decode()
    assert "No errors." in out, out[-3000:]
    lines = {}
    for mode in ("global", "never"):
        exe = link(builds("x86_64", mode, True), "x86_64", tmp_path / f"lua-{mode}")
        nm = llvm_tool("llvm-nm", exe).stdout.decode()
        addrs = {name: addr for addr, kind, name in re.findall(r"^([0-9a-f]+) (\w) (\S+)$", nm, re.M)
                 if name in ("luaV_execute", "lua_settop", "luaH_get", "luaD_precall", "main")}
        assert len(addrs) == 5
        resolved = llvm_tool("llvm-addr2line", "-f", "-e", exe, *(f"0x{a}" for a in addrs.values())).stdout
        pairs = resolved.decode().splitlines()
        got = {pairs[i]: Path(pairs[i + 1].split(":")[0]).name + ":" + pairs[i + 1].split(":")[1]
               for i in range(0, len(pairs), 2)}
        assert set(got) == set(addrs) and not any(v.startswith("?") for v in got.values()), got
        lines[mode] = got
    assert lines["global"] == lines["never"]
    gdb = subprocess.run(["gdb", "--version"], capture_output=True) if Path("/usr/bin/gdb").exists() else None
    if gdb is not None and gdb.returncode == 0:
        out = subprocess.run(["gdb", "-batch", "-ex", "info line luaV_execute", str(tmp_path / "lua-global")],
                             capture_output=True, text=True).stdout
        assert re.search(r'Line \d+ of "(\./)?lvm\.c" starts at address', out), out


def test_saved_ir_reproduces_every_scratch_object(tmp_path):
    """The notes' lapi case: without the use-list order, one module's code differed when recompiled."""
    bitcode = corpus.build_bitcode("x86_64")
    temps = tmp_path / "temps"
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, bitcode), "-o", str(tmp_path / "out"),
                    "-q", "--save-temps", str(temps)], check=True)
    saved = sorted(temps.glob("*.opt.bc"))
    assert len(saved) == len(bitcode)
    again = tmp_path / "again"
    again.mkdir()
    subprocess.run([sys.executable, str(HERE / "compile_module.py"), "--no-opt", str(again), *map(str, saved), "--",
                    "-enable-machine-outliner", "-enable-global-merge-func", "-codegen-data-generate"],
                   check=True, capture_output=True)
    differ = [ir.name for ir in saved if (again / ir.name.replace(".opt.bc", ".o")).read_bytes()
              != (temps / ir.name.replace(".opt.bc", ".scratch.o")).read_bytes()]
    assert differ == []


def test_lua_outputs_do_not_depend_on_jobs_or_order(builds, tmp_path):
    bitcode = corpus.build_bitcode("x86_64")
    out = tmp_path / "b"
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, reversed(bitcode)), "-o", str(out),
                    "-j", "1", "-q"], check=True)
    a = builds("x86_64", "global")
    files = sorted(p.name for p in a.glob("*.o"))
    assert files == sorted(p.name for p in out.glob("*.o"))
    assert all((a / f).read_bytes() == (out / f).read_bytes() for f in files)


# -- the cache and reader builds on real code ------------------------------------------------------------------

ONE_CONSTANT = {"lua.c": [('"cannot create state: not enough memory"', '"cannot create a state: out of memory"')]}
ONE_FUNCTION = {"lmathlib.c": [("static int math_abs (lua_State *L) {",
                                "int luai_twopass_abs2 (lua_State *L) {\n  lua_Integer n = luaL_checkinteger(L, 1);\n"
                                "  lua_pushinteger(L, n < 0 ? 0u - (lua_Unsigned)n : (lua_Unsigned)n);\n"
                                "  return 1;\n}\n\nstatic int math_abs (lua_State *L) {")]}
STALE = {  # renamed functions, added code, and loadlib.c's dynamic-library functions deleted
    "lstrlib.c": [("str_find_aux", "str_find_or_match"), ("push_captures", "push_all_captures")],
    "lmathlib.c": ONE_FUNCTION["lmathlib.c"] + [('{"abs",   math_abs},',
                                                 '{"abs",   math_abs},\n  {"abs2", luai_twopass_abs2},')],
    "loadlib.c": [("#if defined(LUA_USE_DLOPEN)\t/* { */", "#if 0\t/* dynamic libraries deleted { */")],
}


def cache_counts(report: dict) -> dict:
    return {(r, s): (c["hits"], c["misses"]) for r, streams in report["cache"]["streams"].items()
            for s, c in streams.items()}


def test_editing_one_lua_module_reruns_only_what_it_must(tmp_path):
    import json

    original = corpus.build_bitcode("x86_64")
    store = tmp_path / "cache"

    def build(inputs, name):
        # The new function is exported: otherwise the thin link internalizes it, nothing calls it, it is gone
        # and the merged data stays the same.
        subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, inputs), "-o", str(tmp_path / name),
                        "--cache-dir", str(store), "-q", "--report", str(tmp_path / f"{name}.json"),
                        "--export-symbol", "luai_twopass_abs2"], check=True)
        return json.loads((tmp_path / f"{name}.json").read_text())

    build(original, "base")
    constant = corpus.build_bitcode("x86_64", src_dir=corpus.edit_sources(ONE_CONSTANT))
    assert [a.name for a, b in zip(original, constant) if a.read_bytes() != b.read_bytes()] == ["lua.o"]
    rep = build(constant, "constant")
    assert cache_counts(rep)[("round 1", "scratch")] == (32, 1)
    assert cache_counts(rep)[("round 2", "object")] == (32, 1)
    function = corpus.build_bitcode("x86_64", src_dir=corpus.edit_sources(ONE_FUNCTION))
    rep = build(function, "function")
    assert cache_counts(rep)[("round 1", "scratch")] == (32, 1)
    assert cache_counts(rep)[("round 2", "object")] == (0, 33)
    assert rep["cache"]["round2_misses_because"] == {"its round one ran": 1, "merged codegen data changed": 32}


@pytest.mark.parametrize("producer", ["twopass", "llvm-cgdata"])
def test_reader_build_with_stale_data(tmp_path, llvm_tool, producer):
    """Data written from Lua as shipped, used by a reader build of changed sources: it builds, passes Lua's
    suite, and `.text` is no larger than local outlining of the same changed sources."""
    import json

    shipped = corpus.build_bitcode("x86_64")
    data = tmp_path / "shipped.cgdata"
    temps = tmp_path / "temps"
    subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, shipped), "-o", str(tmp_path / "w"),
                    "--rounds", "1", "--cgdata-out", str(data), "--save-temps", str(temps), "-q"], check=True)
    if producer == "llvm-cgdata":
        data = tmp_path / "llvm.cgdata"
        llvm_tool("llvm-cgdata", "--merge", *sorted(temps.glob("*.scratch.o")), "-o", data)
    changed = corpus.build_bitcode("x86_64", src_dir=corpus.edit_sources(STALE))
    sizes = {}
    for name, flags in (("reader", ["--cgdata-in", str(data)]), ("local", ["--outliner", "local"])):
        out = tmp_path / name
        subprocess.run([sys.executable, "-m", "twopass", "build", *map(str, changed), "-o", str(out), "-q",
                        "--report", str(tmp_path / f"{name}.json"), *flags], check=True)
        exe = link(out, "x86_64", tmp_path / f"lua-{name}")
        passed, tail = corpus.run_lua_tests(exe, "x86_64")
        assert passed, tail
        sizes[name] = corpus.text_size(exe)
    used = json.loads((tmp_path / "reader.json").read_text())["cgdata_used"]
    print(f"stale {producer} data: .text reader {sizes['reader']}, local {sizes['local']}; used {used}")
    assert sizes["reader"] <= sizes["local"]
    assert 0 < used["sequences_used"] < used["sequences"]


def test_verify_determinism_on_lua():
    proc = subprocess.run([sys.executable, "-m", "twopass", "verify-determinism",
                           *map(str, corpus.build_bitcode("x86_64"))], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"33 objects identical across 5 builds" in proc.stdout
    # each module's IR and scratch object, and the merged data: the IR once depended on a worker's earlier jobs
    assert b"and 67 intermediates across the 3 without a cache" in proc.stdout
