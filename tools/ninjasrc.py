"""ninja, a real C++ program nobody here wrote, from the `ninja` PyPI sdist (its bundled upstream source):
configured with a clang++ driver and ThinLTO, built with Ninja, tested with its own googletest suite
(`ninja_test`, 410 tests, against Debian's libgtest-dev). Lua, zlib-ng and brotli are C; this one has
classes, virtual calls, templates, exceptions, static constructors and the standard library."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Mapping

from tools.corpus_common import cmake_configure_build, fetch_sdist

NINJA_VERSION = "1.13.2"
NINJA_SHA256 = "525bfa3fc88aa30a4467df270fd5be6f9fcae8061d54d4df74ea1dc5abd5a975"
NINJA_IN_SDIST = f"ninja-{NINJA_VERSION}/ninja-upstream"
TARGETS = ("ninja", "ninja_test")


def fetch_ninja(cache_dir: str | os.PathLike | None = None) -> Path:
    """The ninja source tree (its CMakeLists.txt and src/), downloaded and extracted once."""
    return fetch_sdist("ninja", NINJA_VERSION, NINJA_SHA256, NINJA_IN_SDIST, f"ninja-src-{NINJA_VERSION}",
                       ("CMakeLists.txt", "src/ninja_test.cc"), cache_dir)


def cmake_build(src: Path, build: Path, cxx: str, linker_flag: str, env: Mapping[str, str]
                ) -> subprocess.CompletedProcess:
    """Configure (Release, ThinLTO, `linker_flag` for executables, the tests on) and build ninja and
    ninja_test; the last failing step's output is in the result."""
    return cmake_configure_build(src, build, [f"-DCMAKE_CXX_COMPILER={cxx}", "-DCMAKE_CXX_FLAGS=-flto=thin",
                                              f"-DCMAKE_EXE_LINKER_FLAGS={linker_flag}", "-DBUILD_TESTING=ON"],
                                 env, TARGETS)
