"""The cache store on its own: entries round-trip, damage is a logged miss, writers killed at any moment or
racing each other never leave a torn entry, and pruning follows LLVM's policy."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from twopass import cache
from twopass.errors import TwopassError


def key(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def payload(i: int, size: int = 1000) -> bytes:
    return hashlib.sha256(f"p{i}".encode()).digest() * (size // 32 + 1)


def test_round_trip_and_validation(tmp_path):
    c = cache.Cache(str(tmp_path))
    assert c.get("ir", key(1)) is None
    for n, stream in enumerate(cache.STREAMS):
        c.put(stream, key(n), payload(n))
        assert c.get(stream, key(n)) == payload(n)
    c.put("object", key(9), b"")
    assert c.get("object", key(9)) == b""
    with pytest.raises(ValueError):
        c.get("bogus", key(1))
    for bad in ("../" + key(1)[3:], key(1).upper(), key(1)[:-1], ""):
        with pytest.raises(ValueError):
            c.put("ir", bad, b"x")


def test_damage_is_a_logged_miss(tmp_path, caplog):
    c = cache.Cache(str(tmp_path))
    rng = random.Random(3)
    for i in range(40):
        c.put("scratch", key(i), payload(i))
        path = tmp_path / "v1" / "scratch" / key(i)[:2] / key(i)
        data = bytearray(path.read_bytes())
        if i % 2:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)  # header or payload
        else:
            data = data[:rng.randrange(len(data))]
        path.write_bytes(bytes(data))
        with caplog.at_level(logging.WARNING, logger="twopass.cache"):
            assert c.get("scratch", key(i)) is None
        assert not path.exists()
    assert sum("is damaged" in r.message for r in caplog.records) == 40


def test_unwritable_cache_does_not_fail(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = cache.Cache(str(blocker / "cache"))
    with caplog.at_level(logging.WARNING, logger="twopass.cache"):
        c.put("ir", key(1), b"data")
    assert c.get("ir", key(1)) is None and "cannot write cache entry" in caplog.text


WRITER = """
import hashlib, sys
sys.path.insert(0, {root!r})
from twopass.cache import Cache
c = Cache({dir!r})
i = 0
while True:
    k = hashlib.sha256(str(i % 50).encode()).hexdigest()
    c.put("object", k, hashlib.sha256(("p%d" % (i % 50)).encode()).digest() * 40000)
    i += 1
"""


def test_sigkilled_writers_leave_no_torn_entry(tmp_path):
    rng = random.Random(11)
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), dir=str(tmp_path))])
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    c = cache.Cache(str(tmp_path))
    present = 0
    for i in range(50):
        got = c.get("object", key(i))
        if got is not None:
            present += 1
            assert got == hashlib.sha256(f"p{i}".encode()).digest() * 40000
    assert present > 0
    assert c.stats()["object"]["files"] == present  # stray temporary files are not entries


READER_WRITER = """
import hashlib, sys
sys.path.insert(0, {root!r})
from twopass.cache import Cache
c = Cache({dir!r})
bad = 0
for n in range(600):
    i = n % 30
    k = hashlib.sha256(str(i).encode()).hexdigest()
    want = hashlib.sha256(("p%d" % i).encode()).digest() * 3000
    got = c.get("ir", k)
    if got is None:
        c.put("ir", k, want)
    elif got != want:
        bad += 1
print(bad)
"""


def test_concurrent_readers_and_writers(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", READER_WRITER.format(root=str(ROOT), dir=str(tmp_path))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == b"0" and b"damaged" not in err, err


def test_policy_syntax_like_llvm():
    assert cache.parse_policy("") == cache.Policy()
    assert cache.Policy() == cache.Policy(1200.0, 7 * 24 * 3600.0, 75, 0, 1000000)
    p = cache.parse_policy("prune_interval=30s:prune_after=2h:cache_size=50%:cache_size_bytes=3m:"
                           "cache_size_files=7")
    assert (p.interval, p.expiration, p.max_size_percent, p.max_size_bytes, p.max_size_files) == \
        (30.0, 7200.0, 50, 3 * 1024 * 1024, 7)
    assert cache.parse_policy("cache_size_bytes=2k").max_size_bytes == 2048
    assert cache.parse_policy("cache_size_bytes=5").max_size_bytes == 5
    assert cache.parse_policy("prune_after=1m").expiration == 60.0
    for text, msg in (("prune_interval=", "Duration must not be empty"), ("prune_after=5d", "must end with"),
                      ("prune_after=xh", "not an integer"), ("cache_size=50", "must be a percentage"),
                      ("cache_size=101%", "between 0 and 100"), ("cache_size_files=many", "not an integer"),
                      ("frobnicate=1", "Unknown key: 'frobnicate'")):
        with pytest.raises(TwopassError, match=msg):
            cache.parse_policy(text)


def fill(c: cache.Cache, n: int, size: int = 1000, age: float = 0.0) -> None:
    for i in range(n):
        c.put("object", key(i), payload(i, size))
        path = os.path.join(c.base, "object", key(i)[:2], key(i))
        t = time.time() - age - (n - i)  # entry 0 is the oldest
        os.utime(path, (t, t))


def test_prune_expiration_size_files_and_interval(tmp_path):
    c = cache.Cache(str(tmp_path))
    fill(c, 10, age=3600)
    foreign = tmp_path / "v1" / "notes.txt"
    foreign.write_text("mine")
    assert c.prune(cache.parse_policy("prune_after=10m"))["removed_files"] == 10
    fill(c, 10)
    # Within the interval nothing happens unless forced.
    assert c.prune(cache.parse_policy("cache_size_files=4"))["removed_files"] == 0
    done = c.prune(cache.parse_policy("cache_size_files=4"), force=True)
    assert done["removed_files"] == 6 and done["kept_files"] == 4
    assert [c.get("object", key(i)) is not None for i in range(10)] == [False] * 6 + [True] * 4  # oldest went
    size = os.path.getsize(os.path.join(c.base, "object", key(9)[:2], key(9)))
    done = c.prune(cache.parse_policy(f"prune_interval=0s:cache_size_bytes={2 * size}"))
    assert done["kept_files"] == 2 and c.get("object", key(9)) is not None
    assert foreign.read_text() == "mine"


def test_prune_removes_stale_temporary_files(tmp_path):
    c = cache.Cache(str(tmp_path))
    fill(c, 2)
    d = os.path.join(c.base, "object", key(0)[:2])
    stale, fresh = os.path.join(d, key(0) + ".tmp-1-1"), os.path.join(d, key(0) + ".tmp-2-2")
    for p in (stale, fresh):
        with open(p, "wb") as f:
            f.write(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    c.prune(cache.Policy(), force=True)
    assert not os.path.exists(stale) and os.path.exists(fresh)
    assert c.stats()["object"]["files"] == 2


def test_stats_and_clear(tmp_path):
    c = cache.Cache(str(tmp_path))
    assert c.stats()["total"] == {"files": 0, "bytes": 0}
    for n, stream in enumerate(cache.STREAMS):
        c.put(stream, key(n), payload(n, 100))
    stats = c.stats()
    assert list(stats) == [*cache.STREAMS, "total"] and stats["total"]["files"] == 3
    assert all(stats[s]["bytes"] > 100 for s in cache.STREAMS)
    assert c.clear() == 3 and c.stats()["total"]["files"] == 0
