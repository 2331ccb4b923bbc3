"""What every corpus module shares: the targets, the cache directory and running one step of the work.

The cache (default ``$TWOPASS_CORPUS_CACHE``, else ``$XDG_CACHE_HOME/twopass-corpus``, else
``~/.cache/twopass-corpus``) is never in the repository; tools/corpus.py describes its layout.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

# Bump when anything here changes what build_bitcode or the link template would produce.
CORPUS_FORMAT = 1


@dataclass(frozen=True)
class Target:
    name: str
    triple: str
    opt: str  # used to compile and to link (zig's link line depends on it: --gc-sections, -s, ...)
    machine: str  # platform.machine() of a host that runs it natively
    qemu: tuple[str, ...]  # user-mode emulators that run it elsewhere, first found wins
    musl: bool


TARGETS: dict[str, Target] = {
    "x86_64": Target("x86_64", "x86_64-linux-gnu", "-O2", "x86_64", ("qemu-x86_64-static", "qemu-x86_64"),
                     musl=False),
    "aarch64": Target("aarch64", "aarch64-linux-musl", "-Oz", "aarch64", ("qemu-aarch64-static", "qemu-aarch64"),
                      musl=True),
}


class CorpusError(RuntimeError):
    """A step of the corpus tooling failed; the message says which and why."""


def target_of(target: str | Target) -> Target:
    """A Target, or the one named (ValueError names the known ones)."""
    if isinstance(target, Target):
        return target
    try:
        return TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})") from None


def default_cache_dir() -> Path:
    """``$TWOPASS_CORPUS_CACHE``, else ``$XDG_CACHE_HOME/twopass-corpus``, else ``~/.cache/twopass-corpus``."""
    explicit = os.environ.get("TWOPASS_CORPUS_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "twopass-corpus"


def cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """The cache directory (``cache_dir``, else :func:`default_cache_dir`), absolute and made."""
    path = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = path.expanduser().absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dir_spellings(path: Path) -> list[str]:
    """The absolute spellings of ``path`` a tool might see (as given, symlinks resolved), longest first."""
    return sorted({os.path.abspath(path), os.path.realpath(path)}, key=len, reverse=True)


def run_step(cmd: Sequence[str], *, what: str, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd``; a failure is a CorpusError saying ``what`` failed, with the command and its output's tail."""
    proc = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-4000:]
        raise CorpusError(f"{what} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    return proc


def publish_dir(tmp: Path, final: Path, replace: bool = False) -> None:
    """Atomically move a finished directory into place; if another process won the race, keep theirs.
    `replace`: an incomplete one already there (files deleted by hand) goes first."""
    if replace and final.exists():
        shutil.rmtree(final)
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def mkdirs(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch_sdist(package: str, version: str, sha256: str, subdir: str, dest_name: str, required: Sequence[str],
                cache_dir: str | os.PathLike | None = None) -> Path:
    """`subdir` of a PyPI sdist (fetched with pip once, checked against a pinned sha256; one already in
    ``<cache>/downloads/`` is used without pip), extracted once to ``<cache>/<dest_name>``, which must then
    hold every path in `required`."""
    cache = cache_root(cache_dir)
    dest = cache / dest_name
    if all((dest / r).exists() for r in required):
        return dest
    downloads = cache / "downloads"
    name = f"{package.replace('-', '_')}-{version}.tar.gz"  # PEP 625's normalized sdist name
    sdist = downloads / name
    if not sdist.is_file() or sha256_file(sdist) != sha256:
        downloads.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=downloads, prefix=".pip-") as tmp:
            run_step([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                      "--no-binary", package, f"{package}=={version}", "-d", tmp],
                     what=f"pip download of the {package} sdist")
            got = Path(tmp) / name
            if not got.is_file():
                raise CorpusError(f"pip download did not produce {name} (got {os.listdir(tmp)})")
            digest = sha256_file(got)
            if digest != sha256:
                raise CorpusError(f"{name}: sha256 {digest}, expected {sha256}")
            os.replace(got, sdist)
    prefix = subdir + "/"
    tmp_dir = Path(tempfile.mkdtemp(dir=cache, prefix=f".{dest_name}-"))
    try:
        with tarfile.open(sdist) as tar:
            members = []
            for m in tar.getmembers():
                if m.name.startswith(prefix) and (m.isfile() or m.isdir()):
                    m.name = m.name[len(prefix):]
                    members.append(m)
            if not members:
                raise CorpusError(f"{sdist}: no {subdir}/ in the archive")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp_dir, members=members, filter="data")
            else:  # Python < 3.11.4: members are plain files and directories with relative names
                tar.extractall(tmp_dir, members=members)
        missing = [r for r in required if not (tmp_dir / r).exists()]
        if missing:
            raise CorpusError(f"{sdist}: {subdir}/ lacks {', '.join(missing)}")
        publish_dir(tmp_dir, dest, replace=True)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return dest


def cmake_configure_build(src: Path, build: Path, options: Sequence[str], env: Mapping[str, str],
                          targets: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """`cmake` configure (Ninja, Release, `options`), then build `targets` (all without); the result of the last
    step run, so a failing one's output is in it."""
    configure = ["cmake", "-S", str(src), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", *options]
    build_cmd = ["cmake", "--build", str(build), *(["--target", *targets] if targets else []), "--", "-j2"]
    for cmd in (configure, build_cmd):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(env))
        if proc.returncode:
            return proc
    return proc
