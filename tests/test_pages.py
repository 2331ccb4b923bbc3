"""Giving back the pages that only loading LLVM touched: fewer pages mapped, and LLVM still works after."""

from __future__ import annotations

import subprocess
import sys

from conftest import DATA, ROOT

CHILD = r"""
import sys
import llvmlite.binding
from twopass import llvm, pages, libllvm

def mapped(name):
    rss, inside = 0, False
    for line in open("/proc/self/smaps"):
        if not line[:1].isupper():
            inside = name in line
        elif inside and line.startswith("Rss:"):
            rss += int(line.split()[1]) * 1024
    return rss

before = mapped("libllvmlite")
released = pages.release("libllvmlite")
after = mapped("libllvmlite")
assert released > 0 and after < before - (8 << 20), (before, after, released)
# Its relocated data and everything else it wrote are the process's own pages, never dropped: LLVM still runs,
# and its code faults back in from the file.
llvm.init(())
mod = llvm.parse_module(open(sys.argv[1], "rb").read(), sys.argv[1])
obj = llvm.emit_object(mod, llvm.target_machine(llvm.target_info(mod)))
assert obj[:4] == b"\x7fELF" and mapped("libllvmlite") > after
if libllvm.assembler() is not None:  # the xtc libLLVM releases its own after loading
    lib = libllvm._load(llvm.llvm_major())
    assert mapped("libLLVM.so") < 8 << 20
print(before >> 20, after >> 20)
"""


def test_release_drops_what_loading_llvm_touched_and_llvm_still_works():
    proc = subprocess.run([sys.executable, "-c", CHILD, str(DATA / "x86_64" / "matrix.o")], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    before, after = map(int, proc.stdout.split())
    assert before > after


def test_release_of_a_library_not_mapped_drops_nothing():
    from twopass import pages

    assert pages.release("no-such-library-anywhere.so") == 0
