"""LLVM's indexed `.cgdata` file: a 32-byte header (magic, version, kinds, two offsets), then the records."""

from __future__ import annotations

import struct

from .hashtree import OutlinedHashTree
from .model import INDEX_VERSION, KIND_MAP, KIND_TREE, CodeGenData
from .records import ByteReader, RecordError, read_map, read_tree, write_map, write_tree

MAGIC = 0x81617461646763FF  # bytes ff 63 67 64 61 74 61 81
_HEADER = struct.Struct("<QIIQQ")


class IndexedError(ValueError):
    """Carries LLVM's own wording (`invalid codegen data (bad magic)`, ...) as its message."""


def is_indexed(data: bytes) -> bool:
    return len(data) >= 8 and struct.unpack_from("<Q", data)[0] == MAGIC


def write_indexed(cg: CodeGenData) -> bytes:
    """Header with both offsets always filled in, as LLVM writes it, even for absent parts."""
    tree = write_tree(cg.tree) if cg.tree is not None else b""
    fmap = write_map(cg.funcmap) if cg.funcmap is not None else b""
    tree_off = _HEADER.size
    map_off = tree_off + len(tree)
    return _HEADER.pack(MAGIC, INDEX_VERSION, cg.kinds, tree_off, map_off) + tree + fmap


def read_indexed(data: bytes) -> CodeGenData:
    """Header checks in LLVM's order and wording; then every part is parsed with bounds checks."""
    if len(data) < 24:
        raise IndexedError("invalid codegen data (file header is corrupt)")
    magic, version, kinds, tree_off = struct.unpack_from("<QIIQ", data)
    if magic != MAGIC:
        raise IndexedError("invalid codegen data (bad magic)")
    if version > INDEX_VERSION:
        raise IndexedError(f"unsupported codegen data version: version {version}, this reader knows "
                           f"up to {INDEX_VERSION}")
    if kinds & ~(KIND_TREE | KIND_MAP):
        raise IndexedError(f"invalid codegen data (file header is corrupt): unknown data kinds 0x{kinds:x}")
    map_off = struct.unpack_from("<Q", data, 24)[0] if version >= 2 and len(data) >= _HEADER.size else None
    if kinds & KIND_MAP and map_off is None:
        raise IndexedError("invalid codegen data (file header is corrupt): no stable function map offset")
    cg = CodeGenData(version=version)
    for kind, offset, read, what in ((KIND_TREE, tree_off, read_tree, "outlined hash tree"),
                                     (KIND_MAP, map_off, read_map, "stable function map")):
        if not kinds & kind or offset is None:
            continue
        if offset >= len(data):
            raise IndexedError(f"end of File: the {what} offset {offset} is past the end of the file")
        try:
            part = read(ByteReader(data, offset))
        except RecordError as e:
            raise IndexedError(f"malformed codegen data: {what}: {e}") from None
        if isinstance(part, OutlinedHashTree):
            cg.tree = part
        else:
            cg.funcmap = part
    return cg
