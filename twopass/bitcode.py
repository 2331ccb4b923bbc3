"""A module's target triple and source file name, read straight from LLVM bitcode in pure Python.

Why: the planner rejects mixed-triple builds and names modules before any worker starts, and the parent
process should not pay for llvmlite/LLVM to do it. The triple sits near the front of the MODULE_BLOCK, after
a few sub-blocks that carry their own length, so we skip those by length and stop at the record: a few dozen
bit reads whatever the module's size. Format: llvm/docs/BitCodeFormat.rst.

Robustness: every read is bounds-checked against the enclosing block, every loop consumes input, and
sub-blocks are skipped rather than entered (nesting never goes deeper than top level -> MODULE_BLOCK), so
malformed input can only end in `InputError(where, ...)`.
"""

from __future__ import annotations

import re

from . import objfile
from .errors import InputError
from .objfile import BITCODE_MAGIC as RAW_MAGIC, BITCODE_WRAPPER_MAGIC as WRAPPER_MAGIC

_WRAPPER_HEADER = 20  # magic, version, offset, size, cputype: five u32 LE

_MODULE_BLOCK, _TRIPLE, _SOURCE_FILENAME = 8, 2, 16  # the block id; MODULE_CODE_* record codes
_LITERAL, _FIXED, _VBR, _ARRAY, _CHAR6, _BLOB = 0, 1, 2, 3, 4, 5
_CHAR6_ALPHABET = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"
_MAX_WIDTH = 32  # LLVM's MaxChunkSize: widest fixed/VBR field and abbreviation id


class _Cursor:
    """LSB-first bit reader over 32-bit little-endian words; `end` is the current block's end, in bits."""

    __slots__ = ("data", "pos", "end", "where", "base")

    def __init__(self, data: memoryview, base: int, where: str):  # base: where `data` starts in the file
        self.data, self.pos, self.end, self.where, self.base = data, 32, len(data) * 8, where, base  # past magic

    def fail(self, what: str):
        raise InputError(self.where, f"malformed bitcode at byte {self.base + (self.pos >> 3)}: {what}")

    def fixed(self, n: int) -> int:
        end = self.pos + n
        if end > self.end:
            self.fail("truncated, or runs past the end of its block")
        word = int.from_bytes(self.data[self.pos >> 3:(end + 7) >> 3], "little")
        value = (word >> (self.pos & 7)) & ((1 << n) - 1)
        self.pos = end
        return value

    def vbr(self, n: int) -> int:
        high, value, shift = 1 << (n - 1), 0, 0
        while True:
            chunk = self.fixed(n)
            value |= (chunk & (high - 1)) << shift
            if not chunk & high:
                return value
            shift += n - 1
            if shift >= 64:
                self.fail("variable-width number wider than 64 bits")

    def skip(self, bits: int) -> None:
        if self.pos + bits > self.end:
            self.fail("truncated, or runs past the end of its block")
        self.pos += bits

    def align32(self) -> None:
        self.skip(-self.pos % 32)


def read_triple(data: bytes, where: str) -> str:
    """The first module's `target triple`, '' if it has none; stops reading at the triple record."""
    triple = _module_strings(data, where, _TRIPLE)
    if any(not 32 <= c < 127 for c in triple):
        raise InputError(where, "malformed bitcode: the target triple is not printable ASCII")
    return triple.decode("ascii")


def read_source_filename(data: bytes, where: str) -> str:
    """The first module's `source_filename` (a name for messages), '' if it has none."""
    return _module_strings(data, where, _SOURCE_FILENAME).decode("utf-8", "replace")


_MODULE_ASM = 4  # MODULE_CODE_ASM


def has_module_asm(data: bytes, where: str) -> bool:
    """`module asm` (file-scope `asm(...)`) in a module, bitcode or text; damaged bitcode counts as having
    it (LLVM's own reader has the last word)."""
    if objfile.kind(data) == objfile.IR_TEXT:
        return re.search(rb"^[ \t]*module[ \t]+asm[ \t]", data, re.MULTILINE) is not None
    try:
        return _module_strings(data, where, _MODULE_ASM) != b""
    except InputError:
        return True


def module_kind(data: bytes) -> str | None:
    """"bitcode", "ir-text" (see `objfile.kind`), else None."""
    found = objfile.kind(data)
    return found if found in (objfile.BITCODE, objfile.IR_TEXT) else None


_TEXT_TRIPLE = re.compile(r'^[ \t]*target[ \t]+triple[ \t]*=[ \t]*"([^"]*)"', re.MULTILINE)


def text_triple(text: str) -> str:
    """The `target triple = "..."` of textual IR ('' if none), with LLVM's `\\XX` escapes undone."""
    m = _TEXT_TRIPLE.search(text)
    raw = re.sub(rb"\\(\\|[0-9A-Fa-f]{2})", lambda e: e[1] if e[1] == b"\\" else bytes([int(e[1], 16)]),
                 m[1].encode()) if m else b""
    return raw.decode("utf-8", "replace")


def _bitstream(data: bytes, where: str) -> tuple[memoryview, int]:
    """The raw bitstream (from its 'BC' magic on) and its offset in `data`, unwrapping the Darwin wrapper."""
    view, offset = memoryview(data).cast("B"), 0
    if len(view) % 4:
        raise InputError(where, f"malformed bitcode: {len(view)} bytes is not a whole number of 32-bit words "
                                "(truncated?)")
    if bytes(view[:4]) == WRAPPER_MAGIC:
        if len(view) < _WRAPPER_HEADER:
            raise InputError(where, "malformed bitcode: truncated wrapper header")
        offset, size = (int.from_bytes(view[i:i + 4], "little") for i in (8, 12))
        if offset < _WRAPPER_HEADER or offset + size > len(view):
            raise InputError(where, f"malformed bitcode: the wrapper header points outside the file "
                                    f"(offset {offset}, size {size}, file {len(view)} bytes)")
        view = view[offset:offset + size]
    if bytes(view[:4]) != RAW_MAGIC:
        raise InputError(where, "not LLVM bitcode (bad magic)")
    return view, offset


def _module_strings(data: bytes, where: str, code: int) -> bytes:
    """The operands of the first module's first record `code`, as bytes; b'' if the module has none.

    Module-level abbreviations come only from the module's own DEFINE_ABBREVs: a BLOCKINFO (top level, or
    nested in the module) only affects blocks entered after it, and LLVM reads the module with a fresh cursor,
    so every other block, BLOCKINFO included, is skipped by its length."""
    cur = _Cursor(*_bitstream(data, where), where)
    while cur.end - cur.pos >= 64:  # room for a block header; LLVM too ignores a few trailing bytes
        if cur.fixed(2) != 1:
            cur.fail("expected a block at the top level")
        block_id, width, end = _enter(cur)
        if block_id == _MODULE_BLOCK:
            cur.end = end
            return _find_record(cur, width, code)
        cur.pos = end
    raise InputError(where, "malformed bitcode: no module in the bitcode")


def _enter(cur: _Cursor) -> tuple[int, int, int]:
    """After ENTER_SUBBLOCK: (block id, abbreviation id width, end in bits), the length checked to fit."""
    block_id, width = cur.vbr(8), cur.vbr(4)
    cur.align32()
    words = cur.fixed(32)
    if not 1 <= width <= _MAX_WIDTH:
        cur.fail(f"block {block_id} has abbreviation width {width}")
    end = cur.pos + 32 * words
    if end > cur.end:
        cur.fail(f"block {block_id} claims {words} words, more than the data holding it")
    return block_id, width, end


def _find_record(cur: _Cursor, width: int, code: int) -> bytes:
    abbrevs: list[tuple] = []
    for rec_code, values in _entries(cur, width, abbrevs, code):
        if rec_code is None:
            abbrevs.append(values)
        elif rec_code == code:
            if any(v > 255 for v in values):
                cur.fail(f"record {code} holds a value that is not a character")
            return bytes(values)
    return b""


def _entries(cur: _Cursor, width: int, abbrevs: list, wanted: int):
    """Yield (None, abbreviation) and (code, operands) up to END_BLOCK, skipping sub-blocks by length.
    Operands of records other than `wanted` may be left out when skipping is cheaper."""
    while True:
        abbrev_id = cur.fixed(width)
        if abbrev_id == 0:  # END_BLOCK (LLVM does not insist that it fill the declared length either)
            return
        if abbrev_id == 1:  # ENTER_SUBBLOCK
            cur.pos = _enter(cur)[2]
        elif abbrev_id == 2:
            yield None, _define_abbrev(cur)
        elif abbrev_id == 3:  # UNABBREV_RECORD
            code, count = cur.vbr(6), cur.vbr(6)
            if 6 * count > cur.end - cur.pos:
                cur.fail(f"record {code} claims {count} operands, more than its block holds")
            yield code, [cur.vbr(6) for _ in range(count)]
        elif abbrev_id - 4 < len(abbrevs):
            yield _abbreviated(cur, abbrevs[abbrev_id - 4], wanted)
        else:
            cur.fail(f"abbreviation id {abbrev_id} is not defined")


def _define_abbrev(cur: _Cursor) -> tuple:
    """DEFINE_ABBREV as ((encoding, value), ...), validated so that reading records by it cannot go wrong."""
    count = cur.vbr(5)
    if count == 0:
        cur.fail("abbreviation with no operands")
    ops = []
    for _ in range(count):
        if cur.fixed(1):
            ops.append((_LITERAL, cur.vbr(8)))
            continue
        enc = cur.fixed(3)
        if enc in (_FIXED, _VBR):
            bits = cur.vbr(5)
            if bits > _MAX_WIDTH or (enc == _VBR and bits == 1):
                cur.fail(f"abbreviation operand of width {bits}")
            ops.append((enc, bits) if bits else (_LITERAL, 0))  # as LLVM: a 0-bit field is the literal 0
        elif enc in (_ARRAY, _CHAR6, _BLOB):
            ops.append((enc, 0))
        else:
            cur.fail(f"unknown abbreviation operand encoding {enc}")
    kinds = [enc for enc, _ in ops]
    if kinds[0] in (_ARRAY, _BLOB):
        cur.fail("abbreviation starts with an array or blob")
    if _ARRAY in kinds and (kinds.index(_ARRAY) != len(ops) - 2 or kinds[-1] not in (_FIXED, _VBR, _CHAR6)):
        cur.fail("array operand that is not second to last with a scalar element type")
    return tuple(ops)


def _abbreviated(cur: _Cursor, ops: tuple, wanted: int) -> tuple[int, list[int]]:
    code, values = _scalar(cur, *ops[0]), []
    keep = code == wanted
    for enc, bits in ops[1:]:
        if enc == _ARRAY:
            count, (elt, bits) = cur.vbr(6), ops[-1]
            size = 6 if elt == _CHAR6 else bits
            if size * count > cur.end - cur.pos:
                cur.fail(f"array of {count} elements runs past the end of its block")
            if keep or elt == _VBR:
                values += [_scalar(cur, elt, bits) for _ in range(count)]
            else:
                cur.skip(size * count)
            break  # the element type was the last operand
        if enc == _BLOB:
            count = cur.vbr(6)
            cur.align32()
            start = cur.pos
            cur.skip(8 * count)
            if keep:
                values += cur.data[start >> 3:cur.pos >> 3]
            cur.align32()
        else:
            values.append(_scalar(cur, enc, bits))
    return code, values


def _scalar(cur: _Cursor, enc: int, bits: int) -> int:
    if enc == _LITERAL:
        return bits
    if enc == _FIXED:
        return cur.fixed(bits)
    if enc == _VBR:
        return cur.vbr(bits)
    return _CHAR6_ALPHABET[cur.fixed(6)]
