"""A build's record in the cache (rebuild.py): a no-op rebuild reads one entry, places the objects from the cache
without writing them again, writes what goes with them, and a damaged or edited blob costs a rebuild, never a
wrong output."""

from __future__ import annotations

import json
import os
import subprocess
import time

from test_build import outputs
from test_incremental import build, corpus_dir, counts
from test_layout import EXPECTED, corpus


def _blobs(store) -> dict[int, str]:
    """The cache's read-only files (blobs) by inode."""
    found = {}
    for dirpath, _, names in os.walk(store):
        for name in names:
            path = os.path.join(dirpath, name)
            if not os.stat(path).st_mode & 0o222:
                found[os.stat(path).st_ino] = path
    return found


def test_a_no_op_rebuild_reads_one_entry_and_places_the_objects(twopass, tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    cold = build(twopass, src, tmp_path / "cold", store, "--manifest", tmp_path / "cold.manifest",
                 "--cgdata-out", tmp_path / "cold.cgdata")
    started = time.time()
    warm = build(twopass, src, tmp_path / "warm", store, "--manifest", tmp_path / "warm.manifest",
                 "--cgdata-out", tmp_path / "warm.cgdata")
    assert counts(warm) == {("build", "object"): (1, 0)} and warm["llvm_seconds"] == {}
    assert outputs(tmp_path / "warm") == outputs(tmp_path / "cold")
    # What goes with the objects is the same bytes: the manifest, the merged data and its target record.
    for name in ("manifest", "cgdata", "cgdata.twopass.json"):
        assert (tmp_path / f"warm.{name}").read_bytes() == (tmp_path / f"cold.{name}").read_bytes(), name
    # The report says what the recorded build said of its outputs, and that this run ran nothing.
    for field in ("thin_link", "merged_cgdata", "cgdata_used", "size_guard", "triple", "options"):
        assert warm[field] == cold[field], field
    assert [m["input"] for m in warm["modules"]] == [m["input"] for m in cold["modules"]]
    assert all(m["round1"]["cached"] and m["round2"]["cached"] for m in warm["modules"])
    assert warm["cache"]["llvm_seconds_saved"] == round(sum(cold["llvm_seconds"].values()), 4)
    # The objects are files of their own (reflinks or copies: never the cache's own file, which an edit of the
    # output would change), writable, with the time of this build, as written files would have.
    blobs = _blobs(store)
    for obj in (tmp_path / "warm").glob("*.o"):
        st = obj.stat()
        assert st.st_ino not in blobs and st.st_mtime >= started - 1 and st.st_mode & 0o200, obj
    # And they are a program: linked, it prints what the demo prints.
    exe = tmp_path / "demo"
    corpus.link(sorted((tmp_path / "warm").glob("*.o")), exe, "x86_64", icf=True)
    assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout == EXPECTED


def test_a_damaged_blob_costs_a_rebuild_not_a_wrong_output(twopass, tmp_path):
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    build(twopass, src, tmp_path / "cold", store)
    want = outputs(tmp_path / "cold")
    # Damage to a blob (the bytes a record names) is found by its sha256.
    victim = next(path for path in _blobs(store).values()
                  if open(path, "rb").read() == (tmp_path / "cold" / "main.o").read_bytes())
    os.chmod(victim, 0o644)
    with open(victim, "r+b") as f:
        f.seek(100)
        f.write(b"\xde\xad\xbe\xef")
    again = build(twopass, src, tmp_path / "again", store)
    assert outputs(tmp_path / "again") == want
    assert ("build", "object") not in counts(again)  # the record missed: its modules' entries answered
    assert counts(again)[("round 2", "object")] == (7, 0)
    third = build(twopass, src, tmp_path / "third", store)  # the blob was kept again: the record answers
    assert counts(third) == {("build", "object"): (1, 0)} and outputs(tmp_path / "third") == want


def test_a_record_is_only_for_the_same_build(twopass, tmp_path):
    """Another option or another input is another record; a failed build leaves none."""
    src, store = corpus_dir(tmp_path), tmp_path / "cache"
    build(twopass, src, tmp_path / "a", store)
    other = build(twopass, src, tmp_path / "b", store, "--fold-outlined", "comdat")
    assert ("build", "object") not in counts(other)
    (src / "vecops.o").write_bytes((src / "vecops.o").read_bytes()[:-8])  # damaged: the build fails
    proc = twopass("build", src, "-o", tmp_path / "c", "--cache-dir", store, "-q")
    assert proc.returncode == 1 and not (tmp_path / "c").exists()
    report = json.loads(json.dumps(build(twopass, corpus_dir(tmp_path / "d"), tmp_path / "d", store)))
    assert counts(report) == {("build", "object"): (1, 0)}
