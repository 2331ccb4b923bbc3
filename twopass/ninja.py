"""`twopass build --emit-ninja FILE`: the build as a Ninja file of single-module backend actions, and the
`twopass backend` commands it runs — the interface a Bazel or Buck action calls.

ThinLTO's design has the linker "write the parallel backend invocations into a makefile and exit"; this is
that for two rounds. Edges, each a command on explicit input and output files (paths relative to FILE's
directory, where Ninja runs: `ninja -C DIR -f FILE`):

    thin-link  PLAN -> one round-one and one round-two job per module   (all the bitcode; restat)
    round1     JOB  -> RESULT            a module's import, optimization and codegen (IR, object, payloads)
    merge      PLAN RESULT... -> DATA    every module's codegen data as one .cgdata (restat)
    round2     JOB RESULT DATA -> RESULT the module's codegen again from its saved IR, with the merged data
    finish     PLAN RESULT... -> OBJECTS the size guard and the objects, as a build writes them

A job names the digests of every file it reads (its module, its exporters, a reader's data), so an edited
module reruns the thin link, and with `restat` only the jobs that changed, the merge, and round two where the
merged data changed. Job and result files are this twopass version's (a pickle behind a format line): the
thin link makes them again when twopass changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import pickletools
import shlex
import sys
import tempfile
from typing import Any, Callable

from . import __version__
from .errors import InputError

FORMAT = f"twopass backend file {__version__}\n".encode()


def _dump(obj: Any) -> bytes:
    return FORMAT + pickletools.optimize(pickle.dumps(obj, protocol=4))


def _write_job(path: str, obj: Any) -> None:
    """Left alone when it holds an equal job, so that `restat` sees only real changes (equal jobs can pickle
    differently: decisions from the cache share fewer strings than decisions made now)."""
    try:
        if _load(path, "job") == obj:
            return
    except (InputError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        pass
    _write_if_changed(path, _dump(obj))


def _file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None


def _load(path: str, what: str) -> Any:
    data = _file(path)
    if not data.startswith(FORMAT):
        raise InputError(path, f"not a {what} of twopass {__version__} (run `twopass build --emit-ninja` again)")
    return pickle.loads(data[len(FORMAT):])


def _write_if_changed(path: str, data: bytes) -> None:
    from .atomic import write_atomic

    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_atomic(path, data)


def _read(path: str, digest: str) -> bytes:
    """A file a job names, as the thin link saw it."""
    data = _file(path)
    if hashlib.sha256(data).hexdigest() != digest:
        raise InputError(path, "changed since the thin link (run ninja again: the thin link edge comes first)")
    return data


@dataclasses.dataclass(frozen=True)
class BuildPlan:
    """What `--emit-ninja` was asked: the modules (name, file, output path) and the options, paths relative to
    the Ninja file's directory."""

    sources: list[tuple[str, str, str]]
    options: Any  # BuildOptions
    outdir: str
    jobs: int
    cache: bool
    cache_dir: str | None

    def module_sources(self):
        from .plan import ModuleSource
        return [ModuleSource(name, _file(file), path) for name, file, path in self.sources]

    def run(self):
        from .pipeline import RunOptions
        return RunOptions(jobs=self.jobs, cache=self.cache, cache_dir=self.cache_dir)


def _esc(path: str) -> str:
    return path.replace("$", "$$").replace(" ", "$ ").replace(":", "$:").replace("\n", "")


def emit(inputs: list[str], options, outdir: str, run, ninja_file: str) -> int:
    """Run the thin link, write its jobs and the Ninja file; returns how many modules it holds."""
    from .plan import read_inputs

    base = os.path.dirname(os.path.abspath(ninja_file))
    rel = lambda p: os.path.relpath(os.path.abspath(p), base)  # noqa: E731
    sources = read_inputs(inputs)
    if options.cgdata_in is not None:
        options = dataclasses.replace(options, cgdata_in=rel(options.cgdata_in))
    work = os.path.basename(ninja_file) + ".d"
    plan = BuildPlan([(s.name, rel(s.name), s.path) for s in sources], options, rel(outdir), run.jobs, run.cache,
                     rel(run.cache_dir) if run.cache_dir else None)
    cwd = os.getcwd()
    os.makedirs(os.path.join(base, work), exist_ok=True)
    try:
        os.chdir(base)  # the backend commands run here
        _write_job(os.path.join(work, "build.plan"), plan)
        outputs = thin_link(os.path.join(work, "build.plan"))
    finally:
        os.chdir(cwd)
    from .atomic import write_atomic
    write_atomic(ninja_file, _ninja(plan, work, outputs).encode())
    return len(outputs)


def thin_link(plan_path: str) -> list[str]:
    """`backend thin-link PLAN`: every module's jobs (written only where they changed); the output names."""
    from . import workers
    from .pipeline import link

    bp: BuildPlan = _load(plan_path, "build plan")
    work = os.path.dirname(plan_path)
    result_plan, imports = link(bp.module_sources(), bp.options, bp.run())
    opts = result_plan.options
    files = {hashlib.sha256(m.data).hexdigest(): file for m, (_, file, _) in zip(result_plan.modules, bp.sources)}
    reader = None
    if opts.cgdata_in is not None:
        reader = (opts.cgdata_in, hashlib.sha256(_file(opts.cgdata_in)).hexdigest())
    for m, (_, file, _) in zip(result_plan.modules, bp.sources):
        job = workers.RoundOneJob(m.path, b"", opts.opt_level, opts.overrides, opts.final_layout(1),
                                  imports.get(m.output), opts.layout.assembler)
        reads = [(file, m.digest), *((files[d], d) for d in job.blob_digests())]
        _write_job(os.path.join(work, m.output + ".r1.job"), ("round 1", opts.llvm_options(1), reads, reader, job))
        if opts.two_rounds:
            job2 = workers.RoundTwoJob(m.path, b"", None, opts.opt_level,  # type: ignore[arg-type]
                                       opts.final_layout(2), opts.layout.assembler)
            _write_job(os.path.join(work, m.output + ".r2.job"), ("round 2", opts.llvm_options(2), [], None, job2))
    return [m.output for m in result_plan.modules]


def _ninja(plan: BuildPlan, work: str, outputs: list[str]) -> str:
    two = plan.options.two_rounds
    tp = f"{shlex.quote(sys.executable)} -m twopass"
    lines = [f"# twopass {__version__} build --emit-ninja: run as `ninja -C <this directory> -f <this file>`.",
             "ninja_required_version = 1.10", f"twopass = {tp}", f"plan = {_esc(work)}/build.plan", ""]
    rules = {"thin-link": "$twopass backend thin-link $plan",
             "round1": "$twopass backend round1 $in -o $out",
             "merge": "$twopass backend merge $plan @$out.rsp -o $out",
             "round2": "$twopass backend round2 $in -o $out",
             "finish": "$twopass backend finish $plan @$rsp"}
    for name, command in rules.items():
        lines += [f"rule {name}", f"  command = {command}", f"  description = {name} $what", "  restat = 1"]
        if name == "merge":
            lines += ["  rspfile = $out.rsp", "  rspfile_content = $in_newline"]
        if name == "finish":
            lines += ["  rspfile = $rsp", "  rspfile_content = $in_newline"]
        lines.append("")
    w = _esc(work)
    jobs = [f"{w}/{_esc(o)}.r1.job" for o in outputs] + ([f"{w}/{_esc(o)}.r2.job" for o in outputs] if two else [])
    bitcode = [_esc(file) for _, file, _ in plan.sources]
    if plan.options.cgdata_in is not None:
        bitcode.append(_esc(plan.options.cgdata_in))
    lines += [f"build {' '.join(jobs)}: thin-link $plan | {' '.join(bitcode)}", "  what = (imports)", ""]
    finals = []
    for o in outputs:
        lines += [f"build {w}/{_esc(o)}.r1: round1 {w}/{_esc(o)}.r1.job", f"  what = {_esc(o)}"]
    if two:
        results = " ".join(f"{w}/{_esc(o)}.r1" for o in outputs)
        lines += [f"build {w}/merged.cgdata: merge {results} | $plan", "  what = (codegen data)"]
        for o in outputs:
            lines += [f"build {w}/{_esc(o)}.r2: round2 {w}/{_esc(o)}.r2.job {w}/{_esc(o)}.r1 {w}/merged.cgdata",
                      f"  what = {_esc(o)}"]
            finals.append(f"{w}/{_esc(o)}.r2")
    objects = " ".join(_esc(os.path.join(plan.outdir, o)) for o in outputs)
    lines += [f"build {objects}: finish {' '.join(f'{w}/{_esc(o)}.r1' for o in outputs)} {' '.join(finals)} "
              f"| $plan", f"  rsp = {w}/finish.rsp", "  what = (size guard, objects)", f"default {objects}", ""]
    return "\n".join(lines)


def _run_job(job_path: str, inputs: list[str], out: str) -> None:
    """`backend round1 JOB -o OUT`, `backend round2 JOB ROUND1 DATA -o OUT`: one module, in this process."""
    from . import workers
    from .executor import Round, write_round_files

    round_name, llvm_options, reads, reader, job = _load(job_path, "backend job")
    data = [_read(path, digest) for path, digest in reads]
    blobs = {digest: blob for (_, digest), blob in zip(reads[1:], data[1:])}  # its exporters, as workers read them
    with tempfile.TemporaryDirectory(prefix="twopass-backend-") as tmp:
        cgdata = _read(*reader) if reader is not None else None
        func: Callable[[Any], Any]
        if round_name == "round 1":
            job = dataclasses.replace(job, data=data[0])
            func = workers.round_one
        else:
            (r1_path, cgdata_path) = inputs
            _, r1 = _load(r1_path, "round-one result")
            cgdata = _file(cgdata_path)
            job = dataclasses.replace(job, ir=r1.ir, target=r1.target, discard=r1.discard)
            func = workers.round_two
        round_ = Round(round_name, func, llvm_options, cgdata=cgdata, blobs=blobs)
        workers.start(round_.options_for(write_round_files(round_, tmp)), tmp)
        result = func(job)
    result.timings = {}  # results are build inputs: no clock readings in them
    _write_if_changed(out, _dump((job.name, result)))


def _merge(plan_path: str, results: list[str], out: str) -> None:
    from . import cgdata, globaldata

    plan: BuildPlan = _load(plan_path, "build plan")
    loaded = [_load(p, "round-one result") for p in results]
    merged, _ = globaldata.merge_payloads([(name, r.payloads) for name, r in loaded],
                                          cgdata.MergeThresholds.from_llvm_options(plan.options.extra_llvm))
    _write_if_changed(out, merged)


def _finish(plan_path: str, results: list[str]) -> None:
    from .pipeline import finish

    plan: BuildPlan = _load(plan_path, "build plan")
    one = [_load(p, "result") for p in results if p.endswith(".r1")]
    two = [_load(p, "result") for p in results if p.endswith(".r2")]
    sources = plan.module_sources()
    from .plan import output_names
    names = output_names([path for _, _, path in plan.sources])
    by_name = {name: names[path] for name, _, path in plan.sources}
    merged = _file(os.path.join(os.path.dirname(plan_path), "merged.cgdata")) if two else b""
    finish(sources, plan.options, plan.outdir, plan.run(), {by_name[n]: r for n, r in one},
           {by_name[n]: r for n, r in two}, merged)


def backend(args) -> int:
    """The `twopass backend ACTION` entry point."""
    from .plan import expand_inputs

    if args.action == "thin-link":
        thin_link(args.plan)
    elif args.action in ("round1", "round2"):
        _run_job(args.job, args.inputs, args.output)
    elif args.action == "merge":
        _merge(args.plan, expand_inputs(args.results), args.output)
    else:
        _finish(args.plan, expand_inputs(args.results))
    return 0
