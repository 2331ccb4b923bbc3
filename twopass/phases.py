"""A build's phases in the order they run: thin link, round one, merge, round two, size guard, outputs.

Every phase that runs LLVM hands a `Round` to an executor (the local process pool unless the caller gives
another): round two needs processes of its own, since LLVM reads `-codegen-data-use-path` once per process
and round one's ran with `-codegen-data-generate`. Outputs are written only once every module has succeeded
(or, with keep_going, every module that did), each to a temporary name and then renamed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from typing import Any, Callable

from . import atomic, cache as cache_, cgdata, globaldata, llvm, workers
from .artefacts import Artefacts
from .executor import Executor, Held, Round
from .pipeline import BuildFailed, BuildResult, Failure, RunOptions, write_beside
from .plan import ModuleInput, Plan
from .progress import Progress


class Build:
    """One build's state while its phases run."""

    def __init__(self, plan: Plan, run: RunOptions, executor: Executor, store: cache_.Cache | None,
                 reader: globaldata.ReaderData | None, record_key: str | None = None):
        self.plan, self.opts, self.run, self.executor, self.reader = plan, plan.options, run, executor, reader
        self.result = BuildResult(plan, jobs=run.jobs)
        self.cache = Artefacts(store, plan, need_ir=self.opts.two_rounds or run.save_temps is not None)
        self.result.cache = self.cache.stats if store is not None else None
        self.progress = Progress(enabled=run.progress)
        self.by_name = {m.output: m for m in plan.modules}
        self.targets: dict[str, llvm.TargetInfo] = {}  # each module's own, from its summary
        self.record_key = record_key  # the key of the record the build leaves (rebuild.py), if it leaves one
        self.blobs: dict[str, str] = {}  # what the record names, once kept
        self._guard_reader: Any = None  # sizeguard.Reader: both rounds' objects read during round two

    def _round(self, round_: Round, modules: list[ModuleInput], make_job: Callable[[ModuleInput], Any],
               cached: Callable[[ModuleInput], Any], arrived: Callable[[str, Any], None] | None = None
               ) -> dict[str, Any]:
        """Each module's result: from the cache, else from the executor (largest modules first, so that the
        last job to finish is a small one), each handed to `arrived` as it comes; failures are collected, and
        raised unless keep_going."""
        start = time.perf_counter()
        done: dict[str, Any] = {}
        self.progress.start(round_.name, len(modules))
        todo = []
        for m in modules:
            hit = cached(m)
            if hit is None:
                todo.append(m)
            else:
                done[m.output] = hit
                self.progress.advance(m.path)
                if arrived is not None:
                    arrived(m.output, hit)
        order = sorted(todo, key=lambda m: -len(m.data))
        if order:
            jobs = ((m.output, make_job(m)) for m in order)
            for outcome in self.executor.run(round_, jobs, stop_on_failure=not self.run.keep_going):
                path = self.by_name[outcome.key].path
                self.progress.advance(path)
                if outcome.where:
                    self.result.placement.setdefault(round_.name, {})[outcome.key] = outcome.where
                if outcome.ran is not None:
                    worker, sent, answered = outcome.ran
                    self.result.timeline.append((round_.name, outcome.key, worker, sent - self.result.started,
                                                 answered - self.result.started))
                if outcome.error:  # errors that already name the module say it once
                    self.result.failures.append(Failure(path, outcome.error.removeprefix(f"{path}: ")))
                else:
                    done[outcome.key] = outcome.value
                    if arrived is not None:
                        arrived(outcome.key, outcome.value)
        self.progress.finish()
        self.result.phases[round_.name] = time.perf_counter() - start
        if self.result.failures and not self.run.keep_going:
            raise BuildFailed(self.result.failures, self.result)
        return done

    def thin_link(self) -> tuple[list[ModuleInput], dict[str, workers.Imports], dict[str, bytes]]:
        """The modules that take part, what each imports, and the exporters' bytes by digest: the decisions
        from the cache when no input changed, else from the summaries (cached, made in workers) alone."""
        modules = self.plan.modules
        if self.opts.thin_link is None:
            return modules, {}, {}
        from . import thinlink
        decisions = self.cache.link(modules)
        if decisions is None:
            leave = self.executor.keeps_files  # each module's print, for round one's importers
            done = self._round(Round("summary", workers.summarize, small=True), modules,
                               lambda m: (m.path, m.data, m.digest) if leave else (m.path, m.data),
                               self.cache.summary)
            modules = [m for m in modules if m.output in done]
            summaries = {}
            for m in modules:
                summary = done[m.output]
                if isinstance(summary, tuple):  # made now (with its seconds), not read from the cache
                    summary, seconds = summary
                    self.result.summary_seconds += seconds
                    self.cache.save_summary(m, summary)
                summaries[m.output] = summary
        start = time.perf_counter()
        digests = {m.output: m.digest for m in modules}
        if decisions is None:
            loaded = thinlink.load_summaries(summaries)
            self.targets = {o: llvm.TargetInfo(*s["target"]) for o, s in loaded.items() if "target" in s}
            decisions = thinlink.thin_link(loaded, digests, self.opts.thin_link, self._resolution(modules))
            if len(modules) == len(self.plan.modules):
                self.cache.save_link(modules, decisions)
        promotions = {o: d.promote for o, d in decisions.items()}
        self.cache.set_link(modules, {o: d.key_fields(digests, promotions) for o, d in decisions.items()})
        imports = {o: workers.Imports(d.promote, d.internalize,
                                      [(self.by_name[e].path, digests[e], promotions[e],
                                        [promotions[e].get(f, f) for f in fns]) for e, fns in d.sources().items()],
                                      tuple(d.weaken), tuple(d.hide), tuple(d.discard))
                   for o, d in decisions.items()}
        exporters = {digests[e]: self.by_name[e].data for d in decisions.values() for e in d.sources()}
        self.result.thin_link = thinlink.statistics(decisions)
        self.result.phases["thin link"] = time.perf_counter() - start
        return modules, imports, exporters

    def _resolution(self, modules: list[ModuleInput]) -> dict[str, dict[str, str]] | None:
        """The linker's symbol resolution by output name; a module it does not mention has no symbols."""
        assert self.opts.thin_link is not None
        resolved = self.opts.thin_link.resolved()
        return None if resolved is None else {m.output: resolved.get(m.path, {}) for m in modules}

    def round_one(self, modules: list[ModuleInput], imports: dict[str, workers.Imports],
                  exporters: dict[str, bytes]) -> None:
        opts = self.opts
        reader = self.reader.raw if self.reader is not None else None
        self.result.round_one = self._round(
            Round("round 1", workers.round_one, opts.llvm_options(1), cgdata=reader, blobs=exporters,
                  keep=("ir",), keep_copy=self.cache.store is not None or self.run.save_temps is not None),
            modules,
            lambda m: workers.RoundOneJob(m.path, m.data, opts.opt_level, opts.overrides, opts.final_layout(1),
                                          imports.get(m.output), opts.layout.assembler,
                                          self.targets.get(m.output)),
            self.cache.round_one)
        made = [(m, r1) for m in modules if (r1 := self.result.round_one.get(m.output)) is not None and not r1.cached]
        if self.cache.store is not None:
            for (m, r1), ir in zip(made, self._fetch_ir([r1 for _, r1 in made])):
                self.cache.save_round_one(m, dataclasses.replace(r1, ir=ir))

    def _fetch_ir(self, results: list[workers.Result]) -> list[bytes]:
        """Each result's IR, brought here from wherever the executor left it."""
        held = [r.ir for r in results if isinstance(r.ir, Held)]
        fetched = iter(self.executor.fetch(held) if held else [])
        return [next(fetched) if isinstance(r.ir, Held) else r.ir for r in results]

    def merge(self, modules: list[ModuleInput]) -> None:
        """Every module's payloads into one indexed .cgdata (independent of module order), or the same bytes
        from the cache when every module's round one is the one that was merged before."""
        start = time.perf_counter()
        opts, result = self.opts, self.result
        cached = self.cache.merged(modules)
        if cached is not None:
            result.merged = cached
            result.merged_facts = self.cache.facts(modules)
        else:
            result.merged, result.merged_facts = self.executor.call(
                globaldata.merge_payloads, [(m.path, result.round_one[m.output].payloads) for m in modules],
                cgdata.MergeThresholds.from_llvm_options(opts.extra_llvm))
            self.cache.save_merged(modules, result.merged)
            self.cache.save_facts(modules, result.merged_facts)
        if result.merged_facts is None:
            result.merged_facts = globaldata.facts(result.codegen_data())
            self.cache.save_facts(modules, result.merged_facts)
        result.phases["merge"] = time.perf_counter() - start

    def round_two(self, modules: list[ModuleInput], estimate_round_one: bool = False) -> None:
        """`estimate_round_one`: the size guard's reading of both rounds' objects is done meanwhile, by a thread
        of this process (which only waits for the workers), each object as it comes, not after the round."""
        opts, result = self.opts, self.result
        digest = hashlib.sha256(result.merged).hexdigest()
        r1 = {m.output: result.round_one[m.output] for m in modules}
        reader = None
        if estimate_round_one:
            from . import sizeguard
            reader = self._guard_reader = sizeguard.Reader()
            for o, r in r1.items():
                reader.add(1, o, r.obj)
        try:
            result.round_two = self._round(
                Round("round 2", workers.round_two, opts.llvm_options(2), cgdata=result.merged), modules,
                lambda m: workers.RoundTwoJob(m.path, r1[m.output].ir, r1[m.output].target, opts.opt_level,
                                              opts.final_layout(2), opts.layout.assembler,
                                              r1[m.output].discard),
                lambda m: self.cache.round_two(m, r1[m.output], digest),
                None if reader is None else lambda key, r2: reader.add(2, key, r2.obj))
        except BaseException:
            if reader is not None:
                reader.done(2)  # its thread ends with the round
            raise
        for m in modules:
            r2 = result.round_two.get(m.output)
            if r2 is not None and not r2.cached:
                self.cache.save_round_two(m, r2, digest)

    def size_guard(self, modules: list[ModuleInput]) -> None:
        """Round one's objects instead of round two's when they are estimated smaller (sizeguard.py); they are
        made again from the saved IR with the layout a `--rounds 1` build gives, and estimated again."""
        from . import sizeguard
        start = time.perf_counter()
        result, opts = self.result, self.opts
        r1 = {m.output: result.round_one[m.output] for m in modules}
        choice = sizeguard.choose({o: r.obj for o, r in r1.items()},
                                  {m.output: result.round_two[m.output].obj for m in modules}, self._guard_reader)
        if choice["kept"] == "round one":
            alone = opts.one_round()
            made = self._round(
                Round("round 1 final", workers.round_two, opts.llvm_options(1)), modules,
                lambda m: workers.RoundTwoJob(m.path, r1[m.output].ir, r1[m.output].target, opts.opt_level,
                                              alone.final_layout(1), opts.layout.assembler,
                                              r1[m.output].discard),
                self.cache.round_one_alone)
            for m in modules:
                r = made.get(m.output)
                if r is not None and not r.cached:
                    self.cache.save_round_one_alone(m, r)
            if len(made) == len(modules):
                laid_out = sizeguard.estimate({o: r.obj for o, r in made.items()}).total
                choice["round_one_text"] = laid_out
                if laid_out < choice["round_two_text"]:
                    result.round_two = made
                else:
                    choice["kept"] = "round two"
            choice["saved"] = max(0, choice["round_two_text"] - choice["round_one_text"])
        result.size_guard = choice
        result.phases["size guard"] = time.perf_counter() - start

    def write_outputs(self, outdir: str) -> None:
        """The objects and what goes with them: temporaries, then (when every module succeeded) the merged
        data for readers, the manifest, and what the build found again of the data it used."""
        start = time.perf_counter()
        result, run = self.result, self.run
        outputs = result.outputs()
        cached = None
        if self.record_key is not None and self.cache.store is not None and not result.failures:
            from . import rebuild
            self.blobs = rebuild.keep_blobs(self.cache.store, outputs,
                                            result.merged if self.opts.generates_cgdata else None)
            cached = {name: self.cache.store.blob_path(rebuild.STREAM, self.blobs[name]) for name in outputs}
        atomic.write_files(outdir, outputs, cached, run.private_outputs)
        if run.save_temps:
            atomic.write_files(run.save_temps, self._temps())
        result.phases["write"] = time.perf_counter() - start
        if result.failures:
            raise BuildFailed(result.failures, result)
        used = globaldata.facts(self.reader.data) if self.reader is not None else \
            result.merged_facts if self.opts.two_rounds else None
        if used is not None:
            final = [r for m in self.plan.modules if (r := result.final(m)) is not None]
            result.cgdata_used = globaldata.usage(used, {h for r in final for h in r.content_hashes},
                                                  sum(r.merged for r in final))
        write_beside(result, run, outputs)

    def _temps(self) -> dict[str, bytes]:
        """Round one's optimized IR and scratch object per module, and the merged data: for debugging and tests."""
        files = {"merged.cgdata": self.result.merged} if self.result.merged else {}
        made = [(m, r1) for m in self.plan.modules if (r1 := self.result.round_one.get(m.output)) is not None]
        for (m, r1), ir in zip(made, self._fetch_ir([r1 for _, r1 in made])):
            stem = m.output[:-2]
            files[stem + ".opt.bc"] = ir
            files[stem + ".scratch.o"] = r1.obj
        return files
