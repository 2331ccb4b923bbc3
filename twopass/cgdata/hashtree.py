"""The outlined hash tree: a trie of stable-hash sequences with terminal counts (LLVM's OutlinedHashTree).

The machine outliner of round one inserts every outlined sequence with its number of occurrences; round two
walks the merged trie to recognise sequences that repeat across modules. Only the structure lives here; bytes
and YAML are in `records` and `text`.
"""

from __future__ import annotations

import struct
from typing import Iterable, Mapping, Sequence

import xxhash


def stable_hash_combine(hashes: Sequence[int]) -> int:
    """LLVM's stable_hash_combine: XXH3-64 of the hashes' little-endian bytes. The outliner names a function
    `.content.<this of its sequence>`, which is how a build can tell which sequences of the data it used."""
    return xxhash.xxh3_64_intdigest(struct.pack(f"<{len(hashes)}Q", *hashes))


class HashNode:
    """One trie node; `terminals` is None when no sequence ends here (LLVM's std::optional)."""

    __slots__ = ("hash", "terminals", "successors")

    def __init__(self, hash_: int = 0, terminals: int | None = None):
        self.hash = hash_
        self.terminals = terminals
        self.successors: dict[int, HashNode] = {}


class OutlinedHashTree:
    def __init__(self) -> None:
        self.root = HashNode()

    def insert(self, sequence: Iterable[int], count: int = 1) -> None:
        node = self.root
        for h in sequence:
            child = node.successors.get(h)
            if child is None:
                child = node.successors[h] = HashNode(h)
            node = child
        if count:
            node.terminals = (node.terminals or 0) + count

    def merge(self, other: OutlinedHashTree) -> None:
        """Trie union; terminal counts add up, as in LLVM."""
        work = [(self.root, other.root)]
        while work:
            dst, src = work.pop()
            if src.terminals is not None:
                dst.terminals = (dst.terminals or 0) + src.terminals
            for h, src_child in src.successors.items():
                dst_child = dst.successors.get(h)
                if dst_child is None:
                    dst_child = dst.successors[h] = HashNode(h)
                work.append((dst_child, src_child))

    def terminal_sequence_hashes(self) -> set[int]:
        """stable_hash_combine of every sequence that ends at a terminal node."""
        found: set[int] = set()
        work: list[tuple[HashNode, tuple[int, ...]]] = [(self.root, ())]
        while work:
            node, path = work.pop()
            if node.terminals is not None and path:
                found.add(stable_hash_combine(path))
            work.extend((child, (*path, h)) for h, child in node.successors.items())
        return found

    def find(self, sequence: Sequence[int]) -> int:
        node = self.root
        for h in sequence:
            child = node.successors.get(h)
            if child is None:
                return 0
            node = child
        return node.terminals or 0

    def nodes(self) -> Iterable[HashNode]:
        work = [self.root]
        while work:
            node = work.pop()
            yield node
            work.extend(node.successors.values())

    def size(self, terminal_only: bool = False) -> int:
        if terminal_only:
            return sum(1 for n in self.nodes() if n.terminals is not None)
        return sum(1 for _ in self.nodes())

    def empty(self) -> bool:
        return not self.root.successors

    def depth(self) -> int:
        best = 0
        work = [(self.root, 0)]
        while work:
            node, d = work.pop()
            best = max(best, d)
            work.extend((c, d + 1) for c in node.successors.values())
        return best

    def stable_nodes(self) -> list[tuple[int, int, list[int]]]:
        """(hash, terminals or 0, ascending successor ids) per node, in LLVM's stable id order.

        Ids come from a stack walk that pushes children in ascending hash order, so the largest hash is
        numbered next: the exact numbering LLVM's writer uses, which makes our bytes equal to its bytes.
        """
        order: list[HashNode] = []
        ids: dict[int, int] = {}
        work = [self.root]
        while work:
            node = work.pop()
            ids[id(node)] = len(order)
            order.append(node)
            work.extend(node.successors[h] for h in sorted(node.successors))
        return [
            (n.hash, n.terminals or 0, sorted(ids[id(c)] for c in n.successors.values()))
            for n in order
        ]

    @classmethod
    def from_stable_nodes(cls, nodes: Mapping[int, tuple[int, int, Sequence[int]]]) -> OutlinedHashTree:
        """Rebuild a trie from id -> (hash, terminals, successor ids); ValueError if it is not a tree.

        Like LLVM, nodes are visited in ascending id order from root id 0, so every child id must be larger
        than its parent's. LLVM asserts (or silently misbuilds) on dangling ids, shared children and
        duplicate sibling hashes; we refuse them, since any of them means the data is damaged.
        """
        tree = cls()
        if not nodes:
            return tree
        if 0 not in nodes:
            raise ValueError("there is no root node (id 0)")
        built: dict[int, HashNode] = {0: tree.root}
        for node_id in sorted(nodes):
            hash_, terminals, successor_ids = nodes[node_id]
            node = built.get(node_id)
            if node is None:
                raise ValueError(f"node {node_id} has no parent")
            node.hash = hash_
            node.terminals = terminals or None
            for sid in successor_ids:
                if sid <= node_id or sid not in nodes:
                    raise ValueError(f"node {node_id} has an invalid successor id {sid}")
                if sid in built:
                    raise ValueError(f"node {sid} has more than one parent")
                child_hash = nodes[sid][0]
                if child_hash in node.successors:
                    raise ValueError(f"node {node_id} has two successors with hash 0x{child_hash:X}")
                built[sid] = node.successors[child_hash] = HashNode(child_hash)
        return tree
