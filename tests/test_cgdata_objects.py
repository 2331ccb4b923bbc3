"""Codegen data from real round-one objects: llvmlite with -codegen-data-generate on the bundled corpus.

twopass's merge must equal llvm-cgdata's, and LLVM 22 must read our file exactly as it reads its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cgdata_inputs import assert_equivalent
from conftest import DATA

HERE = Path(__file__).resolve().parent
GENERATE = ["-enable-machine-outliner", "-codegen-data-generate", "-enable-global-merge-func"]


def compile_modules(out: Path, modules, options) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(HERE / "compile_module.py"), str(out), *map(str, modules), "--", *options],
                   check=True, capture_output=True)
    return sorted(out.glob("*.o"))


@pytest.fixture(scope="module", params=["x86_64", "aarch64"])
def round_one(request, tmp_path_factory):
    modules = sorted((DATA / request.param).glob("*.o"))
    assert len(modules) >= 5
    out = tmp_path_factory.mktemp(f"r1-{request.param}")
    return request.param, modules, compile_modules(out, modules, GENERATE)


def test_objects_carry_payloads(round_one):
    from twopass.cgdata import sections

    _, _, objects = round_one
    kinds = {kind for obj in objects for _, kind, _ in sections.find_payloads(obj.read_bytes(), str(obj))}
    assert kinds == {sections.OUTLINE, sections.MERGE}


@pytest.mark.parametrize("flags", [(), ("--skip-trim",)])
def test_merge_equals_llvm_cgdata(round_one, llvm_tool, twopass, tmp_path, flags):
    _, _, objects = round_one
    ours, theirs = tmp_path / "ours.cgdata", tmp_path / "theirs.cgdata"
    llvm_tool("llvm-cgdata", "--merge", *flags, *objects, "-o", theirs)
    assert twopass("cgdata", "merge", *flags, *reversed(objects), "-o", ours).returncode == 0
    for action in (["--show"], ["--convert", "--format", "text"]):
        assert llvm_tool("llvm-cgdata", *action, ours).stdout == llvm_tool("llvm-cgdata", *action, theirs).stdout
    assert_equivalent(ours, theirs, exact=not flags)
    # And ours round-trips through llvm-cgdata's own converter unchanged.
    text = tmp_path / "ours.cgtext"
    llvm_tool("llvm-cgdata", "--convert", ours, "-o", text)
    back = tmp_path / "back.cgdata"
    assert twopass("cgdata", "convert", "-f", "binary", text, "-o", back).returncode == 0
    assert twopass("cgdata", "convert", back).stdout == text.read_bytes()


def test_llvm_reads_our_file_like_its_own(round_one, llvm_tool, twopass, tmp_path):
    _, modules, objects = round_one
    ours, theirs = tmp_path / "ours.cgdata", tmp_path / "theirs.cgdata"
    llvm_tool("llvm-cgdata", "--merge", *objects, "-o", theirs)
    twopass("cgdata", "merge", *objects, "-o", ours)
    use = ["-enable-machine-outliner", "-enable-global-merge-func"]
    a = compile_modules(tmp_path / "a", modules, use + [f"-codegen-data-use-path={ours}"])
    b = compile_modules(tmp_path / "b", modules, use + [f"-codegen-data-use-path={theirs}"])
    none = compile_modules(tmp_path / "n", modules, use)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    # The data was used: with it, codegen differs from codegen without it.
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in none]
