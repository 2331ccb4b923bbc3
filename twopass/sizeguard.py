"""The size guard: a two-round build is never larger than its own round one.

Global outlining can lose: on some programs LLVM's own two rounds give more `.text` than one. After round two,
twopass estimates what each set of objects adds to a linked `.text` (see `estimate`: lld's --gc-sections and
--icf=all emulated on the objects' sections, symbols and relocations) and keeps round two only if it is
smaller. The choice is for the whole build: round two's outlined copies are shared across modules,
so one module's choice changes what the others' cost.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass
from typing import NamedTuple

from . import objfile

_SHF_ALLOC, _SHF_EXECINSTR = 0x2, 0x4
_SHT_PROGBITS, _SHT_NOBITS, _SHT_GROUP = 1, 8, 17
_STT_SECTION, _STB_LOCAL = 3, 0


@dataclass(frozen=True)
class Estimate:
    total: int
    by_module: dict[str, int]
    folded: int     # bytes of identical copies counted once (what ICF folds)
    collected: int  # bytes of code nothing reaches (what --gc-sections drops)


def estimate(objects: dict[str, bytes], parsed: dict[str, _Module] | None = None) -> Estimate:
    """Linked `.text` bytes these objects add, as lld would lay them out with --gc-sections and --icf=all:
    executable sections padded to their alignment; those no reference reaches from data, `main` or (without
    a `main`: a library) any default-visibility symbol left out; identical ones (same bytes, same relocations
    to the same symbols) counted once. Modules in name order; the count does not depend on it. `parsed`: the
    objects read already (`Reader`)."""
    parsed = parsed or {}
    mods = {name: parsed.get(name) or _Module(name, objects[name]) for name in sorted(objects)}
    defined: dict[str, tuple[str, int]] = {}
    for m in mods.values():
        for sym in m.symbols:
            if sym.bind != _STB_LOCAL and sym.shndx and sym.name not in defined:
                defined[sym.name] = (m.name, sym.shndx)
    library = "main" not in defined
    live: set[tuple[str, int]] = set()
    work = []
    for m in mods.values():
        for i, sec in enumerate(m.sections):
            if sec.flags & _SHF_ALLOC and not sec.flags & _SHF_EXECINSTR and sec.name != ".eh_frame":
                work.append((m.name, i))  # data (function tables, .init_array): kept, and it keeps code
        for sym in m.symbols:
            if sym.shndx and sym.bind != _STB_LOCAL and (sym.name == "main" or library and sym.visibility == 0):
                work.append((m.name, sym.shndx))
    while work:
        node = work.pop()
        if node in live or node[0] not in mods:
            continue
        live.add(node)
        m = mods[node[0]]
        for index in m.targets.get(node[1], ()):
            if index >= len(m.symbols):
                continue
            sym = m.symbols[index]
            if sym.shndx and (sym.bind == _STB_LOCAL or sym.type == _STT_SECTION):
                work.append((m.name, sym.shndx))
            elif sym.name in defined:
                work.append(defined[sym.name])
    classes = _icf_classes(mods, live)
    seen: set[int] = set()
    by_module: dict[str, int] = {}
    folded = collected = 0
    for m in mods.values():
        total = 0
        for i in m.identities:  # its code sections, in order
            sec = m.sections[i]
            size = -(-sec.size // max(sec.align, 1)) * max(sec.align, 1)
            if (m.name, i) not in live:
                collected += size
                continue
            identity = classes[m.name, i]
            if identity in seen:
                folded += size
                continue
            seen.add(identity)
            total += size
        by_module[m.name] = total
    return Estimate(sum(by_module.values()), by_module, folded, collected)


def _icf_classes(mods: dict[str, "_Module"], live: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """lld's ICF: code sections are one class while their bytes and relocations match and each local code
    target is in one class too (a function calling its module's copy of an outlined sequence folds with another
    module's once the two copies fold). Optimistic: all start equal on what they hold themselves, and those
    with local code targets split on their targets' classes until none does."""
    ids: dict[object, int] = {}
    cls = {(m.name, i): ids.setdefault(ident, len(ids)) for m in mods.values() for i, ident in m.identities.items()
           if (m.name, i) in live}
    linked = [(m.name, i, m.links[i]) for m in mods.values() for i in m.links if (m.name, i) in live]
    count, fresh = -1, len(ids)
    while True:
        ids = {}
        keys = [(cls[name, i], *((cls.get((name, t), (name, t)), v) for t, v in links)) for name, i, links in linked]
        for (name, i, _), key in zip(linked, keys):
            cls[name, i] = fresh + ids.setdefault(key, len(ids))
        fresh += len(ids)
        if len(ids) == count:
            return cls
        count = len(ids)


class Reader(threading.Thread):
    """Objects read (sections, symbols, relocations: most of an estimate's time) by a thread of their own as
    they come, while this process only waits for its workers. One that cannot be read is left out: the
    estimate reads it again, in the caller's thread, and says what is wrong."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.parsed: dict[tuple[int, str], _Module] = {}
        self.start()

    def add(self, round_: int, name: str, data: bytes) -> None:
        self.queue.put((round_, name, data))

    def run(self) -> None:
        while (item := self.queue.get()) is not None:
            try:
                self.parsed[item[:2]] = _Module(*item[1:])
            except Exception:
                pass

    def done(self, round_: int) -> dict[str, _Module]:
        """Every object of `round_` read so far, by name; the first call ends the thread."""
        if self.is_alive():
            self.queue.put(None)
            self.join()
        return {name: m for (r, name), m in self.parsed.items() if r == round_}


class _Section(NamedTuple):
    name: str
    type: int
    flags: int
    size: int
    align: int


class _Module:
    """What an estimate needs of one object, and no more: the Reader keeps both rounds' objects read while round
    two runs (they were 9 MB of Python objects for 2 MB of AArch64 Lua objects, the bytes of all their code and
    every relocation among them, in the build's own process at its peak): the symbol indices each section's
    relocations name, and each section's ICF identity as a digest."""

    def __init__(self, name: str, data: bytes):
        self.name = name
        sections = objfile.elf_sections(data, name)
        self.symbols = objfile.elf_symbols(sections, name)
        relocations = objfile.elf_relocations(sections, name)
        self.targets = {i: tuple(sorted({index for _, _, index, _ in rs})) for i, rs in relocations.items()}
        code = {i for i, sec in enumerate(sections) if sec.type == _SHT_PROGBITS
                and sec.flags & (_SHF_ALLOC | _SHF_EXECINSTR) == _SHF_ALLOC | _SHF_EXECINSTR}
        self.links: dict[int, tuple[tuple[int, int], ...]] = {}  # code section -> its local code targets, in order
        self.identities = {i: self._identity(i, sections[i].data, relocations.get(i, []), code) for i in sorted(code)}
        self.sections = [_Section(s.name, s.type, s.flags, s.size, s.align) for s in sections]  # not their bytes

    def _identity(self, index: int, data: memoryview, relocations: list[tuple[int, int, int, int]],
                  code: set[int]) -> bytes:
        """What ICF compares of a section itself, hashed: the bytes and every relocation, global targets by name,
        local data by place (never equal across modules); local code targets are left to `_icf_classes`
        (`links`: each one's section and offset)."""
        relocs, links = [], []
        for off, kind, sym_index, addend in relocations:
            sym = self.symbols[sym_index] if sym_index < len(self.symbols) else None
            if sym is not None and sym.bind == _STB_LOCAL and sym.shndx in code:
                links.append((sym.shndx, sym.value))
                target: tuple = ("code",)
            else:
                target = ("?",) if sym is None else (self.name, sym.shndx, sym.value) if \
                    sym.bind == _STB_LOCAL and sym.shndx else (sym.name,)
            relocs.append((off, kind, target, addend))
        if links:
            self.links[index] = tuple(links)
        digest = hashlib.sha256(data)
        digest.update(repr(relocs).encode("utf-8", "surrogateescape"))
        return digest.digest()


def choose(round_one: dict[str, bytes], round_two: dict[str, bytes], read: Reader | None = None) -> dict:
    """Which round's objects to keep, and the estimates behind it (the report's `size_guard`); `read`: objects
    of both rounds read already."""
    one = estimate(round_one, read.done(1) if read is not None else None)
    two = estimate(round_two, read.done(2) if read is not None else None)
    keep = "round two" if two.total <= one.total else "round one"
    return {"kept": keep, "round_one_text": one.total, "round_two_text": two.total,
            "round_two_folded": two.folded, "saved": max(0, two.total - one.total)}
