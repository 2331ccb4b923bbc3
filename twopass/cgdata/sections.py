"""Find LLVM codegen-data payload sections in object files and archives.

Pure Python on purpose: reading a few section headers does not justify a runtime dependency
on llvmlite or LLVM tools. Inputs are untrusted, so every offset and size is checked against
the buffer and every malformation becomes `InputError(source, ...)`, never a struct.error or
IndexError.
"""

import struct

from twopass.errors import InputError

OUTLINE = "outline"
MERGE = "merge"

# Section names as LLVM emits them (llvm/ProfileData/CodeGenData.inc).
_COMMON_NAMES = {b"__llvm_outline": OUTLINE, b"__llvm_merge": MERGE}  # ELF, Mach-O sectname
# LLVM 22 writes .loutline/.lmerge into COFF objects, but its own reader (llvm-cgdata 22) only looks for the
# common names there; later LLVM reads the COFF names. We read both, so either producer's objects merge.
_COFF_NAMES = {b".loutline": OUTLINE, b".lmerge": MERGE, **_COMMON_NAMES}

# i386, x86-64, arm64, armnt, arm64ec, arm64x
_COFF_MACHINES = {0x14C, 0x8664, 0xAA64, 0x1C4, 0xA641, 0xA64E}
_BIGOBJ_GUID = bytes.fromhex("c7a1bad1eebaa94baf20faf66aa4dcb8")
_MACHO_MAGICS = {b"\xce\xfa\xed\xfe": False, b"\xcf\xfa\xed\xfe": True}  # value: is 64-bit
_BITCODE_MAGICS = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")  # raw bitcode, wrapper 0x0B17C0DE (LE)
_AR_SKIP = {b"/", b"//", b"/SYM64/", b"/<ECSYMBOLS>/"}  # symbol tables and GNU long-name table
_MAX_NESTING = 8  # nested archives; bounds recursion on hostile input

Result = list[tuple[str, str, bytes]]


def classify(data: bytes) -> str | None:
    """Name the container format from its magic bytes, or None; cheap, checks nothing else."""
    head = bytes(data[:28])
    if head[:4] == b"\x7fELF":
        return "elf"
    if head[:4] in _MACHO_MAGICS:
        return "macho"
    if head[:8] in (b"!<arch>\n", b"!<thin>\n"):
        return "archive"
    if head[:4] in _BITCODE_MAGICS:
        return "bitcode"
    if head[:4] == b"\0\0\xff\xff":  # bigobj COFF, or a short import object (version 0)
        if head[12:28] == _BIGOBJ_GUID or head[4:6] == b"\0\0":
            return "coff"
        return None
    if len(head) >= 20 and int.from_bytes(head[:2], "little") in _COFF_MACHINES:
        return "coff"
    return None


def find_payloads(data: bytes, source: str) -> Result:
    """Return (member_name, kind, section_bytes) for every codegen-data section.

    Results are in section-table order (archive members in archive order).

    member_name is `source` for a plain object and `source(member)` for archive members
    (nested archives give `source(outer)(inner)`); kind is OUTLINE or MERGE.
    """
    return _find(memoryview(data).cast("B"), source, 0)


def _find(data: memoryview, where: str, depth: int) -> Result:
    if not data:
        raise InputError(where, "is empty, not an object file or archive")
    kind = classify(data)
    if kind == "elf":
        return _elf(data, where)
    if kind == "macho":
        return _macho(data, where)
    if kind == "coff":
        return _coff(data, where)
    if kind == "archive":
        return _archive(data, where, depth)
    if kind == "bitcode":
        raise InputError(where, "is LLVM bitcode, not an object file")
    raise InputError(where, "not a recognized object file or archive")


def _unpack(data: memoryview, fmt: str, off: int, where: str, what: str) -> tuple:
    """struct.unpack_from, but running off the end is an InputError naming `what`."""
    if off < 0 or off + struct.calcsize(fmt) > len(data):
        raise InputError(where, f"truncated {what} at offset {off}")
    return struct.unpack_from(fmt, data, off)


def _slice(data: memoryview, off: int, size: int, where: str, what: str) -> memoryview:
    """A bounds-checked view of data[off:off+size]."""
    if off < 0 or size < 0 or off + size > len(data):
        raise InputError(where, f"{what} (offset {off}, size {size}) runs past the end of the "
                                f"file ({len(data)} bytes)")
    return data[off:off + size]


def _cstr(table: bytes, off: int, where: str, what: str) -> bytes:
    """The NUL-terminated string at `off` in a string table (bytes, so find() is not quadratic)."""
    if off < 0 or off >= len(table):
        raise InputError(where, f"{what} name offset {off} is outside its string table")
    end = table.find(b"\0", off)
    if end < 0:
        raise InputError(where, f"{what} name at offset {off} is not NUL-terminated")
    return table[off:end]


def _show(name: bytes) -> str:
    return name.decode("utf-8", "replace")


def _elf(data: memoryview, where: str) -> Result:
    """Walk the section header table; names come from the section-name string table."""
    cls, enc = data[4:6] if len(data) >= 6 else (0, 0)
    if cls not in (1, 2) or enc not in (1, 2):
        raise InputError(where, f"unsupported ELF class {cls} / data encoding {enc}")
    e = "<" if enc == 1 else ">"
    if cls == 1:
        hdr, shdr, min_entsize = e + "32xI10xHHH", e + "IIIIIIII", 40
    else:
        hdr, shdr, min_entsize = e + "40xQ10xHHH", e + "IIQQQQII", 64
    shoff, entsize, shnum, shstrndx = _unpack(data, hdr, 0, where, "ELF header")
    if shoff == 0:
        return []  # no section header table at all
    if entsize < min_entsize:
        raise InputError(where, f"ELF section header size {entsize} is too small")

    def header(i: int) -> tuple:
        return _unpack(data, shdr, shoff + i * entsize, where, f"ELF section header {i}")

    if shnum == 0 or shstrndx == 0xFFFF:  # extended numbering: real values live in section 0
        first = header(0)
        shnum = first[5] if shnum == 0 else shnum
        shstrndx = first[6] if shstrndx == 0xFFFF else shstrndx
    _slice(data, shoff, shnum * entsize, where, "ELF section header table")
    if shstrndx == 0:
        return []  # no section names, so no codegen-data sections
    if shstrndx >= shnum:
        raise InputError(where, f"ELF section-name table index {shstrndx} is out of range")

    def contents(sh: tuple, what: str) -> memoryview:
        return data[:0] if sh[1] == 8 else _slice(data, sh[4], sh[5], where, what)  # 8: SHT_NOBITS

    names = bytes(contents(header(shstrndx), "ELF section-name table"))
    out: Result = []
    for i in range(shnum):
        sh = header(i)
        name = _cstr(names, sh[0], where, f"ELF section {i}")
        kind = _COMMON_NAMES.get(name)
        if kind:
            out.append((where, kind, bytes(contents(sh, f"section {_show(name)}"))))
    return out


def _macho(data: memoryview, where: str) -> Result:
    """Walk LC_SEGMENT / LC_SEGMENT_64 load commands and match the bare section name."""
    is64 = _MACHO_MAGICS[bytes(data[:4])]
    ncmds, sizeofcmds = _unpack(data, "<16xII", 0, where, "Mach-O header")
    off = 32 if is64 else 28
    end = off + sizeofcmds
    _slice(data, off, sizeofcmds, where, "Mach-O load commands")
    out: Result = []
    for i in range(ncmds):
        cmd, cmdsize = _unpack(data, "<II", off, where, f"Mach-O load command {i}")
        if cmdsize < 8 or off + cmdsize > end:
            raise InputError(where, f"Mach-O load command {i} has bad size {cmdsize}")
        if cmd in (0x1, 0x19):  # LC_SEGMENT, LC_SEGMENT_64
            wide = cmd == 0x19
            seg_size, sect_fmt = (72, "<16s16xQQI12xI") if wide else (56, "<16s16xIII12xI")
            sect_size = 80 if wide else 68
            (nsects,) = _unpack(data, "<I", off + seg_size - 8, where, f"Mach-O segment {i}")
            if seg_size + nsects * sect_size > cmdsize:
                raise InputError(where, f"Mach-O segment {i} claims {nsects} sections, "
                                        "more than fit in it")
            for j in range(nsects):
                at = off + seg_size + j * sect_size
                raw, _, size, offset, flags = _unpack(data, sect_fmt, at, where, "Mach-O section")
                name = raw.split(b"\0", 1)[0]
                kind = _COMMON_NAMES.get(name)
                if kind:
                    zerofill = flags & 0xFF in (0x1, 0xC, 0x12)  # S_ZEROFILL, S_GB_/THREAD_LOCAL_
                    body = b"" if zerofill else bytes(
                        _slice(data, offset, size, where, f"section {_show(name)}"))
                    out.append((where, kind, body))
        off += cmdsize
    return out


def _coff(data: memoryview, where: str) -> Result:
    """Walk the COFF (or bigobj) section table; names over 8 bytes live in the string table."""
    if bytes(data[:4]) == b"\0\0\xff\xff":
        if bytes(data[12:28]) != _BIGOBJ_GUID:
            return []  # short import object (import libraries): no sections
        nsec, symptr, nsyms = _unpack(data, "<III", 44, where, "COFF bigobj header")
        table, sym_size = 56, 20
    else:
        nsec, symptr, nsyms, opt = _unpack(data, "<2xHxxxxIIH", 0, where, "COFF header")
        table, sym_size = 20 + opt, 18
    _slice(data, table, nsec * 40, where, "COFF section table")

    def long_name(ref: bytes) -> bytes:
        """Resolve `/NNN` (decimal) or `//XXXXXX` (base64) string-table references."""
        digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        text = ref.decode("ascii", "replace")
        if text.startswith("//") and len(text) > 2 and all(c in digits for c in text[2:]):
            offset = 0
            for c in text[2:]:
                offset = offset * 64 + digits.index(c)
        elif text[1:].isdigit() and text[1:].isascii():
            offset = int(text[1:])
        else:
            raise InputError(where, f"bad COFF long section name {text!r}")
        if not strings:  # read once, on first use: objects without long names need no table
            start = symptr + nsyms * sym_size
            (size,) = _unpack(data, "<I", start, where, "COFF string table")
            strings.append(bytes(_slice(data, start, size, where, "COFF string table")))
        return _cstr(strings[0], offset, where, "COFF section")

    strings: list[bytes] = []
    out: Result = []
    for i in range(nsec):
        raw, size, ptr, flags = _unpack(data, "<8s8xII12xI", table + i * 40, where, "COFF section")
        name = raw.split(b"\0", 1)[0]
        if name.startswith(b"/"):
            name = long_name(name)
        kind = _COFF_NAMES.get(name)
        if kind:
            empty = ptr == 0 or flags & 0x80  # IMAGE_SCN_CNT_UNINITIALIZED_DATA
            body = b"" if empty else bytes(_slice(data, ptr, size, where, f"section {_show(name)}"))
            out.append((where, kind, body))
    return out


def _decimal(field: memoryview, where: str, what: str) -> int:
    """Archive header numbers are space-padded ASCII decimal."""
    text = bytes(field).strip(b" ")
    if not text.isdigit():  # bytes.isdigit() is ASCII-only
        raise InputError(where, f"bad {what} {bytes(field)!r} in archive member header")
    return int(text)


def _archive(data: memoryview, where: str, depth: int) -> Result:
    """Walk a GNU/BSD/COFF `ar` archive and search each member, recursing into nested archives."""
    if bytes(data[:8]) == b"!<thin>\n":
        raise InputError(where, "thin archives are not supported "
                                "(their members live outside the archive)")
    if depth >= _MAX_NESTING:
        raise InputError(where, f"archives nested more than {_MAX_NESTING} deep")
    off, long_names, out = 8, b"", []
    while off < len(data):
        hdr = _slice(data, off, 60, where, "archive member header")
        if bytes(hdr[58:60]) != b"`\n":
            raise InputError(where, f"bad archive member header at offset {off}")
        name = bytes(hdr[:16]).rstrip(b" ")
        body = _slice(data, off + 60, _decimal(hdr[48:58], where, "member size"), where,
                      f"archive member at offset {off}")
        off += 60 + len(body) + (len(body) & 1)  # members are padded to even offsets
        if name.startswith(b"#1/"):  # BSD: the name is stored at the start of the body
            name_len = _decimal(memoryview(name[3:]), where, "BSD name length")
            name = bytes(_slice(body, 0, name_len, where, "BSD member name")).rstrip(b"\0")
            body = body[name_len:]
        elif name == b"//":
            long_names = bytes(body)
            continue
        elif name[:1] == b"/" and name[1:].isdigit():  # GNU `/NNN`: offset into `//`
            start = int(name[1:])
            if start >= len(long_names):
                raise InputError(where, f"archive long name offset {start} is out of range")
            ends = (long_names.find(b"\n", start), long_names.find(b"\0", start), len(long_names))
            name = long_names[start:min(i for i in ends if i >= 0)]
            name = name[:-1] if name.endswith(b"/") else name
        elif name.endswith(b"/") and name not in _AR_SKIP:  # GNU short name `foo.o/`
            name = name[:-1]
        if name in _AR_SKIP or name.startswith(b"__.SYMDEF"):
            continue  # symbol tables (GNU `/`, `/SYM64/`, COFF EC, BSD `__.SYMDEF*`)
        out += _find(body, f"{where}({_show(name)})", depth + 1)
    return out
