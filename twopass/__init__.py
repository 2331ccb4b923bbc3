"""twopass: two-round LLVM codegen with global outlining and function merging across modules."""

__version__ = "0.1.0"
