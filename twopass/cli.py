"""Command line: argument parsing and dispatch only. Every failure the user can cause is one `error:` line."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys

from . import TYPE_CHECKING, __version__
from .errors import TwopassError

if TYPE_CHECKING:
    import argparse
    from typing import Any, Iterator, NoReturn

DESCRIPTION = """\
twopass turns ThinLTO bitcode (clang -flto=thin -c) into native objects through two codegen rounds, so that
LLVM's machine outliner and global function merger act on repetition across modules, not only inside one.
`twopass build` builds; `twopass COMMAND --help` tells more of each command."""


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
    from .atomic import write_atomic

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
    p.add_argument("-o", "--output-dir", required=True, metavar="OUTDIR")
    codegen_arguments(p)
    output_arguments(p)
    p.add_argument("--save-temps", metavar="DIR",
                   help="also keep round one's optimized IR and scratch objects, and the merged data, in DIR")
    p.add_argument("--emit-ninja", metavar="FILE", help="run the thin link, then write the rest of the build as "
                                                        "a Ninja file of `twopass backend` actions and stop")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-q", "--quiet", action="store_true")


def _backend_parser(sub) -> None:
    """The single-module actions a Ninja file from --emit-ninja runs (twopass.ninja carries them out)."""
    p = sub.add_parser("backend", help="one action of a build emitted with --emit-ninja (see `twopass.ninja`)")
    a = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    t = a.add_parser("thin-link", help="import decisions: a round-one (and round-two) job per module")
    t.add_argument("plan", metavar="PLAN")
    for name, what in (("round1", "a module's round one"), ("round2", "a module's round two from its IR")):
        r = a.add_parser(name, help=what)
        r.add_argument("job", metavar="JOB")
        r.add_argument("inputs", nargs="*", metavar="INPUT", help="round2: the module's round-one result, "
                                                                   "then the merged .cgdata")
        r.add_argument("-o", dest="output", required=True, metavar="RESULT")
    m = a.add_parser("merge", help="the round-one results' codegen data as one .cgdata")
    m.add_argument("plan", metavar="PLAN")
    m.add_argument("results", nargs="+", metavar="RESULT")
    m.add_argument("-o", dest="output", required=True, metavar="FILE.cgdata")
    f = a.add_parser("finish", help="the size guard and the objects, into the build's output directory")
    f.add_argument("plan", metavar="PLAN")
    f.add_argument("results", nargs="+", metavar="RESULT")


def _verify_parser(sub) -> None:
    p = sub.add_parser("verify-determinism", help="build several ways and compare every output byte for byte")
    codegen_arguments(p)
    p.add_argument("--against", metavar="MANIFEST", help="also compare with a manifest stored earlier")
    m = sub.add_parser("manifest", help="compare two build manifests").add_subparsers(
        dest="action", required=True, metavar="ACTION").add_parser("diff", help="list what differs")
    m.add_argument("manifests", nargs=2, metavar="MANIFEST")


def output_arguments(p) -> None:
    """What a build writes besides objects, and its cache: shared by `build` and `ld`."""
    p.add_argument("--cgdata-out", metavar="FILE", help="also write the merged global codegen data (writer build)")
    p.add_argument("--cgdata-format", choices=("binary", "text"), default="binary",
                   help="format of --cgdata-out (default: indexed binary)")
    p.add_argument("--manifest", metavar="FILE", help="write a sorted manifest: sha256 of every output and of "
                                                      "the merged data (compare with verify-determinism --against)")
    p.add_argument("--report", metavar="FILE.json", help="write per-module timings, sizes and counts")
    _cache_options(p)
    p.add_argument("--no-cache", dest="cache", action="store_false", help="neither read nor write the cache")


def codegen_arguments(p, inputs: bool = True) -> None:
    """What changes the bytes of a build: shared by `build`, `verify-determinism` and `ld`."""
    if inputs:
        p.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="bitcode (.bc, bitcode .o), textual IR (.ll), directories, @response files")
    p.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=2, metavar="LEVEL",
                   help="IR optimization and codegen level, 0-3 (default 2); -O0 only runs codegen")
    p.add_argument("--outliner", choices=("never", "local", "global"), default="global",
                   help="machine outliner: off, within modules, or across modules (default: global)")
    p.add_argument("--rounds", type=int, choices=(1, 2), default=2,
                   help="2 (default) runs the global round; 1 stops after round one (local outlining)")
    p.add_argument("--no-merge-functions", dest="merge_functions", action="store_false",
                   help="do not run LLVM's global function merger")
    p.add_argument("--size-guard", choices=("on", "off"), default="on",
                   help="two rounds: keep round one's objects when their estimated linked .text is smaller (default)")
    p.add_argument("--target-cpu", help="override the CPU the module asks for")
    p.add_argument("--target-features", help="override the target features the module asks for")
    p.add_argument("--relocation-model", choices=("static", "pic"), help="override the module's PIC level")
    p.add_argument("--fold-outlined", choices=("sections", "comdat", "none"), default="sections",
                   help="give outlined functions their own sections so the linker's ICF folds copies (default), "
                        "also put each in a content-keyed COMDAT group (any ELF linker folds), or leave them")
    p.add_argument("-ffunction-sections", dest="function_sections", action="store_true", default=True,
                   help="with the outlined-code layout, also give every function a section of its own, as lld's "
                        "LTO does, so --gc-sections drops what importing inlined everywhere (default)")
    p.add_argument("-fno-function-sections", dest="function_sections", action="store_false",
                   help="leave the other functions in .text")
    p.add_argument("--assembler", metavar="CMD",
                   help="assembler for targets other than the host, run as `CMD x.s -o x.o` "
                        "(e.g. 'python -m ziglang cc -target aarch64-linux-musl -c')")
    p.add_argument("-mllvm", dest="mllvm", action="append", default=[], metavar="OPTION",
                   help="an extra LLVM option for both rounds' workers")
    p.add_argument("--cgdata-in", metavar="FILE",
                   help="reader build: one round that uses this codegen data (from a writer build or llvm-cgdata)")
    t = p.add_argument_group("thin link (import across modules, promotion, internalization)")
    t.add_argument("--import", dest="thin_link", action="store_true", default=True,
                   help="import small functions from other modules for inlining, as ThinLTO does (default)")
    t.add_argument("--no-import", dest="thin_link", action="store_false", help="compile each module alone")
    t.add_argument("--import-instr-limit", type=int, default=100, metavar="N",
                   help="import functions of at most N instructions (default 100)")
    t.add_argument("--import-instr-evolution-factor", type=float, default=0.7, metavar="F",
                   help="the limit for callees of imported functions, per level (default 0.7)")
    t.add_argument("--export-symbol", action="append", default=[], metavar="NAME",
                   help="a symbol the program exports (besides main); everything else not used across "
                        "modules is internalized (inputs without a main are taken for a library: see --shared)")
    t.add_argument("--export-symbols-file", metavar="FILE", help="such symbols, one per line")
    t.add_argument("--shared", action="store_true", help="a shared library: keep every default-visibility symbol")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument("-k", "--keep-going", action="store_true", help="build the other modules after a failure")
    d = p.add_argument_group("distributed (both rounds on a Dask cluster; see the README)")
    d.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler, e.g. tcp://host:8786 or tls://...")
    d.add_argument("--scheduler-file", metavar="FILE", help="the scheduler's file (dask scheduler --scheduler-file)")
    d.add_argument("--scheduler-timeout", type=float, default=5.0, metavar="SECONDS",
                   help="how long to wait for the scheduler and a first worker (default 5)")
    d.add_argument("--tls-ca-file", metavar="FILE", help="CA certificate for tls:// (default: Dask's configuration)")
    d.add_argument("--tls-cert", metavar="FILE", help="client certificate for tls://")
    d.add_argument("--tls-key", metavar="FILE", help="client key for tls://")


def _cache_options(p) -> None:
    p.add_argument("--cache-dir", metavar="DIR", help="the cache (default: $XDG_CACHE_HOME/twopass)")
    p.add_argument("--cache-policy", default="", metavar="POLICY",
                   help="pruning in LLVM's syntax, applied after each build: prune_interval=20m:prune_after=168h:"
                        "cache_size=75%%:cache_size_bytes=1g:cache_size_files=1000000")


def _cache_parser(sub) -> None:
    p = sub.add_parser("cache", help="show, prune or clear the build cache")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("stats", "entries and bytes per stream"), ("prune", "apply --cache-policy now"),
                       ("clear", "remove every entry")):
        _cache_options(actions.add_parser(name, help=text))


def _run_cache(args) -> int:
    from . import cache
    from .cachepolicy import parse_policy

    store = cache.Cache(args.cache_dir or cache.default_dir())
    policy = parse_policy(args.cache_policy)
    if args.action == "stats":
        stats = store.stats()
        for stream in cache.STREAMS:
            s = stats[stream]
            print(f"{stream:8} {s['files']:8} entries {s['bytes']:14} bytes")
        print(f"{'total':8} {stats['total']['files']:8} entries {stats['total']['bytes']:14} bytes")
    elif args.action == "prune":
        done = store.prune(policy, force=True)
        print(f"removed {done['removed_files']} entries ({done['removed_bytes']} bytes); kept "
              f"{done['kept_files']} ({done['kept_bytes']} bytes)")
    else:
        print(f"removed {store.clear()} entries")
    return 0


def _link_options(args):
    if not args.thin_link:
        return None
    from .thinlink import LinkOptions
    if args.import_instr_limit < 0 or not 0 <= args.import_instr_evolution_factor <= 1:
        raise TwopassError("--import-instr-limit", "the limit must be >= 0 and the evolution factor in [0, 1]")
    exports = list(args.export_symbol)
    if args.export_symbols_file:
        from . import again
        try:
            with open(args.export_symbols_file, "rb") as f:
                data = f.read()
            lines = data.decode("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise TwopassError(args.export_symbols_file, getattr(e, "strerror", None) or str(e)) from None
        again.note(args.export_symbols_file, data)
        exports += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    return LinkOptions(args.import_instr_limit, args.import_instr_evolution_factor, args.shared,
                       tuple(sorted({"main", *exports})))


def build_options(args):
    """What changes the bytes of a build, from `build` or `verify-determinism` arguments, with every path in
    it made absolute (so a build run from another directory means the same)."""
    from .layout import Layout
    from .plan import BuildOptions
    from .llvm import TargetOverrides

    assembler = tuple(shlex.split(args.assembler)) if args.assembler else None
    if assembler and os.sep in assembler[0]:
        assembler = (os.path.abspath(assembler[0]), *assembler[1:])
    return BuildOptions(opt_level=args.opt_level, outliner=args.outliner, rounds=args.rounds,
                        merge_functions=args.merge_functions, extra_llvm=tuple(args.mllvm),
                        overrides=TargetOverrides(args.target_cpu, args.target_features, args.relocation_model),
                        layout=Layout(args.fold_outlined, assembler, args.function_sections),
                        thin_link=_link_options(args), size_guard=args.size_guard == "on",
                        cgdata_in=os.path.abspath(args.cgdata_in) if args.cgdata_in else None)


def _run_build(args) -> int:
    if not args.emit_ninja:
        # The fork server (of the local pool, or of the summaries a cluster build runs here while it connects)
        # starts now, so that its imports overlap this process's and the plan: 0.025 s sooner to the first job
        # on Lua. A build the cache's record answers kills it unused.
        from . import zygote
        from .executor import LOCAL_PRELOAD
        zygote.start(LOCAL_PRELOAD)
    from . import report
    from .pipeline import RunOptions, build

    recording = args.cache and local(args) and not (args.save_temps or args.cgdata_out or args.verbose or
                                                    args.emit_ninja)
    if recording:  # what the build reads, from its options on, for its command's record (again.py)
        from . import again
        again.begin()
    options = build_options(args)
    run = RunOptions(jobs=args.jobs, keep_going=args.keep_going, cache=args.cache, cache_dir=args.cache_dir,
                     cache_policy=args.cache_policy, progress=None if not args.quiet else False,
                     save_temps=args.save_temps, report=args.report, manifest=args.manifest,
                     cgdata_out=args.cgdata_out, cgdata_format=args.cgdata_format)
    if args.emit_ninja:
        return _emit_ninja(args, options, run)
    try:
        with stderr_logging(args), executor(args) as ex:
            result = build(args.inputs, options, args.output_dir, run, ex)
    finally:
        reads = again.end() if recording else None
    if not args.quiet:
        print(report.summary(report.build_report(result)), file=sys.stderr)
    if reads is not None:
        again.save(args.argv, result, reads, args.output_dir, args.report, args.manifest, args.quiet)
    return 0


def _run_backend(args) -> int:
    from . import ninja
    return ninja.backend(args)


def _emit_ninja(args, options, run) -> int:
    from . import ninja

    for flag, value in (("--scheduler", args.scheduler or args.scheduler_file), ("--save-temps", args.save_temps),
                        ("--report", args.report), ("--manifest", args.manifest), ("--cgdata-out", args.cgdata_out)):
        if value:
            raise TwopassError(flag, "not with --emit-ninja: Ninja runs the build, twopass only writes it")
    count = ninja.emit(args.inputs, options, args.output_dir, run, args.emit_ninja)
    if not args.quiet:
        print(f"wrote {args.emit_ninja}: {count} modules; run `ninja -C {os.path.dirname(args.emit_ninja) or '.'} "
              f"-f {os.path.basename(args.emit_ninja)}`", file=sys.stderr)
    return 0


@contextlib.contextmanager
def executor(args):
    """The local pool, or a Dask cluster when a scheduler is named (connected before any work is done)."""
    where = cluster(args)
    if where is None:
        from .executor import LocalExecutor
        yield LocalExecutor(args.jobs)
        return
    from .distributed import DaskExecutor
    with DaskExecutor(where, args.jobs) as ex:
        yield ex


def local(args) -> bool:
    """Whether the arguments build on this machine (name no Dask scheduler)."""
    return args.scheduler is None and args.scheduler_file is None


def cluster(args):
    """The Dask cluster the arguments name, or None for this machine."""
    if local(args):
        return None
    if args.scheduler is not None and args.scheduler_file is not None:
        raise TwopassError("--scheduler", "give the scheduler's address or its file, not both")
    from .daskconnect import Cluster
    return Cluster(args.scheduler, args.scheduler_file, args.scheduler_timeout, args.tls_ca_file, args.tls_cert,
                   args.tls_key)


@contextlib.contextmanager
def stderr_logging(args: Any) -> Iterator[None]:
    """Log to stderr at the verbosity asked for; workers' records come back with their answers (pool.py)."""
    import logging

    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose > 1 else \
        logging.INFO if args.verbose else logging.WARNING
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(stream)
    try:
        yield
    finally:
        root.removeHandler(stream)


def make_parser() -> argparse.ArgumentParser:
    import argparse  # here: a build answered from its command's record parses no arguments

    parser = argparse.ArgumentParser(prog="twopass", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"twopass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _build_parser(sub)
    _verify_parser(sub)
    _cgdata_parser(sub)
    _cache_parser(sub)
    _backend_parser(sub)
    return parser


def _run_verify(args) -> int:
    from . import determinism

    problems = determinism.verify(args.inputs, build_options(args), args.jobs, args.against, cluster(args))
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


def _run_manifest(args) -> int:
    from . import determinism

    a, b = (determinism.load_manifest(p) for p in args.manifests)
    problems = determinism.diff_manifests(a, b, args.manifests[0], args.manifests[1])
    for p in problems:
        print(str(p))
    return 1 if problems else 0


_COMMANDS = {"build": _run_build, "verify-determinism": _run_verify, "manifest": _run_manifest,
             "cgdata": _run_cgdata, "cache": _run_cache, "backend": _run_backend}


def glue_mllvm(argv: list[str]) -> list[str]:
    """`-mllvm -some-option` as clang and lld take it (argparse would read `-some-option` as an option)."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "-mllvm" and i + 1 < len(argv):
            out.append(f"-mllvm={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def console() -> NoReturn:
    """The `twopass` command."""
    exit_now(main())


def exit_now(status: int) -> NoReturn:
    """End the process without python's own teardown, which spent 0.02 s freeing what a build held (a warm
    build's whole run is 0.08 s): the exit handlers run (the fork server's end, temporary directories), the
    standard streams are flushed, then the process exits. A Ctrl-C in that teardown also no longer turns the
    status into python's own death by SIGINT."""
    import atexit

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # a closed pipe, a second Ctrl-C: the status stands
        pass
    finally:
        os._exit(status)


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["ld"]:
        from . import ld
        return ld.main(raw[1:])
    try:
        if raw[:1] == ["build"]:
            from . import again
            status = again.replay(raw[1:])  # the same command as before, on the same files: its outputs again
            if status is not None:
                return status
        args = make_parser().parse_args(glue_mllvm(raw))
        args.argv = raw[1:]
        return _COMMANDS[args.command](args)
    except TwopassError as e:
        for line in e.lines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
