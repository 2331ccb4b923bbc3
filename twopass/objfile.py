"""The one place that knows object-file containers: magic bytes, ELF / Mach-O / COFF section tables and `ar`
archive members.

Inputs are untrusted, so every offset and size is checked against the buffer and every malformation becomes
one `InputError(path, what is wrong)`, never a struct.error or IndexError.

Why not pyelftools for ELF: `cgdata.sections.find_payloads` reads the section table of every scratch object
in every worker. On the demo corpus's scratch objects (18 sections each) find_payloads takes about 20 us an
object with this reader, against about 510 us with pyelftools (`ELFFile` over a BytesIO, names and
contents), and importing `elftools.elf.elffile` costs 30-40 ms in each worker process. A section table needs
only the few dozen lines below; the tests check them against `llvm-readelf` and pyelftools on real objects
of both classes and byte orders, and fuzz them for errors other than InputError.
"""

from __future__ import annotations

import os
import re
import struct
from typing import NamedTuple

from .errors import InputError

ELF, MACHO, COFF, ARCHIVE, BITCODE, IR_TEXT = "elf", "macho", "coff", "archive", "bitcode", "ir-text"

BITCODE_MAGIC = b"BC\xc0\xde"
BITCODE_WRAPPER_MAGIC = b"\xde\xc0\x17\x0b"  # 0x0B17C0DE little-endian: the Darwin wrapper header
ARCHIVE_MAGIC, THIN_ARCHIVE_MAGIC = b"!<arch>\n", b"!<thin>\n"
_MACHO_MAGICS = {b"\xce\xfa\xed\xfe": False, b"\xcf\xfa\xed\xfe": True}  # value: is 64-bit
_COFF_MACHINES = {0x14C, 0x8664, 0xAA64, 0x1C4, 0xA641, 0xA64E}  # i386, x86-64, arm64, armnt, arm64ec, arm64x
_BIGOBJ_GUID = bytes.fromhex("c7a1bad1eebaa94baf20faf66aa4dcb8")
_IR_START = re.compile(r"(source_filename|target|module|define|declare|attributes|uselistorder|deplibs)\b|[@%!$^]")

SHT_NULL, SHT_NOBITS = 0, 8


def is_bitcode(head: bytes | memoryview) -> bool:
    """Raw bitcode or the Darwin wrapper, by magic alone: 4 bytes suffice, so callers may sniff a file's head."""
    return bytes(head[:4]) in (BITCODE_MAGIC, BITCODE_WRAPPER_MAGIC)


def magic_kind(data: bytes | memoryview) -> str | None:
    """ELF, MACHO, COFF, ARCHIVE (GNU, BSD, COFF or thin) or BITCODE from the magic bytes, else None; checks
    nothing past them."""
    head = bytes(data[:28])
    if head[:4] == b"\x7fELF":
        return ELF
    if head[:4] in _MACHO_MAGICS:
        return MACHO
    if head[:8] in (ARCHIVE_MAGIC, THIN_ARCHIVE_MAGIC):
        return ARCHIVE
    if is_bitcode(head):
        return BITCODE
    if head[:4] == b"\0\0\xff\xff":  # bigobj COFF, or a short import object (version 0)
        return COFF if head[12:28] == _BIGOBJ_GUID or head[4:6] == b"\0\0" else None
    if len(head) >= 20 and int.from_bytes(head[:2], "little") in _COFF_MACHINES:
        return COFF
    return None


def kind(data: bytes | memoryview) -> str | None:
    """`magic_kind`, else IR_TEXT when the first token after comments can start LLVM assembly (a file of
    comments only is an empty module to LLVM), else None."""
    found = magic_kind(data)
    if found is not None:
        return found
    sample = bytes(data[:4096])
    if not sample.strip() or b"\0" in sample:
        return None
    for line in sample.decode("utf-8", "replace").splitlines():
        line = line.split(";", 1)[0].strip()
        if line:
            return IR_TEXT if _IR_START.match(line) else None
    return IR_TEXT


# -- bounds-checked reads ----------------------------------------------------------------------------------

def _view(data: bytes | memoryview) -> memoryview:
    return memoryview(data).cast("B")


def _unpack(data: memoryview, fmt: str, off: int, path: str, what: str) -> tuple:
    """struct.unpack_from, but running off the end is an InputError naming `what`."""
    if off < 0 or off + struct.calcsize(fmt) > len(data):
        raise InputError(path, f"truncated {what} at offset {off}")
    return struct.unpack_from(fmt, data, off)


def _slice(data: memoryview, off: int, size: int, path: str, what: str) -> memoryview:
    """A bounds-checked view of data[off:off+size]."""
    if off < 0 or size < 0 or off + size > len(data):
        raise InputError(path, f"{what} (offset {off}, size {size}) runs past the end of the "
                               f"file ({len(data)} bytes)")
    return data[off:off + size]


def _cstr(table: bytes, off: int, path: str, what: str) -> bytes:
    """The NUL-terminated string at `off` in a string table (bytes, so find() is not quadratic)."""
    if off < 0 or off >= len(table):
        raise InputError(path, f"{what} name offset {off} is outside its string table")
    end = table.find(b"\0", off)
    if end < 0:
        raise InputError(path, f"{what} name at offset {off} is not NUL-terminated")
    return table[off:end]


def _show(name: bytes) -> str:
    return name.decode("utf-8", "replace")


# -- section tables ----------------------------------------------------------------------------------------

class Section(NamedTuple):
    """One section-table entry. `data` is a view into the input, empty for sections with no bytes in the file
    (ELF SHT_NULL/SHT_NOBITS, Mach-O zerofill, COFF uninitialized data); `size` is what the table says.
    `type`: ELF sh_type, Mach-O the flags' low byte, COFF 0. `flags`: sh_flags, Mach-O flags, COFF
    characteristics. `link`, `info`, `align` are ELF's (0 elsewhere); `segment` is Mach-O's ('' elsewhere)."""
    name: str
    type: int
    flags: int
    offset: int
    size: int
    data: memoryview
    link: int = 0
    info: int = 0
    align: int = 0
    segment: str = ""


def sections(data: bytes | memoryview, path: str) -> list[Section]:
    """The section table of an ELF, Mach-O or COFF object, in table order."""
    view = _view(data)
    found = magic_kind(view)
    reader = {ELF: elf_sections, MACHO: macho_sections, COFF: coff_sections}.get(found or "")
    if reader is None:
        raise InputError(path, f"is {found or 'not an object file'}, not an ELF, Mach-O or COFF object")
    return reader(view, path)


def elf_sections(data: bytes | memoryview, path: str) -> list[Section]:
    """Every section of a 32- or 64-bit ELF file of either byte order, the null section 0 included (so list
    indices are section indices); [] when there is no section header table."""
    view = _view(data)
    if bytes(view[:4]) != b"\x7fELF":
        raise InputError(path, "not an ELF file")
    cls, enc = view[4:6] if len(view) >= 6 else (0, 0)
    if cls not in (1, 2) or enc not in (1, 2):
        raise InputError(path, f"unsupported ELF class {cls} / data encoding {enc}")
    e = "<" if enc == 1 else ">"
    if cls == 1:
        hdr, shdr = e + "32xI10xHHH", e + "IIIIIIIIII"
    else:
        hdr, shdr = e + "40xQ10xHHH", e + "IIQQQQIIQQ"  # name type flags addr offset size link info align entsize
    shoff, entsize, shnum, shstrndx = _unpack(view, hdr, 0, path, "ELF header")
    if shoff == 0:
        return []
    if entsize < struct.calcsize(shdr):
        raise InputError(path, f"ELF section header size {entsize} is too small")
    if shnum == 0 or shstrndx == 0xFFFF:  # extended numbering: the real values live in section 0
        first = _unpack(view, shdr, shoff, path, "ELF section header 0")
        shnum = first[5] if shnum == 0 else shnum
        shstrndx = first[6] if shstrndx == 0xFFFF else shstrndx
    table = _slice(view, shoff, shnum * entsize, path, "ELF section header table")
    if entsize == struct.calcsize(shdr):
        heads = list(struct.iter_unpack(shdr, table))
    else:
        heads = [struct.unpack_from(shdr, table, i * entsize) for i in range(shnum)]
    if shstrndx >= shnum and shstrndx:
        raise InputError(path, f"ELF section-name table index {shstrndx} is out of range")
    empty, end = view[:0], len(view)

    def contents(h: tuple, what: str) -> memoryview:
        typ, off, size = h[1], h[4], h[5]
        if typ in (SHT_NULL, SHT_NOBITS) or not size:
            return empty
        return view[off:off + size] if off + size <= end else _slice(view, off, size, path, what)

    names = bytes(contents(heads[shstrndx], "ELF section-name table")) if shstrndx else b""
    out = []
    for i, h in enumerate(heads):  # every worker's find_payloads runs this loop: _cstr is inlined
        name_at = h[0]
        stop = names.find(b"\0", name_at) if name_at < len(names) else -1
        if stop < 0 and shstrndx:
            _cstr(names, name_at, path, f"ELF section {i}")  # raises, saying why
        name = names[name_at:stop].decode("utf-8", "replace") if stop >= 0 else ""
        out.append(Section(name, h[1], h[2], h[4], h[5], contents(h, f"section {name}"), h[6], h[7], h[8]))
    return out


class Symbol(NamedTuple):
    name: str
    value: int
    size: int
    type: int        # STT_*: 0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE
    bind: int        # STB_*: 0 LOCAL, 1 GLOBAL, 2 WEAK
    visibility: int  # STV_*: 0 DEFAULT, 2 HIDDEN
    shndx: int       # 0: undefined


def elf_symbols(sections: list[Section], path: str) -> list[Symbol]:
    """The symbol table of a 64-bit little-endian ELF object (what twopass writes), from its sections."""
    symtab = next((s for s in sections if s.type == 2), None)  # SHT_SYMTAB
    if symtab is None:
        return []
    strtab = bytes(sections[symtab.link].data) if symtab.link < len(sections) else b""
    out = []
    for nm, info, other, shndx, value, size in struct.iter_unpack("<IBBHQQ", _whole(symtab.data, 24)):
        stop = strtab.find(b"\0", nm) if nm < len(strtab) else -1
        name = strtab[nm:stop] if stop >= 0 else _cstr(strtab, nm, path, "symbol name")  # raises, saying why
        out.append(Symbol(name.decode("utf-8", "surrogateescape"), value, size, info & 0xF, info >> 4, other & 3,
                          shndx))
    return out


def _whole(data: memoryview, entry: int) -> memoryview:
    """The whole entries of a table (a trailing partial one is not an entry)."""
    return data[:len(data) // entry * entry]


def elf_relocations(sections: list[Section], path: str) -> dict[int, list[tuple[int, int, int, int]]]:
    """SHT_RELA entries by the index of the section they apply to: (offset, type, symbol index, addend)."""
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    for s in sections:
        if s.type == 4:  # SHT_RELA
            out.setdefault(s.info, []).extend((off, info & 0xFFFFFFFF, info >> 32, addend)
                                              for off, info, addend in struct.iter_unpack("<QQq", _whole(s.data, 24)))
    return out


def macho_sections(data: bytes | memoryview, path: str) -> list[Section]:
    """The sections of every LC_SEGMENT / LC_SEGMENT_64 load command of a little-endian Mach-O object."""
    view = _view(data)
    is64 = _MACHO_MAGICS.get(bytes(view[:4]))
    if is64 is None:
        raise InputError(path, "not a little-endian Mach-O file")
    ncmds, sizeofcmds = _unpack(view, "<16xII", 0, path, "Mach-O header")
    off = 32 if is64 else 28
    end = off + sizeofcmds
    _slice(view, off, sizeofcmds, path, "Mach-O load commands")
    out = []
    for i in range(ncmds):
        cmd, cmdsize = _unpack(view, "<II", off, path, f"Mach-O load command {i}")
        if cmdsize < 8 or off + cmdsize > end:
            raise InputError(path, f"Mach-O load command {i} has bad size {cmdsize}")
        if cmd in (0x1, 0x19):  # LC_SEGMENT, LC_SEGMENT_64
            wide = cmd == 0x19
            seg_size, sect_size = (72, 80) if wide else (56, 68)
            sect_fmt = "<16s16sQQI12xI" if wide else "<16s16sIII12xI"  # sectname segname addr size offset flags
            (nsects,) = _unpack(view, "<I", off + seg_size - 8, path, f"Mach-O segment {i}")
            if seg_size + nsects * sect_size > cmdsize:
                raise InputError(path, f"Mach-O segment {i} claims {nsects} sections, more than fit in it")
            for j in range(nsects):
                raw, seg, _, size, offset, flags = _unpack(view, sect_fmt, off + seg_size + j * sect_size, path,
                                                           "Mach-O section")
                name = _show(raw.split(b"\0", 1)[0])
                zerofill = flags & 0xFF in (0x1, 0xC, 0x12)  # S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL
                body = view[:0] if zerofill else _slice(view, offset, size, path, f"section {name}")
                out.append(Section(name, flags & 0xFF, flags, offset, size, body,
                                   segment=_show(seg.split(b"\0", 1)[0])))
        off += cmdsize
    return out


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def coff_sections(data: bytes | memoryview, path: str) -> list[Section]:
    """The section table of a COFF or bigobj object ([] for a short import object, which has none); names
    over 8 bytes are resolved in the string table."""
    view = _view(data)
    if bytes(view[:4]) == b"\0\0\xff\xff":
        if bytes(view[12:28]) != _BIGOBJ_GUID:
            return []
        nsec, symptr, nsyms = _unpack(view, "<III", 44, path, "COFF bigobj header")
        table, sym_size = 56, 20
    else:
        nsec, symptr, nsyms, opt = _unpack(view, "<2xHxxxxIIH", 0, path, "COFF header")
        table, sym_size = 20 + opt, 18
    _slice(view, table, nsec * 40, path, "COFF section table")
    strings: list[bytes] = []  # read on first use: objects without long names need no string table

    def long_name(ref: bytes) -> bytes:
        """`/NNN` (decimal) or `//XXXXXX` (base64) string-table references."""
        text = ref.decode("ascii", "replace")
        if text.startswith("//") and len(text) > 2 and all(c in _BASE64 for c in text[2:]):
            offset = 0
            for c in text[2:]:
                offset = offset * 64 + _BASE64.index(c)
        elif text[1:].isdigit() and text[1:].isascii():
            offset = int(text[1:])
        else:
            raise InputError(path, f"bad COFF long section name {text!r}")
        if not strings:
            start = symptr + nsyms * sym_size
            (size,) = _unpack(view, "<I", start, path, "COFF string table")
            strings.append(bytes(_slice(view, start, size, path, "COFF string table")))
        return _cstr(strings[0], offset, path, "COFF section")

    out = []
    for i in range(nsec):
        raw, size, ptr, flags = _unpack(view, "<8s8xII12xI", table + i * 40, path, "COFF section")
        raw = raw.split(b"\0", 1)[0]
        name = _show(long_name(raw) if raw.startswith(b"/") else raw)
        empty = ptr == 0 or flags & 0x80  # IMAGE_SCN_CNT_UNINITIALIZED_DATA
        out.append(Section(name, 0, flags, ptr, size,
                           view[:0] if empty else _slice(view, ptr, size, path, f"section {name}")))
    return out


# -- archives ----------------------------------------------------------------------------------------------

class Member(NamedTuple):
    """An archive member: its name, its bytes (a view into the archive; a thin archive's member is read from
    its file) and where its 60-byte header starts in the archive."""
    name: str
    data: memoryview
    offset: int


_AR_SKIP = {b"/", b"//", b"/SYM64/", b"/<ECSYMBOLS>/"}  # symbol tables and the GNU long-name table


def _decimal(field: memoryview, path: str, what: str) -> int:
    """Archive header numbers are space-padded ASCII decimal."""
    text = bytes(field).strip(b" ")
    if not text.isdigit():  # bytes.isdigit() is ASCII-only
        raise InputError(path, f"bad {what} {bytes(field)!r} in archive member header")
    return int(text)


def archive_members(data: bytes | memoryview, path: str) -> list[Member]:
    """The members of a GNU, BSD, COFF or thin `ar` archive in archive order, without symbol tables and the
    long-name table. A thin archive's members are files named relative to the archive's directory (`path`)."""
    view = _view(data)
    magic = bytes(view[:8])
    if magic not in (ARCHIVE_MAGIC, THIN_ARCHIVE_MAGIC):
        raise InputError(path, "not an ar archive")
    thin = magic == THIN_ARCHIVE_MAGIC
    off, long_names, out = 8, b"", []
    while off < len(view):
        at = off
        hdr = _slice(view, off, 60, path, "archive member header")
        if bytes(hdr[58:60]) != b"`\n":
            raise InputError(path, f"bad archive member header at offset {off}")
        name = bytes(hdr[:16]).rstrip(b" ")
        size = _decimal(hdr[48:58], path, "member size")
        stored = not thin or name in _AR_SKIP  # a thin archive holds only its tables
        body = _slice(view, off + 60, size, path, f"archive member at offset {off}") if stored else view[:0]
        off += 60 + (size + (size & 1) if stored else 0)  # members are padded to even offsets
        if name.startswith(b"#1/"):  # BSD: the name is stored at the start of the body
            name_len = _decimal(memoryview(name[3:]), path, "BSD name length")
            name = bytes(_slice(body, 0, name_len, path, "BSD member name")).rstrip(b"\0")
            body = body[name_len:]
        elif name == b"//":
            long_names = bytes(body)
            continue
        elif name[:1] == b"/" and name[1:].isdigit():  # GNU `/NNN`: offset into `//`
            start = int(name[1:])
            if start >= len(long_names):
                raise InputError(path, f"archive long name offset {start} is out of range")
            ends = (long_names.find(b"\n", start), long_names.find(b"\0", start), len(long_names))
            name = long_names[start:min(i for i in ends if i >= 0)]
            name = name[:-1] if name.endswith(b"/") else name
        elif name.endswith(b"/") and name not in _AR_SKIP:  # GNU short name `foo.o/`
            name = name[:-1]
        if name in _AR_SKIP or name.startswith(b"__.SYMDEF"):
            continue  # symbol tables: GNU `/`, `/SYM64/`, COFF `/<ECSYMBOLS>/`, BSD `__.SYMDEF*`
        if thin:
            body = _thin_member(path, name)
        out.append(Member(_show(name), body, at))
    return out


def _thin_member(archive: str, name: bytes) -> memoryview:
    """A thin archive's member, read from its file as it is now (as LLVM does: the header's size may be stale)."""
    file = os.path.join(os.path.dirname(os.fsencode(archive)), name)
    try:
        with open(file, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(archive, f"thin archive member {_show(name)}: {e.strerror or e}") from None
    return memoryview(data)
