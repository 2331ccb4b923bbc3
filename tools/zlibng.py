"""zlib-ng, a real CMake project nobody here wrote, from the `zlib-ng` PyPI sdist (its bundled source): configured
with a clang driver and ThinLTO, built with Ninja, tested with its own ctest."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from tools.corpus_common import cmake_configure_build, fetch_sdist

ZLIBNG_VERSION = "1.1.0"
ZLIBNG_SHA256 = "08a3a8468d4f130e3dc80d28ec42fcc7a878a57dfed616233e791066327d78a3"
ZLIBNG_IN_SDIST = f"zlib_ng-{ZLIBNG_VERSION}/src/zlib_ng/zlib-ng"


def fetch_zlibng(cache_dir: str | os.PathLike | None = None) -> Path:
    """The zlib-ng source tree (its CMakeLists.txt and test/), downloaded and extracted once."""
    return fetch_sdist("zlib-ng", ZLIBNG_VERSION, ZLIBNG_SHA256, ZLIBNG_IN_SDIST, f"zlib-ng-{ZLIBNG_VERSION}",
                       ("CMakeLists.txt", "test/CMakeLists.txt"), cache_dir)


def cmake_build(src: Path, build: Path, cc: str, linker_flag: str, shared: bool, env: Mapping[str, str],
                extra: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Configure (Release, ThinLTO, `linker_flag` for executables and shared libraries, no gtest) and build;
    the last failing step's output is in the result."""
    return cmake_configure_build(src, build, [
        f"-DCMAKE_C_COMPILER={cc}", "-DCMAKE_C_FLAGS=-flto=thin", f"-DCMAKE_EXE_LINKER_FLAGS={linker_flag}",
        f"-DCMAKE_SHARED_LINKER_FLAGS={linker_flag}", "-DWITH_GTEST=OFF",
        f"-DBUILD_SHARED_LIBS={'ON' if shared else 'OFF'}", *extra], env)


def ctest(build: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["ctest", "--output-on-failure", "-j2"], cwd=build, capture_output=True, text=True,
                          env=dict(env))
