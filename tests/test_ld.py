"""`ld.twopass` as a build uses it: `clang-19 -flto=thin -fuse-ld=twopass`, archives of bitcode and native
members, assembly and -fno-lto objects calling into bitcode and called back, --export-dynamic + dlsym, C++
templates, inline functions, virtual calls, exceptions and constructors across archives; the real linker's
messages and status on bad input; byte-identical outputs whatever the jobs, cache, member order or directory."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from tests import elf
from tests.ldkit import make_toolchain
from twopass import ldargs

MIXED = {
    "main.c": r'''
#include <dlfcn.h>
#include <stdio.h>
int util_twice(int);
int native_apply(int);
int asm_entry(int);
__attribute__((weak)) int chosen(void) { return 1; }
int main(void) {
    int (*f)(int) = (int (*)(int))dlsym(dlopen(0, RTLD_NOW), "reached_by_dlsym");
    if (!f) { puts("dlsym failed"); return 1; }
    printf("%d %d %d %d %d\n", util_twice(5), native_apply(3), asm_entry(4), f(6), chosen());
    return 0;
}''',
    "util.c": "int util_twice(int x) { return 2 * x; }\nint bitcode_callback(int x) { return x + 100; }\n",
    "lazy.c": "int lazy_unused(void) { return 7; }\n",
    "dyn.c": "int reached_by_dlsym(int x) { return x * x; }\nint chosen(void) { return 2; }\n",
    "callee.c": "int only_from_asm(int x) { return x - 1; }\n",
    "native.c": "int bitcode_callback(int);\nint native_apply(int x) { return bitcode_callback(x); }\n",
    "entry.S": ".text\n.globl asm_entry\n.type asm_entry,@function\nasm_entry:\n  jmp only_from_asm@PLT\n"
               ".section .note.GNU-stack,\"\",@progbits\n",
}
MIXED_OUTPUT = "10 103 3 36 2\n"

CXX = {
    "common.h": r'''
#include <stdexcept>
template <class T> T twice(T x) { return x + x; }
inline int counter() { static int n; return ++n; }
struct Shape { virtual int area() const = 0; virtual ~Shape() {} };
Shape *make_square(int side);
int area_of(const Shape &s);
void fail_if(int x);
extern int constructed;
''',
    "a.cpp": r'''
#include "common.h"
#include <cstdio>
int constructed;
static struct Init { Init() { constructed += 10; } } init;
struct Square : Shape { int s; explicit Square(int s) : s(s) {} int area() const override { return s * s; } };
Shape *make_square(int side) { return new Square(side); }
void fail_if(int x) { if (x > counter()) throw std::runtime_error("too big"); }
int a_counts() { return counter() + twice(1); }
''',
    "b.cpp": r'''
#include "common.h"
static struct Init { Init() { constructed += 1; } } init;
int area_of(const Shape &s) { return s.area() + twice(0); }
int b_counts() { return counter() * 10 + twice(2); }
''',
    "main.cpp": r'''
#include "common.h"
#include <cstdio>
int a_counts();
int b_counts();
int main() {
    Shape *s = make_square(3);
    std::printf("%d %d %d %d %d", constructed, area_of(*s), a_counts(), b_counts(), counter());
    delete s;
    try { fail_if(100); } catch (const std::exception &e) { std::printf(" caught %s\n", e.what()); }
    return 0;
}''',
}
CXX_OUTPUT = "11 9 3 24 3 caught too big\n"  # one counter() state across modules: 1 (a), 2 (b), 3 (main)


@pytest.fixture(scope="module")
def tc(tmp_path_factory):
    return make_toolchain(tmp_path_factory.mktemp("ld"))


def write(d: Path, files: dict[str, str]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)


def build_mixed(tc, d: Path, order=("util.o", "lazy.o", "native.o")) -> None:
    write(d, MIXED)
    for src in ("main.c", "util.c", "lazy.c", "dyn.c", "callee.c"):
        tc.cc("-O2", "-flto=thin", "-c", src, "-o", src[:-2] + ".o", cwd=d)
    tc.cc("-O2", "-c", "native.c", "-o", "native.o", cwd=d)
    tc.cc("-c", "entry.S", "-o", "entry.o", cwd=d)
    tc.ar("libmixed.a", *order, cwd=d)


def link_mixed(tc, d: Path, out="app", *extra, **kw):
    return tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "main.o", "dyn.o", "callee.o", "entry.o", "-L.",
                 "-lmixed", "-ldl", "-Wl,--export-dynamic", "-o", out, *extra, cwd=d, **kw)


def test_parses_lld_spellings():
    args = ldargs.parse(["-o", "out", "-lfoo", "-L", "dir", "-export-dynamic", "-e", "start", "-zrelro",
                         "--lto-O3", "-plugin-opt=mcpu=x", "-mllvm", "-x", "-omagic", "--start-lib", "a.o",
                         "-soname", "s", "-Bstatic", "-static"])
    got = [(a.name, a.value) for a in args]
    assert got == [("output", "out"), ("library", "foo"), ("library-path", "dir"), ("export-dynamic", None),
                   ("entry", "start"), ("z", "relro"), ("lto-O", "3"), ("plugin-opt", "mcpu=x"), ("mllvm", "-x"),
                   ("output", "magic"), ("start-lib", None), (None, "a.o"), ("soname", "s"), ("Bstatic", None),
                   ("Bstatic", None)]
    assert ldargs.render(args)[:3] == ["-o", "out", "-lfoo"]


def test_response_files_expand(tmp_path):
    rsp = tmp_path / "link.rsp"
    rsp.write_text('-o "my app" a.o\n@' + str(tmp_path / "more.rsp"))
    (tmp_path / "more.rsp").write_text("'b c.o'")
    assert ldargs.expand(["@" + str(rsp)]) == ["-o", "my app", "a.o", "b c.o"]


def test_mixed_program_links_and_runs(tc, tmp_path):
    d = tmp_path / "mixed"
    build_mixed(tc, d)
    link_mixed(tc, d)
    assert tc.run(d / "app").stdout == MIXED_OUTPUT
    symbols = {s.name for s in elf.read((d / "app").read_bytes()).symbols}
    assert "lazy_unused" not in symbols  # a lazy bitcode member nobody needs stays out
    assert {"only_from_asm", "bitcode_callback", "reached_by_dlsym"} <= symbols


def build_cxx(tc, d: Path) -> None:
    """CXX as bitcode: main.o, and a.o and b.o each in an archive of its own."""
    write(d, CXX)
    for src in ("a.cpp", "b.cpp", "main.cpp"):
        tc.cc("-O2", "-flto=thin", "-c", src, "-o", src[:-4] + ".o", cxx=True, cwd=d)
    tc.ar("liba.a", "a.o", cwd=d)
    tc.ar("libb.a", "b.o", cwd=d)


def test_cxx_across_archives(tc, tmp_path):
    d = tmp_path / "cxx"
    build_cxx(tc, d)
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "main.o", "-L.", "-lb", "-la", "-o", "app", cxx=True, cwd=d)
    assert tc.run(d / "app").stdout == CXX_OUTPUT
    syms = [s for s in elf.read((d / "app").read_bytes()).symbols if s.name == "_ZZ7countervE1n"]
    assert len(syms) == 1  # one prevailing copy of the inline function's static


def test_without_bitcode_it_is_the_linkers_own_run(tc, tmp_path):
    d = tmp_path / "native"
    write(d, {"m.c": "int main(void) { return 3; }\n"})
    tc.cc("-O2", "-c", "m.c", "-o", "m.o", cwd=d)
    tc.twopass_ld("m.o", "-e", "main", "-o", "via-twopass", cwd=d)
    tc.lld("m.o", "-e", "main", "-o", "via-lld", cwd=d)
    assert (d / "via-twopass").read_bytes() == (d / "via-lld").read_bytes()


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_linked_output_is_deterministic(tc, tmp_path):
    d = tmp_path / "det"
    build_mixed(tc, d)
    link_mixed(tc, d, "app1", "-Wl,--thinlto-jobs=1")
    cache = f"-Wl,--thinlto-cache-dir={tmp_path / 'cache'}"
    link_mixed(tc, d, "app2", "-Wl,--thinlto-jobs=2", cache)
    link_mixed(tc, d, "app3", cache)  # warm
    want = digest(d / "app1")
    assert digest(d / "app2") == want and digest(d / "app3") == want
    other = tmp_path / "elsewhere" / "det"
    shutil.copytree(d, other)
    (other / "libmixed.a").unlink()
    tc.ar("libmixed.a", "native.o", "lazy.o", "util.o", cwd=other)  # members in another order
    link_mixed(tc, other, "app4")
    assert digest(other / "app4") == want


def test_linker_errors_reach_the_user_and_nothing_is_left(tc, tmp_path):
    d = tmp_path / "bad"
    build_mixed(tc, d)
    (d / "app").write_text("an earlier link's output")
    proc = tc.cc("-flto=thin", "-fuse-ld=twopass", "main.o", "-o", "app", cwd=d, check=False)
    assert proc.returncode != 0 and "undefined symbol: util_twice" in proc.stderr
    assert "Traceback" not in proc.stderr and not (d / "app").exists()
    proc = link_mixed(tc, d, "app", "-lnosuchlib", check=False)
    assert proc.returncode != 0 and "unable to find library -lnosuchlib" in proc.stderr and not (d / "app").exists()
    proc = tc.twopass_ld("-r", "main.o", "-o", "app.o", cwd=d, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        "ld.twopass: error: -r: a relocatable link of bitcode needs bitcode output, which twopass does not write"]
    assert not (d / "app.o").exists()


def test_corrupt_archive_member_is_named(tc, tmp_path):
    d = tmp_path / "corrupt"
    build_mixed(tc, d)
    data = bytearray((d / "libmixed.a").read_bytes())
    at = data.find(b"BC\xc0\xde")
    data[at + 40:at + 400] = b"\xff" * 360
    (d / "libmixed.a").write_bytes(bytes(data))
    proc = link_mixed(tc, d, check=False)
    assert proc.returncode != 0 and "libmixed.a(util.o" in proc.stderr and "Traceback" not in proc.stderr
    assert not (d / "app").exists()


def options_for(*argv, env_flags=""):
    from twopass import ld
    old = os.environ.get("TWOPASS_LDFLAGS")
    os.environ["TWOPASS_LDFLAGS"] = env_flags
    try:
        args = ldargs.parse(list(argv))
        return ld._build_options(args, ld._own_options(args), "out/app")
    finally:
        if old is None:
            del os.environ["TWOPASS_LDFLAGS"]
        else:
            os.environ["TWOPASS_LDFLAGS"] = old


def test_lto_options_as_lld_and_clang_spell_them():
    opts, run = options_for("--lto-O3", "-plugin-opt=mcpu=znver2", "-plugin-opt=jobs=3", "--thinlto-cache-dir=c",
                            "--thinlto-cache-policy=cache_size=10%", "-plugin-opt=-codegen-data-generate",
                            "-plugin-opt=-function-sections=0", "-mllvm", "-enable-machine-outliner",
                            "-plugin-opt=thinlto", "-plugin-opt=-some-llvm-option=1")
    assert (opts.opt_level, opts.overrides.default_cpu, run.jobs, run.cache, run.cache_dir) == \
        (3, "znver2", 3, True, "c")
    assert opts.overrides.cpu is None  # lld's Conf.CPU: the functions' own target-cpu wins, none is rewritten
    assert run.cache_policy == "cache_size=10%" and run.cgdata_out == "out/app.cgdata"
    assert not opts.layout.function_sections and opts.outliner == "global"
    assert opts.extra_llvm == ("-some-llvm-option=1",)
    opts, run = options_for("-plugin-opt=O1", "-plugin-opt=-codegen-data-use-path=data.cgdata",
                            "-plugin-opt=-enable-machine-outliner=never")
    assert (opts.opt_level, opts.cgdata_in, opts.outliner) == (1, os.path.abspath("data.cgdata"), "never")
    assert not run.cache  # no --thinlto-cache-dir: no cache, as lld


def test_twopass_choices_through_wl_and_the_environment():
    opts, run = options_for("--twopass-outliner=local", "--twopass-report=r.json", "--twopass-no-merge-functions",
                            env_flags="--rounds=1 --outliner=never --fold-outlined=comdat")
    assert (opts.outliner, opts.rounds, opts.merge_functions, opts.layout.fold) == ("local", 1, False, "comdat")
    assert run.report == "r.json"


@pytest.mark.parametrize("argv, message", [
    (["-plugin-opt=emit-asm"], "-plugin-opt=emit-asm: twopass writes only objects (no assembly or bitcode output)"),
    (["--lto-emit-asm"], "--lto-emit-asm: twopass writes only objects (no assembly or bitcode output)"),
    (["-plugin-opt=obj-path=x"], "-plugin-opt=obj-path=x: not supported by twopass"),
    (["--lto-O9"], "--lto-O9: the LTO optimization level must be 0, 1, 2 or 3"),
    (["--twopass-outliner=sometimes"], "--twopass-*: argument --outliner: invalid choice: 'sometimes' (choose from "
                                       "'never', 'local', 'global')"),
])
def test_options_twopass_cannot_honour_are_one_line(argv, message):
    from twopass.errors import TwopassError
    with pytest.raises(TwopassError) as e:
        options_for(*argv)
    assert e.value.lines() == [message]


def test_verbose_shows_the_linker_and_both_runs_and_adds_icf(tc, tmp_path):
    d = tmp_path / "v"
    build_mixed(tc, d)
    proc = link_mixed(tc, d, "app", "-Wl,-v", "-Wl,--save-temps")
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ld.twopass: ")]
    assert "linker: " in lines[0] and "ld.lld" in lines[0]
    assert "--thinlto-index-only=" in lines[1] and "-codegen-data" not in lines[1]
    assert lines[-1].endswith("--icf=all") and "-plugin" not in lines[-1]
    assert (d / "app.twopass" / "index" / "out.resolution.txt").is_file()
    assert (d / "app.twopass" / "objects" / "main.o").is_file()
    proc = link_mixed(tc, d, "app", "-Wl,-v", "-Wl,--icf=none")
    assert "--icf=all" not in proc.stderr and tc.run(d / "app").stdout == MIXED_OUTPUT


@pytest.mark.parametrize("argv, model", [((), "static"), (("-pie",), "pic"), (("-shared",), "pic"),
                                         (("--pic-executable", "--no-pie"), "static"),
                                         (("-pie", "--twopass-relocation-model=static"), "static")])
def test_relocation_model_follows_the_link_as_in_lld(argv, model):
    """lld compiles for the link it makes, whatever PIC level the modules carry: PIC for -shared and -pie."""
    opts, _ = options_for(*argv)
    assert opts.overrides.reloc == model


def test_an_executable_at_a_fixed_address_gets_static_code(tc, tmp_path, llvm_tool):
    d = tmp_path / "m"
    build_mixed(tc, d)
    for mode in ("-no-pie", "-pie"):
        link_mixed(tc, d, "app", mode, "-Wl,--save-temps")
        assert tc.run(d / "app").stdout == MIXED_OUTPUT
        relocs = llvm_tool("llvm-readelf", "-r", d / "app.twopass" / "objects" / "main.o").stdout.decode()
        assert ("R_X86_64_32 " in relocs or "R_X86_64_32S " in relocs) == (mode == "-no-pie"), relocs


def test_verify_determinism_for_links(tc, tmp_path):
    d = tmp_path / "verify"
    build_mixed(tc, d)
    proc = link_mixed(tc, d, "app", "-Wl,--twopass-verify-determinism")
    assert proc.returncode == 0 and tc.run(d / "app").stdout == MIXED_OUTPUT


SHARED = {
    "api.h": r'''
#include <string>
#include <vector>
template <class T> struct Stack { std::vector<T> items; void push(T x) { items.push_back(x); }
                                  T top() const { return items.back(); } };
inline int next_id() { static int id; return ++id; }  // one counter for the library and its users
inline std::string greet(const std::string &who) { return "hello " + who; }
int api_count(int);
std::string api_greet(const std::string &);
''',
    "a.cpp": '#include "api.h"\n'
             'int api_count(int n) { Stack<int> s; for (int i = 0; i < n; i++) s.push(next_id()); return s.top(); }\n',
    "b.cpp": '#include "api.h"\nstd::string api_greet(const std::string &w) {\n'
             '  Stack<std::string> s; s.push(greet(w)); return s.top() + std::to_string(next_id()); }\n',
    "user.cpp": '#include "api.h"\n#include <cstdio>\nint main() { int n = api_count(3);\n'
                '  std::string g = api_greet("you"); std::printf("%d %s %d\\n", n, g.c_str(), next_id()); }\n',
}


def test_a_cxx_shared_library_exports_what_lld_exports(tc, tmp_path, llvm_tool):
    """Inline functions and template instances that both modules use are one prevailing copy each, which only
    the library needs: lld's LTO keeps them out of the dynamic symbols, so twopass hides them (421 extra
    exports, and their PLT entries, on sentencepiece's library before). The inline function's static stays
    exported: the program shares it with the library."""
    d = tmp_path / "shared"
    write(d, SHARED)
    for src in ("a.cpp", "b.cpp", "user.cpp"):
        tc.cc("-O2", "-fPIC", "-flto=thin", "-c", src, "-o", src[:-4] + ".o", cxx=True, cwd=d)
    exports = {}
    for linker, env in (("twopass", None), ("lld", tc.lld_env())):
        lib = d / linker / "libapi.so"
        lib.parent.mkdir()
        tc.cc("-O2", "-flto=thin", f"-fuse-ld={linker}", "-shared", "a.o", "b.o", "-o", lib, cxx=True, cwd=d,
              env=env)
        nm = llvm_tool("llvm-nm", "-D", "--defined-only", "--format=just-symbols", lib).stdout.decode()
        exports[linker] = set(nm.split())
    assert exports["twopass"] == exports["lld"]
    assert {"_Z9api_counti", "_ZZ7next_idvE2id"} <= exports["twopass"]
    assert not any(s.startswith("_ZN5StackI") for s in exports["twopass"])
    tc.cc("-O2", "user.cpp", "-Ltwopass", "-lapi", "-Wl,-rpath,$ORIGIN/twopass", "-o", "user", cxx=True, cwd=d)
    assert tc.run(d / "user").stdout == "3 hello you4 5\n"


COPIES = {
    "tmpl.h": r'''
__attribute__((noinline)) int weigh(int x, int w);
template <int N> __attribute__((noinline)) int scaled(const int *p, int n) {
    int s = 0;
    for (int i = 0; i < n; ++i) s += weigh(p[i], N) ^ (s >> 3);
    return s;
}
inline __attribute__((noinline)) int mix(int x) { static int calls; ++calls; return x * 31 + calls; }
int use_a(const int *p, int n);
int use_b(const int *p, int n);
''',
    "a.cpp": '#include "tmpl.h"\n'
             'int use_a(const int *p, int n) { return scaled<3>(p, n) + scaled<5>(p, n) + mix(n); }\n',
    "b.cpp": '#include "tmpl.h"\n'
             'int use_b(const int *p, int n) { return scaled<3>(p, n) - scaled<5>(p, n) + mix(n); }\n',
    "main.cpp": r'''
#include "tmpl.h"
#include <cstdio>
int weigh(int x, int w) { return x * w + 1; }
int main(int argc, char **) {
    int v[] = {1, 2, 3, argc};
    std::printf("%d %d %d\n", use_a(v, 4), use_b(v, 4), scaled<3>(v, 4) + mix(0));
}''',
}
COPY_SYMBOLS = ("_Z6scaledILi3EEiPKii", "_Z6scaledILi5EEiPKii", "_Z3mixi", "_ZZ3mixiE5calls")


@pytest.mark.parametrize("debug", [False, True], ids=["O2", "O2-g"])
def test_copies_the_linker_did_not_choose_are_not_compiled(tc, tmp_path, debug):
    """Every module has its own copy of an inline function or template instance it uses; the linker keeps one.
    LLVM drops the others before code generation, so the function merger makes one merged body of two
    instances; twopass compiled, outlined and merged every copy, and the merged bodies of the copies the link
    threw away stayed in the program (1% of ninja's test program). Each copy is now in one object only, the
    program has each merged body once, and it runs as built without LTO. With -g, round two parses the saved
    IR, which must stay valid IR (the copies are left out of code generation after it is saved)."""
    d = tmp_path / "copies"
    write(d, COPIES)
    g = ["-g"] if debug else []
    for src in ("a.cpp", "b.cpp", "main.cpp"):
        tc.cc("-O2", *g, "-flto=thin", "-c", src, "-o", src[:-4] + ".o", cxx=True, cwd=d)
    tc.cc("-O2", "a.cpp", "b.cpp", "main.cpp", "-o", "native", cxx=True, cwd=d)
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "-Wl,--save-temps", "main.o", "a.o", "b.o", "-o", "app",
          cxx=True, cwd=d)
    assert tc.run(d / "app").stdout == tc.run(d / "native").stdout
    defined: dict[str, list[str]] = {}
    for obj in sorted((d / "app.twopass" / "objects").glob("*.o")):
        for s in elf.read(obj.read_bytes()).symbols:
            if s.name in COPY_SYMBOLS and s.shndx != 0:
                defined.setdefault(s.name, []).append(obj.name)
    assert {name: len(objs) for name, objs in defined.items()} == dict.fromkeys(COPY_SYMBOLS, 1), defined
    merged = [s.name for s in elf.read((d / "app").read_bytes()).symbols if s.name.endswith(".Tgm")]
    assert merged and len(merged) == len(set(merged)), merged


DISPATCH = r'''
#include <immintrin.h>
#include <stdio.h>
__attribute__((target("avx2"), noinline)) void madd8(int *a, const int *b) {
    __m256i x = _mm256_loadu_si256((const __m256i *)a), y = _mm256_loadu_si256((const __m256i *)b);
    _mm256_storeu_si256((__m256i *)a, _mm256_madd_epi16(x, y));
}
__attribute__((noinline)) void madd8_plain(int *a, const int *b) {
    for (int i = 0; i < 8; i++)
        a[i] = (short)a[i] * (short)b[i] + (short)(a[i] >> 16) * (short)(b[i] >> 16);
}
int main(int argc, char **argv) {
    int a[8], b[8];
    for (int i = 0; i < 8; i++) { a[i] = i + argc; b[i] = argc * 3; }
    if (__builtin_cpu_supports("avx2")) madd8(a, b); else madd8_plain(a, b);
    printf("%d %d\n", a[0], a[7]);
    return 0;
}'''


def test_functions_keep_their_own_target_features(tc, tmp_path, llvm_tool):
    """Runtime CPU dispatch (zlib-ng's and simdjson's way): one function built for AVX2 by its target attribute,
    chosen when the CPU has it. clang passes `-plugin-opt=mcpu=x86-64` to every link; twopass took it for
    `--target-cpu` and rewrote every function's CPU and features, which took AVX2 away from this one (LLVM ERROR:
    Do not know how to split the result of this operator!) and retuned all code for x86-64 rather than the
    `tune-cpu` clang asked for. lld only makes it the target machine's CPU, under the functions' own."""
    d = tmp_path / "dispatch"
    write(d, {"v.c": DISPATCH})
    tc.cc("-O2", "-flto=thin", "-c", "v.c", "-o", "v.o", cwd=d)
    tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "v.o", "-o", "app", cwd=d)
    tc.cc("-O2", "v.c", "-o", "native", cwd=d)
    assert tc.run(d / "app").stdout == tc.run(d / "native").stdout == "3 24\n"
    code = llvm_tool("llvm-objdump", "-d", "--no-show-raw-insn", d / "app").stdout.decode()
    assert "vpmaddwd" in code
