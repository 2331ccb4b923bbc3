"""Codegen data as LLVM 22 reads and writes it: structures, raw section records, indexed and text files.

Names load with the first use of one (PEP 562): a build the cache answers needs none of them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {"BINARY": "files", "TEXT": "files", "dump": "files", "load": "files", "parse": "files", "save": "files",
          "MergeThresholds": "funcmap", "StableFunction": "funcmap", "StableFunctionMap": "funcmap",
          "OutlinedHashTree": "hashtree", "Merger": "merge", "merge_files": "merge", "INDEX_VERSION": "model",
          "CodeGenData": "model"}
__all__ = ["BINARY", "TEXT", "CodeGenData", "INDEX_VERSION", "MergeThresholds", "Merger", "OutlinedHashTree",
           "StableFunction", "StableFunctionMap", "dump", "load", "merge_files", "parse", "save"]

if TYPE_CHECKING:
    from .files import BINARY, TEXT, dump, load, parse, save
    from .funcmap import MergeThresholds, StableFunction, StableFunctionMap
    from .hashtree import OutlinedHashTree
    from .merge import Merger, merge_files
    from .model import INDEX_VERSION, CodeGenData


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
