"""Test helper run as its own process (LLVM options are process-global): bitcode -> optimized -> object.

usage: python compile_module.py [--no-opt] OUT_DIR MODULE... -- LLVM_OPTION...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twopass import llvm  # noqa: E402


def main() -> None:
    args = sys.argv[1:]
    optimize = args[0] != "--no-opt"
    args = args[1:] if not optimize else args
    split = args.index("--") if "--" in args else len(args)
    out_dir, modules, options = Path(args[0]), args[1:split], args[split + 1:]
    llvm.init(options)
    for path in modules:
        mod = llvm.parse_module(Path(path).read_bytes(), path)
        tm = llvm.target_machine(llvm.target_info(mod))
        if optimize:
            llvm.optimize(mod, tm, 2)
        (out_dir / (Path(path).name.split(".")[0] + ".o")).write_bytes(llvm.emit_object(mod, tm))


main()
