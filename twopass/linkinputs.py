"""A link line's inputs as the real linker reads them, the bitcode among them, what its index-only run said
takes part, and the final line with every bitcode input replaced by its twopass object.

Archives are read as data (members never extracted into the user's tree). In the final line an archive with
bitcode becomes the objects of the bitcode members the linker extracted, loaded (not lazy: importing may have
inlined every call that pulled a member in, and its constructors must still run, as in lld's own LTO), then its
native members, written to the work directory, lazy inside `--start-lib ... --end-lib` as Chromium's and
Buck2's distributed ThinLTO put them. Bitcode members it left lazy are dropped. Under --whole-archive every
member is a plain input.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ldargs, objfile
from .errors import InputError, TwopassError
from .ldargs import Arg

if TYPE_CHECKING:
    from .plan import ModuleSource


@dataclass
class Bitcode:
    """A bitcode module on the line: `name` for messages, `key` as the index-only run names it."""

    name: str
    data: bytes
    key: tuple[str, int | None]
    source_path: str            # unique, names its output (ModuleSource.path)
    output: str | None = None   # its twopass object, once built


@dataclass
class Input:
    """A file on the line (`arg` is the input itself or the -l that found it)."""

    index: int
    path: str
    state: ldargs.InputState
    bitcode: list[Bitcode] = field(default_factory=list)
    members: list[tuple[str, memoryview | None]] = field(default_factory=list)  # archive: (name, native bytes)
    archive: bool = False


def scan(args: list[Arg]) -> list[Input]:
    """Every input file and -l library, read once; a missing file is left to the linker to report."""
    dirs = ldargs.search_dirs(args)
    state = ldargs.InputState()
    found: list[Input] = []
    read: dict[str, Input] = {}  # a file named twice (`-lfoo ... -lfoo`) is read once, its modules shared
    seen_names: dict[str, int] = {}
    for i, a in enumerate(args):
        state.update(a)
        path = a.value if a.is_input else ldargs.find_library(a.value or "", dirs, state.static) \
            if a.name == "library" else None
        if path is None or not os.path.isfile(path):
            continue
        snapshot = ldargs.InputState(state.whole_archive, state.in_lib, state.static)
        real = os.path.realpath(path)
        if real not in read:
            read[real] = _read(path, real, seen_names)
        first = read[real]
        if first.bitcode:
            found.append(Input(i, path, snapshot, first.bitcode, first.members, first.archive))
    return found


def _read(path: str, real: str, seen_names: dict[str, int]) -> Input:
    with open(path, "rb") as f:
        data = f.read()
    kind = objfile.magic_kind(data)
    inp = Input(-1, path, ldargs.InputState(), archive=kind == objfile.ARCHIVE)
    if kind == objfile.BITCODE:
        inp.bitcode.append(Bitcode(path, data, (real, None), _unique(path, seen_names)))
    elif kind == objfile.ARCHIVE:
        for m in objfile.archive_members(data, path):
            if objfile.is_bitcode(m.data):
                inp.bitcode.append(Bitcode(f"{path}({m.name})", bytes(m.data), (real, m.offset),
                                           _unique(os.path.join(path, m.name), seen_names)))
                inp.members.append((m.name, None))
            else:
                inp.members.append((m.name, m.data))
    return inp


def _unique(path: str, seen: dict[str, int]) -> str:
    """Two archive members of one name (lld tells them apart by offset) get distinct output names."""
    n = seen.get(path, 0)
    seen[path] = n + 1
    return path if n == 0 else f"{path}#{n + 1}"


_MEMBER = re.compile(r"^(.*)\((.*) at (\d+)\)$")


def participants(inputs: list[Input], listed: list[str], resolution: dict[str, dict[str, str]], prefix: str,
                 named: set[str]) -> tuple[list[Bitcode], dict[str, dict[str, str]]]:
    """The bitcode modules the index-only run listed, in its order, and its resolution by module name, with
    what a version script names (`named`) marked visible."""
    by_key = {b.key: b for inp in inputs for b in inp.bitcode}
    chosen: list[Bitcode] = []
    resolved: dict[str, dict[str, str]] = {}
    for entry in listed:
        ident = entry[len(prefix):] if entry.startswith(prefix) else entry
        b = by_key.get(_key(ident))
        if b is None:
            raise TwopassError(ident, "the linker took part of the link as bitcode that twopass did not read "
                                      "(bitcode inside a linker script?)")
        chosen.append(b)
        resolved[b.name] = {sym: flags + "x" if sym in named and "p" in flags and "x" not in flags else flags
                            for sym, flags in resolution.get(ident, {}).items()}
    taking_part = {id(b) for b in chosen}  # by identity, as final_line: equality would compare module bytes
    for inp in inputs:
        for b in inp.bitcode:
            if not inp.archive and not inp.state.in_lib and id(b) not in taking_part:
                raise InputError(b.name, "bitcode without a ThinLTO summary (full LTO): compile with -flto=thin")
    return chosen, resolved


def _key(ident: str) -> tuple[str, int | None]:
    m = _MEMBER.match(ident)
    return (os.path.realpath(m[1]), int(m[3])) if m else (os.path.realpath(ident), None)


def read_resolution(path: str) -> dict[str, dict[str, str]]:
    """LLVM's resolution file (`--save-temps=resolution`): a module's name on a line, then `-r=module,sym,flags`
    per symbol (p prevailing, l final definition, x visible to native code, r linker-redefined)."""
    out: dict[str, dict[str, str]] = {}
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise TwopassError(path, f"the linker wrote no resolution: {e.strerror or e}") from None
    for line in lines:
        if line.startswith("-r="):
            module_sym, _, flags = line[3:].rpartition(",")
            module, _, sym = module_sym.rpartition(",")
            out.setdefault(module, {})[sym] = flags
    return out


_COMMENTS = re.compile(r"/\*.*?\*/|#[^\n]*", re.DOTALL)
_EXTERN_BLOCK = re.compile(r'extern\s+"[^"]*"\s*\{[^}]*\}', re.DOTALL)
_NAME = re.compile(r"([A-Za-z_.$][\w.$@]*)\s*;")


def version_script_names(args: list[Arg]) -> set[str]:
    """The exact symbol names of every --version-script (global and local alike): lld fails the link when one
    names a symbol nothing defines, so twopass must not internalize them away (lld's own LTO keeps the bitcode's
    symbol table). Patterns and `extern "C++"` blocks match by glob or demangled name, never fail, and are left."""
    names: set[str] = set()
    for a in args:
        if a.name == "version-script" and a.value and os.path.isfile(a.value):
            with open(a.value, encoding="utf-8", errors="replace") as f:
                text = _EXTERN_BLOCK.sub("", _COMMENTS.sub("", f.read()))
            for m in _NAME.finditer(text):
                if m[1] not in ("global", "local"):
                    names.add(m[1])
    return names


def sources(chosen: list[Bitcode]) -> list[ModuleSource]:
    from .plan import ModuleSource
    return [ModuleSource(b.name, b.data, b.source_path) for b in chosen]


def final_line(args: list[Arg], inputs: list[Input], chosen: list[Bitcode], workdir: str) -> list[Arg]:
    """The line for the real link: bitcode replaced by objects (lazy ones nobody needed dropped), archives with
    bitcode expanded; everything else as it was."""
    taking_part = {id(b) for b in chosen}
    by_index = {inp.index: inp for inp in inputs}
    out: list[Arg] = []
    for i, a in enumerate(args):
        inp = by_index.get(i)
        if inp is None:
            out.append(a)
            continue
        used = [Arg([b.output], None, b.output) for b in inp.bitcode if id(b) in taking_part and b.output]
        if inp.state.in_lib and used:  # extracted, so no longer lazy: out of the user's group and back in
            used = [ldargs.option("end-lib"), *used, ldargs.option("start-lib")]
        out += used
        if inp.archive:
            native = [Arg([p], None, p) for p in _native_members(inp, os.path.join(workdir, "members", str(i)))]
            lazy = bool(native) and not inp.state.whole_archive and not inp.state.in_lib
            out += [ldargs.option("start-lib"), *native, ldargs.option("end-lib")] if lazy else native
    return out


def _native_members(inp: Input, directory: str) -> list[str]:
    """An archive's native members as files, in archive order."""
    files = []
    for n, (name, data) in enumerate(inp.members):
        if data is not None:
            path = os.path.join(directory, f"{n}-{os.path.basename(name)}")
            os.makedirs(directory, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            files.append(path)
    return files
