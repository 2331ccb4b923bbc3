"""The library entry point and its seams: `tp.build` with typed options, module sources that are not
files, an executor of one's own, and the bugs the seams fixed (each test failed before)."""

from __future__ import annotations

import hashlib
import json
import pickle
import shlex
import sys
from pathlib import Path

import pytest

import twopass as tp
from conftest import DATA, assert_clean_error
from twopass import cache as cache_mod
from twopass import cgdata
from twopass.errors import TwopassError
from twopass.executor import LocalExecutor
from twopass.thinlink import LinkOptions

X86 = sorted((DATA / "x86_64").glob("*.o"))


class Recording(LocalExecutor):
    """The local pool, recording each round it was given and the pickled size of every job."""

    def __init__(self, jobs: int = 2, before=None):
        super().__init__(jobs)
        self.rounds: list = []
        self.job_bytes: dict[str, int] = {}
        self.before = before

    def run(self, round_, jobs, stop_on_failure=True):
        self.rounds.append(round_)
        if self.before is not None:
            self.before(round_)
        jobs = list(jobs)
        self.job_bytes[round_.name] = sum(len(pickle.dumps(job)) for _, job in jobs)
        return super().run(round_, jobs, stop_on_failure)


def objects(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*.o"))}


def test_library_build_matches_the_command_line(twopass, tmp_path):
    twopass("build", *X86, "-o", tmp_path / "cli", "-q", "--no-cache", check=True)
    result = tp.build([str(p) for p in X86], tp.BuildOptions(thin_link=LinkOptions()), str(tmp_path / "lib"),
                           tp.RunOptions(jobs=2, cache=False))
    assert objects(tmp_path / "lib") == objects(tmp_path / "cli")
    assert sorted(result.outputs()) == sorted(objects(tmp_path / "cli"))


def test_sources_in_memory_and_from_archives(tmp_path):
    """Modules as (name, bytes, path): an archive member names its output after the archive when two clash."""
    sources = [tp.ModuleSource(f"libdemo.a({p.name})", p.read_bytes(), f"lib/libdemo.a/{p.name}") for p in X86]
    main = DATA / "x86_64" / "main.o"
    clash = tp.ModuleSource("other.a(main.o)", main.read_bytes(), "other.a/main.o")
    opts = tp.BuildOptions(thin_link=None)
    result = tp.build(sources, opts, str(tmp_path / "out"), tp.RunOptions(jobs=2, cache=False))
    assert sorted(result.outputs()) == sorted(p.name for p in X86)
    tp.build([*sources, clash], opts, str(tmp_path / "two"), tp.RunOptions(jobs=2, cache=False))
    assert {"libdemo.a/main.o", "other.a/main.o"} <= set(objects(tmp_path / "two"))
    with pytest.raises(TwopassError, match="given twice"):
        tp.build([*sources, sources[0]], opts, str(tmp_path / "dup"), tp.RunOptions(cache=False))


def test_rounds_carry_their_options_and_jobs_name_exporters_by_digest(tmp_path):
    rec = Recording()
    tp.build([str(p) for p in X86], tp.BuildOptions(thin_link=LinkOptions()), str(tmp_path / "out"),
                  tp.RunOptions(jobs=2, cache=False), rec)
    by_name = {r.name: r for r in rec.rounds}
    assert list(by_name) == ["summary", "round 1", "round 2"]
    assert "-codegen-data-generate" in by_name["round 1"].llvm_options
    assert "-codegen-data-use-path=<cgdata>" in by_name["round 2"].llvm_options
    assert by_name["round 2"].cgdata and by_name["round 1"].cgdata is None
    blobs = by_name["round 1"].blobs
    assert blobs and all(hashlib.sha256(data).hexdigest() == d for d, data in blobs.items())
    inputs = sum(p.stat().st_size for p in X86)
    # Each job carries its own module and names its exporters (before: 318 KB of jobs for 248 KB of input),
    # and its target as its summary read it (clang 19 lists every feature: 2.4 KB each here).
    targets = 3000 * len(X86)
    assert rec.job_bytes["round 1"] < inputs * 1.05 + targets, (rec.job_bytes, inputs)


def test_cold_build_writes_each_entry_once_and_entries_never_change(tmp_path, monkeypatch):
    writes: list[tuple[str, str]] = []
    changed: list[tuple[str, str]] = []
    put = cache_mod.Cache.put

    def recording_put(self, stream, key, data):
        writes.append((stream, key))
        old = self.get(stream, key)
        if old is not None and old != data:
            changed.append((stream, key))
        put(self, stream, key, data)

    monkeypatch.setattr(cache_mod.Cache, "put", recording_put)
    run = tp.RunOptions(jobs=2, cache_dir=str(tmp_path / "cache"))
    opts = tp.BuildOptions(thin_link=None)
    tp.build([str(p) for p in X86], opts, str(tmp_path / "a"), run)
    assert writes and len(writes) == len(set(writes)), sorted(w for w in writes if writes.count(w) > 1)
    # Other merged data (one module less), same round one for the rest: no entry gets other bytes, but the
    # note of the merged data each module's round two last used.
    writes.clear()
    tp.build([str(p) for p in X86 if p.name != "matrix.o"], opts, str(tmp_path / "b"), run)
    assert all(stream == "scratch" for stream, _ in changed) and len(changed) == len(X86) - 1, changed


def test_reader_build_gives_llvm_the_bytes_it_hashed(twopass, tmp_path):
    """The data file changes after the build read it: LLVM still reads what the cache keys hashed."""
    data, other = tmp_path / "demo.cgdata", tmp_path / "other.cgdata"
    twopass("build", *X86, "-o", tmp_path / "w", "-q", "--no-cache", "--cgdata-out", data, check=True)
    twopass("build", *X86[:2], "-o", tmp_path / "w2", "-q", "--no-cache", "--cgdata-out", other, check=True)
    assert data.read_bytes() != other.read_bytes()
    original = data.read_bytes()
    twopass("build", *X86, "-o", tmp_path / "ref", "-q", "--no-cache", "--cgdata-in", data, check=True)

    def swap(round_):
        if round_.name == "round 1":
            assert round_.cgdata == original
            data.write_bytes(other.read_bytes())

    opts = tp.BuildOptions(thin_link=LinkOptions(), cgdata_in=str(data))
    tp.build([str(p) for p in X86], opts, str(tmp_path / "out"), tp.RunOptions(jobs=2, cache=False),
                  Recording(before=swap))
    assert objects(tmp_path / "out") == objects(tmp_path / "ref")


def test_reader_data_must_hold_codegen_data(twopass, tmp_path):
    bad = tmp_path / "notes.cgdata"
    bad.write_text("not cgdata\n")
    proc = twopass("build", *X86, "-o", tmp_path / "out", "--cgdata-in", bad)
    assert_clean_error(proc, str(bad), "holds no codegen data")
    assert not (tmp_path / "out").exists()
    assert twopass("cgdata", "show", bad).returncode == 0  # llvm-cgdata --show takes it too


@pytest.mark.parametrize("option,message", [("-no-such-option", "Unknown command line argument '-no-such-option'"),
                                            ("-machine-outliner-reruns=x", "'x' value invalid for uint argument"),
                                            ("stray", "Too many positional arguments")])
def test_bad_llvm_options_are_refused_before_any_work(twopass, tmp_path, option, message):
    proc = twopass("build", *X86, "-o", tmp_path / "out", "-mllvm", option)
    assert_clean_error(proc, message)
    assert not (tmp_path / "out").exists()
    assert twopass("build", *X86, "-o", tmp_path / "ok", "-q", "--no-cache", "-mllvm",
                   "-machine-outliner-reruns=1").returncode == 0


def test_a_missing_ir_entry_is_no_scratch_hit(twopass, tmp_path):
    cache = tmp_path / "cache"
    twopass("build", *X86, "-o", tmp_path / "a", "-q", "--cache-dir", cache, "--no-import", check=True)
    for stream in ("ir", "object"):  # the IR, and the build's record, which would answer the whole build
        for f in (cache / "v1" / stream).rglob("*"):
            if f.is_file():
                f.unlink()
    twopass("build", *X86, "-o", tmp_path / "b", "-q", "--cache-dir", cache, "--no-import",
            "--report", tmp_path / "r.json", check=True)
    streams = json.loads((tmp_path / "r.json").read_text())["cache"]["streams"]["round 1"]
    assert streams["ir"] == {"hits": 0, "misses": len(X86)}
    assert streams["scratch"] == {"hits": 0, "misses": len(X86)}  # it reran: its scratch entry was no hit
    assert objects(tmp_path / "b") == objects(tmp_path / "a")


def test_verify_determinism_takes_relative_paths_in_options(twopass, tmp_path):
    """Its builds run elsewhere: --export-symbols-file, --cgdata-in and --assembler relative to the cwd."""
    (tmp_path / "exports.txt").write_text("vec_dot\n")
    twopass("build", *X86, "-o", tmp_path / "w", "-q", "--no-cache", "--cgdata-out", tmp_path / "d.cgdata",
            check=True)
    proc = twopass("verify-determinism", *X86, "--export-symbols-file", "exports.txt", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    proc = twopass("verify-determinism", *X86, "--cgdata-in", "d.cgdata", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    script = tmp_path / "as"
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m ziglang cc -target aarch64-linux-musl "
                      "-g0 -c \"$@\"\n")
    script.chmod(0o755)
    proc = twopass("verify-determinism", *sorted((DATA / "aarch64").glob("*.o")), "--assembler", "./as",
                   "--no-import", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()


def test_help_describes_the_cli(twopass):
    out = twopass("--help").stdout.decode()
    assert "twopass build" in out and tp.__doc__.splitlines()[0] not in out


def _mergeable_module(name: str) -> str:
    """A function whose twin in another module differs only in the globals it loads and stores: the global
    function merger's one kind of candidate (its hash ignores those operands)."""
    return f"""target triple = "x86_64-unknown-linux-gnu"
@g_{name} = global i32 1
@h_{name} = global i32 2
define i32 @f_{name}(i32 %x, i32 %y) noinline {{
  %a = mul i32 %x, 3
  %b = add i32 %a, %y
  %c = xor i32 %b, 7
  %d = mul i32 %c, %x
  %e = sub i32 %d, 11
  %f = shl i32 %e, 3
  %g = or i32 %f, %y
  %h = mul i32 %g, %g
  %i = load i32, ptr @g_{name}
  %j = add i32 %h, %i
  %k = udiv i32 %j, 7
  %l = load i32, ptr @h_{name}
  %m = add i32 %k, %l
  store i32 %m, ptr @h_{name}
  ret i32 %m
}}
"""


@pytest.mark.parametrize("option", [None, "-global-merging-min-merges=3", "-global-merging-min-instrs=100",
                                    "--global-merging-extra-threshold=50"])
def test_merge_thresholds_reach_twopass_merge(twopass, tmp_path, option):
    """lld's in-process merge finalizes the function map with the `-global-merging-*` cl::opts; twopass merges
    in Python, so it reads them from `-mllvm` itself (and the merged data's cache key covers them)."""
    for name in "ab":
        (tmp_path / f"{name}.ll").write_text(_mergeable_module(name))
    inputs, cache = [tmp_path / "a.ll", tmp_path / "b.ll"], tmp_path / "cache"
    # The defaults' build first, into the same cache: a stale merged entry would show.
    twopass("build", *inputs, "-o", tmp_path / "d", "-q", "--cache-dir", cache, check=True)
    mllvm = ["-mllvm", option] if option else []
    twopass("build", *inputs, "-o", tmp_path / "out", "-q", "--cache-dir", cache, "--cgdata-out",
            tmp_path / "m.cgdata", "--report", tmp_path / "r.json", *mllvm, check=True)
    data = cgdata.parse((tmp_path / "m.cgdata").read_bytes(), "m.cgdata")
    merged = [m["round2"]["merged_functions"] for m in json.loads((tmp_path / "r.json").read_text())["modules"]]
    if option is None:
        assert data.funcmap is not None and data.funcmap.mergeable_function_count() == 2 and merged == [1, 1]
    else:
        assert data.funcmap is None and merged == [0, 0]


def test_merge_thresholds_from_llvm_options():
    t = cgdata.MergeThresholds.from_llvm_options(
        ["-enable-machine-outliner", "-global-merging-min-merges=0x10", "--global-merging-skip-no-params=false",
         "-global-merging-inst-overhead=2.5", "-global-merging-max-params=3"])
    assert t == cgdata.MergeThresholds(min_merges=16, skip_no_params=False, inst_overhead=2.5, max_params=3)
    assert cgdata.MergeThresholds.from_llvm_options(["-global-merging-skip-no-params"]).skip_no_params
