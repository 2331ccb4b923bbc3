"""twopass: two-round LLVM codegen with global outlining and function merging across modules.

The library entry point: `twopass.build(inputs, options, outdir, run=RunOptions(), executor=None)`, with
`options` a `BuildOptions` (what changes the bytes) and `run` a `RunOptions` (jobs, cache, report...).
"""

TYPE_CHECKING = False  # typing's, without importing typing: a tenth of a bare interpreter's start
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"
_LAZY = {"build": "pipeline", "BuildResult": "pipeline", "BuildFailed": "pipeline", "RunOptions": "pipeline",
         "BuildOptions": "plan", "ModuleSource": "plan", "LocalExecutor": "executor", "Round": "executor"}


def __getattr__(name: str) -> "Any":
    """Imported on first use: the command line starts with this package, and most commands need none of it."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
