"""The build cache: three streams of entries (optimized IR, round-one scratch objects, final objects).

Entries are immutable and content-addressed by keys the planner computes (see `plan.py`), so two builds that
race on one key write the same bytes. What makes the cache impossible to poison: an entry is written to a
temporary file and renamed (a reader never sees half an entry, a SIGKILL leaves at most a stray temporary
file), and it carries its length and sha256, checked on every read (a damaged entry is a miss, removed and
logged). Pruning follows LLVM's CachePruningPolicy, syntax and defaults included.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import struct
import time
from dataclasses import dataclass

from .errors import TwopassError

STREAMS = ("ir", "scratch", "object")
_MAGIC = b"TPC1"
_HEADER = struct.Struct("<4sQ32s")
_KEY = re.compile(r"^[0-9a-f]{64}$")
_TMP = ".tmp-"
_STALE_TMP = 3600.0
_TIMESTAMP = "twopass.timestamp"
log = logging.getLogger("twopass.cache")


def default_dir() -> str:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(os.path.expanduser(xdg) if xdg else os.path.expanduser("~/.cache"), "twopass")


@dataclass(frozen=True)
class Policy:
    """LLVM's defaults: prune every 20 minutes, entries unused for a week go, at most 75% of free space."""

    interval: float | None = 1200.0
    expiration: float = 7 * 24 * 3600.0
    max_size_percent: int = 75
    max_size_bytes: int = 0
    max_size_files: int = 1000000


def _duration(key: str, value: str) -> float:
    if not value:
        raise TwopassError("--cache-policy", "Duration must not be empty")
    unit = {"s": 1, "m": 60, "h": 3600}.get(value[-1])
    if unit is None:
        raise TwopassError("--cache-policy", f"'{value}' must end with one of 's', 'm' or 'h'")
    if not value[:-1].isdigit():
        raise TwopassError("--cache-policy", f"'{value[:-1]}' not an integer")
    return float(int(value[:-1]) * unit)


def parse_policy(text: str) -> Policy:
    """`key=value` pairs separated by ':' as LLVM's parseCachePruningPolicy reads them."""
    fields: dict = {}
    for item in filter(None, text.split(":")):
        key, _, value = item.partition("=")
        if key == "prune_interval":
            fields["interval"] = _duration(key, value)
        elif key == "prune_after":
            fields["expiration"] = _duration(key, value)
        elif key == "cache_size":
            if not value.endswith("%"):
                raise TwopassError("--cache-policy", f"'{value}' must be a percentage")
            if not value[:-1].isdigit():
                raise TwopassError("--cache-policy", f"'{value[:-1]}' not an integer")
            if int(value[:-1]) > 100:
                raise TwopassError("--cache-policy", f"'{value}' must be between 0 and 100")
            fields["max_size_percent"] = int(value[:-1])
        elif key == "cache_size_bytes":
            mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}.get(value[-1:].lower(), 1)
            digits = value[:-1] if mult != 1 else value
            if not digits.isdigit():
                raise TwopassError("--cache-policy", f"'{digits}' not an integer")
            fields["max_size_bytes"] = int(digits) * mult
        elif key == "cache_size_files":
            if not value.isdigit():
                raise TwopassError("--cache-policy", f"'{value}' not an integer")
            fields["max_size_files"] = int(value)
        else:
            raise TwopassError("--cache-policy", f"Unknown key: '{key}'")
    return Policy(**fields)


class Cache:
    def __init__(self, root: str):
        self.root = root
        self.base = os.path.join(root, "v1")

    def _path(self, stream: str, key: str) -> str:
        if stream not in STREAMS:
            raise ValueError(f"unknown cache stream {stream!r}")
        if not _KEY.match(key):
            raise ValueError(f"bad cache key {key!r}")
        return os.path.join(self.base, stream, key[:2], key)

    def get(self, stream: str, key: str) -> bytes | None:
        path = self._path(stream, key)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            return None  # a miss, or pruned by another build just now
        if len(raw) >= _HEADER.size:
            magic, length, digest = _HEADER.unpack_from(raw)
            body = raw[_HEADER.size:]
            if magic == _MAGIC and length == len(body) and hashlib.sha256(body).digest() == digest:
                try:
                    os.utime(path)  # recently used: pruned last
                except OSError:
                    pass
                return body
        log.warning("cache entry %s is damaged; removed, will be rebuilt", path)
        try:
            os.unlink(path)
        except OSError:
            pass
        return None

    def put(self, stream: str, key: str, data: bytes) -> None:
        path = self._path(stream, key)
        tmp = f"{path}{_TMP}{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(_HEADER.pack(_MAGIC, len(data), hashlib.sha256(data).digest()))
                f.write(data)
            os.replace(tmp, path)
        except OSError as e:
            log.warning("cannot write cache entry %s: %s", path, e.strerror or e)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _files(self) -> list[tuple[str, str, os.stat_result]]:
        """(stream, path, stat) of every entry and temporary file."""
        out = []
        for stream in STREAMS:
            top = os.path.join(self.base, stream)
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames.sort()
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    try:
                        out.append((stream, path, os.stat(path)))
                    except OSError:
                        pass
        return out

    def stats(self) -> dict:
        result = {s: {"files": 0, "bytes": 0} for s in STREAMS}
        for stream, path, st in self._files():
            if _TMP not in os.path.basename(path):
                result[stream]["files"] += 1
                result[stream]["bytes"] += st.st_size
        result["total"] = {k: sum(result[s][k] for s in STREAMS) for k in ("files", "bytes")}
        return result

    def prune(self, policy: Policy, force: bool = False) -> dict:
        """LLVM's order: nothing before the interval has passed; then expired entries; then the oldest until
        under the size and file-count limits. Also stray temporary files of killed writers."""
        now = time.time()
        stamp = os.path.join(self.root, _TIMESTAMP)
        done = {"removed_files": 0, "removed_bytes": 0, "kept_files": 0, "kept_bytes": 0}
        if not os.path.isdir(self.base) or (not force and policy.interval is None):
            return done
        if not force and policy.interval:
            try:
                if now - os.stat(stamp).st_mtime < policy.interval:
                    return done
            except OSError:
                pass
        try:
            with open(stamp, "wb"):
                pass
        except OSError:
            pass
        entries = []
        for _stream, path, st in self._files():
            if _TMP in os.path.basename(path):
                if now - st.st_mtime > _STALE_TMP:
                    self._remove(path, st.st_size, done)
            elif now - st.st_mtime > policy.expiration:
                self._remove(path, st.st_size, done)
            else:
                entries.append((st.st_mtime, path, st.st_size))
        entries.sort()
        total = sum(e[2] for e in entries)
        limit = shutil.disk_usage(self.base).free + total
        limit = limit * policy.max_size_percent // 100
        if policy.max_size_bytes:
            limit = min(limit, policy.max_size_bytes)
        files_limit = policy.max_size_files or len(entries)
        while entries and (total > limit or len(entries) > files_limit):
            _mtime, path, size = entries.pop(0)
            self._remove(path, size, done)
            total -= size
        done["kept_files"], done["kept_bytes"] = len(entries), total
        return done

    @staticmethod
    def _remove(path: str, size: int, done: dict) -> None:
        try:
            os.unlink(path)
            done["removed_files"] += 1
            done["removed_bytes"] += size
        except OSError:
            pass

    def clear(self) -> int:
        removed = 0
        for _stream, path, _st in self._files():
            try:
                os.unlink(path)
                removed += 1
            except OSError:
                pass
        return removed
