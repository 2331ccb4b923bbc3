"""The stable function map: function hash -> similar functions (LLVM's StableFunctionMap).

Round one's global function merger records every function's structural hash, its instruction count and the
hashes of the operands it could turn into parameters; round two merges functions whose hash recurs across
modules. Names are interned in a table because LLVM's formats store ids; the table's order is part of the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Iterable, Iterator

IndexPair = tuple[int, int]  # (instruction index, operand index)


@dataclass
class StableFunction:
    """One function as the text format and the merge rules see it (names resolved)."""

    hash: int
    function_name: str
    module_name: str
    inst_count: int
    operands: dict[IndexPair, int] = field(default_factory=dict)

    def sort_key(self) -> tuple:
        """LLVM's serialization order, (hash, module, function), made total so that ties are stable too."""
        return (self.hash, self.module_name, self.function_name, self.inst_count, sorted(self.operands.items()))


@dataclass(frozen=True)
class MergeThresholds:
    """LLVM 22's `-global-merging-*` defaults; `llvm-cgdata --merge` applies them when trimming."""

    min_merges: int = 2
    min_instrs: int = 1
    max_params: int = 0xFFFFFFFF
    skip_no_params: bool = True
    inst_overhead: float = 1.2
    param_overhead: float = 2.0
    call_overhead: float = 1.0
    extra_threshold: float = 0.0

    @classmethod
    def from_llvm_options(cls, options: Iterable[str]) -> MergeThresholds:
        """The thresholds `-global-merging-NAME=VALUE` options ask for (LLVM's cl::opts, checked by LLVM before
        any work): lld's in-process merge reads them, so twopass's own merge must too."""
        types = {f.name: f.type for f in fields(cls)}
        changes: dict[str, int | float | bool] = {}
        for opt in options:
            name, _, value = opt.lstrip("-").partition("=")
            key = name.removeprefix("global-merging-").replace("-", "_")
            if not name.startswith("global-merging-") or key not in types:
                continue
            kind = types[key]
            if kind in (bool, "bool"):
                changes[key] = value.lower() not in ("false", "0")  # a bare flag is true, as for cl::opt<bool>
            elif kind in (int, "int"):
                changes[key] = int(value, 0)
            else:
                changes[key] = float(value)
        return replace(cls(), **changes)  # type: ignore[arg-type]


@dataclass
class _Entry:
    hash: int
    function_id: int
    module_id: int
    inst_count: int
    operands: dict[IndexPair, int]


class StableFunctionMap:
    def __init__(self) -> None:
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self.buckets: dict[int, list[_Entry]] = {}

    # -- names -------------------------------------------------------------------------------------------
    def intern(self, name: str) -> int:
        nid = self._ids.get(name)
        if nid is None:
            nid = self._ids[name] = len(self.names)
            self.names.append(name)
        return nid

    def set_names(self, names: list[str]) -> None:
        """Adopt a name table as read from a file, so that writing it back gives the same bytes."""
        self.names = list(names)
        self._ids = {}
        for i, n in enumerate(self.names):
            self._ids.setdefault(n, i)

    # -- content -----------------------------------------------------------------------------------------
    def insert_entry(self, hash_: int, function_id: int, module_id: int, inst_count: int,
                     operands: dict[IndexPair, int]) -> None:
        self.buckets.setdefault(hash_, []).append(_Entry(hash_, function_id, module_id, inst_count, operands))

    def insert(self, sf: StableFunction) -> None:
        fid = self.intern(sf.function_name)
        mid = self.intern(sf.module_name)
        self.insert_entry(sf.hash, fid, mid, sf.inst_count, dict(sf.operands))

    def ordered_entries(self) -> list[_Entry]:
        """LLVM's serialization order: a stable sort by (hash, module name, function name)."""
        entries = [e for b in self.buckets.values() for e in b]
        entries.sort(key=lambda e: (e.hash, self.names[e.module_id], self.names[e.function_id]))
        return entries

    def functions(self) -> Iterator[StableFunction]:
        """All entries, names resolved, in LLVM's serialization order."""
        for e in self.ordered_entries():
            yield StableFunction(e.hash, self.names[e.function_id], self.names[e.module_id], e.inst_count,
                                 e.operands)

    @classmethod
    def merged(cls, maps: Iterable[StableFunctionMap]) -> StableFunctionMap:
        """Union of maps, independent of their order.

        LLVM appends entries (no de-duplication) and re-interns names in its hash table's iteration order,
        which depends on the C++ library; we intern in sorted entry order instead, so the name table, and with
        it the bytes, depend only on the content.
        """
        out = cls()
        everything = sorted((f for m in maps for f in m.functions()), key=StableFunction.sort_key)
        for f in everything:
            out.insert(StableFunction(f.hash, f.function_name, f.module_name, f.inst_count, dict(f.operands)))
        return out

    # -- sizes (llvm-cgdata --show) ----------------------------------------------------------------------
    def empty(self) -> bool:
        return not self.buckets

    def unique_hash_count(self) -> int:
        return len(self.buckets)

    def total_function_count(self) -> int:
        return sum(len(b) for b in self.buckets.values())

    def mergeable_function_count(self) -> int:
        return sum(len(b) for b in self.buckets.values() if len(b) >= 2)

    # -- finalize ----------------------------------------------------------------------------------------
    def finalize(self, skip_trim: bool = False, thresholds: MergeThresholds = MergeThresholds()) -> None:
        """Drop buckets that cannot merge and, unless skip_trim, trim and prune like LLVM's finalize().

        Names of dropped functions stay in the table, as in LLVM (its table is append-only).
        """
        for hash_ in list(self.buckets):
            entries = self.buckets[hash_]
            entries.sort(key=lambda e: self.names[e.module_id])
            root = entries[0]
            keys = root.operands.keys()
            if any(e.inst_count != root.inst_count or e.operands.keys() != keys for e in entries[1:]):
                del self.buckets[hash_]
                continue
            if skip_trim:
                continue
            for pair in list(keys):
                if all(e.operands[pair] == root.operands[pair] for e in entries[1:]):
                    for e in entries:
                        del e.operands[pair]
            if not _profitable(entries, thresholds):
                del self.buckets[hash_]


def _profitable(entries: list[_Entry], t: MergeThresholds) -> bool:
    count = len(entries)
    if count < t.min_merges:
        return False
    inst_count = entries[0].inst_count
    if inst_count < t.min_instrs:
        return False
    benefit = inst_count * (count - 1) * t.inst_overhead
    cost = 0.0
    for e in entries:
        params = len(set(e.operands.values()))
        if params > t.max_params or (t.skip_no_params and params == 0):
            return False
        cost += params * t.param_overhead + t.call_overhead
    cost += t.extra_threshold
    return benefit > cost
