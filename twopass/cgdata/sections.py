"""Find LLVM codegen-data payload sections in object files and archives.

What makes a section codegen data lives here; reading the containers (ELF, Mach-O, COFF, archives) is
`twopass.objfile`'s, which turns every malformation into `InputError(source, ...)`.
"""

from __future__ import annotations

from twopass import objfile
from twopass.errors import InputError

OUTLINE = "outline"
MERGE = "merge"

# Section names as LLVM emits them (llvm/ProfileData/CodeGenData.inc).
_COMMON_NAMES = {"__llvm_outline": OUTLINE, "__llvm_merge": MERGE}  # ELF, Mach-O sectname
# LLVM 22 writes .loutline/.lmerge into COFF objects, but its own reader (llvm-cgdata 22) only looks for the
# common names there; later LLVM reads the COFF names. We read both, so either producer's objects merge.
_COFF_NAMES = {".loutline": OUTLINE, ".lmerge": MERGE, **_COMMON_NAMES}
_MAX_NESTING = 8  # nested archives; bounds recursion on hostile input

Result = list[tuple[str, str, bytes]]

classify = objfile.magic_kind  # the container format from its magic bytes, or None


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
    kind = objfile.magic_kind(data)
    if kind == objfile.ARCHIVE:
        return _archive(data, where, depth)
    if kind == objfile.BITCODE:
        raise InputError(where, "is LLVM bitcode, not an object file")
    if kind is None:
        raise InputError(where, "not a recognized object file or archive")
    names = _COFF_NAMES if kind == objfile.COFF else _COMMON_NAMES
    return [(where, names[s.name], bytes(s.data)) for s in objfile.sections(data, where) if s.name in names]


def _archive(data: memoryview, where: str, depth: int) -> Result:
    """Search each member, recursing into nested archives."""
    if bytes(data[:8]) == objfile.THIN_ARCHIVE_MAGIC:
        raise InputError(where, "thin archives are not supported "
                                "(their members live outside the archive)")
    if depth >= _MAX_NESTING:
        raise InputError(where, f"archives nested more than {_MAX_NESTING} deep")
    out: Result = []
    for member in objfile.archive_members(data, where):
        out += _find(member.data, f"{where}({member.name})", depth + 1)
    return out
