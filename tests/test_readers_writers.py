"""Writer builds that leave codegen data behind, reader builds that use it in one round, manifests, and
`verify-determinism`, on the demo corpus."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from conftest import DATA, assert_clean_error
from test_build import EXPECTED, link_and_run, outputs
from twopass import determinism

X86 = DATA / "x86_64"


@pytest.fixture(scope="module")
def writer(tmp_path_factory):
    """A two-round writer build of the demo corpus: its outputs, data, scratch objects and report."""
    from conftest import run_twopass

    d = tmp_path_factory.mktemp("writer")
    run_twopass("build", X86, "-o", d / "out", "--cgdata-out", d / "demo.cgdata", "--save-temps", d / "temps",
                "--manifest", d / "demo.manifest", "--report", d / "report.json", "-q", check=True)
    return d


def test_writer_leaves_data_llvm_reads(writer, llvm_tool, twopass, tmp_path):
    data = writer / "demo.cgdata"
    assert data.read_bytes() == (writer / "temps" / "merged.cgdata").read_bytes()
    shown = llvm_tool("llvm-cgdata", "--show", data).stdout.decode()
    assert "Outlined hash tree" in shown and int(re.search(r"Terminal Node Count: (\d+)", shown)[1]) > 10
    assert twopass("cgdata", "show", data).stdout.decode() == shown
    meta = json.loads((writer / "demo.cgdata.twopass.json").read_text())
    assert meta["triple"].startswith("x86_64") and meta["format"] == "binary"
    # --rounds 1 gets the same data from round one alone; text on request.
    twopass("build", X86, "-o", tmp_path / "r1", "--rounds", "1", "--cgdata-out", tmp_path / "r1.cgdata", "-q",
            check=True)
    assert (tmp_path / "r1.cgdata").read_bytes() == data.read_bytes()
    twopass("build", X86, "-o", tmp_path / "t", "--rounds", "1", "--cgdata-out", tmp_path / "t.cgdata",
            "--cgdata-format", "text", "-q", check=True)
    assert (tmp_path / "t.cgdata").read_text().startswith("# Outlined stable hash tree")


def test_reader_with_fresh_data_equals_the_two_round_build(writer, twopass, tmp_path):
    """One round that reads the data equals round two of the writer: same IR, same data, same code."""
    out = tmp_path / "reader"
    twopass("build", X86, "-o", out, "--cgdata-in", writer / "demo.cgdata", "--report", tmp_path / "r.json",
            "-q", check=True)
    assert outputs(out) == outputs(writer / "out")
    rep = json.loads((tmp_path / "r.json").read_text())
    assert "round 2" not in rep["phases_seconds"] and "merge" not in rep["phases_seconds"]
    used = rep["cgdata_used"]
    assert used["sequences"] > 0 and used["sequences_used"] == used["sequences"], used
    assert link_and_run(sorted(out.glob("*.o")), tmp_path, "x86_64") == EXPECTED


def test_reader_takes_llvm_cgdata_output(writer, llvm_tool, twopass, tmp_path):
    theirs = tmp_path / "llvm.cgdata"
    llvm_tool("llvm-cgdata", "--merge", *sorted((writer / "temps").glob("*.scratch.o")), "-o", theirs)
    out = tmp_path / "reader"
    twopass("build", X86, "-o", out, "--cgdata-in", theirs, "-q", check=True)
    assert outputs(out) == outputs(writer / "out")


def test_reader_with_stale_data_reports_what_it_used(writer, twopass, tmp_path):
    """Data from only part of the program: the build works and the report shows the smaller share."""
    part = tmp_path / "part.cgdata"
    twopass("build", X86 / "main.o", X86 / "vecops.o", "-o", tmp_path / "w", "--rounds", "1",
            "--cgdata-out", part, "-q", check=True)
    twopass("build", X86, "-o", tmp_path / "out", "--cgdata-in", part, "--report", tmp_path / "r.json", "-q",
            check=True)
    used = json.loads((tmp_path / "r.json").read_text())["cgdata_used"]
    assert 0 < used["sequences_used"] <= used["sequences"]
    assert link_and_run(sorted((tmp_path / "out").glob("*.o")), tmp_path, "x86_64") == EXPECTED


def test_reader_refuses_bad_or_foreign_data(writer, twopass, tmp_path):
    out = tmp_path / "out"
    bad = tmp_path / "bad.cgdata"
    bad.write_bytes(b"\xffcgdata\x81" + b"\x09\x00\x00\x00" + bytes(20))
    assert_clean_error(twopass("build", X86, "-o", out, "--cgdata-in", bad), str(bad), "unsupported")
    bad.write_bytes((writer / "demo.cgdata").read_bytes()[:40])
    assert_clean_error(twopass("build", X86, "-o", out, "--cgdata-in", bad), str(bad))
    assert_clean_error(twopass("build", X86, "-o", out, "--cgdata-in", tmp_path / "none"), "none")
    # Data written for AArch64 (its record says so) is refused for x86-64 modules.
    arm = tmp_path / "arm.cgdata"
    twopass("build", DATA / "aarch64", "-o", tmp_path / "arm", "--rounds", "1", "--fold-outlined", "none",
            "--cgdata-out", arm, "-q", check=True)
    assert_clean_error(twopass("build", X86, "-o", out, "--cgdata-in", arm), str(arm), "aarch64", "x86_64")
    assert not out.exists()
    assert_clean_error(twopass("build", X86, "-o", out, "--outliner", "local", "--cgdata-out", bad),
                       "--cgdata-out")


def test_manifest_and_manifest_diff(writer, twopass, tmp_path):
    man = json.loads((writer / "demo.manifest").read_text())
    assert sorted(man["objects"]) == sorted(p.name for p in X86.glob("*.o")) and man["cgdata"]
    assert list(man["objects"]) == sorted(man["objects"])
    same = twopass("manifest", "diff", writer / "demo.manifest", writer / "demo.manifest")
    assert same.returncode == 0 and same.stdout == b""
    other = tmp_path / "other.manifest"
    twopass("build", X86, "-o", tmp_path / "o", "--outliner", "local", "--manifest", other, "-q", check=True)
    diff = twopass("manifest", "diff", writer / "demo.manifest", other)
    assert diff.returncode == 1
    lines = diff.stdout.decode().splitlines()
    assert any(ln.startswith("main.o: sha256 ") for ln in lines)
    assert lines[-1].startswith("merged codegen data: ")


def test_verify_determinism_passes_on_the_demo(twopass, writer):
    proc = twopass("verify-determinism", X86, "--against", writer / "demo.manifest")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "7 objects identical across 5 builds" in proc.stdout.decode()


def test_verify_determinism_names_module_section_and_offset(twopass, llvm_tool, tmp_path):
    """An assembler that embeds its temporary directory (llvm-mc -g names the source's path in DWARF) makes
    every build different: each module is named with the section and offset of its first difference."""
    assembler = f"{shlex.quote(llvm_tool.path('llvm-mc'))} -g -triple=x86_64-unknown-linux-gnu -filetype=obj"
    proc = twopass("verify-determinism", X86 / "main.o", X86 / "vecops.o", "--assembler", assembler)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    for module in ("main.o", "vecops.o"):
        assert any(ln.startswith(f"error: {module}: reference and ") and " section .debug_" in ln
                   and " at offset 0x" in ln for ln in err.splitlines()), err


def test_first_difference_names_section_and_offset(writer):
    import elf

    data = (writer / "out" / "main.o").read_bytes()
    text = next(s for s in elf.read(data).sections if s.name.startswith(".text") and len(s.data) >= 64)
    start = data.index(text.data[:64])
    changed = bytearray(data)
    changed[start + 0x10] ^= 0xFF
    assert determinism.first_difference(data, bytes(changed)) == \
        f"section {text.name} at offset 0x10 (file offset {start + 0x10:#x})"
    assert determinism.first_difference(data, data + b"x").startswith("sizes ")
