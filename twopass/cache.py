"""The build cache: three streams of entries (optimized IR, round-one scratch objects, final objects).

Entries are immutable and content-addressed by keys the planner computes (see `plan.py`), so two builds that
race on one key write the same bytes. What makes the cache impossible to poison: an entry is written to a
temporary file in its own directory and renamed over (a reader never sees half an entry, a SIGKILL leaves at
most a stray temporary file, swept by `prune` once it is an hour old), and it carries its length and sha256,
checked on every read (a damaged entry is a miss, removed and logged). Only file names the cache itself makes
are ever counted, pruned or cleared, so a wrong `--cache-dir` cannot cost anyone their files.

Pruning follows LLVM's CachePruningPolicy (llvm/lib/Support/CachePruning.cpp; cachepolicy.py parses it): the
same syntax, defaults, error wording, timestamp-file interval and removal order, with the last use being the
entry's mtime, which `get` bumps, rather than its atime, which relatime and noatime mounts do not keep.
"""

from __future__ import annotations

import os
import stat
import struct
import time

from . import TYPE_CHECKING
from .asmtext import Pattern

if TYPE_CHECKING:
    from .cachepolicy import Policy

STREAMS = ("ir", "scratch", "object")
_MAGIC = b"TPC1"
_HEADER = struct.Struct("<4sQ32s")  # magic, payload length, sha256 of the payload
_KEY = Pattern(r"[0-9a-f]{64}")
_TEMP = Pattern(r"([0-9a-f]{64})\.tmp-[0-9a-f-]+")
_STALE_TEMP = 3600.0
_TIMESTAMP = "twopass.timestamp"


def sha256(data: bytes):
    """hashlib's sha256 of `data`. Small data (entries' headers' checksums, record keys) is hashed by python's
    own sha256 module, so a no-op rebuild never imports hashlib: that loads OpenSSL, 5 ms of its 50. Blobs go
    to OpenSSL's, five times faster on objects."""
    if len(data) < _SMALL and _small_sha256 is not None:
        return _small_sha256(data)
    import hashlib
    return hashlib.sha256(data)


try:
    from _sha256 import sha256 as _small_sha256  # type: ignore[import-not-found]  # python 3.11
except ImportError:
    try:
        from _sha2 import sha256 as _small_sha256  # type: ignore[import-not-found]  # 3.12 on
    except ImportError:
        _small_sha256 = None
_SMALL = 1 << 16


def _log():
    import logging  # only when there is something to say: a relink from the cache has nothing
    return logging.getLogger("twopass.cache")


def default_dir() -> str:
    """XDG says a relative $XDG_CACHE_HOME is invalid and must be ignored."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return os.path.join(xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache"),
                        "twopass")


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False  # already gone (another build pruned it), or not ours to remove


def _read(path: str) -> bytes | None:
    """An entry's bytes, its time bumped (recently used: pruned last); None when there is none."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return raw


def _damaged(path: str, why: str) -> None:
    _log().warning("cache entry %s is damaged; removed, will be rebuilt (%s)", path, why)
    _unlink(path)


def _write(path: str, chunks: tuple[bytes, ...], mode: int) -> None:
    """Through a temporary in the entry's own directory, renamed over: a reader never sees half an entry."""
    tmp = f"{path}.tmp-{os.getpid()}-{os.urandom(8).hex()}"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        try:
            with open(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise
    except OSError as e:
        _log().warning("cannot write cache entry %s: %s", path, e.strerror or e)


class Cache:
    """root/v1/<stream>/<key[:2]>/<key>; nothing is created before the first put."""

    def __init__(self, root: str):
        self.root = root
        self.base = os.path.join(root, "v1")

    def _path(self, stream: str, key: str) -> str:
        if stream not in STREAMS:
            raise ValueError(f"unknown cache stream {stream!r}")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"bad cache key {key!r}: want 64 lowercase hex digits")
        return os.path.join(self.base, stream, key[:2], key)

    def get(self, stream: str, key: str) -> bytes | None:
        body, why = self._entry(stream, key)
        if why:
            _damaged(self._path(stream, key), why)
        return body

    def peek(self, stream: str, key: str) -> bytes | None:
        """As `get`, but a damaged entry is only a miss: left for the build that follows to report and remove
        (a command answered from its record, again.py, has no log of its own)."""
        return self._entry(stream, key)[0]

    def _entry(self, stream: str, key: str) -> tuple[bytes | None, str]:
        """The entry's payload, or None and why it is damaged ("" for a miss)."""
        raw = _read(self._path(stream, key))
        if raw is None:
            return None, ""  # a miss, or pruned by another build just now
        why = "shorter than its header"
        if len(raw) >= _HEADER.size:
            magic, length, digest = _HEADER.unpack_from(raw)
            body = raw[_HEADER.size:]
            why = ("bad magic" if magic != _MAGIC else
                   f"{len(body)} payload bytes, header says {length}" if length != len(body) else
                   "checksum mismatch" if sha256(body).digest() != digest else "")
            if not why:
                return body, ""
        return None, why

    def put(self, stream: str, key: str, data: bytes) -> None:
        """A cache that cannot be written (read-only, full disk) costs a rebuild next time, never this build."""
        header = _HEADER.pack(_MAGIC, len(data), sha256(data).digest())
        _write(self._path(stream, key), (header, data), 0o666)

    def blob_path(self, stream: str, digest: str) -> str:
        return self._path(stream, digest)

    def get_blob(self, stream: str, digest: str) -> bytes | None:
        """Bytes kept by their own sha256 (`put_blob`), with no header: a blob is a file a build can link to."""
        raw = _read(self._path(stream, digest))
        if raw is not None and sha256(raw).hexdigest() != digest:
            _damaged(self._path(stream, digest), "checksum mismatch")
            return None
        return raw

    def peek_blob(self, stream: str, digest: str) -> bytes | None:
        """As `get_blob`, a damaged blob only a miss (see `peek`)."""
        raw = _read(self._path(stream, digest))
        return raw if raw is not None and sha256(raw).hexdigest() == digest else None

    def put_blob(self, stream: str, data: bytes) -> str:
        """Keep `data` under its sha256 (returned), read-only: builds hard-link outputs to it, and nothing may
        write through them into the cache. Bytes already kept intact are not written again."""
        digest = sha256(data).hexdigest()
        if self.get_blob(stream, digest) is None:
            _write(self._path(stream, digest), (data,), 0o444)
        return digest

    def _scan(self) -> list[tuple[str, str, os.stat_result, bool]]:
        """(stream, path, stat, is_temporary) of the files this cache made; anything else is left alone."""
        out = []
        for stream in STREAMS:
            top = os.path.join(self.base, stream)
            try:
                shards = sorted(e.name for e in os.scandir(top) if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
            for shard in shards:
                try:
                    names = sorted(e.name for e in os.scandir(os.path.join(top, shard)))
                except OSError:
                    continue
                for name in names:
                    temp = _TEMP.fullmatch(name)
                    owner = temp.group(1) if temp else name if _KEY.fullmatch(name) else None
                    if owner is None or owner[:2] != shard:
                        continue
                    path = os.path.join(top, shard, name)
                    try:
                        st = os.lstat(path)
                    except OSError:
                        continue
                    if stat.S_ISREG(st.st_mode):
                        out.append((stream, path, st, temp is not None))
        return out

    def stats(self) -> dict:
        result = {s: {"files": 0, "bytes": 0} for s in STREAMS}
        for stream, _path, st, temp in self._scan():
            if not temp:
                result[stream]["files"] += 1
                result[stream]["bytes"] += st.st_size
        result["total"] = {k: sum(result[s][k] for s in STREAMS) for k in ("files", "bytes")}
        return result

    def prune_due(self, interval: float | None) -> bool:
        """Whether a build's `prune` with this interval scans the cache now: pruneCache's timestamp file, one
        scan per interval however many builds finish in it."""
        try:
            age = time.time() - os.stat(os.path.join(self.root, _TIMESTAMP)).st_mtime  # outside v1/ (entries)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return interval is not None and (not interval or age > interval)

    def _due(self, policy: Policy, force: bool) -> bool:
        if not force and not self.prune_due(policy.interval):
            return False
        stamp = os.path.join(self.root, _TIMESTAMP)
        try:
            with open(stamp, "ab"):
                pass
            os.utime(stamp)
        except OSError:
            pass
        return True

    def prune(self, policy: Policy, force: bool = False) -> dict:
        """LLVM's order: nothing before the interval has passed (unless forced); then entries unused for
        longer than the expiration; then least recently used first (the larger first on a tie) until under
        the file count, and then under the size limit. Also temporary files of writers killed an hour ago.
        A prune that does not run reports zeros."""
        done = {"removed_files": 0, "removed_bytes": 0, "kept_files": 0, "kept_bytes": 0}
        if not os.path.isdir(self.base) or not self._due(policy, force):
            return done

        def remove(path: str, size: int) -> None:
            if _unlink(path):
                done["removed_files"] += 1
                done["removed_bytes"] += size

        now = time.time()
        entries = []
        for _stream, path, st, temp in self._scan():
            age = now - st.st_mtime
            if temp:
                if age > _STALE_TEMP:
                    remove(path, st.st_size)
            elif policy.expiration and age > policy.expiration:
                remove(path, st.st_size)
            else:
                entries.append((st.st_mtime, st.st_size, path))
        entries.sort(key=lambda e: (e[0], -e[1], e[2]), reverse=True)  # pop() takes the least recently used
        total = sum(e[1] for e in entries)

        def evict() -> int:
            _mtime, size, path = entries.pop()
            remove(path, size)
            return size

        while policy.max_size_files and len(entries) > policy.max_size_files:
            total -= evict()
        percent = min(policy.max_size_percent, 100)
        if percent or policy.max_size_bytes:
            try:
                fs = os.statvfs(self.base)
                available = total + fs.f_bfree * fs.f_frsize  # sys::fs::disk_space's "free", as LLVM adds it
            except OSError as e:
                _log().warning("cannot measure free space for cache %s: %s", self.base, e.strerror or e)
                available = policy.max_size_bytes or total
            target = min(available * (percent or 100) // 100, policy.max_size_bytes or available)
            while entries and total > target:
                total -= evict()
        done["kept_files"], done["kept_bytes"] = len(entries), total
        return done

    def clear(self) -> int:
        return sum(_unlink(path) for _stream, path, _st, _temp in self._scan())
