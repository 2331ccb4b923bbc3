"""`ld.twopass` (so `clang -fuse-ld=twopass` finds it) and `twopass ld`: the ThinLTO link step itself.

It never links: the real ld.lld does, twice. First an index-only run (`--thinlto-index-only`, its resolution
saved) says which bitcode modules take part — archive members by the linker's own extraction rules — and, per
symbol, which copy prevails and whether anything outside the bitcode sees it. twopass builds those modules in two
rounds with that resolution in place of its own guesses, then runs the real link with each bitcode input replaced
by its object. The index-only run never gets the two-round option: LLVM's two-round branch ignores the index-only
backend and writes empty indexes (LTO.cpp, runThinLTO).

The linker is, in order: --twopass-ld-path=, $TWOPASS_LD, `ld.lld` on PATH (not this script), ziglang's LLD.
twopass's own choices are `--twopass-<option>` (any `twopass build` option: `-Wl,--twopass-outliner=local`) or
$TWOPASS_LDFLAGS (the same options, space-separated, without the prefix); the command line wins.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING

from . import __version__, ldargs, relink
from .errors import TwopassError
from .ldargs import Arg

if TYPE_CHECKING:
    from . import linkinputs

PROG = "ld.twopass"
_PREFIX = "twopass-"
# What only the LTO step reads: twopass takes it over, and neither lld run may see it (the final link has no
# bitcode; the index-only run must not get the two-round option).
_LTO_PREFIXES = ("lto-", "thinlto-", "plugin-opt", "save-temps", _PREFIX)
_LTO_NAMES = frozenset({"plugin", "mllvm", "lto-O", "lto-CGO"})
_IGNORED_PLUGIN_OPTS = ("thinlto", "-fresolution=", "-pass-through=")
_DROPPED_LLVM = ("-codegen-data-thinlto-two-rounds", "-enable-global-merge-func")
# lld's codegen flags (llvm/CodeGen/CommandFlags.cpp) that llvmlite does not register, and the values that are
# what its target machines do anyway (zig passes -mllvm -float-abi=hard for AArch64, hard-float by definition).
_TARGET_FLAGS = {"-float-abi": ("default", "hard")}


def console() -> None:
    """The `ld.twopass` command."""
    from .cli import exit_now

    exit_now(main())


def main(argv: list[str] | None = None) -> int:
    """lld's command line in, the real linker's exit status out."""
    try:
        return run(list(sys.argv[1:] if argv is None else argv))
    except TwopassError as e:
        for line in e.lines():
            print(f"{PROG}: error: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130


def _is_lto(a: Arg) -> bool:
    return a.name is not None and (a.name in _LTO_NAMES or a.name.startswith(_LTO_PREFIXES))


def run(argv: list[str]) -> int:
    args = ldargs.parse(ldargs.expand(argv))
    own = _own_options(args)
    linker = find_linker(own.ld_path)
    verbose = any(a.name in ("v", "verbose") for a in args)
    if verbose:
        print(f"{PROG}: twopass {__version__}, linker: {shlex.join(linker)}", file=sys.stderr)
    status = _link_program(linker, args, own, verbose)
    if status == 0 and own.verify_determinism:
        return _verify(linker, args, own, verbose)
    return status


def _verify(linker: list[str], args: list[Arg], own: argparse.Namespace, verbose: bool) -> int:
    """verify-determinism for links: the same link again with one job and no cache, then twice more with a
    fresh cache (cold, then warm), each elsewhere; every output must be the first one's bytes."""
    output = _output(args)
    with open(output, "rb") as f:
        want = f.read()
    with tempfile.TemporaryDirectory(prefix="twopass-verify-") as tmp:
        variants: list[tuple[str, dict]] = [("one job, no cache", {"jobs": 1, "cache": False}),
                    ("a cold cache", {"cache": True, "cache_dir": os.path.join(tmp, "cache")}),
                    ("a warm cache", {"cache": True, "cache_dir": os.path.join(tmp, "cache")})]
        for n, (what, overrides) in enumerate(variants):
            again = os.path.join(tmp, f"out{n}", os.path.basename(output))
            os.makedirs(os.path.dirname(again))
            moved = [a for a in args if a.name != "output"] + [Arg(["-o", again], "output", again)]
            status = _link_program(linker, moved, own, verbose, overrides)
            if status:
                return status
            with open(again, "rb") as f:
                if f.read() != want:
                    raise TwopassError(output, f"not deterministic: the link with {what} differs")
    return 0


def _output(args: list[Arg]) -> str:
    return next((a.value for a in reversed(args) if a.name == "output" and a.value), "a.out")


def _link_program(linker: list[str], args: list[Arg], own: argparse.Namespace, verbose: bool,
                  overrides: dict | None = None) -> int:
    plain = [a for a in args if not _is_lto(a)]
    output = _output(args)
    record = None if overrides else relink.prepare(args, own, linker, _cache_dir(args, own), output)
    if record is not None and record.replay():
        if verbose:
            print(f"{PROG}: {output}: from the cache, every file the same link read unchanged", file=sys.stderr)
        return 0
    from . import linkinputs  # after the record: a relink from the cache reads no input through it
    inputs = linkinputs.scan(plain)
    if not inputs:
        return _link(linker, plain, verbose)[0]  # no bitcode: exactly the real linker's run
    from . import cli

    if cli.local(own):
        from .executor import LocalExecutor

        LocalExecutor().prepare()  # the fork server's start overlaps the real linker's resolution
    options, run_options = _build_options(args, own, output)
    keep = any(a.name == "save-temps" or (a.name == "plugin-opt" and a.value == "save-temps") for a in args)
    # The objects live in a work directory only the final link reads: they may be the cache's own files.
    run_options = dataclasses.replace(run_options, private_outputs=not keep, **(overrides or {}))
    workdir = output + ".twopass" if keep else tempfile.mkdtemp(prefix="twopass-ld-")
    if keep:
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
    ok = False
    try:
        status, chosen, resolved = _index(linker, plain, inputs, workdir, verbose)
        if status:
            return status
        objects = _build(chosen, resolved, options, run_options, os.path.join(workdir, "objects"), own)
        for b in chosen:
            b.output = objects[b.name]
        final = linkinputs.final_line(plain, inputs, chosen, workdir)
        if not any(a.name == "icf" for a in final):
            final.append(Arg(["--icf=all"], "icf", "all"))
        deps = os.path.join(workdir, "final.d")
        if record is not None:
            final.append(ldargs.option("dependency-file", deps))
        status, printed = _link(linker, final, verbose, keep_stderr=record is not None)
        ok = status == 0
        if ok and record is not None and printed is not None:
            # What the final link read, and the bitcode and archives it no longer reads (twopass read them).
            record.save(deps, [inp.path for inp in inputs], workdir, printed)
        return status
    finally:
        if not ok and os.path.isfile(output):
            os.unlink(output)  # nothing at -o when the link fails, whatever an earlier link left there
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def find_linker(explicit: str | None) -> list[str]:
    """The real ld.lld, as the module docstring orders the places to look."""
    named = explicit or os.environ.get("TWOPASS_LD")
    if named:
        found = shutil.which(named)
        if found is None:
            raise TwopassError(named, "no such linker (from --twopass-ld-path or $TWOPASS_LD)")
        return [found]
    me = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(d or ".", "ld.lld")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) != me:
            return [candidate]
    if importlib.util.find_spec("ziglang") is None:
        raise TwopassError("ld.lld", "no real linker found: install LLD (or the ziglang package), or name one "
                                     "with --twopass-ld-path= or $TWOPASS_LD")
    return [sys.executable, "-m", "ziglang", "ld.lld"]


def _link(linker: list[str], args: list[Arg], verbose: bool, keep_stderr: bool = False) -> tuple[int, bytes | None]:
    """The real linker: its messages and exit status are the user's. With `keep_stderr`, what it prints on
    standard error is also returned (for the link's record), unless that is a terminal (the linker's colours
    and line editing are the user's); else None."""
    cmd = [*linker, *ldargs.render(args)]
    if verbose:
        print(f"{PROG}: {shlex.join(cmd)}", file=sys.stderr)
    if not keep_stderr or sys.stderr.isatty():
        return subprocess.run(cmd).returncode, None
    proc = subprocess.run(cmd, stderr=subprocess.PIPE)
    sys.stderr.buffer.write(proc.stderr)
    sys.stderr.flush()
    return proc.returncode, proc.stderr


def _index(linker: list[str], plain: list[Arg], inputs: list[linkinputs.Input], workdir: str, verbose: bool):
    """The index-only run: (its status, the bitcode modules taking part in its order, their resolution). Its
    messages reach the user only when it fails (the final link repeats any warning)."""
    index_dir = os.path.join(workdir, "index") + os.sep
    os.makedirs(index_dir, exist_ok=True)
    listing = os.path.join(index_dir, "modules.txt")
    args = [a for a in plain if a.name != "output"] + [
        Arg(["-o", index_dir + "out"], "output", index_dir + "out"),
        ldargs.option("thinlto-index-only", listing), ldargs.option("save-temps", "resolution"),
        ldargs.option("thinlto-prefix-replace", ";" + index_dir)]
    cmd = [*linker, *ldargs.render(args)]
    if verbose:
        print(f"{PROG}: {shlex.join(cmd)}", file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode:
        sys.stdout.buffer.write(proc.stdout)
        sys.stderr.buffer.write(proc.stderr)
        return proc.returncode, [], {}
    with open(listing, encoding="utf-8", errors="surrogateescape") as f:
        listed = [ln for ln in f.read().splitlines() if ln]
    from . import linkinputs
    resolution = linkinputs.read_resolution(index_dir + "out.resolution.txt")
    chosen, resolved = linkinputs.participants(inputs, listed, resolution, index_dir,
                                               linkinputs.version_script_names(plain))
    return 0, chosen, resolved


def _build(chosen, resolved, options, run_options, objdir: str, own) -> dict[str, str]:
    """Both rounds over the modules taking part; each module's object path by its name."""
    from . import cli, report
    from .pipeline import build

    link = dataclasses.replace(options.thin_link, resolution=tuple(
        (name, tuple(sorted(syms.items()))) for name, syms in sorted(resolved.items()))) \
        if options.thin_link is not None else None
    options = dataclasses.replace(options, thin_link=link)
    from .linkinputs import sources

    with cli.stderr_logging(own), cli.executor(own) as ex:
        result = build(sources(chosen), options, objdir, run_options, ex)
    if own.verbose:
        print(report.summary(report.build_report(result)), file=sys.stderr)
    return {m.path: os.path.join(objdir, m.output) for m in result.plan.modules}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage text
        raise TwopassError("--twopass-*", message)


def _own_options(args: list[Arg]) -> argparse.Namespace:
    """twopass's options: $TWOPASS_LDFLAGS, then every --twopass-<option>[=value] on the line."""
    from . import cli

    p = _Parser(prog=PROG, add_help=False)
    cli.codegen_arguments(p, inputs=False)
    cli.output_arguments(p)
    p.add_argument("--ld-path")
    p.add_argument("--verify-determinism", action="store_true")
    p.add_argument("--verbose", "-v", action="count", default=0)
    p.add_argument("--quiet", "-q", action="store_true")
    words = shlex.split(os.environ.get("TWOPASS_LDFLAGS", ""))
    for a in args:
        if a.name is not None and a.name.startswith(_PREFIX):
            words.append("--" + a.tokens[0].lstrip("-")[len(_PREFIX):])
            words += a.tokens[1:]
    own = p.parse_args(cli.glue_mllvm(words))
    own.quiet = own.quiet or not own.verbose
    return own


def _build_options(args: list[Arg], own: argparse.Namespace, output: str):
    """BuildOptions and RunOptions from the LTO options lld takes, then twopass's own."""
    from . import cli
    from .pipeline import RunOptions

    options = cli.build_options(own)
    jobs, cache_dir, policy = own.jobs, _cache_dir(args, own), own.cache_policy
    llvm: list[str] = []
    fields: dict = {}
    pie = shared = False
    for a in args:
        v = a.value or ""
        if a.name in ("pie", "no-pie"):
            pie = a.name == "pie"
        elif a.name == "shared":
            shared = True
        elif a.name == "lto-O":
            fields["opt_level"] = _level(a)
        elif a.name == "mllvm":
            llvm.append(v)
        elif a.name == "thinlto-jobs":
            jobs = _jobs(v)
        elif a.name == "thinlto-cache-policy":
            policy = v
        elif a.name == "plugin-opt":
            if v.startswith("-"):
                llvm.append(v)
            elif v[:1] == "O" and v[1:].isdigit():
                fields["opt_level"] = _level(a, v[1:])
            elif v.startswith("mcpu="):
                # lld's Conf.CPU: the TargetMachine's, under the functions' own target-cpu, tune-cpu and
                # target-features (clang passes its default CPU; rewriting every function's stripped
                # __attribute__((target("avx2"))) functions of their features)
                fields["overrides"] = dataclasses.replace(options.overrides, default_cpu=v[5:])
            elif v.startswith("jobs="):
                jobs = _jobs(v[5:])
            elif v in ("emit-asm", "emit-llvm"):
                raise TwopassError(a.tokens[0], "twopass writes only objects (no assembly or bitcode output)")
            elif v != "save-temps" and not v.startswith(_IGNORED_PLUGIN_OPTS):
                raise TwopassError(a.tokens[0], "not supported by twopass")
        elif a.name in ("lto-emit-asm", "lto-emit-llvm"):
            raise TwopassError(a.tokens[0], "twopass writes only objects (no assembly or bitcode output)")
        elif a.name == "relocatable":
            raise TwopassError(a.tokens[0], "a relocatable link of bitcode needs bitcode output, which twopass "
                                            "does not write")
    if own.relocation_model is None:
        # lld's rule (lld/ELF/LTO.cpp): the link decides, not the modules' PIC level: position-independent code
        # only for -shared and -pie; an executable at a fixed address gets the static model's shorter code.
        fields["overrides"] = dataclasses.replace(fields.get("overrides", options.overrides),
                                                  reloc="pic" if pie or shared else "static")
    cgdata_out = own.cgdata_out
    fields["extra_llvm"] = options.extra_llvm
    for opt in llvm:
        cgdata_out = _llvm_option(opt, fields, options, output, cgdata_out)
    options = dataclasses.replace(options, **fields)
    run = RunOptions(jobs=jobs, keep_going=False, cache=own.cache and cache_dir is not None,
                     cache_dir=cache_dir, cache_policy=policy, progress=False, report=own.report,
                     manifest=own.manifest, cgdata_out=cgdata_out, cgdata_format=own.cgdata_format)
    return options, run


def _cache_dir(args: list[Arg], own: argparse.Namespace) -> str | None:
    """lld's --thinlto-cache-dir (the last), else --twopass-cache-dir; no cache without one, as lld."""
    return next((a.value for a in reversed(args) if a.name == "thinlto-cache-dir" and a.value), own.cache_dir)


def _llvm_option(opt: str, fields: dict, options, output: str, cgdata_out: str | None) -> str | None:
    """An LLVM option from -plugin-opt=- or -mllvm: those clang passes for twopass's own choices become them
    (a writer build's data goes to <output>.cgdata unless --twopass-cgdata-out names a file)."""
    name, _, value = opt.partition("=")
    truthy = value in ("", "1", "true")
    if name == "-codegen-data-generate":
        return (cgdata_out or output + ".cgdata") if truthy else cgdata_out
    if name == "-codegen-data-use-path":
        fields["cgdata_in"] = os.path.abspath(value)
    elif name == "-enable-machine-outliner":
        if value == "never":
            fields["outliner"] = "never"
    elif name in ("-function-sections", "-data-sections"):
        if name == "-function-sections":
            fields["layout"] = dataclasses.replace(fields.get("layout", options.layout), function_sections=truthy)
        elif truthy:
            print(f"{PROG}: warning: {opt}: not honoured (llvmlite's target machine has no data sections)",
                  file=sys.stderr)
    elif name == "-enable-global-merge-func" and not truthy:
        fields["merge_functions"] = False
    elif name in _TARGET_FLAGS:
        if value not in _TARGET_FLAGS[name]:
            raise TwopassError(f"-mllvm {opt}", "not supported by twopass (llvmlite's target machines take the "
                                                "target's default)")
    elif name not in _DROPPED_LLVM:
        fields["extra_llvm"] = (*fields["extra_llvm"], opt)
    return cgdata_out


def _level(a: Arg, text: str | None = None) -> int:
    text = a.value if text is None else text
    if text is None or not text.isdigit() or int(text) > 3:
        raise TwopassError(a.tokens[0], "the LTO optimization level must be 0, 1, 2 or 3")
    return int(text)


def _jobs(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    return os.cpu_count() or 1  # lld's `all`, heavyweight/hardware-thread forms: every core
