"""ninja's own CMake build with CXX=clang++-19, -flto=thin and -fuse-ld=twopass: a C++ program (classes,
virtual calls, templates, exceptions, the standard library, code that some of its executables never reach)
links through twopass, its googletest suite passes, and the ninja it built builds, then finds nothing to do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests import elf
from tests.ldkit import CLANGXX, make_toolchain
from tools.ninjasrc import cmake_build, fetch_ninja

pytestmark = pytest.mark.slow

MANIFEST = """rule copy
  command = cp $in $out
build b.txt: copy a.txt
build c.txt: copy b.txt
"""


def _gtest() -> bool:
    return any(Path(p).is_dir() for p in ("/usr/lib/x86_64-linux-gnu/cmake/GTest", "/usr/lib/cmake/GTest",
                                          "/usr/lib/aarch64-linux-gnu/cmake/GTest"))


def test_ninja_cmake_build_passes_its_tests(tmp_path):
    if shutil.which("cmake") is None or shutil.which("ninja") is None or not _gtest():
        pytest.skip("cmake, ninja and googletest are needed (.ci/run installs them)")
    tc = make_toolchain(tmp_path)
    build = tmp_path / "build"
    proc = cmake_build(fetch_ninja(), build, str(CLANGXX), "-fuse-ld=twopass", tc.env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for program in ("ninja", "ninja_test"):
        symbols = [s.name for s in elf.read((build / program).read_bytes()).symbols]
        assert any(s.startswith("OUTLINED_FUNCTION") for s in symbols), program  # twopass's rounds, not lld's

    test = subprocess.run([str(build / "ninja_test")], capture_output=True, text=True, cwd=tmp_path)
    assert test.returncode == 0 and "[  PASSED  ]" in test.stdout and "FAILED" not in test.stdout, \
        test.stdout[-3000:]

    work = tmp_path / "work"
    work.mkdir()
    (work / "build.ninja").write_text(MANIFEST)
    (work / "a.txt").write_text("twopass\n")
    first = subprocess.run([str(build / "ninja")], capture_output=True, text=True, cwd=work)
    assert first.returncode == 0 and (work / "c.txt").read_text() == "twopass\n", first.stdout + first.stderr
    again = subprocess.run([str(build / "ninja")], capture_output=True, text=True, cwd=work)
    assert again.returncode == 0 and "no work to do" in again.stdout, again.stdout
