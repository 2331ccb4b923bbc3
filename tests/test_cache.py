"""The cache store on its own, on real files: entries round-trip, damage of any byte is a logged miss, writers
killed at any moment or racing each other (and a pruner) never leave a torn entry, a cache that cannot be
written never fails the build, and policies and pruning behave as LLVM's CachePruning does."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twopass import cache, cachepolicy
from twopass.errors import TwopassError

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
HEADER = 4 + 8 + 32


def key(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def payload(i: int, size: int = 1000) -> bytes:
    return (hashlib.sha256(f"p{i}".encode()).digest() * (size // 32 + 1))[:size]


def entry_path(c: cache.Cache, stream: str, k: str) -> Path:
    return Path(c.base) / stream / k[:2] / k


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# -- entries ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stream", cache.STREAMS)
def test_round_trip(tmp_path, stream):
    c = cache.Cache(str(tmp_path / "c"))
    assert c.get(stream, key(1)) is None
    assert not (tmp_path / "c").exists()  # nothing is created before the first put
    for i, size in enumerate((0, 1, 1000, 300000)):
        c.put(stream, key(i), payload(i, size))
    c.put(stream, key(2), payload(2, 1000))  # the same entry again is fine
    for i, size in enumerate((0, 1, 1000, 300000)):
        assert c.get(stream, key(i)) == payload(i, size)
        assert entry_path(c, stream, key(i)).stat().st_size == HEADER + size
    assert c.get(stream, key(99)) is None
    others = [s for s in cache.STREAMS if s != stream]
    assert all(c.get(s, key(1)) is None for s in others)  # streams are separate


def test_streams_and_keys_are_validated(tmp_path):
    c = cache.Cache(str(tmp_path))
    for bad in ("bogus", "", "IR", "../ir"):
        with pytest.raises(ValueError):
            c.get(bad, key(1))
        with pytest.raises(ValueError):
            c.put(bad, key(1), b"x")
    k = key(1)
    for bad in ("../" + k[3:], k.upper(), k[:-1], k + "0", k + "\n", "\n" + k[1:], "", "/" * 64, "g" * 64,
                k[:30] + "/" + k[31:], k.encode()):
        with pytest.raises(ValueError):
            c.put("ir", bad, b"x")
        with pytest.raises(ValueError):
            c.get("object", bad)
    assert files_under(tmp_path) == []


def test_hit_marks_entry_recently_used(tmp_path):
    c = cache.Cache(str(tmp_path))
    c.put("ir", key(1), b"data")
    path = entry_path(c, "ir", key(1))
    os.utime(path, (1000, 1000))
    assert c.get("ir", key(1)) == b"data"
    assert time.time() - path.stat().st_mtime < 60


def damaged(c: cache.Cache, path: Path, data: bytes, caplog) -> None:
    path.write_bytes(data)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="twopass.cache"):
        assert c.get("scratch", path.name) is None
    assert not path.exists()
    assert [r.name for r in caplog.records] == ["twopass.cache"]
    assert str(path) in caplog.records[0].getMessage() and "is damaged; removed" in caplog.text


def stored(tmp_path, n: int, size: int):
    """A cache holding one scratch entry: (cache, key, its file, its good bytes)."""
    c = cache.Cache(str(tmp_path))
    k = key(n)
    c.put("scratch", k, payload(n, size))
    path = entry_path(c, "scratch", k)
    return c, k, path, path.read_bytes()


def test_any_flipped_byte_is_a_logged_miss(tmp_path, caplog):
    c, k, path, good = stored(tmp_path, 5, 40)
    rng = random.Random(5)
    for offset in range(len(good)):  # magic, length, digest and payload alike
        data = bytearray(good)
        data[offset] ^= 1 << rng.randrange(8)
        damaged(c, path, bytes(data), caplog)
    damaged(c, path, good + b"\0", caplog)  # longer than the header says
    path.write_bytes(good)
    assert c.get("scratch", k) == payload(5, 40)


def test_truncated_entry_is_a_logged_miss(tmp_path, caplog):
    c, k, path, good = stored(tmp_path, 6, 5000)
    for length in (0, 1, 3, 4, 11, 12, HEADER - 1, HEADER, HEADER + 1, 2500, len(good) - 1):
        damaged(c, path, good[:length], caplog)


def test_unwritable_cache_does_not_fail(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = cache.Cache(str(blocker / "cache"))  # runs as root too, where a read-only mode would not stop it
    with caplog.at_level(logging.WARNING, logger="twopass.cache"):
        c.put("ir", key(1), b"data")
    assert c.get("ir", key(1)) is None and "cannot write cache entry" in caplog.text
    assert blocker.read_text() == "x"


FULL_DISK = """
import resource, signal, sys
from twopass.cache import Cache
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (100000, 100000))
c = Cache(sys.argv[1])
c.put("object", "ab" * 32, b"x" * 50000)
c.put("object", "cd" * 32, b"y" * 1000000)
print(c.get("object", "ab" * 32) == b"x" * 50000, c.get("object", "cd" * 32))
"""


def test_write_failure_midway_leaves_nothing(tmp_path):
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path)], env=ENV, capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [b"True", b"None"]
    assert b"cannot write cache entry" in proc.stderr and b"cdcdcd" in proc.stderr
    assert [p.name for p in files_under(tmp_path)] == ["ab" * 32]  # no entry, no temporary file


# -- processes -------------------------------------------------------------------------------------------------

def big(i: int) -> bytes:
    """What key(i) maps to in the multi-process tests: a few MB, so that kills land mid-write."""
    return hashlib.sha256(f"p{i}".encode()).digest() * (40000 + 20000 * (i % 5))


WRITER = """
import hashlib, sys
from twopass.cache import Cache
c = Cache(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    n = i % 40
    c.put("object", hashlib.sha256(str(n).encode()).hexdigest(),
          hashlib.sha256(("p%d" % n).encode()).digest() * (40000 + 20000 * (n % 5)))
    i += 1
"""


def test_sigkilled_writers_leave_no_torn_entry(tmp_path, caplog):
    root = tmp_path / "c"
    rng = random.Random(11)
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], env=ENV, stdout=subprocess.PIPE)
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    c = cache.Cache(str(root))
    want = {key(i): big(i) for i in range(40)}
    names = [p.name for p in files_under(root)]
    entries = [n for n in names if n in want]
    assert entries and all(n in want or ".tmp-" in n for n in names)
    with caplog.at_level(logging.WARNING, logger="twopass.cache"):
        for k in entries:
            assert c.get("object", k) == want[k]
    assert caplog.records == []
    assert c.stats()["object"]["files"] == len(entries)  # stray temporary files are not entries
    for p in files_under(root):  # killed writers' leftovers go once stale; entries stay
        os.utime(p, (time.time() - 7200, time.time() - 7200))
    c.prune(cachepolicy.parse_policy("prune_after=0s:cache_size=0%"), force=True)
    assert sorted(p.name for p in files_under(root) if p.name != cache._TIMESTAMP) == sorted(entries)


READER_WRITER = """
import hashlib, random, sys, time
from twopass.cache import Cache
c = Cache(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
hits = bad = 0
end = time.time() + float(sys.argv[3])
while time.time() < end:
    n = rng.randrange(12)
    k = hashlib.sha256(str(n).encode()).hexdigest()
    want = hashlib.sha256(("p%d" % n).encode()).digest() * (40000 + 20000 * (n % 5))
    got = c.get("ir", k)
    if got is None or rng.random() < 0.3:
        c.put("ir", k, want)
    if got is not None:
        hits += 1
        bad += got != want
print(hits, bad)
"""

PRUNER = """
import sys, time
from twopass.cache import Cache
from twopass.cachepolicy import parse_policy
c = Cache(sys.argv[1])
end = time.time() + float(sys.argv[2])
while time.time() < end:
    c.prune(parse_policy("cache_size_files=4"), force=True)
    time.sleep(0.01)
"""


def test_concurrent_readers_writers_and_pruner(tmp_path):
    root = str(tmp_path / "c")
    procs = [subprocess.Popen([sys.executable, "-c", READER_WRITER, root, str(seed), "4"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for seed in range(3)]
    procs.append(subprocess.Popen([sys.executable, "-c", PRUNER, root, "4"], env=ENV, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and err == b"", err  # no damage seen, no write failed
    for out, _ in outs[:3]:
        hits, bad = map(int, out.split())
        assert hits > 10 and bad == 0
    c = cache.Cache(root)
    for n in range(12):
        assert c.get("ir", key(n)) in (None, big(n))


# -- policy ----------------------------------------------------------------------------------------------------

def test_policy_defaults_are_llvms():
    assert cachepolicy.parse_policy("") == cachepolicy.Policy() == cachepolicy.Policy(
        interval=1200.0, expiration=7 * 24 * 3600.0, max_size_percent=75, max_size_bytes=0, max_size_files=1000000)


@pytest.mark.parametrize("text, field, value", [
    ("prune_interval=30s", "interval", 30.0), ("prune_interval=20m", "interval", 1200.0),
    ("prune_interval=2h", "interval", 7200.0), ("prune_interval=0s", "interval", 0.0),
    ("prune_after=72h", "expiration", 72 * 3600.0), ("prune_after=1m", "expiration", 60.0),
    ("prune_after=0s", "expiration", 0.0),
    ("cache_size=50%", "max_size_percent", 50), ("cache_size=0%", "max_size_percent", 0),
    ("cache_size=100%", "max_size_percent", 100),
    ("cache_size_bytes=5", "max_size_bytes", 5), ("cache_size_bytes=2k", "max_size_bytes", 2048),
    ("cache_size_bytes=3M", "max_size_bytes", 3 << 20), ("cache_size_bytes=1g", "max_size_bytes", 1 << 30),
    ("cache_size_bytes=1G", "max_size_bytes", 1 << 30), ("cache_size_files=1000", "max_size_files", 1000),
    ("cache_size_files=0", "max_size_files", 0),
    # StringRef::getAsInteger(0, ...) reads C-style radix prefixes.
    ("cache_size_files=0x10", "max_size_files", 16), ("cache_size_files=010", "max_size_files", 8),
    ("cache_size_files=0b101", "max_size_files", 5), ("cache_size_files=0o17", "max_size_files", 15),
    ("prune_after=0x10s", "expiration", 16.0), ("cache_size=0x32%", "max_size_percent", 50),
    ("cache_size_bytes=0x10k", "max_size_bytes", 16 << 10),
    ("cache_size_files=7:", "max_size_files", 7),  # a trailing ':' ends the list
])
def test_policy_keys_and_suffixes(text, field, value):
    assert getattr(cachepolicy.parse_policy(text), field) == value


def test_policy_all_keys_at_once():
    p = cachepolicy.parse_policy("prune_interval=20m:prune_after=72h:cache_size=75%:cache_size_bytes=1g:"
                           "cache_size_files=1000:prune_after=1h")
    assert p == cachepolicy.Policy(1200.0, 3600.0, 75, 1 << 30, 1000)  # a repeated key: the last one counts


@pytest.mark.parametrize("text, message", [
    ("prune_interval=", "Duration must not be empty"), ("prune_interval", "Duration must not be empty"),
    ("prune_after=", "Duration must not be empty"),
    ("prune_after=5d", "'5d' must end with one of 's', 'm' or 'h'"),
    ("prune_after=5", "'' not an integer"), ("prune_after=xh", "'x' not an integer"),
    ("prune_after=xd", "'x' not an integer"), ("prune_after=-1s", "'-1' not an integer"),
    ("prune_interval=1.5h", "'1.5' not an integer"), ("prune_interval= 1s", "' 1' not an integer"),
    ("cache_size=50", "'50' must be a percentage"), ("cache_size=", "'' must be a percentage"),
    ("cache_size=x%", "'x' not an integer"), ("cache_size=101%", "'101' must be between 0 and 100"),
    ("cache_size_bytes=", "'' not an integer"), ("cache_size_bytes=k", "'' not an integer"),
    ("cache_size_bytes=1t", "'1t' not an integer"), ("cache_size_bytes=1_000", "'1_000' not an integer"),
    ("cache_size_files=many", "'many' not an integer"), ("cache_size_files=", "'' not an integer"),
    ("cache_size_files=18446744073709551616", "'18446744073709551616' not an integer"),
    ("cache_size_files=09", "'09' not an integer"), ("cache_size_files=0x", "'0x' not an integer"),
    ("frobnicate=1", "Unknown key: 'frobnicate'"), ("prune_after=1h::prune_after=2h", "Unknown key: ''"),
    (":prune_after=1h", "Unknown key: ''"), ("Prune_After=1h", "Unknown key: 'Prune_After'"),
])
def test_policy_errors_use_llvms_wording(text, message):
    with pytest.raises(TwopassError) as e:
        cachepolicy.parse_policy(text)
    assert (e.value.where, e.value.message) == ("--cache-policy", message)
    assert str(e.value) == f"--cache-policy: {message}"


def test_default_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_dir() == str(tmp_path / "xdg" / "twopass")
    for unusable in ("", "relative/path"):  # the XDG spec: a relative path is invalid
        monkeypatch.setenv("XDG_CACHE_HOME", unusable)
        assert cache.default_dir() == str(tmp_path / "home" / ".cache" / "twopass")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.default_dir() == str(tmp_path / "home" / ".cache" / "twopass")


# -- pruning ---------------------------------------------------------------------------------------------------

def fill(c: cache.Cache, n: int, size: int = 1000, age: float = 0.0, stream: str = "object") -> list[Path]:
    """n entries, entry 0 the least recently used."""
    paths = []
    for i in range(n):
        c.put(stream, key(i), payload(i, size))
        path = entry_path(c, stream, key(i))
        t = time.time() - age - 10 * (n - i)
        os.utime(path, (t, t))
        paths.append(path)
    return paths


def present(c: cache.Cache, n: int, stream: str = "object") -> list[bool]:
    return [entry_path(c, stream, key(i)).exists() for i in range(n)]


def foreign_files(root: Path, c: cache.Cache) -> list[Path]:
    """Files a user (or a wrong --cache-dir) put there; the cache must never touch them."""
    shard = Path(c.base) / "object" / key(0)[:2]
    shard.mkdir(parents=True, exist_ok=True)
    paths = [root / "notes.txt", Path(c.base) / "notes.txt", Path(c.base) / "object" / "notes.txt",
             shard / "notes.txt", shard / key(0).upper(), shard / (key(0) + ".bak"),
             Path(c.base) / "object" / "zz" / key(1),  # a key-named file in the wrong shard
             Path(c.base) / "other" / key(0)[:2] / key(0)]  # not a stream
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"mine")
        os.utime(p, (1000, 1000))  # ancient: the first thing expiration or a size limit would take
    return paths


def test_prune_expiration(tmp_path):
    c = cache.Cache(str(tmp_path))
    fill(c, 10, age=3600)
    fill(c, 3)  # 0..2 used just now
    mine = foreign_files(tmp_path, c)
    assert c.prune(cachepolicy.parse_policy("prune_after=59m:cache_size_files=0:cache_size=0%"), force=True) == \
        {"removed_files": 7, "removed_bytes": 7 * (HEADER + 1000), "kept_files": 3, "kept_bytes": 3 * (HEADER + 1000)}
    assert present(c, 10) == [True] * 3 + [False] * 7
    fill(c, 10, age=3600)
    assert c.prune(cachepolicy.parse_policy("prune_after=0s:cache_size=0%:cache_size_files=0"), force=True)[
        "removed_files"] == 0  # 0 disables expiration
    assert all(p.read_bytes() == b"mine" for p in mine)


def test_prune_file_limit_takes_least_recently_used(tmp_path):
    c = cache.Cache(str(tmp_path))
    fill(c, 10)
    mine = foreign_files(tmp_path, c)
    assert c.get("object", key(0)) is not None  # a hit makes entry 0 the most recently used
    done = c.prune(cachepolicy.parse_policy("cache_size_files=4"), force=True)
    assert done == {"removed_files": 6, "removed_bytes": 6 * (HEADER + 1000), "kept_files": 4,
                    "kept_bytes": 4 * (HEADER + 1000)}
    assert present(c, 10) == [True] + [False] * 6 + [True] * 3
    assert all(p.read_bytes() == b"mine" for p in mine)


def test_prune_size_limit_takes_least_recently_used(tmp_path):
    c = cache.Cache(str(tmp_path))
    fill(c, 10)
    mine = foreign_files(tmp_path, c)
    size = HEADER + 1000
    done = c.prune(cachepolicy.parse_policy(f"cache_size_bytes={3 * size + 1}"), force=True)
    assert done == {"removed_files": 7, "removed_bytes": 7 * size, "kept_files": 3, "kept_bytes": 3 * size}
    assert present(c, 10) == [False] * 7 + [True] * 3
    # Both limits and all streams: the stricter one wins, oldest first across streams.
    fill(c, 4, stream="ir", age=1000)
    done = c.prune(cachepolicy.parse_policy(f"cache_size_bytes={5 * size}:cache_size_files=6"), force=True)
    assert done["kept_files"] == 5 and present(c, 4, "ir") == [False, False, True, True]
    # Percentages compare with the cache plus the disk's free space: 100% and 0% remove nothing here.
    for text in ("cache_size=100%", "cache_size=0%", "cache_size=0%:cache_size_bytes=0"):
        assert c.prune(cachepolicy.parse_policy(text), force=True)["removed_files"] == 0
    assert c.prune(cachepolicy.Policy(max_size_percent=0, max_size_bytes=0, max_size_files=0, expiration=0),
                   force=True) == {"removed_files": 0, "removed_bytes": 0, "kept_files": 5, "kept_bytes": 5 * size}
    assert all(p.read_bytes() == b"mine" for p in mine)


def test_prune_ties_go_larger_first(tmp_path):
    c = cache.Cache(str(tmp_path))
    for i, size in enumerate((100, 300, 200)):
        c.put("object", key(i), payload(i, size))
        os.utime(entry_path(c, "object", key(i)), (5000, 5000))
    c.prune(cachepolicy.parse_policy("cache_size_files=1:prune_after=0s"), force=True)
    assert present(c, 3) == [True, False, False]


def test_prune_interval(tmp_path):
    c = cache.Cache(str(tmp_path / "c"))
    assert c.prune(cachepolicy.parse_policy("cache_size_files=1")) == dict.fromkeys(
        ("removed_files", "removed_bytes", "kept_files", "kept_bytes"), 0)
    assert not (tmp_path / "c").exists()  # pruning an absent cache creates nothing
    fill(c, 10)
    stamp = Path(c.root) / cache._TIMESTAMP
    assert c.prune(cachepolicy.parse_policy("cache_size_files=8"))["removed_files"] == 2  # no timestamp yet: prune
    assert stamp.exists()
    assert c.prune(cachepolicy.parse_policy("cache_size_files=6"))["removed_files"] == 0  # within 20m of it
    assert c.prune(cachepolicy.parse_policy("prune_interval=1h:cache_size_files=6"))["removed_files"] == 0
    assert c.prune(cachepolicy.Policy(interval=None, max_size_files=6))["removed_files"] == 0  # None: never
    os.utime(stamp, (time.time() - 1300, time.time() - 1300))
    assert c.prune(cachepolicy.parse_policy("prune_interval=1h:cache_size_files=6"))["removed_files"] == 0
    assert c.prune(cachepolicy.parse_policy("cache_size_files=6"))["removed_files"] == 2  # 20m passed
    assert time.time() - stamp.stat().st_mtime < 60  # and the interval starts again
    assert c.prune(cachepolicy.parse_policy("cache_size_files=5"))["removed_files"] == 0
    assert c.prune(cachepolicy.parse_policy("cache_size_files=5"), force=True)["removed_files"] == 1
    for n in (4, 3):  # 0 prunes every time
        assert c.prune(cachepolicy.parse_policy(f"prune_interval=0s:cache_size_files={n}"))["kept_files"] == n
    stamp.unlink()
    assert c.prune(cachepolicy.Policy(interval=None, max_size_files=2))["kept_files"] == 2  # LLVM: no stamp, prune


def test_prune_removes_stale_temporary_files_only(tmp_path):
    c = cache.Cache(str(tmp_path))
    fill(c, 2)
    d = entry_path(c, "object", key(0)).parent
    stale, fresh = d / (key(0) + ".tmp-1-00ff"), d / (key(0) + ".tmp-2-abcd")
    for p in (stale, fresh):
        p.write_bytes(b"partial")
    os.utime(stale, (time.time() - 3700, time.time() - 3700))
    mine = foreign_files(tmp_path, c)
    done = c.prune(cachepolicy.Policy(), force=True)
    assert done == {"removed_files": 1, "removed_bytes": 7, "kept_files": 2, "kept_bytes": 2 * (HEADER + 1000)}
    assert not stale.exists() and fresh.exists()
    assert c.stats()["object"]["files"] == 2
    assert all(p.read_bytes() == b"mine" for p in mine)


# -- stats and clear -------------------------------------------------------------------------------------------

def test_stats_and_clear(tmp_path):
    c = cache.Cache(str(tmp_path / "c"))
    empty = {"files": 0, "bytes": 0}
    assert c.stats() == {"ir": empty, "scratch": empty, "object": empty, "total": empty}
    assert c.clear() == 0 and not (tmp_path / "c").exists()
    fill(c, 3, size=100, stream="ir")
    fill(c, 1, size=10, stream="object")
    temp = entry_path(c, "ir", key(0)).with_name(key(0) + ".tmp-9-9")
    temp.write_bytes(b"partial")
    mine = foreign_files(tmp_path / "c", c)
    stats = c.stats()
    assert list(stats) == ["ir", "scratch", "object", "total"]
    assert stats == {"ir": {"files": 3, "bytes": 3 * (HEADER + 100)}, "scratch": empty,
                     "object": {"files": 1, "bytes": HEADER + 10},
                     "total": {"files": 4, "bytes": 3 * (HEADER + 100) + HEADER + 10}}
    assert c.clear() == 5  # four entries and the temporary file
    assert c.stats()["total"] == empty and not temp.exists()
    assert all(p.read_bytes() == b"mine" for p in mine)
    c.put("ir", key(0), b"again")
    assert c.get("ir", key(0)) == b"again"
