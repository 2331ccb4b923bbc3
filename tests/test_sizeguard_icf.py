"""The size guard's estimate folds as lld's --icf=all does: a function calling its own module's copy of a local
sequence folds with another module's identical function once the two copies fold (round two leaves such
pairs in every module: global outlining gives each module its own copy of a shared sequence)."""

from __future__ import annotations

import subprocess
import sys

from tests import elf
from tests.ldkit import CLANG, require_clang
from tools.bench_sizeguard import linked_contribution
from twopass import sizeguard

TWIN = r'''
static __attribute__((noinline)) int helper(int x) { return x * 7 + (x >> 3) * 5 + 3; }
int NAME(int x) { return helper(x) + helper(x + 11) * 2; }
'''


def test_calls_to_identical_local_copies_fold(tmp_path):
    require_clang()
    for name in ("fa", "fb"):
        (tmp_path / f"{name}.c").write_text(TWIN.replace("NAME", name))
    (tmp_path / "main.c").write_text("int fa(int); int fb(int);\n"
                                     "int main(int c, char **v) { return fa(c) + fb(c); }\n")
    objects = {}
    for name in ("fa", "fb", "main"):
        subprocess.run([CLANG, "-O2", "-ffunction-sections", "-fno-pie", "-c", f"{name}.c", "-o", f"{name}.o"],
                       cwd=tmp_path, check=True)
        objects[f"{name}.o"] = (tmp_path / f"{name}.o").read_bytes()
    exe = tmp_path / "app"
    subprocess.run([sys.executable, "-m", "ziglang", "ld.lld", "--icf=all", "-e", "main", "--gc-sections",
                    "-Map", str(tmp_path / "app.map"), "-o", str(exe), *objects], cwd=tmp_path, check=True)
    symbols = {s.name: s.value for s in elf.read(exe.read_bytes()).symbols if s.name in ("fa", "fb")}
    assert symbols["fa"] == symbols["fb"]  # lld folded them: their helpers fold first
    linked = linked_contribution((tmp_path / "app.map").read_text(), set(objects))
    got = sizeguard.estimate(objects)
    assert got.by_module["fb.o"] == 0, got  # it was 48: fb's call to its own helper kept it apart
    assert linked <= got.total < linked + 16, (got, linked)  # the estimate pads the last section too
