"""Codegen data as LLVM 22 reads and writes it: structures, raw section records, indexed and text files."""

from .files import BINARY, TEXT, dump, load, parse, save
from .funcmap import MergeThresholds, StableFunction, StableFunctionMap
from .hashtree import OutlinedHashTree
from .merge import Merger, merge_files
from .model import INDEX_VERSION, CodeGenData

__all__ = ["BINARY", "TEXT", "CodeGenData", "INDEX_VERSION", "MergeThresholds", "Merger", "OutlinedHashTree",
           "StableFunction", "StableFunctionMap", "dump", "load", "merge_files", "parse", "save"]
