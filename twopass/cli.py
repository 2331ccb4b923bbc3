"""Command line: argument parsing and dispatch only. Every failure the user can cause is one `error:` line."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import shlex
import sys
import time

from . import __version__
from .errors import TwopassError


def _cgdata_parser(sub) -> None:
    p = sub.add_parser("cgdata", help="inspect, convert and merge codegen data (like llvm-cgdata)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    m = actions.add_parser("merge", help="merge objects, archives and .cgdata files into one .cgdata")
    m.add_argument("inputs", nargs="+", metavar="OBJ_OR_CGDATA")
    m.add_argument("-o", "--output", default="-", help="output file (default: standard output)")
    m.add_argument("-f", "--format", choices=("binary", "text"), default="binary")
    m.add_argument("--skip-trim", action="store_true", help="keep untrimmed function-map entries")

    s = actions.add_parser("show", help="print a summary of a .cgdata file")
    s.add_argument("inputs", nargs=1, metavar="FILE")
    s.add_argument("-o", "--output", default="-")
    s.add_argument("--cgdata-version", action="store_true", help="also print the format version")

    c = actions.add_parser("convert", help="convert a .cgdata file between binary and text")
    c.add_argument("inputs", nargs=1, metavar="FILE")
    c.add_argument("-o", "--output", default="-")
    c.add_argument("-f", "--format", choices=("binary", "text"), default="text")


def _run_cgdata(args) -> int:
    from . import cgdata
    from .cgdata.files import write_atomic

    if args.output != "-" and args.output in args.inputs:
        raise TwopassError("", "Input file name cannot be the same as the output file name!")
    if args.action == "merge":
        result = cgdata.merge_files(args.inputs, skip_trim=args.skip_trim)
        write_atomic(args.output, cgdata.dump(result, args.format))
    elif args.action == "show":
        data = cgdata.load(args.inputs[0])
        write_atomic(args.output, data.summary(args.cgdata_version).encode())
    else:
        write_atomic(args.output, cgdata.dump(cgdata.load(args.inputs[0]), args.format))
    return 0


def _build_parser(sub) -> None:
    p = sub.add_parser("build", help="codegen LLVM modules in two rounds with global outlining and merging")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="bitcode (.bc, bitcode .o), textual IR (.ll), directories, @response files")
    p.add_argument("-o", "--output-dir", required=True, metavar="OUTDIR")
    p.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=2, metavar="LEVEL",
                   help="IR optimization and codegen level, 0-3 (default 2); -O0 only runs codegen")
    p.add_argument("--outliner", choices=("never", "local", "global"), default="global",
                   help="machine outliner: off, within modules, or across modules (default: global)")
    p.add_argument("--rounds", type=int, choices=(1, 2), default=2,
                   help="2 (default) runs the global round; 1 stops after round one (local outlining)")
    p.add_argument("--no-merge-functions", dest="merge_functions", action="store_false",
                   help="do not run LLVM's global function merger")
    p.add_argument("--target-cpu", help="override the CPU the module asks for")
    p.add_argument("--target-features", help="override the target features the module asks for")
    p.add_argument("--relocation-model", choices=("static", "pic"), help="override the module's PIC level")
    p.add_argument("--fold-outlined", choices=("sections", "comdat", "none"), default="sections",
                   help="give outlined functions their own sections so the linker's ICF folds copies (default), "
                        "also put each in a content-keyed COMDAT group (any ELF linker folds), or leave them")
    p.add_argument("--assembler", metavar="CMD",
                   help="assembler for targets other than the host, run as `CMD x.s -o x.o` "
                        "(e.g. 'python -m ziglang cc -target aarch64-linux-musl -c')")
    p.add_argument("-mllvm", dest="mllvm", action="append", default=[], metavar="OPTION",
                   help="an extra LLVM option for both rounds' workers")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument("-k", "--keep-going", action="store_true", help="build the other modules after a failure")
    p.add_argument("--report", metavar="FILE.json", help="write per-module timings, sizes and counts")
    p.add_argument("--save-temps", metavar="DIR",
                   help="also keep round one's optimized IR and scratch objects, and the merged data, in DIR")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-q", "--quiet", action="store_true")


def _run_build(args) -> int:
    from . import execute, report
    from .plan import BuildOptions, make_plan
    from .layout import Layout
    from .workers import TargetOverrides

    if args.jobs < 1:
        raise TwopassError("", "--jobs must be at least 1")
    options = BuildOptions(opt_level=args.opt_level, outliner=args.outliner, rounds=args.rounds,
                           merge_functions=args.merge_functions, extra_llvm=tuple(args.mllvm),
                           overrides=TargetOverrides(args.target_cpu, args.target_features, args.relocation_model),
                           layout=Layout(args.fold_outlined, tuple(shlex.split(args.assembler))
                                         if args.assembler else None))
    start = time.perf_counter()
    plan = make_plan(args.inputs, options)
    planning = time.perf_counter() - start
    handler = _worker_logging(args)
    try:
        result = execute.run(plan, args.output_dir, args.jobs, keep_going=args.keep_going,
                             progress=report.Progress(enabled=None if not args.quiet else False),
                             log_queue=handler.queue, save_temps=args.save_temps)
    except execute.BuildFailed as e:
        if args.report and e.result is not None:
            report.write_report(report.build_report(e.result, args.jobs), args.report)
        raise
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    result.phases = {"plan": planning, **result.phases}
    rep = report.build_report(result, args.jobs)
    if args.report:
        report.write_report(rep, args.report)
    if not args.quiet:
        print(report.summary(rep), file=sys.stderr)
    return 0


def _worker_logging(args):
    """Worker processes log into multiprocessing-logging's queue; its thread prints in this process."""
    import multiprocessing_logging

    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose > 1 else \
        logging.INFO if args.verbose else logging.WARNING
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler = multiprocessing_logging.MultiProcessingHandler("twopass-workers", sub_handler=stream)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    return handler


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twopass", description=__doc__)
    parser.add_argument("--version", action="version", version=f"twopass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _build_parser(sub)
    _cgdata_parser(sub)
    return parser


_COMMANDS = {"build": _run_build, "cgdata": _run_cgdata}


def main(argv: list[str] | None = None) -> int:
    # LLVM is not fork-safe once initialized; the forkserver also makes multiprocessing's queues agree.
    multiprocessing.set_start_method("forkserver", force=True)
    multiprocessing.set_forkserver_preload(["twopass.workers"])  # each worker then skips importing llvmlite
    args = make_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except TwopassError as e:
        for line in getattr(e, "lines", lambda: [str(e)])():
            print(f"error: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
