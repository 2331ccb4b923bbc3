"""What a build tells its user: a progress line on a terminal, a short summary, and the JSON report."""

from __future__ import annotations

import json
import os

from . import TYPE_CHECKING, __version__

if TYPE_CHECKING:
    from typing import Any

    from .pipeline import BuildResult

PHASES = ("parse", "opt", "codegen", "layout", "io")


def _module_entry(result: "BuildResult", m) -> dict:
    r1 = result.round_one.get(m.output)
    r2 = result.round_two.get(m.output)
    entry = {"input": m.path, "output": m.output, "input_bytes": len(m.data)}
    if r1 is not None:
        entry["round1"] = {"seconds": {k: round(v, 4) for k, v in r1.timings.items()},
                           "ir_bytes": len(r1.ir), "object_bytes": len(r1.obj),
                           "payload_bytes": {k: sum(len(d) for kk, d in r1.payloads if kk == k)
                                             for k in ("outline", "merge")},
                           "outlined_functions": r1.outlined, "merged_functions": r1.merged,
                           "moved_functions": r1.moved, "cached": r1.cached}
    if r2 is not None:
        entry["round2"] = {"seconds": {k: round(v, 4) for k, v in r2.timings.items()},
                           "object_bytes": len(r2.obj), "outlined_functions": r2.outlined,
                           "merged_functions": r2.merged, "moved_functions": r2.moved, "cached": r2.cached}
    return entry


def llvm_seconds(result: "BuildResult", round_name: str) -> float:
    """Worker time: LLVM and what workers do around it (layout, summaries), all of it off the parent."""
    if round_name == "summary":
        return result.summary_seconds
    results = result.round_one if round_name == "round 1" else result.round_two
    return sum(sum(r.timings.values()) for r in results.values())


def build_report(result: "BuildResult") -> dict:
    if result.recorded is not None:
        from . import rebuild
        return rebuild.report(result.recorded, result.plan, result.jobs, result.phases)
    from . import llvm  # here: a build answered from its command's record prints a summary without LLVM's module
    opts, jobs = result.plan.options, result.jobs
    phases = {k: round(v, 4) for k, v in result.phases.items()}
    llvm_time = {name: round(llvm_seconds(result, name), 4) for name in ("summary", "round 1", "round 2")
                 if name in result.phases}
    critical = sum(llvm_time.values()) / max(1, jobs)
    wall = sum(result.phases.values())
    report: dict[str, Any] = {
        "twopass": __version__, **llvm.versions(), "triple": result.plan.triple, "jobs": jobs,
        "options": {"opt_level": opts.opt_level, "outliner": opts.outliner, "rounds": opts.rounds,
                    "merge_functions": opts.merge_functions, "fold_outlined": opts.layout.fold},
        "phases_seconds": phases,
        "llvm_seconds": llvm_time,
        "orchestration_overhead": round(wall / critical - 1, 4) if critical else None,
        "modules": [_module_entry(result, m) for m in result.plan.modules],
        "failures": [{"module": f.module, "error": f.message} for f in result.failures],
    }
    if result.thin_link is not None:
        report["thin_link"] = result.thin_link
    if result.cache is not None:
        c = result.cache
        report["cache"] = {"streams": c.counts, "llvm_seconds_saved": round(c.seconds_saved, 4),
                           "round2_misses_because": dict(sorted(c.round_two_misses.items()))}
    if result.merged_facts is not None:
        f = result.merged_facts
        report["merged_cgdata"] = {"bytes": len(result.merged), "outlined_hash_tree": f["tree"],
                                   "stable_function_map": f["funcmap"]}
    if result.cgdata_used is not None:
        report["cgdata_used"] = result.cgdata_used
    if result.size_guard is not None:
        report["size_guard"] = result.size_guard
    if result.placement:
        report["placement"] = placement(result.placement)
    if result.traffic:
        report["cluster_bytes"] = dict(sorted(result.traffic.items()))
    if result.timeline:
        report["timeline"] = [[r, m, w, round(a, 4), round(b, 4)] for r, m, w, a, b in result.timeline]
    times = os.times()
    report["parent_cpu_seconds"] = round(times.user + times.system, 3)
    return report


def placement(where: dict[str, dict[str, str]]) -> dict:
    """Where each round's tasks ran (a cluster build), and how many of round two's ran where their IR was."""
    one, two = where.get("round 1", {}), where.get("round 2", {})
    return {"workers": {name: dict(sorted(tasks.items())) for name, tasks in sorted(where.items())},
            "round2_tasks": len(two),
            "round2_on_round1_worker": sum(1 for key, w in two.items() if one.get(key) == w)}


def write_report(report: dict, path: str) -> None:
    from .atomic import write_atomic

    write_atomic(path, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())


def summary(report: dict) -> str:
    mods = report["modules"]
    final = [m.get("round2") or m.get("round1") or {} for m in mods]
    size = sum(f.get("object_bytes", 0) for f in final)
    outlined = sum(f.get("outlined_functions", 0) for f in final)
    phases = ", ".join(f"{k} {v:.2f}s" for k, v in report["phases_seconds"].items())
    line = (f"built {len(mods) - len(report['failures'])}/{len(mods)} modules ({report['triple']}, "
            f"outliner {report['options']['outliner']}): {size} bytes of objects, {outlined} outlined "
            f"functions; {phases}")
    where = report.get("placement")
    if where:
        ran = {w for tasks in where["workers"].values() for w in tasks.values()}
        line += (f"\ncluster: {len(ran)} workers; {where['round2_on_round1_worker']}/{where['round2_tasks']} "
                 "round-two tasks ran where their IR was")
    cache = report.get("cache")
    if cache:
        hits = sum(c["hits"] for streams in cache["streams"].values() for c in streams.values())
        total = hits + sum(c["misses"] for streams in cache["streams"].values() for c in streams.values())
        line += f"\ncache: {hits}/{total} hits, {cache['llvm_seconds_saved']:.2f}s of LLVM work saved"
        if cache["round2_misses_because"]:
            line += "; round 2 reran: " + ", ".join(f"{n} because {why}" for why, n in
                                                    cache["round2_misses_because"].items())
    return line
