"""zlib-ng's own CMake build with CC=clang-19, -flto=thin and -fuse-ld=twopass for executables and shared
libraries: static and shared builds link through twopass (its outlined code is in them) and ctest passes."""

from __future__ import annotations

import shutil

import pytest

from tests import elf
from tests.ldkit import CLANG, make_toolchain
from tools.zlibng import cmake_build, ctest, fetch_zlibng

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shared", [False, True], ids=["static", "shared"])
def test_zlibng_cmake_build_passes_ctest(tmp_path, shared):
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed (.ci/run installs them)")
    tc = make_toolchain(tmp_path)
    build = tmp_path / "build"
    proc = cmake_build(fetch_zlibng(), build, CLANG, "-fuse-ld=twopass", shared, tc.env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    test = ctest(build, tc.env)
    assert test.returncode == 0 and "100% tests passed" in test.stdout, test.stdout[-3000:]
    linked = build / ("libz-ng.so" if shared else "minigzip")
    symbols = [s.name for s in elf.read(linked.resolve().read_bytes()).symbols]
    assert any(s.startswith("OUTLINED_FUNCTION") for s in symbols)  # built by twopass's rounds, not lld's LTO
