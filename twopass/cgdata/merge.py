"""Merging codegen data from objects (their embedded payloads) and from `.cgdata` files, like llvm-cgdata --merge.

Trees are unioned (terminal counts add up); function maps are concatenated and then finalized. The result
depends only on the multiset of inputs, never on their order, so a build's merged data is reproducible.
"""

from __future__ import annotations

from ..errors import InputError
from . import sections
from .files import no_cycle_collection, parse, read_input
from .funcmap import MergeThresholds, StableFunctionMap
from .hashtree import OutlinedHashTree
from .model import CodeGenData
from .records import RecordError, read_all


class Merger:
    def __init__(self) -> None:
        self.tree = OutlinedHashTree()
        self.maps: list[StableFunctionMap] = []

    def add_payload(self, kind: str, data: bytes, where: str) -> None:
        """One section's bytes (`sections.OUTLINE` or `sections.MERGE`), possibly several records."""
        with no_cycle_collection():
            try:
                records = read_all(data, kind)
            except RecordError as e:
                raise InputError(where, f"malformed codegen data in its {kind} section: {e}") from None
            for record in records:
                if kind == sections.OUTLINE:
                    self.tree.merge(record)
                else:
                    self.maps.append(record)

    def add_data(self, cg: CodeGenData) -> None:
        if cg.tree is not None:
            self.tree.merge(cg.tree)
        if cg.funcmap is not None:
            self.maps.append(cg.funcmap)

    def add_file(self, path: str) -> None:
        """An object, an archive of objects, or a codegen-data file in either form."""
        data = read_input(path)
        if sections.classify(data) is None:
            self.add_data(parse(data, path))
            return
        for member, kind, payload in sections.find_payloads(data, path):
            self.add_payload(kind, payload, member)

    def result(self, skip_trim: bool = False, thresholds: MergeThresholds = MergeThresholds()) -> CodeGenData:
        """Like llvm-cgdata: finalize the map, then keep only the parts that are not empty."""
        with no_cycle_collection():
            fmap = StableFunctionMap.merged(self.maps)
            fmap.finalize(skip_trim, thresholds)
        return CodeGenData(tree=None if self.tree.empty() else self.tree,
                           funcmap=None if fmap.empty() else fmap)


def merge_files(paths: list[str], skip_trim: bool = False) -> CodeGenData:
    merger = Merger()
    for path in paths:
        merger.add_file(path)
    return merger.result(skip_trim)
