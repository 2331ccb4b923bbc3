"""The thin link (`--import`): real clang ThinLTO bitcode from small C and C++ programs, imported, promoted and
internalized by twopass, linked by zig's lld and run; plus the decisions themselves on hand-made summaries."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

from conftest import assert_clean_error
from twopass import irtext, thinlink

DATA = Path(__file__).resolve().parent.parent / "data" / "x86_64"
SOURCES = {
    # Same static name in two modules, both reached by imported functions: both promoted, names distinct.
    "a.c": "static const int table[4] = {3, 1, 4, 1};\n"
           "__attribute__((noinline)) static int helper(int x) { return x * 3 + table[x & 3]; }\n"
           "int api_a(int x) { return helper(x) + table[(x + 1) & 3]; }\n",
    "b.c": "__attribute__((noinline)) static int helper(int x) { return x * 7 - 2; }\n"
           "int api_b(int x) { return helper(x) ^ 5; }\n"
           "int unused(int x) { return x * x + 1; }\n",
    "c.c": "int api_c(int x) { return x + 40; }\n",
    "main.c": "#include <stdio.h>\nint api_a(int), api_b(int), api_c(int);\n"
              "int main(void) { int s = 0; for (int i = 0; i < 10; i++) s += api_a(i) + api_b(i) + api_c(i);\n"
              "  printf(\"%d\\n\", s); return 0; }\n",
}
CPP = {
    "lib.cpp": "#include <stdexcept>\nstatic int counter = 0;\ninline int twice(int x) { return 2 * x; }\n"
               "int may_throw(int x) { if (x < 0) throw std::runtime_error(\"negative\");"
               " return twice(x) + ++counter; }\n"
               "int safe(int x) { try { return may_throw(x); } catch (const std::exception &) { return -1; } }\n"
               "extern \"C\" int real_impl(int x) { return x * 11; }\n"
               "extern \"C\" int alias_fn(int) __attribute__((alias(\"real_impl\")));\n"
               "extern \"C\" int uses_alias(int x) { return alias_fn(x) + 1; }\n"
               # imported, it names a static of a type whose name has a space: (anonymous namespace)
               "namespace { struct Table { int v[4]; Table() { for (int i = 0; i < 4; i++) v[i] = i * i; } }; }\n"
               "int lookup(int i) { static Table t; return t.v[i & 3]; }\n",
    "app.cpp": "#include <cstdio>\nint safe(int);\ninline int twice(int x) { return 2 * x; }\n"
               "extern \"C\" int uses_alias(int);\nint lookup(int);\nint main() { int s = 0;\n"
               "  for (int i = -3; i < 5; i++) s += safe(i) + twice(i) + uses_alias(i) + lookup(i);\n"
               "  std::printf(\"%d\\n\", s); return 0; }\n",
}


def compile_sources(sources: dict[str, str], where: Path, debug: bool = False) -> list[Path]:
    where.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in sources.items():
        (where / name).write_text(text)
        obj = where / (name.rsplit(".", 1)[0] + ".o")
        driver = "c++" if name.endswith(".cpp") else "cc"
        subprocess.run([sys.executable, "-m", "ziglang", driver, "-target", "x86_64-linux-gnu", "-O2",
                        "-flto=thin", *(["-g"] if debug else []), "-c", str(where / name), "-o", str(obj)],
                       check=True, capture_output=True)
        out.append(obj)
    return out


def run_program(objects: list[Path], exe: Path, cpp: bool = False) -> str:
    subprocess.run([sys.executable, "-m", "ziglang", "c++" if cpp else "cc", "-target", "x86_64-linux-gnu",
                    "-Wl,--gc-sections", *map(str, objects), "-o", str(exe)], check=True, capture_output=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


def symbols(llvm_tool, obj: Path) -> dict[str, tuple[str, str, str]]:
    """name -> (binding, visibility, section index) from llvm-readelf."""
    out = llvm_tool("llvm-readelf", "--syms", "--wide", obj).stdout.decode()
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].rstrip(":").isdigit():
            syms[f[7]] = (f[4], f[5], f[6])
    return syms


def build(twopass, inputs, out: Path, *flags) -> dict:
    rep = out.with_suffix(".json")
    proc = twopass("build", *inputs, "-o", out, "-q", "--report", rep, *flags)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(rep.read_text())


def test_import_promotes_internalizes_and_runs(twopass, tmp_path, llvm_tool):
    objs = compile_sources(SOURCES, tmp_path / "src")
    expected = run_program(objs, tmp_path / "ref")
    rep = build(twopass, objs, tmp_path / "out", "--no-cache")  # importing is the default
    assert rep["thin_link"]["imported_functions"] >= 2 and rep["thin_link"]["promoted"] >= 3
    outs = {p.stem: p for p in (tmp_path / "out").glob("*.o")}
    assert run_program(sorted(outs.values()), tmp_path / "prog") == expected
    # api_b was inlined wherever it was called: in a section of its own, --gc-sections drops it (without
    # function sections it stays: b's `.text` also holds the helper that main calls).
    assert "api_b" in symbols(llvm_tool, outs["b"]) and "api_b" not in symbols(llvm_tool, tmp_path / "prog")
    a, b, main = (symbols(llvm_tool, outs[n]) for n in ("a", "b", "main"))
    ha = [n for n in a if n.startswith("helper.llvm.")]
    hb = [n for n in b if n.startswith("helper.llvm.")]
    assert len(ha) == len(hb) == 1 and ha != hb  # one static name, two modules, two names
    for syms, name in ((a, ha[0]), (b, hb[0]), (a, next(n for n in a if n.startswith("table.llvm.")))):
        assert syms[name][:2] == ("GLOBAL", "HIDDEN"), (name, syms[name])
    assert main[ha[0]][2] == "UND" and main[hb[0]][2] == "UND"  # imported callers inlined into main
    assert "unused" not in b  # nothing outside b.c uses it: internalized, then dropped
    kept = build(twopass, objs, tmp_path / "kept", "--import", "--no-cache", "--export-symbol", "unused")
    assert "unused" in symbols(llvm_tool, tmp_path / "kept" / "b.o")
    assert kept["thin_link"]["internalized"] == rep["thin_link"]["internalized"] - 1
    text = build(twopass, objs, tmp_path / "text", "--no-cache", "-fno-function-sections")
    run_program(sorted((tmp_path / "text").glob("*.o")), tmp_path / "text-prog")
    assert text["thin_link"] == rep["thin_link"] and "api_b" in symbols(llvm_tool, tmp_path / "text-prog")
    plain = build(twopass, objs, tmp_path / "plain", "--no-import", "--no-cache")
    assert "thin_link" not in plain
    assert run_program(sorted((tmp_path / "plain").glob("*.o")), tmp_path / "plain-prog") == expected


def test_a_function_imported_for_a_later_import_is_kept(twopass, tmp_path, llvm_tool):
    """main imports f from z.c and, for f, g from a.c: LLVM's linker drops an available_externally definition
    nothing names yet, so g (linked first, from a.c) was lost and main kept a call to it."""
    objs = compile_sources({"a.c": "int g(int x) { return x * 3 + 1; }\n",
                            "z.c": "int g(int);\nint f(int x) { return g(x) + 2; }\n",
                            "main.c": "int f(int);\nint main(int argc, char **v) { return f(argc) == 6 ? 0 : 1; }\n"},
                           tmp_path / "src")
    temps = tmp_path / "temps"
    build(twopass, objs, tmp_path / "out", "--no-cache", "--save-temps", temps)
    main = llvm_tool("llvm-dis", temps / "main.opt.bc", "-o", "-").stdout.decode()
    body = main[main.index("@main("):]
    assert "call" not in body[:body.index("\n}")], body  # f and g both inlined
    assert run_program(sorted((tmp_path / "out").glob("*.o")), tmp_path / "prog") == ""


def test_constants_come_with_the_code_that_reads_them(twopass, tmp_path, llvm_tool):
    """A constant table of another module is imported as LLVM imports it: main's lookups fold to the values, so
    main's object no longer names the table, and the table's module keeps it for the code that still reads it."""
    objs = compile_sources({
        "t.c": "const unsigned char modes[8] = {1, 0, 1, 1, 0, 0, 1, 0};\n"
               "static const char *const names[2] = {\"off\", \"on\"};\n"
               "const char *name(int i) { return names[modes[i & 7]]; }\n",
        "main.c": "#include <stdio.h>\nextern const unsigned char modes[8];\nconst char *name(int);\n"
                  "int main(void) { printf(\"%d %s\\n\", modes[2] + modes[3], name(6)); return 0; }\n"},
        tmp_path / "src")
    expected = run_program(objs, tmp_path / "ref")
    rep = build(twopass, objs, tmp_path / "out", "--no-cache")
    assert rep["thin_link"]["imported_constants"] >= 2, rep["thin_link"]
    outs = {p.stem: p for p in (tmp_path / "out").glob("*.o")}
    assert run_program(sorted(outs.values()), tmp_path / "prog") == expected == "2 on\n"
    relocs = llvm_tool("llvm-readelf", "--relocs", "--wide", outs["main"]).stdout.decode()
    assert "modes" not in relocs and "names" not in relocs, relocs  # both lookups folded
    assert "name" not in symbols(llvm_tool, outs["main"])
    t = symbols(llvm_tool, outs["t"])
    assert t["modes"][2] != "UND"


def test_inputs_without_main_are_a_library(twopass, tmp_path, llvm_tool):
    """Internalizing everything but main would empty a library's objects: without a main, what has default
    visibility stays (as with --shared), and the imports still happen."""
    objs = [o for o in compile_sources(SOURCES, tmp_path / "src") if o.stem != "main"]
    rep = build(twopass, objs, tmp_path / "lib", "--no-cache")
    assert rep["thin_link"]["internalized"] == 0
    for obj, name in (("a", "api_a"), ("b", "api_b"), ("b", "unused"), ("c", "api_c")):
        bind, visibility, section = symbols(llvm_tool, tmp_path / "lib" / f"{obj}.o")[name]
        assert (bind, visibility) == ("GLOBAL", "DEFAULT") and section != "UND", name


def test_cpp_exceptions_comdats_aliases_and_debug_info(twopass, tmp_path, llvm_tool):
    objs = compile_sources(CPP, tmp_path / "src", debug=True)
    expected = run_program(objs, tmp_path / "ref", cpp=True)
    rep = build(twopass, objs, tmp_path / "out", "--import", "--no-cache")
    assert rep["thin_link"]["imported_functions"] >= 1
    outs = sorted((tmp_path / "out").glob("*.o"))
    assert run_program(outs, tmp_path / "prog", cpp=True) == expected
    for obj in outs:
        llvm_tool("llvm-dwarfdump", "--verify", obj)
    app = symbols(llvm_tool, tmp_path / "out" / "app.o")
    assert app["uses_alias"][2] == "UND"  # it calls an alias: never imported


def test_import_is_deterministic(twopass, tmp_path):
    objs = compile_sources(SOURCES, tmp_path / "src")
    proc = twopass("verify-determinism", *objs, "--import")
    assert proc.returncode == 0, proc.stderr.decode()


def test_editing_an_imported_function_reruns_exactly_its_importers(twopass, tmp_path):
    objs = compile_sources(SOURCES, tmp_path / "src")
    store = tmp_path / "cache"
    build(twopass, objs, tmp_path / "first", "--import", "--cache-dir", store)
    edited = dict(SOURCES, **{"a.c": SOURCES["a.c"].replace("(x + 1) & 3", "(x + 2) & 3")})
    objs2 = compile_sources(edited, tmp_path / "src")  # same place: the paths in the bitcode stay the same
    rep = build(twopass, objs2, tmp_path / "second", "--import", "--cache-dir", store)
    ran = sorted(m["output"] for m in rep["modules"] if not m["round1"]["cached"])
    assert ran == ["a.o", "main.o"]  # b and c import nothing from a
    assert rep["cache"]["streams"]["summary"]["ir"] == {"hits": 3, "misses": 1}
    assert rep["cache"]["streams"]["thin link"]["ir"] == {"hits": 0, "misses": 1}
    # --save-temps: every module's entries are read (a plain rebuild reads the build's record alone)
    warm = build(twopass, objs2, tmp_path / "warm", "--import", "--cache-dir", store, "--save-temps", tmp_path / "t")
    assert warm["cache"]["streams"]["thin link"]["ir"] == {"hits": 1, "misses": 0}
    assert "summary" not in warm["cache"]["streams"]  # the decisions came from the cache: no summary read
    assert warm["thin_link"] == rep["thin_link"] and not any(warm["llvm_seconds"].values())
    cold = build(twopass, objs2, tmp_path / "cold", "--import", "--no-cache")
    assert cold["thin_link"] == rep["thin_link"]
    for p in (tmp_path / "cold").glob("*.o"):
        for out in ("second", "warm"):
            assert (tmp_path / out / p.name).read_bytes() == p.read_bytes(), (out, p.name)


def test_decisions_round_trip_and_bad_entries_are_refused():
    decisions = thinlink.thin_link({"a": summary({"f": fn(3, calls=["g"])}), "b": summary({"g": fn(2, refs=["k"]),
                                    "k": fn(1, linkage="internal")})}, {"a": "0" * 64, "b": "f" * 64},
                                   thinlink.LinkOptions())
    again = thinlink.load_decisions(thinlink.dump_decisions(decisions))
    assert {m: (d.promote, d.imports, d.internalize) for m, d in again.items()} == \
        {m: (d.promote, d.imports, d.internalize) for m, d in decisions.items()}
    assert again["a"].imports == {"b": ["g"]} and again["b"].promote == {"k": "k.llvm.4294967295"}
    for bad in (b"", b"\x93\x01\x02\x03", msgpack.packb({"a": [1, 2]})):
        with pytest.raises(ValueError, match="not thin-link decisions"):
            thinlink.load_decisions(bad)


def test_bad_export_symbols_file(twopass, tmp_path):
    objs = compile_sources({"c.c": SOURCES["c.c"]}, tmp_path / "src")
    proc = twopass("build", *objs, "-o", tmp_path / "out", "--import", "--export-symbols-file", tmp_path / "none")
    assert "none" in assert_clean_error(proc)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# -- the decisions on hand-made summaries -----------------------------------------------------------------------

def fn(insts: int, calls=(), refs=(), linkage="external", why_not="", visibility="default") -> dict:
    return {"linkage": linkage, "visibility": visibility, "insts": insts, "calls": list(calls),
            "refs": list(refs), "why_not": why_not}


def var(refs=(), linkage="external", import_=True, visibility="default") -> dict:
    return {"linkage": linkage, "visibility": visibility, "kind": "variable", "refs": list(refs), "import": import_}


def summary(functions: dict, variables: dict | None = None) -> dict:
    return {"functions": functions, "variables": variables or {}, "renamable": True, "used": []}


DIGESTS = {m: f"{i:08x}" + "0" * 56 for i, m in enumerate(("m", "e", "f", "g", "u"), 1)}


def test_limits_decay_along_call_chains():
    sums = {"m": summary({"main": fn(10, calls=["f"])}),
            "e": summary({"f": fn(90, calls=["g"]), "g": fn(65, calls=["h"]), "h": fn(50)})}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())
    assert d["m"].imports == {"e": ["f", "g"]}  # g: 65 <= 70; h: 50 > 49
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions(instr_limit=80))
    assert d["m"].imports == {}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions(evolution=1.0))
    assert d["m"].imports == {"e": ["f", "g", "h"]}
    # Whole numbers, as in LLVM: 100, 70, 49, 34, then 23 (not 24.01), so a 24-instruction function stays.
    chain = {"m": summary({"main": fn(10, calls=["a"])}),
             "e": summary({"a": fn(50, calls=["b"]), "b": fn(60, calls=["c"]), "c": fn(40, calls=["d"]),
                           "d": fn(30, calls=["x"]), "x": fn(24)})}
    assert thinlink.thin_link(chain, DIGESTS, thinlink.LinkOptions())["m"].imports == {"e": ["a", "b", "c", "d"]}


def test_only_live_code_imports_and_keeps_other_modules_symbols_external():
    """LLVM's computeDeadSymbols: what no root reaches imports nothing and keeps nothing of another module
    external (before, a dead caller imported its callees and kept them external); constructors are roots."""
    sums = {"m": summary({"main": fn(10, calls=["f"]), "dead": fn(10, calls=["g"])}),
            "e": summary({"f": fn(200), "g": fn(20), "k": fn(20)}),
            "f": {**summary({"init": fn(5, calls=["k"], linkage="internal")}), "structors": ["init"]}}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())
    assert d["m"].imports == {} and d["f"].imports == {"e": ["k"]}
    assert d["m"].internalize == ["dead"] and d["e"].internalize == ["g"]


def test_ineligible_functions_stay_and_locals_they_reach_are_promoted():
    sums = {"m": summary({"main": fn(10, calls=["f", "n"])}),
            "e": summary({"f": fn(20, calls=["s"], refs=["k"]), "s": fn(30, linkage="internal"),
                          "n": fn(5, why_not="noinline")},
                         {"k": var(import_=False, linkage="private")})}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())
    assert d["m"].imports == {"e": ["f", "s"]}
    assert d["e"].promote == {"k": thinlink.promoted_name("k", DIGESTS["e"]),
                              "s": thinlink.promoted_name("s", DIGESTS["e"])}
    assert d["e"].internalize == [] and d["m"].internalize == []  # n and f are used from m; main is a root


def test_same_local_name_in_two_exporters_gets_two_names():
    sums = {"m": summary({"main": fn(10, calls=["f", "g"])}),
            "e": summary({"f": fn(5, calls=["helper"]), "helper": fn(5, linkage="internal")}),
            "f": summary({"g": fn(5, calls=["helper"]), "helper": fn(5, linkage="internal")})}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())
    assert d["e"].promote["helper"] != d["f"].promote["helper"]
    assert d["m"].imports == {"e": ["f", "helper"], "f": ["g", "helper"]}


def test_constants_live_code_references_are_imported_with_what_they_name():
    """LLVM's computeImportForReferencedGlobals: from live code of the module and from its imports; a private
    constant the importer also has a local of that name comes all the same (locals are promoted apart)."""
    sums = {"m": summary({"main": fn(10, calls=["f"], refs=["tab", "mut"]), "dead": fn(5, refs=["far"])},
                         {".str": var(linkage="private")}),
            "e": summary({"f": fn(20, refs=[".str"]), "g": fn(5)},
                         {"tab": var(refs=["row", "g"]), "row": var(linkage="internal"), ".str": var(linkage="private"),
                          "mut": var(import_=False), "far": var()})}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())
    assert d["m"].imports == {"e": ["f"]}
    assert d["m"].variables == {"e": [".str", "row", "tab"]}  # not `mut` (no constant), not `far` (dead code)
    assert set(d["e"].promote) == {".str", "row"} and "g" not in d["e"].internalize  # the table names g
    assert {"tab", "g"}.isdisjoint(d["e"].internalize) and "far" in d["e"].internalize
    assert thinlink.statistics(d)["imported_constants"] == 3
    assert thinlink.load_decisions(thinlink.dump_decisions(d))["m"].variables == d["m"].variables
    assert d["m"].sources() == {"e": [".str", "f", "row", "tab"]}
    fields = d["m"].key_fields(DIGESTS, {o: x.promote for o, x in d.items()})
    assert fields["variables"] == [[DIGESTS["e"], [".str", "row", "tab"]]]
    clash = dict(sums, m=summary({"main": fn(10, refs=["tab"])}, {"tab": var()}))  # its own external tab
    assert thinlink.thin_link(clash, DIGESTS, thinlink.LinkOptions())["m"].variables == {}


def test_internalization_roots_and_shared_libraries():
    sums = {"m": summary({"main": fn(10, calls=["f"])}),
            "e": summary({"f": fn(500), "api": fn(500), "hid": fn(500, visibility="hidden")})}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())
    assert d["e"].internalize == ["api", "hid"]
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions(exports=("main", "api")))
    assert d["e"].internalize == ["hid"]
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions(shared=True, exports=()))
    assert d["e"].internalize == ["hid"] and d["m"].internalize == []
    library = {"e": sums["e"], "u": summary({"use": fn(10, calls=["f"])})}  # no main: a library's inputs
    d = thinlink.thin_link(library, DIGESTS, thinlink.LinkOptions())
    assert d["e"].internalize == ["hid"] and d["u"].internalize == []


def test_under_a_linker_linkonce_copies_go_local_by_whole_groups_or_hidden():
    """With the linker's resolution (ld.twopass): a prevailing inline function only its module uses goes local
    with all of its COMDAT group; one another module uses stays, weak and hidden (nothing outside the bitcode
    sees it); one whose group another object can keep (a weak_odr copy elsewhere), or that the linker says is
    seen outside (x), stays as it is. Dead weak definitions go local in any build."""
    def once(calls=(), comdat=None, linkage="linkonce_odr", kind="function"):
        g = fn(5, calls=calls, linkage=linkage) if kind == "function" else \
            {**var(refs=calls, linkage=linkage), "kind": kind}
        return {**g, "comdat": comdat} if comdat else g
    sums = {"m": summary({"main": fn(10, calls=["own", "shared", "C1", "mixed"]), "own": once(comdat="own"),
                          "shared": once(comdat="shared"), "C2": once(comdat="C5"), "mixed": once(comdat="mixed"),
                          "seen": once(comdat="seen"), "weakdead": fn(5, linkage="weak")},
                         {"C1": once(calls=["C2"], kind="alias")}),
            "e": summary({"use": fn(10, calls=["shared"]), "shared": once(comdat="shared"),
                          "mixed": once(comdat="mixed", linkage="weak_odr")})}
    resolution = {"m": {"main": "px", "own": "p", "shared": "p", "C1": "p", "C2": "p", "mixed": "p", "seen": "px",
                        "weakdead": "p"},
                  "e": {"use": "px", "shared": "", "mixed": ""}}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions(), resolution)
    assert d["m"].internalize == ["C1", "C2", "own", "weakdead"]
    assert d["m"].weaken == ["seen", "shared"] and d["m"].hide == ["mixed", "shared"]
    assert d["e"].internalize == [] and d["e"].hide == []
    plain = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())  # no linker: only the dead weak one
    assert plain["m"].internalize == ["weakdead"] and plain["m"].hide == []


def test_under_a_linker_copies_it_did_not_choose_are_discarded():
    """The linkonce and weak copies another object's copy prevails over are emitted by no round (LLVM drops
    them before code generation); the chosen copy stays, weak, for the modules whose copy went. Not an alias,
    an aliasee, a `used` copy, a copy in a module with asm, nor a symbol the linker did not mention; nothing
    outside a linker."""
    sums = {"m": summary({"main": fn(10, calls=["tmpl", "inl", "C1", "w"]), "tmpl": fn(5, linkage="linkonce_odr"),
                          "inl": fn(5, linkage="linkonce_odr"), "C2": fn(5, linkage="linkonce_odr"),
                          "w": fn(5, linkage="weak"), "kept": fn(5, linkage="linkonce_odr")},
                         {"C1": {**var(refs=["C2"], linkage="linkonce_odr"), "kind": "alias"},
                          "guard": var(linkage="linkonce_odr")}),
            "e": summary({"use": fn(10, calls=["tmpl", "w"]), "tmpl": fn(5, linkage="linkonce_odr"),
                          "w": fn(5, linkage="weak")}, {"guard": var(linkage="linkonce_odr")})}
    sums["m"]["used"] = ["kept"]
    resolution = {"m": {"main": "px", "tmpl": "", "inl": "", "C1": "", "C2": "", "w": "", "kept": "",
                        "guard": ""},
                  "e": {"use": "px", "tmpl": "p", "w": "p", "guard": "p"}}
    d = thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions(), resolution)
    assert d["m"].discard == ["guard", "inl", "tmpl", "w"]
    assert d["e"].discard == [] and d["e"].weaken == ["tmpl"]  # m's references now reach e's copy
    assert d["m"].key_fields(DIGESTS, {"m": {}, "e": {}})["discard"] == d["m"].discard
    assert thinlink.load_decisions(thinlink.dump_decisions(d))["m"].discard == d["m"].discard
    asm = {**sums, "m": {**sums["m"], "renamable": False}}
    assert thinlink.thin_link(asm, DIGESTS, thinlink.LinkOptions(), resolution)["m"].discard == []
    assert thinlink.thin_link(sums, DIGESTS, thinlink.LinkOptions())["m"].discard == []


def test_decisions_do_not_depend_on_input_order():
    rng = random.Random(7)
    names = [f"m{i}" for i in range(40)]
    sums = {m: summary({f"{m}_f{j}": fn(rng.randint(1, 150), calls=[f"{rng.choice(names)}_f{rng.randint(0, 4)}"
                                                                      for _ in range(3)],
                                        linkage=rng.choice(["external", "internal"])) for j in range(5)})
            for m in names}
    digests = {m: f"{i:08x}" + "0" * 56 for i, m in enumerate(names)}
    ref = thinlink.thin_link(sums, digests, thinlink.LinkOptions())
    shuffled = list(sums.items())
    rng.shuffle(shuffled)
    again = thinlink.thin_link(dict(shuffled), digests, thinlink.LinkOptions())
    assert {m: vars(d) for m, d in ref.items()} == {m: vars(d) for m, d in again.items()}


# -- the textual IR side ------------------------------------------------------------------------------------------

def test_declarations_of_tricky_definitions():
    f = irtext.Entity("f", "function",
                      'define linkonce_odr hidden noundef i32 @f(ptr noundef byval(%struct.T) align 8 %0, i32 %1) '
                      'local_unnamed_addr #3 comdat section ".text.f" align 16 personality ptr @__gxx_personality_v0'
                      ' !dbg !12 {')
    assert irtext.declaration(f) == ("declare hidden noundef i32 @f(ptr noundef byval(%struct.T) align 8 %0, "
                                     "i32 %1) local_unnamed_addr #3 align 16")
    v = irtext.Entity("v", "variable", '@v = internal thread_local(initialexec) global { i32, [2 x ptr] } '
                                       '{ i32 1, [2 x ptr] [ptr @a, ptr @b] }, section "s", align 8, !dbg !4')
    assert irtext.declaration(v) == "@v = external thread_local(initialexec) global { i32, [2 x ptr] }, align 8"
    c = irtext.Entity("c", "variable", '@c = hidden unnamed_addr constant <{ i8, i32 }> <{ i8 1, i32 2 }>, align 1')
    assert irtext.declaration(c) == "@c = external hidden unnamed_addr constant <{ i8, i32 }>, align 1"
    # C++'s anonymous namespaces put spaces in type names (sentencepiece's import module was cut at one)
    s = irtext.Entity("s", "variable", '@s = internal global %"class.a::(anonymous namespace)::B" '
                                       'zeroinitializer, align 8')
    assert irtext.declaration(s) == '@s = external global %"class.a::(anonymous namespace)::B", align 8'
    p = irtext.Entity("p", "variable", "@p = global ptr addrspace(1) null, align 8")
    assert irtext.declaration(p) == "@p = external global ptr addrspace(1), align 8"


LAMBDAS = {  # names LLVM quotes ($) and C++'s type info for a lambda in an anonymous namespace
    "lam.cpp": "#include <typeinfo>\nnamespace { int calls = 0;\n"
               "int helper(int x) { static int n = 0; return x + ++n + ++calls; } }\n"
               "const char *lambda_name(int x) { auto f = [x](int y) { return helper(x + y); };"
               " return typeid(f).name(); }\n",
}
PROMOTE_CHILD = r"""
import os, sys, tempfile
from twopass import irtext, llvm, workers
llvm.init(())
compared = 0
workers._BLOB_DIR = tempfile.mkdtemp()
for i, path in enumerate(sys.argv[1:]):
    data = open(path, "rb").read()
    base = irtext.parse(llvm.text(llvm.parse_module(data, path)))
    renames = {n: f"{n}.llvm.{k}" for k, (n, e) in enumerate(base.entities.items())
               if e.kind != "declaration" and e.linkage in irtext.LOCAL and n not in base.used and not n.isdigit()
               and "\\" not in n and " comdat" not in e.head}
    mod = llvm.parse_module(data, path)
    llvm.promote(mod, renames)
    by_llvm = irtext.parse(llvm.text(mod))
    # as a worker finds it: the text its summary left, under a digest whose bitcode is no bitcode at all
    workers.summarize((path, data, str(i)))
    open(os.path.join(workers._BLOB_DIR, str(i)), "wb").write(b"not bitcode")
    by_text = workers._exporter_ir(path, str(i), renames)
    names = [n for n, e in by_llvm.entities.items() if e.kind in ("function", "variable") and n[:5] != "llvm."]
    for wanted in [[n] for n in names] + [names]:
        def imported(ir):
            try:
                return irtext.import_module(ir, wanted)
            except (ValueError, KeyError) as e:
                return repr(e)
        assert imported(by_llvm) == imported(by_text), (path, wanted)
        compared += 1
print(compared)
"""


def test_promotion_on_the_summary_text_is_what_llvm_prints(tmp_path):
    """Round one imports from the text each exporter's summary printed, promoted as text (irtext.promote): every
    import module must be the one LLVM's own promotion and print give, on C, C++ (exceptions, aliases, comdats,
    lambdas, quoted names) and debug info, with every local of every module promoted."""
    modules = [*compile_sources(SOURCES, tmp_path / "c"), *compile_sources({**CPP, **LAMBDAS}, tmp_path / "cpp"),
               *compile_sources(CPP, tmp_path / "g", debug=True), *sorted(DATA.glob("*.o"))]
    proc = subprocess.run([sys.executable, "-c", PROMOTE_CHILD, *map(str, modules)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 300


def test_promotion_the_text_cannot_say_is_left_to_llvm():
    ir = irtext.parse("\n".join([
        "$f = comdat any", "@0 = private constant i32 1", '@"q\\22" = internal global i32 0',
        "define internal i32 @f() comdat {", "  ret i32 0", "}", "define i32 @g() {", "  ret i32 1", "}"]))
    for renames in ({"0": "0.llvm.1"}, {"f": "f.llvm.1"}, {'q\\22': "q.llvm.1"}, {"absent": "absent.llvm.1"}):
        with pytest.raises(ValueError):
            irtext.promote(ir, renames)
    assert irtext.promote(ir, {}) is ir


def test_summary_flags_what_cannot_be_imported():
    text = "\n".join([
        '@.str = private unnamed_addr constant [2 x i8] c"x\\00", align 1',
        '@inasm = internal global i32 0, section "special"',
        '@al = alias i32 (i32), ptr @plain',
        "define i32 @plain(i32 %0) #0 {", "  %2 = add i32 %0, 1", "  ret i32 %2", "}",
        "define i32 @noinl(i32 %0) #1 {", "  ret i32 %0", "}",
        "define i32 @var(i32 %0, ...) #0 {", "  ret i32 %0", "}",
        "define i32 @sw(i32 %0) #0 {", "  switch i32 %0, label %3 [", "    i32 1, label %2", "    i32 2, label %2",
        "  ]", "", "2:", "  ret i32 1", "", "3:", "  ret i32 0", "}",
        "define void @asm() #0 {", '  call void asm sideeffect "nop", ""()', "  ret void", "}",
        "define ptr @str() #0 {", "  ret ptr @.str", "}",
        "define ptr @sect() #0 {", "  ret ptr @inasm", "}",
        "define i32 @viaalias(i32 %0) #0 {", "  %2 = call i32 @al(i32 %0)", "  ret i32 %2", "}",
        "attributes #0 = { nounwind }", "attributes #1 = { noinline nounwind }"])
    fns = irtext.summarize(text)["functions"]
    assert irtext.summarize(text)["variables"][".str"]["import"]
    assert not irtext.summarize(text)["variables"]["inasm"]["import"]  # neither a constant nor outside a section
    assert fns["plain"]["why_not"] == "" and fns["plain"]["insts"] == 2
    assert fns["str"]["why_not"] == "" and fns["str"]["refs"] == [".str"]
    assert fns["noinl"]["why_not"] == "noinline"
    assert fns["var"]["why_not"] == ""  # LLVM imports variadic functions too (and may inline them)
    assert fns["sw"]["insts"] == 3  # a switch and two returns: its cases are not instructions
    assert fns["asm"]["why_not"] == "inline asm"
    assert "explicit section" in fns["sect"]["why_not"]
    assert "alias" in fns["viaalias"]["why_not"] and fns["viaalias"]["calls"] == ["al"]


@pytest.mark.parametrize("modules", [2000])
def test_thin_link_handles_thousands_of_summaries(modules):
    """Correct on a program the size of a large service; its time is measured by tools/bench_thinlink.py."""
    from tools.bench_thinlink import synthetic
    sums, digests = synthetic(modules, seed=1)
    d = thinlink.thin_link(sums, digests, thinlink.LinkOptions())
    stats = thinlink.statistics(d)
    assert stats["imported_functions"] > modules and stats["importing_modules"] > modules // 2
    for m, dec in d.items():
        for exporter, functions in dec.imports.items():
            assert exporter != m and all(sums[exporter]["functions"][f]["insts"] <= 100 for f in functions)
