"""Raw binary records: what LLVM writes into `__llvm_outline` / `__llvm_merge` and inside `.cgdata` files.

A record has no header and no version; a section may hold several records back to back. Every read is
bounds-checked: a damaged record raises `RecordError` instead of reading garbage, which LLVM does not do.
"""

from __future__ import annotations

import struct

from .funcmap import StableFunctionMap
from .hashtree import OutlinedHashTree


class RecordError(ValueError):
    """A record that is truncated or internally inconsistent."""


class ByteReader:
    """Little-endian cursor over bytes that refuses to read past `end`."""

    def __init__(self, data: bytes | memoryview, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > self.end:
            raise RecordError(f"{what} at offset {self.pos} runs past the end of the data")
        view = memoryview(self.data)[self.pos:self.pos + n]
        self.pos += n
        return view

    def u32(self, what: str) -> int:
        return struct.unpack_from("<I", self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack_from("<Q", self.take(8, what))[0]


# -- outlined hash tree ----------------------------------------------------------------------------------

def write_tree(tree: OutlinedHashTree) -> bytes:
    nodes = tree.stable_nodes()
    out = [struct.pack("<I", len(nodes))]
    for node_id, (hash_, terminals, succ) in enumerate(nodes):
        out.append(struct.pack(f"<IQII{len(succ)}I", node_id, hash_, terminals, len(succ), *succ))
    return b"".join(out)


def read_tree(r: ByteReader) -> OutlinedHashTree:
    count = r.u32("hash tree node count")
    if count * 20 > r.end - r.pos:
        raise RecordError(f"hash tree claims {count} nodes, more than the data can hold")
    data, pos, end = r.data, r.pos, r.end
    unpack = struct.unpack_from
    by_id: dict[int, tuple[int, int, tuple[int, ...]]] = {}
    for _ in range(count):  # the hot loop of a merge: plain unpacks, one bounds check per node
        if pos + 20 > end:
            raise RecordError(f"hash tree node at offset {pos} runs past the end of the data")
        node_id, hash_, terminals, nsucc = unpack("<IQII", data, pos)
        pos += 20
        if pos + 4 * nsucc > end:
            raise RecordError(f"hash tree successor ids at offset {pos} run past the end of the data")
        succ = unpack(f"<{nsucc}I", data, pos)
        pos += 4 * nsucc
        if node_id in by_id:
            raise RecordError(f"hash tree node id {node_id} is repeated")
        by_id[node_id] = (hash_, terminals, succ)
    r.pos = pos
    try:
        return OutlinedHashTree.from_stable_nodes(by_id)
    except ValueError as e:
        raise RecordError(f"hash tree is not a tree: {e}") from None


# -- stable function map (V4 layout) ---------------------------------------------------------------------

def write_map(fmap: StableFunctionMap) -> bytes:
    """Serialize in LLVM 22's lazily loadable layout: fixed-size entries, then operand blocks at RelOff."""
    names = b"".join(n.encode("utf-8", "surrogateescape") + b"\0" for n in fmap.names)
    names += b"\0" * (-(12 + len(names)) % 4)
    funcs = fmap.ordered_entries()
    head = [struct.pack("<IQ", len(fmap.names), len(names)), names, struct.pack("<I", len(funcs))]
    head.append(b"".join(struct.pack("<Q", e.hash) for e in funcs))
    fixed_start = sum(map(len, head))
    var_start = fixed_start + 20 * len(funcs) + 8
    fixed, var = [], []
    var_pos = var_start
    for i, e in enumerate(funcs):
        rel = var_pos - (fixed_start + 20 * i + 12)
        fixed.append(struct.pack("<IIIQ", e.function_id, e.module_id, e.inst_count, rel))
        ops = sorted(e.operands.items())
        block = struct.pack("<I", len(ops)) + b"".join(struct.pack("<IIQ", a, b, h) for (a, b), h in ops)
        var.append(block)
        var_pos += len(block)
    variable = b"".join(var)
    return b"".join(head) + b"".join(fixed) + struct.pack("<Q", len(variable)) + variable


def read_map(r: ByteReader) -> StableFunctionMap:
    fmap = StableFunctionMap()
    start = r.pos
    num_names = r.u32("function map name count")
    if num_names == 0:  # LLVM's reader stops here too
        return fmap
    names_size = r.u64("function map names size")
    blob = bytes(r.take(names_size, "function map names"))
    names, pos = [], 0
    for _ in range(num_names):
        nul = blob.find(b"\0", pos)
        if nul < 0:
            raise RecordError("function map name table is not NUL-terminated")
        names.append(blob[pos:nul].decode("utf-8", "surrogateescape"))
        pos = nul + 1
    if (r.pos - start) % 4:
        raise RecordError("function map name table is not padded to 4 bytes")
    fmap.set_names(names)
    num_funcs = r.u32("function map entry count")
    if num_funcs * 32 + 8 > r.end - r.pos:  # hash, fixed part and operand count: 32 bytes at least
        raise RecordError(f"function map claims {num_funcs} entries, more than the data can hold")
    hashes = struct.unpack(f"<{num_funcs}Q", r.take(8 * num_funcs, "function hashes"))
    fixed = []
    for _ in range(num_funcs):
        fid, mid, inst = struct.unpack("<III", r.take(12, "function entry"))
        rel_at = r.pos
        fixed.append((fid, mid, inst, rel_at + r.u64("function entry offset")))
    var_size = r.u64("operand hashes size")
    var = ByteReader(r.data, r.pos, r.pos + var_size)
    r.take(var_size, "operand hashes")
    for hash_, (fid, mid, inst, at) in zip(hashes, fixed):
        if fid >= num_names or mid >= num_names:
            raise RecordError(f"function entry 0x{hash_:x} names a missing name id")
        if not var.pos <= at < var.end:
            raise RecordError(f"function entry 0x{hash_:x} points outside the operand hashes")
        block = ByteReader(r.data, at, var.end)
        ops = {}
        for _ in range(block.u32("operand count")):
            inst_idx, opnd_idx, opnd_hash = struct.unpack("<IIQ", block.take(16, "operand hash"))
            if inst_idx >= inst:
                raise RecordError(f"function entry 0x{hash_:x} has instruction index {inst_idx} >= {inst}")
            ops[(inst_idx, opnd_idx)] = opnd_hash
        fmap.insert_entry(hash_, fid, mid, inst, ops)
    return fmap


def rename_module(data: bytes, old: str, new: str) -> bytes:
    """A `__llvm_merge` section's maps with the module name `old` (which another compiler's module
    identifier gave them) as `new`; the rest is written back as it was read."""
    maps = read_all(data, "merge")
    for fmap in maps:
        fmap.set_names([new if n == old else n for n in fmap.names])
    return b"".join(write_map(m) for m in maps)


def read_all(data: bytes, kind: str) -> list:
    """Every record in one section's bytes; `kind` is "outline" or "merge"."""
    reader = ByteReader(data)
    read = read_tree if kind == "outline" else read_map
    out = []
    while reader.pos < reader.end:
        out.append(read(reader))
    return out
