"""Output files written whole or not at all, by the cheapest safe means, and what killed writers left behind."""

from __future__ import annotations

import errno
import itertools
import os
import re
import stat
from typing import Iterable

from .errors import TwopassError

_TEMP = re.compile(r"\.twopass-tmp-(\d+)-")
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomic(path: str, data: bytes, mode: int | None = None) -> None:
    """Write next to the target and rename, so a reader never sees half a file and a failure leaves none; its
    permissions are `mode`, else what a new file gets (0666 less the umask).

    `-` means standard output, as in llvm-cgdata.
    """
    if path == "-":
        import sys
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        import tempfile  # here: a build whose outputs hold their bytes already writes none

        fd, tmp = tempfile.mkstemp(prefix=f".twopass-tmp-{os.getpid()}-", dir=directory)
    except OSError as e:
        raise TwopassError(path, f"cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK if mode is None else mode)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise TwopassError(path, f"cannot write: {e.strerror or e}") from None


def sweep_temps(directory: str) -> None:
    """Remove the temporaries of twopass processes that no longer exist: a SIGKILLed build gets no chance to
    clean up, and its leftovers would otherwise pile up among the outputs. Temporaries carry their writer's
    pid so that a concurrent build's file in flight is never touched."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = _TEMP.match(name)
        if m is None or _alive(int(m.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def write_files(outdir: str, files: dict[str, bytes], cached: dict[str, str] | None = None,
                links: bool = False, holding: Iterable[str] = ()) -> None:
    """Each file appears whole or not at all; leftovers of killed earlier builds are swept once per directory.
    A file whose bytes the cache holds (`cached`: name -> its cache file) is placed from there (`place`). One
    that holds its bytes already (a rebuild into the same place; `holding`: the names the caller found so, by
    a fingerprint, without their bytes) gets only the time a write would give it."""
    swept = set()
    for name, data in itertools.chain(files.items(), ((name, None) for name in holding)):
        path = os.path.join(outdir, name)
        directory = os.path.dirname(path)
        if directory not in swept:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise TwopassError(directory, f"cannot create directory: {e.strerror or e}") from None
            sweep_temps(directory)
            swept.add(directory)
        if data is None or _holds(path, data):
            try:
                os.utime(path)
                continue
            except OSError:
                if data is None:
                    raise TwopassError(path, "cannot set its time") from None
        if data is None:
            continue
        if cached and name in cached:
            place(cached[name], data, path, links)
        else:
            write_atomic(path, data)


def _holds(path: str, data: bytes) -> bool:
    """Whether `path` is a file (not a link to one) of exactly these bytes."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False


_FICLONE = 0x40049409  # linux/fs.h: share the source's extents (btrfs, XFS, bcachefs)


def place(src: str, data: bytes, dst: str, link: bool = False) -> None:
    """`data` (the bytes of the cache file `src`) at `dst`, whole or not at all: a reflink where the filesystem
    has them (a copy that shares the blocks), else, with `link`, a hard link to the cache file, else a copy. A
    hard link is the cache's file itself: whatever edits it in place edits every output linked to it (the cache
    finds out by the sha256, the other outputs do not), so it is only for files nobody else will see or write
    (ld.twopass's objects in its own work directory). The new file's time is now, as a written one's would be:
    build tools compare it with the inputs'."""
    directory = os.path.dirname(os.path.abspath(dst))
    tmp = os.path.join(directory, f".twopass-tmp-{os.getpid()}-{os.path.basename(dst)}")
    if _reflink(src, tmp, None if link else data) or (link and _hardlink(src, tmp)):
        try:
            os.utime(tmp)
            os.replace(tmp, dst)
            return
        except OSError:
            _unlink(tmp)
    write_atomic(dst, data)


def _reflink(src: str, tmp: str, data: bytes | None) -> bool:
    """`tmp` made a reflink of `src`; where the filesystem has none, a copy of `data` (when given) written to
    the same new file, not to another one made after this one is removed."""
    import fcntl

    try:
        with open(src, "rb") as s:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            with open(fd, "wb") as f:
                try:
                    fcntl.ioctl(fd, _FICLONE, s.fileno())
                except OSError:
                    if data is None:
                        raise
                    f.write(data)
        return True
    except OSError:
        _unlink(tmp)
        return False


def _hardlink(src: str, tmp: str) -> bool:
    try:
        os.link(src, tmp)
        return True
    except OSError as e:
        if e.errno == errno.EEXIST:
            _unlink(tmp)
        return False


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
