"""Pages of a shared library that only its loading touched, given back to the system.

Loading LLVM runs hundreds of static initializers spread over 70 MB of code, and the kernel maps the 64 KiB
around each page that faults: importing llvmlite leaves about 35 MB of its library mapped, loading the xtc
libLLVM another 26 MB, and most of it no job touches again, while every process that maps a page shares its
cost (PSS). Those are clean pages of the file, so dropping them (MADV_DONTNEED) costs only a fault from the page
cache when code there runs again. Only mappings that are not writable and hold no page of the process's own
(smaps: Anonymous 0) are dropped: a private copy, such as relocated data, would be lost.
"""

from __future__ import annotations

import ctypes
import logging

_MADV_DONTNEED = 4
log = logging.getLogger("twopass.pages")


def release(library: str) -> int:
    """Drop the pages this process maps from files whose path contains `library`; the bytes of the mappings
    dropped (0 where /proc or madvise is missing)."""
    try:
        with open("/proc/self/smaps") as f:
            smaps = f.read()
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    dropped = 0
    candidate: tuple[int, int] | None = None
    for line in smaps.splitlines():
        if line and not line[:1].isupper():  # a mapping's first line: range, permissions, offset, device, inode, path
            fields = line.split(None, 5)
            try:
                start, end = (int(x, 16) for x in fields[0].split("-"))
            except ValueError:  # not a mapping after all: only a saving is lost
                candidate = None
                continue
            writable = len(fields) < 2 or fields[1][1:2] != "-"
            candidate = (start, end) if not writable and len(fields) == 6 and library in fields[5] else None
        elif candidate is not None and line.startswith("Anonymous:"):
            if line.split()[1] == "0" and madvise(candidate[0], candidate[1] - candidate[0], _MADV_DONTNEED) == 0:
                dropped += candidate[1] - candidate[0]
            candidate = None
    log.debug("released %d bytes of mappings of %s", dropped, library)
    return dropped
