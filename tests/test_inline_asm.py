"""Inline and file-scope assembly on a target whose assembly parser llvmlite lacks (AArch64): every object that
would be emitted in process (round one's scratch objects, every object with `--outliner never`) goes through
assembly text and the `--assembler`; on the host, where both routes exist, the scratch payloads are the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_twopass
from tools import corpus

TRIPLE = "aarch64-linux-musl"
ASM_C = r'''
__asm__(".globl file_scope_answer\n.data\n.p2align 2\nfile_scope_answer: .long 42\n.text\n");
extern int file_scope_answer;
static inline int add_asm(int a, int b) {
    int r;
    __asm__("add %w0, %w1, %w2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#define WORK(n) int work##n(int *v, int k) { int s = 0; for (int i = 0; i < 8; i++) { \
    s += v[i] * k + n; s ^= s >> 3; v[i] = s; } return s; }
WORK(1) WORK(2) WORK(3) WORK(4)
int mix(int x) { return add_asm(x, file_scope_answer); }
int scaled_sum(const int *v, int n, int k) {
    int s = 0;
    for (int i = 0; i < n; i++) s += add_asm(v[i] * k, i);
    return s;
}
'''
MAIN_C = r'''
#include <stdio.h>
int mix(int);
int scaled_sum(const int *, int, int);
int work1(int *, int), work2(int *, int), work3(int *, int), work4(int *, int);
#define WORK(n) int more##n(int *v, int k) { int s = 0; for (int i = 0; i < 8; i++) { \
    s += v[i] * k + n; s ^= s >> 3; v[i] = s; } return s; }
WORK(5) WORK(6) WORK(7) WORK(8)
int main(void) {
    int v[] = {3, 1, 4, 1, 5, 9, 2, 6};
    printf("%d %d", mix(1), scaled_sum(v, 8, 3));
    printf(" %d %d %d %d", work1(v, 3), work2(v, 5), work3(v, 7), work4(v, 2));
    printf(" %d %d %d %d\n", more5(v, 3), more6(v, 5), more7(v, 7), more8(v, 2));
    return 0;
}
'''
MODES = {"never": ["--outliner", "never"], "local": ["--outliner", "local"], "global": [],
         "rounds1": ["--rounds", "1"], "comdat": ["--fold-outlined", "comdat"], "no-layout": ["--fold-outlined", "none",
                                                                                              "-fno-function-sections"]}


def zig(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ziglang", *map(str, args)], check=True, capture_output=True,
                          cwd=cwd)


def assembler() -> list[str]:
    return ["--assembler", f"{sys.executable} -m ziglang cc -target {TRIPLE} -g0 -c"]


@pytest.fixture(scope="module")
def bitcode(tmp_path_factory):
    d = tmp_path_factory.mktemp("asm")
    (d / "asm.c").write_text(ASM_C)
    (d / "main.c").write_text(MAIN_C)
    for name in ("asm", "main"):
        zig("cc", "-target", TRIPLE, "-Oz", "-Xclang", "-Oz", "-flto=thin", "-c", f"{name}.c", "-o", f"{name}.o",
            cwd=d)
    return d


def run_aarch64(exe: Path) -> str:
    runner = corpus.runner_for("aarch64")
    if runner is None:
        pytest.skip("no way to run aarch64 programs here (qemu-aarch64-static is not installed)")
    return subprocess.run([*runner, str(exe)], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def expected(bitcode):
    zig("cc", "-target", TRIPLE, "-Oz", bitcode / "asm.c", bitcode / "main.c", "-o", bitcode / "native")
    return run_aarch64(bitcode / "native")


def build_and_run(bitcode: Path, out: Path, *flags) -> str:
    proc = run_twopass("build", bitcode / "asm.o", bitcode / "main.o", "-o", out, "-q", "--no-cache", *assembler(),
                       *flags)
    assert proc.returncode == 0, proc.stderr.decode()
    zig("cc", "-target", TRIPLE, out / "asm.o", out / "main.o", "-o", out / "prog")
    return run_aarch64(out / "prog")


@pytest.mark.parametrize("mode", MODES)
def test_aarch64_inline_asm_in_every_mode(bitcode, expected, tmp_path, mode):
    assert build_and_run(bitcode, tmp_path / mode, *MODES[mode]) == expected


def test_aarch64_inline_asm_reader_build(bitcode, expected, tmp_path):
    data = tmp_path / "w.cgdata"
    assert build_and_run(bitcode, tmp_path / "writer", "--cgdata-out", data) == expected
    assert build_and_run(bitcode, tmp_path / "reader", "--cgdata-in", data) == expected


def test_without_an_assembler_the_module_is_named(bitcode, tmp_path):
    proc = run_twopass("build", bitcode / "asm.o", bitcode / "main.o", "-o", tmp_path, "-q", "--no-cache",
                       "--outliner", "never")
    assert proc.returncode == 1
    (line,) = proc.stderr.decode().strip().splitlines()
    assert line.startswith(f"error: {bitcode / 'asm.o'}: has assembly, and llvmlite cannot assemble aarch64-")
    assert line.endswith(" in process: pass --assembler CMD (a clang driver, e.g. zig cc)")


CHILD = r'''
import sys
from twopass import llvm, layout
from twopass.cgdata import records, sections
options = ("-enable-machine-outliner", "-enable-global-merge-func", "-codegen-data-generate")
llvm.init(options)
data = open(sys.argv[1], "rb").read()
cmd = tuple(sys.argv[2:])
payloads = []
for route in ("object", "text"):
    mod = llvm.parse_module(data, "m")
    info = llvm.target_info(mod)
    tm = llvm.target_machine(info, 2)
    llvm.optimize(mod, tm, 2)
    assert llvm.has_inline_asm(mod)
    if route == "object":
        payloads.append([(k, bytes(d)) for _, k, d in sections.find_payloads(llvm.emit_object(mod, tm), "m")])
        continue
    obj = layout.assemble_external(cmd, layout.compile_external(cmd, llvm.bitcode(mod), 2, info.reloc, options,
                                                                "m"), "m")
    payloads.append([(k, records.rename_module(bytes(d), layout.EXTERNAL_MODULE, mod.name) if k == "merge"
                      else bytes(d)) for _, k, d in sections.find_payloads(obj, "m")])
assert payloads[0] and payloads[0] == payloads[1], payloads
print("same", len(payloads[0]))
'''


def test_host_scratch_payloads_are_the_same_through_text(tmp_path):
    """The cross-target route (codegen by the --assembler's clang, then its assembler) on the host, where
    llvmlite's own emit_object works too: the codegen-data payloads must be the same bytes."""
    src = tmp_path / "h.c"
    src.write_text(ASM_C.replace('"add %w0, %w1, %w2"', '"leal (%1,%2), %0"'))
    zig("cc", "-target", "x86_64-linux-musl", "-O2", "-flto=thin", "-c", src, "-o", tmp_path / "h.o")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "h.o"), sys.executable, "-m", "ziglang", "cc",
                           "-target", "x86_64-linux-musl", "-g0", "-c"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0 and proc.stdout.startswith("same"), proc.stderr
