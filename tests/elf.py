"""ELF64 little-endian objects for tests: sections, symbols and relocations (from twopass.objfile) and COMDAT
groups, so tests can check object layout without parsing tool output."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from twopass import objfile

SHT_SYMTAB, SHT_RELA, SHT_GROUP = 2, 4, 17
SHF_GROUP = 0x200


@dataclass
class Section:
    index: int
    name: str
    type: int
    flags: int
    data: bytes
    link: int
    info: int
    align: int


@dataclass
class Symbol:
    name: str
    value: int
    size: int
    type: int   # 0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE
    bind: int   # 0 LOCAL, 1 GLOBAL, 2 WEAK
    visibility: int  # 0 DEFAULT, 2 HIDDEN
    shndx: int


@dataclass
class Elf:
    sections: list[Section]
    symbols: list[Symbol]
    relocations: dict[str, list[tuple[int, int, str, int]]] = field(default_factory=dict)  # target section ->
    groups: dict[str, list[str]] = field(default_factory=dict)  # signature -> member section names

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    def symbol(self, name: str) -> Symbol:
        return next(s for s in self.symbols if s.name == name)

    def reloc_target(self, sym: Symbol) -> str:
        """A relocation's target by name; section symbols are named after their section."""
        return self.sections[sym.shndx].name if sym.type == 3 else sym.name


def read(data: bytes) -> Elf:
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "ELF64 little-endian only"
    raw = objfile.elf_sections(data, "object")
    sections = [Section(i, s.name, s.type, s.flags, bytes(s.data), s.link, s.info, s.align)
                for i, s in enumerate(raw)]
    symbols = [Symbol(*sym) for sym in objfile.elf_symbols(raw, "object")]
    elf = Elf(sections, symbols)
    for target, rel in objfile.elf_relocations(raw, "object").items():
        elf.relocations[sections[target].name] = [(off, kind, elf.reloc_target(symbols[sym]), addend)
                                                  for off, kind, sym, addend in rel]
    for s in sections:
        if s.type == SHT_GROUP:
            members = struct.unpack_from(f"<{len(s.data) // 4}I", s.data)
            elf.groups[symbols[s.info].name] = [sections[m].name for m in members[1:]]
    return elf
