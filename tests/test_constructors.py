"""Static constructors and destructors run: C `constructor`/`destructor` attributes with priorities, C++ globals
(a `std::string`, `init_priority`, a template's static member and an inline variable defined in two modules),
built through twopass in every mode and round, linked by ld.lld (zig's) and run, in the order a native build of
the same sources gives. LLVM's TargetOptions default would put them in `.ctors`/`.dtors`, which lld never runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import llvm_bin_dir

C = {
    "c1.c": "#include <stdio.h>\n"
            "__attribute__((constructor(101))) static void c101(void) { puts(\"c1 ctor 101\"); }\n"
            "__attribute__((constructor(300))) static void c300(void) { puts(\"c1 ctor 300\"); }\n"
            "__attribute__((constructor)) static void cdef(void) { puts(\"c1 ctor default\"); }\n"
            "__attribute__((destructor(150))) static void d150(void) { puts(\"c1 dtor 150\"); }\n"
            "__attribute__((destructor)) static void ddef(void) { puts(\"c1 dtor default\"); }\n"
            "int c1_value(void) { return 41; }\n",
    "c2.c": "#include <stdio.h>\nint c1_value(void);\n"
            "__attribute__((constructor(200))) void c2_200(void) { puts(\"c2 ctor 200\"); }\n"
            "__attribute__((constructor)) static void c2def(void) { puts(\"c2 ctor default\"); }\n"
            "__attribute__((destructor(101))) static void c2d101(void) { puts(\"c2 dtor 101\"); }\n"
            "int main(void) { printf(\"main %d\\n\", c1_value() + 1); return 0; }\n",
}
NOISY = ("#include <cstdio>\nstruct Noisy { const char *n;\n"
         "  Noisy(const char *s) : n(s) { std::printf(\"construct %s\\n\", n); }\n"
         "  ~Noisy() { std::printf(\"destroy %s\\n\", n); } };\n"
         "template <class T> struct Registry { static Noisy instance; };\n"
         "template <class T> Noisy Registry<T>::instance(\"template static member\");\n"
         "inline Noisy shared_inline(\"inline variable\");\n")
CPP = {
    "noisy.h": NOISY,
    "g1.cpp": "#include \"noisy.h\"\nNoisy first(\"g1 global\");\n"
              "__attribute__((init_priority(200))) Noisy early(\"g1 init_priority 200\");\n"
              "__attribute__((constructor(150))) static void attr() { std::puts(\"g1 constructor(150)\"); }\n"
              "const char *g1_name() { return Registry<int>::instance.n; }\n",
    "g2.cpp": "#include \"noisy.h\"\nconst char *g1_name();\nNoisy second(\"g2 global\");\n"
              "int main() { std::printf(\"main sees %s and %s\\n\", g1_name(), shared_inline.n);\n"
              "  return Registry<int>::instance.n == g1_name() ? 0 : 1; }\n",
}
STD = {  # libc++ globals: iostream and a std::string built before main
    "s1.cpp": "#include <string>\nstd::string greeting = std::string(\"hello from \") + \"a global string\";\n",
    "s2.cpp": "#include <iostream>\n#include <string>\nextern std::string greeting;\n"
              "static std::string tail(greeting.size(), '!');\n"
              "int main() { std::cout << greeting << tail << std::endl; return 0; }\n",
}
TRIPLES = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-musl"}


def zig(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ziglang", *map(str, args)], check=True, capture_output=True)


def compile_program(sources: dict[str, str], where: Path, arch: str, lto: bool = True) -> list[Path]:
    where.mkdir(parents=True, exist_ok=True)
    objs = []
    for name, text in sources.items():
        (where / name).write_text(text)
    for name in sources:
        if name.endswith(".h"):
            continue
        obj = where / (name.rsplit(".", 1)[0] + ".o")
        cpp = name.endswith(".cpp")
        zig("c++" if cpp else "cc", "-target", TRIPLES[arch], "-O2",
            *(["-std=c++17", "-fno-threadsafe-statics"] if cpp else []),
            *(["-flto=thin"] if lto else []), "-c", where / name, "-o", obj)
        objs.append(obj)
    return objs


def run(objs: list[Path], exe: Path, arch: str, libcxx: bool) -> str:
    """Linked by zig's driver (ld.lld, zig's C runtime, which runs .init_array and never .ctors)."""
    zig("c++" if libcxx else "cc", "-target", TRIPLES[arch], *objs, "-o", exe)
    runner = [] if arch == "x86_64" else ["qemu-aarch64-static"]
    proc = subprocess.run([*runner, str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def sections(obj: Path) -> list[str]:
    out = subprocess.run([str(llvm_bin_dir() / "llvm-readelf"), "-S", "--wide", str(obj)], check=True,
                         capture_output=True, text=True).stdout
    return re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", out, re.M)


def assembler(arch: str) -> list[str]:
    if arch == "x86_64":
        return []
    import ziglang
    zig_exe = Path(ziglang.__file__).parent / "zig"
    return ["--assembler", f"{zig_exe} cc -target {TRIPLES[arch]} -g0 -c"]


MODES = {
    "two rounds": [],
    "no outlining": ["--outliner", "never"],
    "local outlining": ["--outliner", "local"],
    "round one only": ["--rounds", "1"],
    "no layout": ["--fold-outlined", "none"],
    "no import": ["--no-import"],
    "O0": ["-O", "0"],
}
PROGRAMS = {"c": (C, False), "cpp": (CPP, False), "libcxx": (STD, True)}


def build_and_run(twopass, tmp_path: Path, program: str, arch: str, flags: list[str]) -> tuple[str, str]:
    """(what the twopass build prints, what the native build prints), after checking every object's sections."""
    sources, libcxx = PROGRAMS[program]
    if arch != "x86_64" and subprocess.run(["which", "qemu-aarch64-static"], capture_output=True).returncode:
        pytest.skip("qemu-aarch64-static is not installed")
    native = run(compile_program(sources, tmp_path / "native", arch, lto=False), tmp_path / "native.exe", arch,
                 libcxx)
    objs = compile_program(sources, tmp_path / "src", arch)
    proc = twopass("build", *objs, "-o", tmp_path / "out", "-q", "--no-cache", *assembler(arch), *flags)
    assert proc.returncode == 0, proc.stderr.decode()
    outs = sorted((tmp_path / "out").glob("*.o"))
    for obj in outs:
        names = sections(obj)
        assert not [n for n in names if n.startswith((".ctors", ".dtors"))], (obj.name, names)
    names = {n for obj in outs for n in sections(obj)}
    assert ".init_array" in names, names
    return run(outs, tmp_path / "twopass.exe", arch, libcxx), native


@pytest.mark.parametrize("mode", MODES)
def test_cpp_constructors_run_in_order_in_every_mode(twopass, tmp_path, mode):
    got, native = build_and_run(twopass, tmp_path, "cpp", "x86_64", MODES[mode])
    assert got == native
    lines = got.splitlines()
    assert lines[:2] == ["g1 constructor(150)", "construct g1 init_priority 200"], lines
    assert got.count("construct template") == got.count("destroy template") == 1
    assert "main sees template static member and inline variable" in got


@pytest.mark.parametrize("program", ["c", "libcxx"])
def test_c_priorities_and_libcxx_globals(twopass, tmp_path, program):
    got, native = build_and_run(twopass, tmp_path, program, "x86_64", [])
    assert got == native
    if program == "c":  # priorities across modules, then the default ones, destructors in reverse
        assert got.splitlines()[:3] == ["c1 ctor 101", "c2 ctor 200", "c1 ctor 300"]
        assert got.splitlines()[-1] == "c2 dtor 101"
    else:
        greeting = "hello from a global string"  # s2's global string is built from s1's
        assert got == greeting + "!" * len(greeting) + "\n"


def test_priority_sections(twopass, tmp_path):
    """`.init_array.N` / `.fini_array.N` for priorities, as clang names them; lld sorts them by N."""
    objs = compile_program(C, tmp_path / "src", "x86_64")
    twopass("build", *objs, "-o", tmp_path / "out", "-q", "--no-cache", check=True)
    assert {".init_array.101", ".init_array.300", ".init_array", ".fini_array.150", ".fini_array"} <= \
        set(sections(tmp_path / "out" / "c1.o"))


def test_reader_build(twopass, tmp_path):
    """A reader build (one round, other data) puts them in the same place."""
    objs = compile_program(CPP, tmp_path / "w", "x86_64")
    twopass("build", *objs, "-o", tmp_path / "writer", "-q", "--no-cache", "--cgdata-out", tmp_path / "d.cgdata",
            check=True)
    got, native = build_and_run(twopass, tmp_path, "cpp", "x86_64", ["--cgdata-in", tmp_path / "d.cgdata"])
    assert got == native


@pytest.mark.parametrize("program,mode", [("c", "two rounds"), ("cpp", "two rounds"), ("cpp", "no outlining"),
                                          ("cpp", "no layout")])
def test_aarch64(twopass, tmp_path, program, mode):
    got, native = build_and_run(twopass, tmp_path, program, "aarch64", MODES[mode])
    assert got == native

