"""A real clang driver (Debian's clang-19) linking through `ld.twopass`, for the linker front end's tests:
`-fuse-ld=twopass` finds a wrapper on PATH that runs this checkout's twopass, whose real linker is ziglang's
LLD 22."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLANG = shutil.which("clang-19")
CLANGXX = shutil.which("clang++-19")


def require_clang() -> None:
    if CLANG is None or CLANGXX is None:
        pytest.skip("Debian's clang-19 is not installed (.ci/run installs it)")


class Toolchain:
    def __init__(self, bindir: Path, cache: Path):
        self.bindir = bindir
        self.env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
                        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                        TWOPASS_LDFLAGS="")
        self.cache = cache

    def run(self, *cmd, cwd=None, check=True, env=None) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd,
                              env=dict(self.env, **(env or {})))
        if check and proc.returncode:
            raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
        return proc

    def cc(self, *args, cxx=False, **kw) -> subprocess.CompletedProcess:
        return self.run(CLANGXX if cxx else CLANG, *args, **kw)

    def ar(self, archive, *members, thin=False, cwd=None) -> None:
        self.run(sys.executable, "-m", "ziglang", "ar", "rcsT" if thin else "rcs", archive, *members, cwd=cwd)

    def lld(self, *args, **kw) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "ziglang", "ld.lld", *args, **kw)

    def twopass_ld(self, *args, **kw) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "twopass", "ld", *args, **kw)

    def lld_env(self) -> dict[str, str]:
        """An environment in which `clang -fuse-ld=lld` finds ziglang's LLD 22 as `ld.lld`."""
        from tools.bench_ld import wrappers

        bindir = self.bindir.parent / "lld-bin"
        wrappers(bindir)
        return {"PATH": f"{bindir}{os.pathsep}{self.env['PATH']}"}


def make_toolchain(tmp: Path) -> Toolchain:
    require_clang()
    bindir = tmp / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    wrapper = bindir / "ld.twopass"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m twopass ld "$@"\n')
    wrapper.chmod(0o755)
    return Toolchain(bindir, tmp / "cache")
