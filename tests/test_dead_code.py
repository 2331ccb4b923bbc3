"""What the program never reaches goes from every module alike, as LLVM's ThinLTO drops dead symbols.

Each unreached piece below names `helper`, which another module defines and the live program never calls:
an out-of-line constructor (C++ makes its complete-object constructor an alias of the base-object one), a
virtual method reached only through that class's vtable, a weak function, an explicitly instantiated
template (weak_odr, in a COMDAT), an ifunc and a plain external function. When one of them stayed in its
object while `helper` was made local in its own, the link failed with `undefined symbol: helper(int)`: at
every level for the alias, the ifunc and the weak ones, and at -O0 (no optimizer) for all of them. A class
whose constructor another module does call keeps it, alias and all.
"""

from __future__ import annotations

import sys

import pytest

from tests import elf
from tests.ldkit import make_toolchain

SOURCES = {
    "unused.cpp": r'''
void helper(int);
struct Printer { Printer(int); virtual void show(); virtual ~Printer(); int x; };
Printer::Printer(int v) : x(v) {}
Printer::~Printer() {}
void Printer::show() { helper(x); }
__attribute__((weak)) void weak_unused() { helper(5); }
template <class T> struct Box { T v; void show() { helper(v); } };
template struct Box<int>;
void extern_unused() { helper(6); }
extern "C" { static void impl() { helper(7); } void *resolve_impl() { return (void *)impl; } }
void dead_ifunc() __attribute__((ifunc("resolve_impl")));
''',
    "helper.cpp": '#include <cstdio>\nvoid helper(int x) { std::printf("helper %d\\n", x); }\n',
    "used.cpp": r'''
#include <cstdio>
struct Counter { Counter(int); int n; };
Counter::Counter(int start) : n(start + 1) {}
''',
    "main.cpp": r'''
#include <cstdio>
struct Counter { Counter(int); int n; };
int main() { Counter c(41); std::printf("%d\n", c.n); return 0; }
''',
}
OUTPUT = "42\n"
GONE = ("_ZN7PrinterC1Ei", "_ZN7PrinterC2Ei", "_ZN7Printer4showEv", "_Z11weak_unusedv", "_ZN3BoxIiE4showEv",
        "_Z13extern_unusedv", "_Z10dead_ifuncv", "resolve_impl", "_Z6helperi")


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    tc = make_toolchain(tmp_path_factory.mktemp("dead"))
    d = tc.bindir.parent / "src"
    d.mkdir()
    for name, text in SOURCES.items():
        (d / name).write_text(text)
        tc.cc("-O2", "-flto=thin", "-c", name, "-o", name[:-4] + ".o", cxx=True, cwd=d)
    return tc, d


@pytest.mark.parametrize("level", ["0", "2", "z"])
def test_unreached_code_goes_through_the_linker(objects, level):
    tc, d = objects
    app = d / f"app-O{level}"
    tc.cc(f"-O{level}", "-flto=thin", "-fuse-ld=twopass", "main.o", "used.o", "unused.o", "helper.o", "-o", app,
          cxx=True, cwd=d)
    assert tc.run(app).stdout == OUTPUT
    symbols = {s.name for s in elf.read(app.read_bytes()).symbols}
    if level == "0":  # no optimizer to inline it: the constructor another module calls is there
        assert {"_ZN7CounterC1Ei", "_ZN7CounterC2Ei"} & symbols
    assert not symbols & set(GONE)


@pytest.mark.parametrize("level", ["0", "2"])
def test_unreached_code_goes_from_a_build(objects, tmp_path, level):
    tc, d = objects
    out = tmp_path / "out"
    tc.run(sys.executable, "-m", "twopass", "build", f"-O{level}", "-q", "--no-cache", "-o", out,
           *(d / n for n in ("main.o", "used.o", "unused.o", "helper.o")))
    for obj in sorted(out.glob("*.o")):
        defined = {s.name for s in elf.read(obj.read_bytes()).symbols if s.shndx != 0}
        assert not defined & set(GONE), obj.name
    app = tmp_path / "app"
    tc.cc("-fuse-ld=lld", *sorted(out.glob("*.o")), "-o", app, cxx=True, env=tc.lld_env())
    assert tc.run(app).stdout == OUTPUT
