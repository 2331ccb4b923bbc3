"""The library entry point, `build(inputs, options, outdir)`: the plan, then the phases (phases.py), or the
cache's record of the same build made before (rebuild.py), which a no-op rebuild reads instead of everything.

Outputs are written only once every module has succeeded (or, with keep_going, every module that did), each
to a temporary name and then renamed.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from . import atomic, cache as cache_, cgdata, llvm, report
from .errors import TwopassError
from .executor import Executor, LocalExecutor
from .plan import BuildOptions, ModuleInput, ModuleSource, Plan, make_plan, read_inputs

if TYPE_CHECKING:
    from . import workers
    from .artefacts import CacheStats
    from .rebuild import Record


@dataclass(frozen=True)
class RunOptions:
    """How a build runs and what it leaves besides the objects; none of it changes an object's bytes."""

    jobs: int = os.cpu_count() or 1
    keep_going: bool = False
    cache: bool = True
    cache_dir: str | None = None  # default: $XDG_CACHE_HOME/twopass
    cache_policy: str = ""  # LLVM's syntax, applied after the build
    progress: bool | None = False  # None: on a terminal
    save_temps: str | None = None  # directory for round one's IR and scratch objects, and the merged data
    report: str | None = None  # JSON report
    manifest: str | None = None
    cgdata_out: str | None = None  # writer build: the merged data
    private_outputs: bool = False  # nothing but the caller reads the objects: they may be the cache's own files
    cgdata_format: str = "binary"


@dataclass
class Failure:
    module: str
    message: str


@dataclass
class BuildResult:
    plan: Plan
    round_one: dict[str, workers.Result] = field(default_factory=dict)
    round_two: dict[str, workers.Result] = field(default_factory=dict)
    merged: bytes = b""
    merged_data: cgdata.CodeGenData | None = None  # parsed only when something needs more than its facts
    merged_facts: dict | None = None  # globaldata.facts of the merged data
    failures: list[Failure] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    cache: CacheStats | None = None
    thin_link: dict | None = None  # what the thin link decided, in numbers
    summary_seconds: float = 0.0  # the summary workers' time
    cgdata_used: dict | None = None  # how much of the data a reader or round two found again
    size_guard: dict | None = None  # which round's objects a two-round build kept, and the estimates
    jobs: int = 1
    placement: dict[str, dict[str, str]] = field(default_factory=dict)  # round -> module -> where it ran
    traffic: dict[str, int] | None = None  # bytes between this machine and a cluster
    timeline: list[tuple[str, str, int, float, float]] = field(default_factory=list)  # (round, module, worker,
    #                                                             sent, answered): seconds since the build began
    started: float = 0.0  # time.monotonic() when it began
    recorded: Record | None = None  # the build came whole from the cache's record of an earlier one
    again: dict | None = None  # what the record of the command that ran this build holds of it (again.py)
    manifest: bytes | None = None  # the manifest it wrote, if asked for one

    def codegen_data(self) -> cgdata.CodeGenData:
        if self.merged_data is None:
            self.merged_data = cgdata.parse(self.merged, "merged codegen data")
        return self.merged_data

    def final(self, module: ModuleInput) -> workers.Result | None:
        results = self.round_two if self.plan.options.two_rounds else self.round_one
        return results.get(module.output)

    def outputs(self) -> dict[str, bytes]:
        """Output name -> final object, for the modules that succeeded."""
        if self.recorded is not None:
            return self.recorded.objects
        return {m.output: r.obj for m in self.plan.modules if (r := self.final(m)) is not None}


class BuildFailed(TwopassError):
    """One or more modules failed; `lines()` gives one `module: reason` line per failure."""

    def __init__(self, failures: list[Failure], result: BuildResult | None = None):
        super().__init__(failures[0].module, failures[0].message)
        self.failures = failures
        self.result = result

    def lines(self) -> list[str]:
        return [f"{f.module}: {f.message}" for f in self.failures]


def build(inputs: Iterable[str | ModuleSource], options: BuildOptions, outdir: str,
          run: RunOptions = RunOptions(), executor: Executor | None = None) -> BuildResult:
    """Build `inputs` (paths, directories, @response files, or module sources) into one object each under
    `outdir`. Bad input raises TwopassError (one line naming what is wrong) before any work is done; failed
    modules raise BuildFailed after the others' objects are written (`run.keep_going`) or at once."""
    start, began = time.perf_counter(), time.monotonic()
    _check(options, run)
    llvm.check_options(options.extra_llvm)
    from .cachepolicy import parse_policy
    policy = parse_policy(run.cache_policy)
    store = cache_.Cache(run.cache_dir or cache_.default_dir()) if run.cache else None
    plan = make_plan(_sources(inputs), options)
    reader = None
    if options.cgdata_in is not None:
        from . import globaldata
        reader = globaldata.load_for_reader(options.cgdata_in, plan.triple)
        plan.options = dataclasses.replace(plan.options, cgdata_in_digest=reader.digest)
    _check_outdir(outdir)
    executor = executor or LocalExecutor(run.jobs)
    record_key = None
    if store is not None and run.save_temps is None:
        from . import rebuild
        record_key = rebuild.key(plan, llvm.versions())
        recorded = rebuild.lookup(store, record_key)
        if recorded is not None:
            result = _recorded(recorded, plan, run, executor, outdir, start)
            store.prune(policy)
            result.again = _again(store, record_key, recorded, result, run, policy.interval)
            return result
    executor.prepare()
    from . import layout as layout_
    from .phases import Build
    b = Build(plan, run, executor, store, reader, record_key)
    b.result.started = began
    b.result.phases["plan"] = time.perf_counter() - start
    try:
        modules, imports, exporters = b.thin_link()
        b.round_one(modules, imports, exporters)
        survivors = [m for m in modules if m.output in b.result.round_one]
        if plan.options.generates_cgdata:
            b.merge(survivors)
        if plan.options.two_rounds:
            guard = plan.options.size_guard and layout_.applies_to(plan.triple)  # it reads ELF objects
            b.round_two(survivors, estimate_round_one=guard)
            if guard:
                b.size_guard([m for m in survivors if m.output in b.result.round_two])
        b.executor.check()
        b.write_outputs(outdir)
        b.result.traffic = dict(getattr(b.executor, "traffic", None) or {}) or None
    except BuildFailed as e:
        if run.report:
            report.write_report(report.build_report(e.result or b.result), run.report)
        raise
    built = report.build_report(b.result)
    if store is not None:
        if b.blobs and record_key is not None:
            from . import rebuild
            saved = rebuild.save(store, record_key, b.blobs, built)
            b.result.again = _again(store, record_key, saved, b.result, run, policy.interval)
        store.prune(policy)
    if run.report:
        report.write_report(built, run.report)
    return b.result


def _recorded(recorded, plan: Plan, run: RunOptions, executor: Executor, outdir: str, start: float
              ) -> BuildResult:
    """A build the cache's record answered whole: its objects placed, and what goes with them written."""
    result = BuildResult(plan, jobs=run.jobs, merged=recorded.merged or b"", recorded=recorded)
    result.phases["plan"] = time.perf_counter() - start
    executor.check()
    written = time.perf_counter()
    atomic.write_files(outdir, recorded.objects, recorded.blob_paths, run.private_outputs)
    result.phases["write"] = time.perf_counter() - written
    write_beside(result, run, recorded.objects)
    if run.report:
        report.write_report(report.build_report(result), run.report)
    return result


def _again(store: cache_.Cache, record_key: str, record: Record, result: BuildResult, run: RunOptions,
           interval: float | None) -> dict:
    """What a record of the command that ran this build keeps of it (again.py): the build's record, the blobs it
    names (the merged data's too, which a replay keeps as recently used as the build's record would), and the
    report a build answered by that record writes (its phases left to the run)."""
    from . import rebuild
    return {"dir": os.path.abspath(store.root), "record": record_key, "objects": sorted(record.digests.items()),
            "merged": record.merged_digest, "interval": interval,
            "report": rebuild.report(record, result.plan, run.jobs, {})}


def write_beside(result: BuildResult, run: RunOptions, objects: dict[str, bytes]) -> None:
    """What a build writes beside its objects: the merged data for readers (a writer build), the manifest."""
    if run.cgdata_out:
        from . import globaldata
        globaldata.write_for_readers(run.cgdata_out, result.codegen_data(), run.cgdata_format, result.plan.triple)
    if run.manifest:
        from . import determinism
        merged = result.merged if result.plan.options.generates_cgdata else None
        result.manifest = determinism.dump_manifest(determinism.manifest(objects, merged))
        atomic.write_atomic(run.manifest, result.manifest)


def link(inputs: Iterable[str | ModuleSource], options: BuildOptions, run: RunOptions = RunOptions()
         ) -> tuple[Plan, dict[str, workers.Imports]]:
    """The plan and the thin link's imports alone, for builds whose rounds run elsewhere (ninja.py)."""
    _check(options, run)
    llvm.check_options(options.extra_llvm)
    store = cache_.Cache(run.cache_dir or cache_.default_dir()) if run.cache else None
    plan = make_plan(_sources(inputs), options)
    from .phases import Build
    _, imports, _ = Build(plan, run, LocalExecutor(run.jobs), store, None).thin_link()
    return plan, imports


def finish(inputs: Iterable[str | ModuleSource], options: BuildOptions, outdir: str, run: RunOptions,
           round_one: dict[str, workers.Result], round_two: dict[str, workers.Result], merged: bytes
           ) -> BuildResult:
    """The phases after the rounds (the size guard, outputs), on results made elsewhere (ninja.py); the size
    guard's own codegen, when it keeps round one, runs here."""
    from . import globaldata
    from . import layout as layout_
    from .phases import Build
    plan = make_plan(_sources(inputs), options)
    _check_outdir(outdir)
    b = Build(plan, run, LocalExecutor(run.jobs), None, None)
    b.result.round_one, b.result.round_two, b.result.merged = round_one, round_two, merged
    if merged:
        b.result.merged_facts = globaldata.facts(b.result.codegen_data())
    if plan.options.two_rounds and plan.options.size_guard and layout_.applies_to(plan.triple):
        b.size_guard(plan.modules)
    b.write_outputs(outdir)
    return b.result


def _sources(inputs: Iterable[str | ModuleSource]) -> list[ModuleSource]:
    out: list[ModuleSource] = []
    paths: list[str] = []
    for item in [*inputs, None]:
        if isinstance(item, str):
            paths.append(item)
            continue
        if paths:
            out += read_inputs(paths)
            paths = []
        if item is not None:
            out.append(item)
    return out


def _check(options: BuildOptions, run: RunOptions) -> None:
    if run.jobs < 1:
        raise TwopassError("", "--jobs must be at least 1")
    if options.cgdata_in and options.outliner != "global":
        raise TwopassError("--cgdata-in", "a reader build needs the global outliner (--outliner global)")
    if run.cgdata_out and not options.generates_cgdata:
        raise TwopassError("--cgdata-out", "only a build that generates codegen data (--outliner global, "
                                           "no --cgdata-in) can write it")


def _check_outdir(outdir: str) -> None:
    """Fail before any work if the outputs could not be written; a directory yet to be made is made only with
    them, so a failed build leaves nothing behind."""
    existing = os.path.abspath(outdir)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    try:
        if existing != os.path.abspath(outdir) and not os.path.isdir(existing):
            raise NotADirectoryError(20, f"{existing} is not a directory")
        fd, probe = tempfile.mkstemp(prefix=".twopass-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise TwopassError(outdir, f"cannot write to the output directory: {e.strerror or e}") from None
