"""Running a plan: round one in one pool, the merge, round two in a fresh pool, then the outputs.

Round-two workers must be new processes: LLVM reads `-codegen-data-use-path` once per process, and round
one's workers were started with `-codegen-data-generate`. Outputs are written only once every module has
succeeded (or, with keep_going, every module that did), each to a temporary name and then renamed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field

import msgpack

from . import cgdata, globaldata, llvm, workers
from .cache import Cache
from .errors import TwopassError
from .plan import ModuleInput, Plan, link_key, module_keys, summary_key
from .report import Progress

log = logging.getLogger("twopass.build")

@dataclass
class Failure:
    module: str
    message: str


@dataclass
class CacheStats:
    """Hits and misses per round and stream, LLVM seconds the hits saved, and why round two missed."""

    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    seconds_saved: float = 0.0
    round_two_misses: dict[str, int] = field(default_factory=dict)

    def count(self, round_name: str, stream: str, hit: bool) -> None:
        c = self.counts.setdefault(round_name, {}).setdefault(stream, {"hits": 0, "misses": 0})
        c["hits" if hit else "misses"] += 1


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

    def codegen_data(self) -> cgdata.CodeGenData:
        if self.merged_data is None:
            self.merged_data = cgdata.parse(self.merged, "merged codegen data")
        return self.merged_data

    def final(self, module: ModuleInput) -> workers.Result | None:
        results = self.round_two if self.plan.options.two_rounds else self.round_one
        return results.get(module.output)


class _Artefacts:
    """The build's view of the cache: which entry each module's round needs, and what a hit saves."""

    def __init__(self, store: Cache | None, plan: Plan, need_ir: bool):
        self.store, self.opts, self.need_ir = store, plan.options, need_ir
        self.stats = CacheStats()
        self.versions = llvm.versions()
        self.keys = {m.output: module_keys(m, plan.options, self.versions) for m in plan.modules}
        self.last_cgdata: dict[str, str | None] = {}

    def set_link(self, modules: list[ModuleInput], fields: dict[str, dict]) -> None:
        """Keys once the thin link has decided what each module imports."""
        for m in modules:
            self.keys[m.output] = module_keys(m, self.opts, self.versions, fields[m.output])

    def summary(self, m: ModuleInput) -> bytes | None:
        data = self._get("ir", summary_key(m, self.versions))
        if self.store is not None:
            self.stats.count("summary", "ir", data is not None)
        return data

    def save_summary(self, m: ModuleInput, data: bytes) -> None:
        if self.store is not None:
            self.store.put("ir", summary_key(m, self.versions), data)

    def link(self, modules: list[ModuleInput]):
        """The thin link's decisions when they were made before for exactly these inputs and options."""
        if self.store is None:
            return None
        from . import thinlink
        decisions = self._decoded("ir", link_key(modules, self.opts.thin_link, self.versions),
                                  thinlink.load_decisions)
        self.stats.count("thin link", "ir", decisions is not None)
        return decisions

    def save_link(self, modules: list[ModuleInput], decisions) -> None:
        if self.store is not None:
            from . import thinlink
            self.store.put("ir", link_key(modules, self.opts.thin_link, self.versions),
                           thinlink.dump_decisions(decisions))

    def _get(self, stream: str, key: str) -> bytes | None:
        return None if self.store is None else self.store.get(stream, key)

    def _decoded(self, stream: str, key: str, decode):
        """An entry through `decode`; None when it is missing or `decode` says it is not ours (logged)."""
        data = self._get(stream, key)
        if data is None:
            return None
        try:
            return decode(data)
        except ValueError as e:
            log.warning("cache entry %s/%s ignored: %s", stream, key, e)
            return None

    def _entry(self, round_name: str, stream: str, key: str, ir: bytes = b"") -> tuple[workers.Result | None, dict]:
        result, fields = self._decoded(stream, key, lambda data: workers.Result.from_entry(data, ir)) or (None, {})
        self.stats.count(round_name, stream, result is not None)
        return result, fields

    def round_one(self, m: ModuleInput) -> workers.Result | None:
        """A module's round one from the cache: its IR when anything needs it, and its object."""
        if self.store is None:
            return None
        k = self.keys[m.output]
        ir = b""
        if self.need_ir:
            ir = self._get("ir", k.ir) or b""
            self.stats.count("round 1", "ir", bool(ir))
        stream = "scratch" if self.opts.two_rounds else "object"
        result, fields = self._entry("round 1", stream, k.round_one, ir)
        self.last_cgdata[m.output] = fields.get("last_cgdata")
        if result is None or (self.need_ir and not ir):
            return None
        self.stats.seconds_saved += result.seconds
        return result

    def save_round_one(self, m: ModuleInput, r: workers.Result) -> None:
        if self.store is not None:
            k = self.keys[m.output]
            self.store.put("ir", k.ir, r.ir)
            self.store.put("scratch" if self.opts.two_rounds else "object", k.round_one, r.to_entry())

    def round_two(self, m: ModuleInput, r1: workers.Result, cgdata_digest: str) -> workers.Result | None:
        if self.store is None:
            return None
        result, _ = self._entry("round 2", "object", self.keys[m.output].round_two(self.opts, cgdata_digest))
        if result is not None:
            self.stats.seconds_saved += result.seconds
            return result
        last = self.last_cgdata.get(m.output)
        why = ("its round one ran" if not r1.cached else
               "merged codegen data changed" if last is not None and last != cgdata_digest else
               "object not in the cache")
        self.stats.round_two_misses[why] = self.stats.round_two_misses.get(why, 0) + 1
        return None

    def merge(self, result: BuildResult, modules: list[ModuleInput]) -> None:
        """Every module's payloads into one indexed .cgdata (independent of module order), or the same bytes
        from the cache when every module's round one is the one that was merged before."""
        start = time.perf_counter()
        key = hashlib.sha256("\0".join(["merged", *sorted(self.keys[m.output].round_one for m in modules)])
                             .encode()).hexdigest()
        cached = self._get("scratch", key)
        if self.store is not None:
            self.stats.count("merge", "scratch", cached is not None)
        facts_key = hashlib.sha256(f"facts\0{key}".encode()).hexdigest()
        if cached is not None:
            result.merged = cached
            result.merged_facts = self._facts(facts_key)
        else:
            merger = cgdata.Merger()
            for m in modules:
                for kind, data in result.round_one[m.output].payloads:
                    merger.add_payload(kind, data, m.path)
            result.merged_data = merger.result()
            result.merged = cgdata.dump(result.merged_data)
            if self.store is not None:
                self.store.put("scratch", key, result.merged)
        if result.merged_facts is None:
            result.merged_facts = globaldata.facts(result.codegen_data())
            if self.store is not None:
                self.store.put("scratch", facts_key, msgpack.packb(result.merged_facts))
        result.phases["merge"] = time.perf_counter() - start

    def _facts(self, key: str) -> dict | None:
        data = self._get("scratch", key)
        try:
            facts = msgpack.unpackb(data) if data is not None else None
            return facts if isinstance(facts, dict) and {"tree", "funcmap", "sequences"} <= facts.keys() else None
        except (ValueError, msgpack.UnpackException):
            return None

    def save_round_two(self, m: ModuleInput, r1: workers.Result, r2: workers.Result, cgdata_digest: str) -> None:
        if self.store is not None:
            k = self.keys[m.output]
            self.store.put("object", k.round_two(self.opts, cgdata_digest), r2.to_entry())
            if self.last_cgdata.get(m.output) != cgdata_digest:  # remembered to explain the next miss
                self.store.put("scratch", k.round_one, r1.to_entry({"last_cgdata": cgdata_digest}))


def run(plan: Plan, outdir: str, jobs: int, keep_going: bool = False, progress: Progress | None = None,
        log_queue=None, save_temps: str | None = None, store: Cache | None = None) -> BuildResult:
    """`log_queue`: a callable giving the queue workers log to, called only if a worker is needed."""
    progress = progress or Progress(enabled=False)
    _check_outdir(outdir)
    result = BuildResult(plan)
    opts = plan.options
    by_name = {m.output: m for m in plan.modules}
    cache = _Artefacts(store, plan, need_ir=opts.two_rounds or save_temps is not None)
    result.cache = cache.stats if store is not None else None

    def run_round(name: str, func, options, make_job, modules, cached) -> dict[str, workers.Result]:
        start = time.perf_counter()
        done: dict[str, workers.Result] = {}
        progress.start(name, len(modules))
        todo = []
        for m in modules:
            hit = cached(m)
            if hit is None:
                todo.append(m)
            else:
                done[m.output] = hit
                progress.advance(m.path)
        # Largest modules first: the last job to finish then is a small one, so both rounds end together.
        order = sorted(todo, key=lambda m: -len(m.data))
        if order:
            from .pool import Pool  # multiprocessing's imports are 10% of a warm build, which needs no workers
            with Pool(jobs, func, llvm.init, (options,), log_queue() if log_queue else None) as pool:
                for outcome in pool.run(((m.output, make_job(m)) for m in order), stop_on_failure=not keep_going):
                    progress.advance(by_name[outcome.key].path)
                    if outcome.error:
                        path = by_name[outcome.key].path
                        message = outcome.error.removeprefix(f"{path}: ")  # errors that already name the module
                        result.failures.append(Failure(path, message))
                    else:
                        done[outcome.key] = outcome.value
        progress.finish()
        result.phases[name] = time.perf_counter() - start
        if result.failures and not keep_going:
            raise BuildFailed(result.failures)
        return done

    with tempfile.TemporaryDirectory(prefix="twopass-") as tmp:
        reader_data = None
        if opts.cgdata_in is not None:  # a private copy: the data LLVM reads is the data the keys hashed
            reader_data = os.path.join(tmp, "in.cgdata")
            shutil.copyfile(opts.cgdata_in, reader_data)
        modules, imports = plan.modules, {}
        if opts.thin_link is not None:
            modules, imports = _thin_link(plan, result, cache, run_round)
        result.round_one = run_round("round 1", workers.round_one, opts.llvm_options(1, reader_data),
                                     lambda m: workers.RoundOneJob(m.path, m.data, opts.opt_level, opts.overrides,
                                                                   opts.final_layout(1), imports.get(m.output)),
                                     modules, cache.round_one)
        for m in modules:
            r1 = result.round_one.get(m.output)
            if r1 is not None and not r1.cached:
                cache.save_round_one(m, r1)
        survivors = [m for m in modules if m.output in result.round_one]
        if opts.generates_cgdata:
            cache.merge(result, survivors)
        if opts.two_rounds:
            digest = hashlib.sha256(result.merged).hexdigest()
            merged_path = os.path.join(tmp, "merged.cgdata")
            with open(merged_path, "wb") as f:
                f.write(result.merged)
            r1 = {m.output: result.round_one[m.output] for m in survivors}
            result.round_two = run_round(
                "round 2", workers.round_two, opts.llvm_options(2, merged_path),
                lambda m: workers.RoundTwoJob(m.path, r1[m.output].ir, r1[m.output].target, opts.opt_level,
                                              opts.final_layout(2)),
                survivors, lambda m: cache.round_two(m, r1[m.output], digest))
            for m in survivors:
                r2 = result.round_two.get(m.output)
                if r2 is not None and not r2.cached:
                    cache.save_round_two(m, r1[m.output], r2, digest)
    start = time.perf_counter()
    _write_outputs(result, outdir)
    if save_temps:
        _write_temps(result, save_temps)
    result.phases["write"] = time.perf_counter() - start
    if result.failures:
        raise BuildFailed(result.failures, result)
    return result


def _thin_link(plan: Plan, result: BuildResult, cache: _Artefacts, run_round):
    """The thin link's decisions, from the cache when no input changed, else from the summaries (cached,
    computed in workers) alone; and each module's import job."""
    from . import thinlink
    modules = plan.modules
    decisions = cache.link(modules)
    if decisions is None:
        done = run_round("summary", workers.summarize, (), lambda m: (m.path, m.data), modules, cache.summary)
        modules = [m for m in modules if m.output in done]
        summaries = {}
        for m in modules:
            summary = done[m.output]
            if isinstance(summary, tuple):  # made now (with its seconds), not read from the cache
                summary, seconds = summary
                result.summary_seconds += seconds
                cache.save_summary(m, summary)
            summaries[m.output] = summary
    start = time.perf_counter()
    digests = {m.output: m.digest for m in modules}
    if decisions is None:
        decisions = thinlink.thin_link(thinlink.load_summaries(summaries), digests, plan.options.thin_link)
        if len(modules) == len(plan.modules):
            cache.save_link(modules, decisions)
    by_output = {m.output: m for m in modules}
    promotions = {o: d.promote for o, d in decisions.items()}
    cache.set_link(modules, {o: d.key_fields(digests, promotions) for o, d in decisions.items()})
    jobs = {o: workers.Imports(d.promote, d.internalize,
                               [(by_output[e].path, by_output[e].data, promotions[e],
                                 [promotions[e].get(f, f) for f in fns]) for e, fns in d.imports.items()])
            for o, d in decisions.items()}
    result.thin_link = thinlink.statistics(decisions)
    result.phases["thin link"] = time.perf_counter() - start
    return modules, jobs


class BuildFailed(TwopassError):
    """One or more modules failed; `lines()` gives one `module: reason` line per failure."""

    def __init__(self, failures: list[Failure], result: BuildResult | None = None):
        super().__init__(failures[0].module, failures[0].message)
        self.failures = failures
        self.result = result

    def lines(self) -> list[str]:
        return [f"{f.module}: {f.message}" for f in self.failures]


def _check_outdir(outdir: str) -> None:
    try:
        os.makedirs(outdir, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".twopass-probe-", dir=outdir)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise TwopassError(outdir, f"cannot write to the output directory: {e.strerror or e}") from None


def _write_temps(result: BuildResult, directory: str) -> None:
    """Round one's optimized IR and scratch object per module, and the merged data: for debugging and tests."""
    files = {"merged.cgdata": result.merged} if result.merged else {}
    for m in result.plan.modules:
        r1 = result.round_one.get(m.output)
        if r1 is not None:
            stem = m.output[:-2]
            files[stem + ".opt.bc"] = r1.ir
            files[stem + ".scratch.o"] = r1.obj
    _write_files(directory, files)


def _write_outputs(result: BuildResult, outdir: str) -> None:
    finals = {m.output: result.final(m) for m in result.plan.modules}
    _write_files(outdir, {name: final.obj for name, final in finals.items() if final is not None})


def _write_files(outdir: str, files: dict[str, bytes]) -> None:
    """Each file appears whole or not at all; leftovers of killed earlier builds are swept once per directory."""
    swept = set()
    for name, data in files.items():
        path = os.path.join(outdir, name)
        directory = os.path.dirname(path)
        if directory not in swept:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise TwopassError(directory, f"cannot create directory: {e.strerror or e}") from None
            cgdata.files.sweep_temps(directory)
            swept.add(directory)
        cgdata.files.write_atomic(path, data)
