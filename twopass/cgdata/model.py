"""What one codegen-data file holds: an optional outlined hash tree and an optional stable function map."""

from __future__ import annotations

from dataclasses import dataclass

from .funcmap import StableFunctionMap
from .hashtree import OutlinedHashTree

INDEX_VERSION = 4  # LLVM 22's CodeGenData.h: Version4 is current
KIND_TREE = 1      # DataKind bits of the indexed header and of the text header
KIND_MAP = 2


@dataclass
class CodeGenData:
    """A part is present when it is not None, even if empty: the header flags say so and we keep them."""

    tree: OutlinedHashTree | None = None
    funcmap: StableFunctionMap | None = None
    version: int = INDEX_VERSION

    @property
    def kinds(self) -> int:
        return (KIND_TREE if self.tree is not None else 0) | (KIND_MAP if self.funcmap is not None else 0)

    def summary(self, show_version: bool = False) -> str:
        """llvm-cgdata --show's exact text."""
        lines = [f"Version: {self.version}"] if show_version else []
        if self.tree is not None:
            lines += ["Outlined hash tree:",
                      f"  Total Node Count: {self.tree.size()}",
                      f"  Terminal Node Count: {self.tree.size(terminal_only=True)}",
                      f"  Depth: {self.tree.depth()}"]
        if self.funcmap is not None:
            lines += ["Stable function map:",
                      f"  Unique hash Count: {self.funcmap.unique_hash_count()}",
                      f"  Total function Count: {self.funcmap.total_function_count()}",
                      f"  Mergeable function Count: {self.funcmap.mergeable_function_count()}"]
        return "".join(line + "\n" for line in lines)
