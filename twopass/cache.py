"""The build cache: three streams of entries (optimized IR, round-one scratch objects, final objects).

Entries are immutable and content-addressed by keys the planner computes (see `plan.py`), so two builds that
race on one key write the same bytes. What makes the cache impossible to poison: an entry is written to a
temporary file in its own directory and renamed over (a reader never sees half an entry, a SIGKILL leaves at
most a stray temporary file, swept by `prune` once it is an hour old), and it carries its length and sha256,
checked on every read (a damaged entry is a miss, removed and logged). Only file names the cache itself makes
are ever counted, pruned or cleared, so a wrong `--cache-dir` cannot cost anyone their files.

Pruning follows LLVM's CachePruningPolicy (llvm/lib/Support/CachePruning.cpp): the same syntax, defaults,
error wording, timestamp-file interval and removal order, with the last use being the entry's mtime, which
`get` bumps, rather than its atime, which relatime and noatime mounts do not keep.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import struct
import time
from dataclasses import dataclass

from .asmtext import Pattern
from .errors import TwopassError

STREAMS = ("ir", "scratch", "object")
_MAGIC = b"TPC1"
_HEADER = struct.Struct("<4sQ32s")  # magic, payload length, sha256 of the payload
_KEY = Pattern(r"[0-9a-f]{64}")
_TEMP = Pattern(r"([0-9a-f]{64})\.tmp-[0-9a-f-]+")
_STALE_TEMP = 3600.0
_TIMESTAMP = "twopass.timestamp"
_WHERE = "--cache-policy"


def _log():
    import logging  # only when there is something to say: a relink from the cache has nothing
    return logging.getLogger("twopass.cache")


def default_dir() -> str:
    """XDG says a relative $XDG_CACHE_HOME is invalid and must be ignored."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return os.path.join(xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache"),
                        "twopass")


@dataclass(frozen=True)
class Policy:
    """LLVM's CachePruningPolicy and its defaults. interval: 0 prunes every time, None never (except, as in
    LLVM, when there is no timestamp file yet). expiration 0, max_size_percent 0 or 100, max_size_bytes 0
    and max_size_files 0 each disable their limit."""

    interval: float | None = 1200.0            # 20m
    expiration: float = 7 * 24 * 3600.0        # 1 week
    max_size_percent: int = 75                 # of the cache's size plus the free space on its disk
    max_size_bytes: int = 0
    max_size_files: int = 1000000


def _integer(text: str) -> int | None:
    """StringRef::getAsInteger(0, uint64_t): the radix from a 0x/0b/0o/0 prefix, every character a digit of
    it, and the value fitting 64 bits; so "0x10" is 16 and "010" is 8, as LLVM reads them."""
    radix, digits = 10, text
    if text[:2] in ("0x", "0X"):
        radix, digits = 16, text[2:]
    elif text[:2] in ("0b", "0B"):
        radix, digits = 2, text[2:]
    elif text[:2] == "0o":
        radix, digits = 8, text[2:]
    elif len(text) > 1 and text[0] == "0" and text[1] in "0123456789":
        radix, digits = 8, text[1:]
    allowed = "0123456789abcdefghijklmnopqrstuvwxyz"[:radix]
    if not digits or any(c not in allowed and c not in allowed.upper() for c in digits):
        return None
    value = int(digits, radix)
    return value if value < 1 << 64 else None


def _number(text: str) -> int:
    value = _integer(text)
    if value is None:
        raise TwopassError(_WHERE, f"'{text}' not an integer")
    return value


def _duration(text: str) -> float:
    if not text:
        raise TwopassError(_WHERE, "Duration must not be empty")
    number = _number(text[:-1])
    unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1])
    if unit is None:
        raise TwopassError(_WHERE, f"'{text}' must end with one of 's', 'm' or 'h'")
    return float(number * unit)


def parse_policy(text: str) -> Policy:
    """parseCachePruningPolicy: `key=value` items split on ':', checked in the same order with the same
    messages (an empty item, as in "a::b", is LLVM's "Unknown key: ''"; a trailing ':' is fine)."""
    fields: dict = {}
    rest = text
    while rest:
        item, _, rest = rest.partition(":")
        key, _, value = item.partition("=")
        if key == "prune_interval":
            fields["interval"] = _duration(value)
        elif key == "prune_after":
            fields["expiration"] = _duration(value)
        elif key == "cache_size":
            if not value.endswith("%"):
                raise TwopassError(_WHERE, f"'{value}' must be a percentage")
            percent = _number(value[:-1])
            if percent > 100:
                raise TwopassError(_WHERE, f"'{value[:-1]}' must be between 0 and 100")
            fields["max_size_percent"] = percent
        elif key == "cache_size_bytes":
            mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(value[-1:].lower(), 1)
            fields["max_size_bytes"] = _number(value[:-1] if mult > 1 else value) * mult
        elif key == "cache_size_files":
            fields["max_size_files"] = _number(value)
        else:
            raise TwopassError(_WHERE, f"Unknown key: '{key}'")
    return Policy(**fields)


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
    tmp = f"{path}.tmp-{os.getpid()}-{secrets.token_hex(8)}"
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
        path = self._path(stream, key)
        raw = _read(path)
        if raw is None:
            return None  # a miss, or pruned by another build just now
        why = "shorter than its header"
        if len(raw) >= _HEADER.size:
            magic, length, digest = _HEADER.unpack_from(raw)
            body = raw[_HEADER.size:]
            why = ("bad magic" if magic != _MAGIC else
                   f"{len(body)} payload bytes, header says {length}" if length != len(body) else
                   "checksum mismatch" if hashlib.sha256(body).digest() != digest else "")
            if not why:
                return body
        _damaged(path, why)
        return None

    def put(self, stream: str, key: str, data: bytes) -> None:
        """A cache that cannot be written (read-only, full disk) costs a rebuild next time, never this build."""
        header = _HEADER.pack(_MAGIC, len(data), hashlib.sha256(data).digest())
        _write(self._path(stream, key), (header, data), 0o666)

    def blob_path(self, stream: str, digest: str) -> str:
        return self._path(stream, digest)

    def get_blob(self, stream: str, digest: str) -> bytes | None:
        """Bytes kept by their own sha256 (`put_blob`), with no header: a blob is a file a build can link to."""
        path = self._path(stream, digest)
        raw = _read(path)
        if raw is not None and hashlib.sha256(raw).hexdigest() != digest:
            _damaged(path, "checksum mismatch")
            return None
        return raw

    def put_blob(self, stream: str, data: bytes) -> str:
        """Keep `data` under its sha256 (returned), read-only: builds hard-link outputs to it, and nothing may
        write through them into the cache. Bytes already kept intact are not written again."""
        digest = hashlib.sha256(data).hexdigest()
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

    def _due(self, policy: Policy, force: bool) -> bool:
        """pruneCache's timestamp file: one scan per interval however many builds finish in it."""
        stamp = os.path.join(self.root, _TIMESTAMP)  # outside v1/, which holds only entries
        if not force:
            try:
                age = time.time() - os.stat(stamp).st_mtime
            except FileNotFoundError:
                age = None
            except OSError:
                return False
            if age is not None and (policy.interval is None or (policy.interval and age <= policy.interval)):
                return False
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
