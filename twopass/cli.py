"""Command line: argument parsing and dispatch only. Every failure the user can cause is one `error:` line."""

from __future__ import annotations

import argparse
import sys

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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twopass", description=__doc__)
    parser.add_argument("--version", action="version", version=f"twopass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _cgdata_parser(sub)
    return parser


_COMMANDS = {"cgdata": _run_cgdata}


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except TwopassError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
