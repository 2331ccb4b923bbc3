"""Running a plan: round one in one pool, the merge, round two in a fresh pool, then the outputs.

Round-two workers must be new processes: LLVM reads `-codegen-data-use-path` once per process, and round
one's workers were started with `-codegen-data-generate`. Outputs are written only once every module has
succeeded (or, with keep_going, every module that did), each to a temporary name and then renamed.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field

from . import cgdata, llvm, workers
from .errors import TwopassError
from .plan import ModuleInput, Plan
from .pool import Pool
from .report import Progress

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
    merged_data: cgdata.CodeGenData | None = None
    failures: list[Failure] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    def final(self, module: ModuleInput) -> workers.Result | None:
        results = self.round_two if self.plan.options.two_rounds else self.round_one
        return results.get(module.output)


def run(plan: Plan, outdir: str, jobs: int, keep_going: bool = False, progress: Progress | None = None,
        log_queue=None, save_temps: str | None = None) -> BuildResult:
    progress = progress or Progress(enabled=False)
    _check_outdir(outdir)
    result = BuildResult(plan)
    opts = plan.options
    by_name = {m.output: m for m in plan.modules}

    def run_round(name: str, func, options, make_job, modules) -> dict[str, workers.Result]:
        start = time.perf_counter()
        done: dict[str, workers.Result] = {}
        progress.start(name, len(modules))
        # Largest modules first: the last job to finish then is a small one, so both rounds end together.
        order = sorted(modules, key=lambda m: -len(m.data))
        with Pool(jobs, func, llvm.init, (options,), log_queue) as pool:
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

    result.round_one = run_round("round 1", workers.round_one, opts.llvm_options(1),
                                 lambda m: workers.RoundOneJob(m.path, m.data, opts.opt_level, opts.overrides,
                                                               opts.final_layout(1)),
                                 plan.modules)
    if opts.two_rounds:
        survivors = [m for m in plan.modules if m.output in result.round_one]
        start = time.perf_counter()
        merger = cgdata.Merger()
        for m in survivors:
            for kind, data in result.round_one[m.output].payloads:
                merger.add_payload(kind, data, m.path)
        result.merged_data = merger.result()
        result.merged = cgdata.dump(result.merged_data)
        result.phases["merge"] = time.perf_counter() - start
        with tempfile.TemporaryDirectory(prefix="twopass-") as tmp:
            merged_path = os.path.join(tmp, "merged.cgdata")
            with open(merged_path, "wb") as f:
                f.write(result.merged)
            ir = {m.output: result.round_one[m.output] for m in survivors}
            result.round_two = run_round(
                "round 2", workers.round_two, opts.llvm_options(2, merged_path),
                lambda m: workers.RoundTwoJob(m.path, ir[m.output].ir, ir[m.output].target, opts.opt_level,
                                              opts.final_layout(2)),
                survivors)
    start = time.perf_counter()
    _write_outputs(result, outdir)
    if save_temps:
        _write_temps(result, save_temps)
    result.phases["write"] = time.perf_counter() - start
    if result.failures:
        raise BuildFailed(result.failures, result)
    return result


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
    for name, data in files.items():
        path = os.path.join(directory, name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as e:
            raise TwopassError(directory, f"cannot write temporary files: {e.strerror or e}") from None
        cgdata.files.write_atomic(path, data)


def _write_outputs(result: BuildResult, outdir: str) -> None:
    for m in result.plan.modules:
        final = result.final(m)
        if final is None:
            continue
        path = os.path.join(outdir, m.output)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cgdata.files.write_atomic(path, final.obj)
