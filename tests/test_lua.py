"""`twopass build` proven on Lua 5.4 with Lua's own test suite (x86-64 natively, AArch64 under qemu)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from tools import corpus  # noqa: E402

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
MODES = {"global": [], "rounds1": ["--rounds", "1"], "local": ["--outliner", "local"],
         "never": ["--outliner", "never"]}


@pytest.fixture(scope="module")
def lua_x86():
    return corpus.build_bitcode("x86_64")


def build(twopass, inputs, out: Path, *flags) -> Path:
    proc = twopass("build", *inputs, "-o", out, "-j", "2", *flags)
    assert proc.returncode == 0, proc.stderr.decode()
    return out


def check_lua(objects_dir: Path, target: str, tmp_path: Path) -> int:
    exe = tmp_path / f"lua-{target}"
    corpus.link(sorted(objects_dir.glob("*.o")), exe, target, icf=True)
    passed, tail = corpus.run_lua_tests(exe, target)
    assert passed, tail
    return corpus.text_size(exe)


@pytest.mark.parametrize("mode", MODES)
def test_x86_64_every_mode_passes_the_lua_suite(twopass, lua_x86, tmp_path, mode):
    out = build(twopass, lua_x86, tmp_path / "out", *MODES[mode])
    assert len(list(out.glob("*.o"))) == len(lua_x86)
    print(f"x86_64 {mode}: .text {check_lua(out, 'x86_64', tmp_path)} bytes")


def test_aarch64_two_rounds_passes_the_lua_suite(twopass, tmp_path):
    if corpus.runner_for("aarch64") is None:
        pytest.skip("qemu-aarch64-static is not installed")
    out = build(twopass, corpus.build_bitcode("aarch64"), tmp_path / "out")
    print(f"aarch64 global: .text {check_lua(out, 'aarch64', tmp_path)} bytes")


def test_saved_ir_reproduces_every_scratch_object(twopass, lua_x86, tmp_path):
    """The notes' lapi case: without the use-list order, one module's code differed when recompiled."""
    temps = tmp_path / "temps"
    build(twopass, lua_x86, tmp_path / "out", "--save-temps", temps)
    saved = sorted(temps.glob("*.opt.bc"))
    assert len(saved) == len(lua_x86)
    again = tmp_path / "again"
    again.mkdir()
    subprocess.run([sys.executable, str(HERE / "compile_module.py"), "--no-opt", str(again), *map(str, saved), "--",
                    "-enable-machine-outliner", "-enable-global-merge-func", "-codegen-data-generate"],
                   check=True, capture_output=True)
    differ = [ir.name for ir in saved if (again / ir.name.replace(".opt.bc", ".o")).read_bytes()
              != (temps / ir.name.replace(".opt.bc", ".scratch.o")).read_bytes()]
    assert differ == []


def test_lua_outputs_do_not_depend_on_jobs_or_order(twopass, lua_x86, tmp_path):
    a = build(twopass, lua_x86, tmp_path / "a", "-j", "1")
    b = build(twopass, list(reversed(lua_x86)), tmp_path / "b")
    files = sorted(p.name for p in a.glob("*.o"))
    assert files == sorted(p.name for p in b.glob("*.o"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
