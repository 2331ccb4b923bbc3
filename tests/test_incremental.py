"""The three-stream cache end to end: warm rebuilds do no LLVM work, edits rerun exactly what they must, and
no crash, race or damaged entry can make a build wrong."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, ROOT, assert_clean_error
from test_build import outputs
from twopass import cache as cache_mod


def corpus_dir(tmp_path: Path, main_ll: str | None = None) -> Path:
    """The demo corpus, with main as textual IR when given (so a test can edit it)."""
    d = tmp_path / "src"
    d.mkdir(parents=True, exist_ok=True)
    for p in (DATA / "x86_64").glob("*.o"):
        if p.name != "main.o" or main_ll is None:
            shutil.copy(p, d / p.name)
    if main_ll is not None:
        (d / "main.ll").write_text(main_ll)
    return d


def build(twopass, src: Path, out: Path, store: Path, *flags) -> dict:
    report = out.parent / (out.name + ".json")
    proc = twopass("build", src, "-o", out, "--cache-dir", store, "--report", report, "-q", *flags)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(report.read_text())


def counts(rep: dict) -> dict:
    return {(r, s): (c["hits"], c["misses"]) for r, streams in rep["cache"]["streams"].items()
            for s, c in streams.items()}


def test_warm_rebuild_does_no_llvm_work(twopass, tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    cold = build(twopass, src, tmp_path / "cold", store)
    assert counts(cold) == {("summary", "ir"): (0, 7), ("thin link", "ir"): (0, 1), ("round 1", "ir"): (0, 7),
                            ("round 1", "scratch"): (0, 7), ("merge", "scratch"): (0, 1), ("round 2", "object"): (0, 7)}
    warm = build(twopass, src, tmp_path / "warm", store)  # one entry: the build's record (test_rebuild.py)
    assert counts(warm) == {("build", "object"): (1, 0)}
    assert warm["llvm_seconds"] == {}
    # What the report says of the merged data comes from the cache too, and says the same.
    assert warm["merged_cgdata"] == cold["merged_cgdata"] and warm["cgdata_used"] == cold["cgdata_used"]
    assert cold["merged_cgdata"]["outlined_hash_tree"]["terminals"] == cold["cgdata_used"]["sequences"] > 0
    assert all(m["round1"]["cached"] and m["round2"]["cached"] for m in warm["modules"])
    assert warm["cache"]["llvm_seconds_saved"] > 0
    assert outputs(tmp_path / "warm") == outputs(tmp_path / "cold")
    # Without the record (--save-temps reads every module's entries: it needs their IR), the thin link's
    # decisions are cached, so no summary is read, and every stream of every module hits.
    each = build(twopass, src, tmp_path / "each", store, "--save-temps", tmp_path / "temps")
    assert counts(each) == {("thin link", "ir"): (1, 0), ("round 1", "ir"): (7, 0), ("round 1", "scratch"): (7, 0),
                            ("merge", "scratch"): (1, 0), ("round 2", "object"): (7, 0)}
    assert each["llvm_seconds"] == {"round 1": 0, "round 2": 0}
    assert outputs(tmp_path / "each") == outputs(tmp_path / "cold")
    # One round builds cache their objects too.
    for flags, merge in ((["--rounds", "1"], {("merge", "scratch"): (1, 0)}), (["--outliner", "never"], {})):
        build(twopass, src, tmp_path / "a", store, *flags)
        again = build(twopass, src, tmp_path / "b", store, *flags, "--save-temps", tmp_path / "t")
        assert counts(again) == {("thin link", "ir"): (1, 0), ("round 1", "ir"): (7, 0), ("round 1", "object"): (7, 0),
                                 **merge}
        assert outputs(tmp_path / "a") == outputs(tmp_path / "b")


def test_an_edit_reruns_only_what_it_must(twopass, tmp_path, llvm_tool):
    """main imports from the other modules; nothing imports from main, so an edit of main reruns main alone
    (importers rerunning too: test_thinlink.py)."""
    ll = llvm_tool("llvm-dis", DATA / "x86_64" / "main.o", "-o", "-").stdout.decode()
    store = tmp_path / "cache"
    export = ("--export-symbol", "main_again")  # the copy below: else internalized, unused and dropped
    build(twopass, corpus_dir(tmp_path, ll), tmp_path / "base", store, *export)
    # A string constant: the code, and so the merged data, stay the same.
    data_edit = ll.replace('c"summary\\00"', 'c"SUMMARY\\00"')
    assert data_edit != ll
    rep = build(twopass, corpus_dir(tmp_path, data_edit), tmp_path / "e1", store, *export)
    assert counts(rep)[("round 1", "scratch")] == (6, 1)
    assert counts(rep)[("round 2", "object")] == (6, 1)
    assert rep["cache"]["round2_misses_because"] == {"its round one ran": 1}
    cold = tmp_path / "cold1"
    twopass("build", corpus_dir(tmp_path / "c1", data_edit), "-o", cold, "--no-cache", "-q", *export, check=True)
    assert outputs(tmp_path / "e1") == outputs(cold)
    # A second copy of a function: new codegen data, so every module's round two reruns, and says why.
    body = re.search(r"^define [^@]*@main\(.*?\n}\n", ll, re.S | re.M)[0]
    code_edit = ll + "\n" + body.replace("@main(", "@main_again(", 1)
    rep = build(twopass, corpus_dir(tmp_path, code_edit), tmp_path / "e2", store, *export)
    assert counts(rep)[("round 1", "scratch")] == (6, 1)
    assert counts(rep)[("round 2", "object")] == (0, 7)
    assert rep["cache"]["round2_misses_because"] == {"its round one ran": 1, "merged codegen data changed": 6}
    cold = tmp_path / "cold2"
    twopass("build", corpus_dir(tmp_path / "c2", code_edit), "-o", cold, "--no-cache", "-q", *export, check=True)
    assert outputs(tmp_path / "e2") == outputs(cold)


def test_options_invalidate_what_they_must(twopass, tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    build(twopass, src, tmp_path / "a", store)
    # The layout only touches final objects: round one is reused.
    rep = build(twopass, src, tmp_path / "b", store, "--fold-outlined", "comdat")
    assert counts(rep) == {("thin link", "ir"): (1, 0), ("round 1", "ir"): (7, 0), ("round 1", "scratch"): (7, 0),
                           ("merge", "scratch"): (1, 0), ("round 2", "object"): (0, 7)}
    for flags in (["-O1"], ["-mllvm", "-outliner-benefit-threshold=2"], ["--target-cpu", "znver3"],
                  ["--no-merge-functions"]):
        rep = build(twopass, src, tmp_path / "c", store, *flags)
        assert counts(rep)[("round 1", "scratch")] == (0, 7), flags
    assert counts(build(twopass, src, tmp_path / "d", store)) == {("build", "object"): (1, 0)}


def entries(store: Path) -> list[Path]:
    return sorted(p for p in (store / "v1").rglob("*") if p.is_file() and ".tmp-" not in p.name)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_entries_are_rebuilt(twopass, tmp_path, damage):
    # --no-import: an unchanged rebuild reads no summary (its thin link is cached), so a damaged one would
    # only show in a build that needs it; every entry of these builds is read by the next one.
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    build(twopass, src, tmp_path / "cold", store, "--no-import")
    want = outputs(tmp_path / "cold")
    rng = random.Random(7)
    per_module = 0  # damaged entries of one module's round: each is a miss in the report
    for stream in cache_mod.STREAMS:
        for p in [p for p in entries(store) if p.parts[-3] == stream][:3]:
            data = bytearray(p.read_bytes())
            blob = not p.stat().st_mode & 0o222  # a build record's blob (or the record itself, below)
            per_module += not blob and b"report" not in data
            if damage == "flip":
                data[rng.randrange(len(data))] ^= 0x40
            else:
                data = data[:rng.randrange(len(data))]
            p.chmod(0o644)
            p.write_bytes(bytes(data))
    proc = twopass("build", src, "-o", tmp_path / "again", "--cache-dir", store, "-q", "--report",
                   tmp_path / "r.json", "--no-import")
    assert proc.returncode == 0
    assert proc.stderr.decode().count("is damaged; removed") == 9
    assert outputs(tmp_path / "again") == want
    rep = json.loads((tmp_path / "r.json").read_text())
    assert sum(c[1] for c in counts(rep).values()) >= per_module > 0
    store_ = cache_mod.Cache(str(store))
    for p in entries(store):  # entries, and the blobs a build's record names (read-only files without a header)
        read = store_.get if p.stat().st_mode & 0o222 else store_.get_blob
        assert read(p.parts[-3], p.name) is not None, p


def test_killed_builds_never_poison_the_cache(tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    ref = tmp_path / "ref"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "twopass", "build", str(src), "-o", str(ref), "--no-cache", "-q"],
                   check=True, env=env)
    rng = random.Random(1234)
    leftovers = []
    for i in range(10):
        out = tmp_path / f"out{i}"
        proc = subprocess.Popen([sys.executable, "-m", "twopass", "build", str(src), "-o", str(out),
                                 "--cache-dir", str(store), "-q", "-j", "2"], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.5))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        if out.exists():  # whatever a killed build left is complete objects, or its own hidden temporaries
            for name, data in outputs(out).items():
                if Path(name).name.startswith(".twopass-tmp-"):
                    leftovers.append(out)
                else:
                    assert data == (ref / name).read_bytes(), (i, name)
    store_ = cache_mod.Cache(str(store))
    for p in entries(store):  # entries, and the blobs a build's record names (read-only files without a header)
        read = store_.get if p.stat().st_mode & 0o222 else store_.get_blob
        assert read(p.parts[-3], p.name) is not None, p
    final = tmp_path / "final"
    subprocess.run([sys.executable, "-m", "twopass", "build", str(src), "-o", str(final), "--cache-dir", str(store),
                    "-q"], check=True, env=env)
    assert outputs(final) == outputs(ref)
    for out in sorted(set(leftovers)):  # the next build into a directory sweeps what a killed one left there
        subprocess.run([sys.executable, "-m", "twopass", "build", str(src), "-o", str(out), "--cache-dir",
                        str(store), "-q"], check=True, env=env)
        assert outputs(out) == outputs(ref)


def test_a_build_sweeps_only_dead_builds_temporaries(twopass, tmp_path):
    src, out = corpus_dir(tmp_path), tmp_path / "out"
    out.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, live = out / f".twopass-tmp-{gone.pid}-x1", out / f".twopass-tmp-{os.getpid()}-x2"
    dead.write_bytes(b"half an object")
    live.write_bytes(b"another build's object in flight")
    assert twopass("build", src, "-o", out, "--no-cache", "-q").returncode == 0
    assert not dead.exists() and live.read_bytes() == b"another build's object in flight"


def test_concurrent_builds_share_one_cache(tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ref = tmp_path / "ref"
    subprocess.run([sys.executable, "-m", "twopass", "build", str(src), "-o", str(ref), "--no-cache", "-q"],
                   check=True, env=env)
    for i in range(3):
        shutil.rmtree(store, ignore_errors=True) if i == 2 else None
        procs = [subprocess.Popen([sys.executable, "-m", "twopass", "build", str(src), "-o",
                                   str(tmp_path / f"o{i}{k}"), "--cache-dir", str(store), "-q", "-j", "1"],
                                  env=env, stderr=subprocess.PIPE) for k in range(2)]
        for p in procs:
            _, err = p.communicate()
            assert p.returncode == 0 and b"damaged" not in err, err
        for k in range(2):
            assert outputs(tmp_path / f"o{i}{k}") == outputs(ref)


def test_cache_command_and_policy(twopass, tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    build(twopass, src, tmp_path / "a", store)
    stats = twopass("cache", "stats", "--cache-dir", store).stdout.decode()
    # ir: 7 optimized modules, 7 summaries and the thin link's decisions; scratch: 7 scratch objects, the merged
    # data and what the report says of it, 7 notes of the merged data each round two used, and the merged data
    # by content; object: 7 final objects, each by content too, and the build's record (rebuild.py)
    assert re.search(r"^ir\s+15 entries", stats, re.M) and re.search(r"^object\s+15 entries", stats, re.M)
    assert re.search(r"^scratch\s+17 entries", stats, re.M) and re.search(r"^total\s+47 entries", stats, re.M)
    pruned = twopass("cache", "prune", "--cache-dir", store, "--cache-policy", "cache_size_files=10")
    assert pruned.returncode == 0 and "removed 37 entries" in pruned.stdout.decode()
    assert len(entries(store)) == 10
    # A policy applied after a build: everything older than 5 seconds goes.
    for p in entries(store):
        os.utime(p, (time.time() - 10, time.time() - 10))
    rep = build(twopass, src, tmp_path / "b", store, "--outliner", "never", "--cache-policy",
                "prune_interval=0s:prune_after=5s")
    # This build's entries only: ir + object, each object by content and the record, and the summaries and
    # decisions it made again (the prune above kept the 10 newest entries, which may or may not include the
    # thin link's)
    made = sum(counts(rep).get((stage, "ir"), (0, 0))[1] for stage in ("summary", "thin link"))
    assert len(entries(store)) == 14 + 8 + made
    cleared = twopass("cache", "clear", "--cache-dir", store)
    assert cleared.returncode == 0 and entries(store) == []
    assert_clean_error(twopass("build", src, "-o", tmp_path / "c", "--cache-policy", "cache_size=120%"),
                       "--cache-policy", "between 0 and 100")
    assert_clean_error(twopass("cache", "prune", "--cache-policy", "bogus=1"), "Unknown key")
