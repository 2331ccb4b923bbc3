"""A command answered from its record (again.py): the same `twopass build` on the same files writes the same
objects, manifest, report and summary without importing the build; anything that could change what it would
write (an input's bytes, a response file, a damaged blob it needs, a record gone, pruning due, a directory
input, a writer build) runs the build instead, which still gives the right bytes."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import DATA, ROOT, assert_clean_error, run_twopass
from test_build import outputs
from test_layout import EXPECTED, corpus

MODULES = sorted((DATA / "x86_64").glob("*.o"))


# What a build imports and a replay must not: the planner, LLVM's module, the build record's format, llvmlite.
BUILD = {"twopass.pipeline", "twopass.plan", "twopass.llvm", "twopass.cachepolicy", "msgpack", "llvmlite", "argparse"}


def run(*args, cwd: Path, ok: bool = True) -> tuple[str, bool]:
    """The CLI in its own process: its stderr without the import timings, and whether it imported the build
    (a replay imports none of BUILD)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "twopass", "build", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env)
    lines = proc.stderr.splitlines()
    assert (proc.returncode == 0) == ok, proc.stderr
    imported = _imported(lines)
    built = "twopass.pipeline" in imported
    assert built or not (imported - _started()) & BUILD, imported & BUILD
    return "\n".join(ln for ln in lines if not ln.startswith("import time:")), built


def _imported(stderr_lines: list[str]) -> set[str]:
    return {ln.rsplit("|", 1)[1].strip() for ln in stderr_lines if ln.startswith("import time:")}


@functools.cache
def _started() -> set[str]:
    """What this interpreter imports before any program (site and its .pth files)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True)
    return _imported(proc.stderr.splitlines())


def copies(tmp_path: Path) -> list[Path]:
    src = tmp_path / "src"
    src.mkdir()
    for p in MODULES:
        shutil.copy(p, src / p.name)
    return sorted(src.glob("*.o"))


def _without_timings(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "phases_seconds"}


def _summary(text: str) -> str:
    return text.split("; plan ")[0] + "\n" + text.split("\n", 1)[1]


def test_the_same_command_again_writes_what_the_build_wrote_without_importing_it(tmp_path):
    inputs, store = copies(tmp_path), tmp_path / "cache"
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    args = [*inputs, "-o", "out", "--cache-dir", store, "--report", "r.json", "--manifest", "m.json", "-j", "2"]
    _, built = run(*args, cwd=a)
    cold = outputs(a / "out")
    started = time.time()
    said, built_again = run(*args, cwd=a)
    assert built and not built_again
    assert outputs(a / "out") == cold and (a / "m.json").exists()
    # The same build from another directory is another command: the build's own record answers it, and the
    # command's record gave the same objects, manifest, report and summary as that.
    record_said, record_built = run(*args, cwd=b)
    assert record_built and outputs(b / "out") == cold
    assert (a / "m.json").read_bytes() == (b / "m.json").read_bytes()
    replayed, answered = (json.loads((d / "r.json").read_text()) for d in (a, b))
    assert _without_timings(replayed) == _without_timings(answered)
    assert list(replayed["phases_seconds"]) == list(answered["phases_seconds"]) == ["plan", "write"]
    assert replayed["cache"]["streams"] == {"build": {"object": {"hits": 1, "misses": 0}}}
    assert _summary(said) == _summary(record_said) and "cache: 1/1 hits" in said
    # The objects are files of their own with this run's time, as written files would be (those already holding
    # their bytes only get the time); an object changed since is written again.
    for obj in (a / "out").glob("*.o"):
        st = obj.stat()
        assert st.st_mtime >= started - 1 and st.st_mode & 0o200 and st.st_nlink == 1, obj
    (a / "out" / "main.o").write_bytes(b"edited by hand")
    assert not run(*args, cwd=a)[1] and outputs(a / "out") == cold
    # And the replayed objects are the program: linked, it prints what the demo prints.
    corpus.link(sorted((a / "out").glob("*.o")), tmp_path / "demo", "x86_64", icf=True)
    assert subprocess.run([str(tmp_path / "demo")], capture_output=True, text=True, check=True).stdout == EXPECTED


def test_a_response_file_that_is_not_utf8_is_one_error_line(tmp_path):
    rsp = tmp_path / "inputs.rsp"
    rsp.write_bytes(b"\xff\xfe" + str(MODULES[0]).encode())
    proc = run_twopass("build", f"@{rsp}", "-o", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert_clean_error(proc, str(rsp), "UTF-8")
    assert not (tmp_path / "out").exists()


def test_what_could_change_the_outputs_runs_the_build(tmp_path):
    inputs, store = copies(tmp_path), tmp_path / "cache"
    rsp = tmp_path / "inputs.rsp"
    rsp.write_text("\n".join(str(p) for p in inputs))
    args = [f"@{rsp}", "-o", "out", "--cache-dir", store, "-q", "-j", "2"]
    run(*args, cwd=tmp_path)
    want = outputs(tmp_path / "out")
    os.utime(inputs[0])  # touched, the same bytes: still the same command
    assert not run(*args, cwd=tmp_path)[1]
    # A response file naming one module less is another build.
    rsp.write_text("\n".join(str(p) for p in inputs[1:]))
    assert run(*args, cwd=tmp_path)[1]
    assert sorted(outputs(tmp_path / "out")) == sorted(want)  # the earlier build's objects stay; none is new
    rsp.write_text("\n".join(str(p) for p in inputs))  # the same words: their record is the last build's now
    assert run(*args, cwd=tmp_path)[1] and not run(*args, cwd=tmp_path)[1]
    # An input's bytes: the build runs, and says what is wrong with them.
    data = inputs[-1].read_bytes()
    inputs[-1].write_bytes(data[:-8])
    said, built = run(*args, cwd=tmp_path, ok=False)
    assert built and said.startswith(f"error: {inputs[-1]}"), said
    inputs[-1].write_bytes(data)
    assert not run(*args, cwd=tmp_path)[1] and outputs(tmp_path / "out") == want


def _blob_of(store: Path, data: bytes) -> Path:
    return next(p for p in store.rglob("*") if p.is_file() and not p.stat().st_mode & 0o222 and p.read_bytes() == data)


def test_a_damaged_blob_a_record_gone_or_pruning_due_runs_the_build(tmp_path):
    inputs, store = copies(tmp_path), tmp_path / "cache"
    args = [*inputs, "-o", "out", "--cache-dir", store, "-q", "-j", "2"]
    run(*args, cwd=tmp_path)
    want = outputs(tmp_path / "out")
    victim = _blob_of(store, want["main.o"])
    os.chmod(victim, 0o644)
    victim.write_bytes(want["main.o"][:-4] + b"\xde\xad\xbe\xef")
    # The outputs still have their fingerprints: the replay only gives them a time, and reads no blob.
    assert not run(*args, cwd=tmp_path)[1] and outputs(tmp_path / "out") == want
    (tmp_path / "out" / "main.o").write_bytes(want["main.o"][:-1] + bytes([want["main.o"][-1] ^ 1]))  # needs it
    said, built = run(*args, cwd=tmp_path)
    assert built and "damaged" in said and outputs(tmp_path / "out") == want  # the build found it, and said so
    assert not run(*args, cwd=tmp_path)[1]
    # The build's own record gone (pruned): the command's record does not stand for it alone.
    entries = [p for p in (store / "v1" / "object").rglob("*") if p.is_file() and p.stat().st_mode & 0o222]
    command = next(json.loads(p.read_bytes()[44:]) for p in entries if p.read_bytes()[44:45] == b"{")
    record = store / "v1" / "object" / command["record"][:2] / command["record"]
    record.unlink()
    assert run(*args, cwd=tmp_path)[1] and outputs(tmp_path / "out") == want
    assert not run(*args, cwd=tmp_path)[1]
    (store / "v1" / "scratch" / command["merged"][:2] / command["merged"]).unlink()  # the merged data it names
    assert run(*args, cwd=tmp_path)[1] and outputs(tmp_path / "out") == want
    # A policy that prunes at every build: every build runs, to prune.
    pruning = [*args, "--cache-policy", "prune_interval=0s"]
    run(*pruning, cwd=tmp_path)
    assert run(*pruning, cwd=tmp_path)[1]


def test_a_directory_or_a_writer_build_leaves_no_command_record(tmp_path):
    copies(tmp_path)
    store = tmp_path / "cache"
    for extra in (["src"], [*sorted((tmp_path / "src").glob("*.o")), "--cgdata-out", "merged.cgdata"]):
        args = [*extra, "-o", "out", "--cache-dir", store, "-q", "-j", "2"]
        run(*args, cwd=tmp_path)
        assert run(*args, cwd=tmp_path)[1], extra  # the build's own record answers; nothing else can


def test_a_program_that_changed_is_another_command(tmp_path):
    """The programs a record names are checked by size and time: llvmlite's library, an assembler."""
    from twopass import again

    tool = tmp_path / "as"
    tool.write_bytes(b"#!/bin/sh\n")
    programs = again.identity([str(tool)])
    assert again._unchanged(programs, [])
    os.utime(tool, ns=(0, 10**9))
    assert not again._unchanged(programs, [])
    tool.unlink()
    assert not again._unchanged(programs, [])


def test_an_export_list_is_one_of_the_files_read(tmp_path):
    inputs, store = copies(tmp_path), tmp_path / "cache"
    exports = tmp_path / "exports.txt"
    exports.write_text("main\n")
    args = [*inputs, "-o", "out", "--cache-dir", store, "-q", "-j", "2", "--export-symbols-file", exports]
    run(*args, cwd=tmp_path)
    assert not run(*args, cwd=tmp_path)[1]
    exports.write_text("main\n# other bytes, the same list: the build's own record answers\n")
    assert run(*args, cwd=tmp_path)[1] and not run(*args, cwd=tmp_path)[1]


def test_a_cache_the_words_do_not_name_plainly_gets_no_command_record(tmp_path, monkeypatch):
    """`--cache-d DIR` (argparse's abbreviation) is the build's cache, but not where the same words would look
    for a record: none is left, there or in the default cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    args = [*copies(tmp_path), "-o", "out", "--cache-d", tmp_path / "cache", "-q", "-j", "2"]
    run(*args, cwd=tmp_path)
    assert run(*args, cwd=tmp_path)[1]
    assert not (tmp_path / "xdg").exists()


def test_an_assembler_that_changed_runs_the_build(tmp_path):
    """The assembler a cross build names is one of the programs its record checks (here a script, by its size and
    time; `python -m ziglang cc` would be checked by zig's binary)."""
    tool = tmp_path / "as"
    tool.write_text(f"#!/bin/sh\nexec {sys.executable} -m ziglang cc -target aarch64-linux-musl -g0 -c \"$@\"\n")
    tool.chmod(0o755)
    args = [*sorted((DATA / "aarch64").glob("*.o")), "-o", "out", "--cache-dir", tmp_path / "cache", "-q", "-j",
            "2", "--assembler", tool]
    run(*args, cwd=tmp_path)
    want = outputs(tmp_path / "out")
    assert not run(*args, cwd=tmp_path)[1]
    os.utime(tool, ns=(10**9, 10**9))
    assert run(*args, cwd=tmp_path)[1] and not run(*args, cwd=tmp_path)[1]
    assert outputs(tmp_path / "out") == want
