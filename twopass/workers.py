"""What a worker process does for one module in each round: pure functions of their inputs.

Round one: parse, optimize, save the IR BEFORE codegen (codegen mutates the module), codegen the scratch
object, and pull the codegen-data payloads out of it. Round two: parse the saved IR and codegen again, in a
process whose LLVM options point at the merged data. Both return bytes; the parent writes files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from . import layout as layout_
from . import llvm
from .cgdata import sections

log = logging.getLogger("twopass.worker")


@dataclass(frozen=True)
class TargetOverrides:
    cpu: str | None = None
    features: str | None = None
    reloc: str | None = None

    def apply(self, info: llvm.TargetInfo) -> llvm.TargetInfo:
        return llvm.TargetInfo(info.triple, info.cpu if self.cpu is None else self.cpu,
                               info.features if self.features is None else self.features,
                               info.reloc if self.reloc is None else self.reloc)


@dataclass(frozen=True)
class RoundOneJob:
    """`layout` only when round one's object is the final one (the scratch object's code is thrown away)."""

    name: str
    data: bytes
    opt_level: int
    overrides: TargetOverrides
    layout: layout_.Layout | None = None


@dataclass(frozen=True)
class RoundTwoJob:
    name: str
    ir: bytes
    target: llvm.TargetInfo
    opt_level: int
    layout: layout_.Layout | None = None


@dataclass
class Result:
    """`ir` only from round one; `payloads` are (kind, bytes) codegen-data sections of the object."""

    obj: bytes
    target: llvm.TargetInfo
    ir: bytes = b""
    payloads: list[tuple[str, bytes]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    outlined: int = 0
    merged: int = 0
    moved: int = 0  # outlined functions given their own section


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - self._t
        self._t = now


def _emit(mod, tm, target: llvm.TargetInfo, layout: layout_.Layout | None, name: str,
          clock: _Clock) -> tuple[bytes, int]:
    """The final object: straight from codegen, or through assembly text with outlined code moved."""
    if layout is None or not layout.active or not layout_.applies_to(target.triple):
        obj = llvm.emit_object(mod, tm)
        clock.lap("codegen")
        return obj, 0
    asm = llvm.emit_assembly(mod, tm)
    clock.lap("codegen")
    key = "|".join((target.triple, target.cpu, target.features, " ".join(layout.assembler or ("integrated",))))
    asm, moved = layout_.rewrite(asm, layout.fold, key)
    if layout.assembler is None:
        obj = llvm.assemble(asm, tm, target.triple)
    else:
        obj = layout_.assemble_external(layout.assembler, asm, name)
    clock.lap("layout")
    return obj, moved


def _codegen(mod, tm, name: str, clock: _Clock, result_fields: dict, layout: layout_.Layout | None) -> Result:
    obj, moved = _emit(mod, tm, result_fields["target"], layout, name, clock)
    # The outliner and the function merger leave IR declarations of what they created: count them.
    names = [fn.name for fn in mod.functions]
    payloads = [(kind, data) for _, kind, data in sections.find_payloads(obj, name)]
    clock.lap("io")
    result = Result(obj=obj, payloads=payloads, timings=clock.timings,
                    outlined=sum(n.startswith("OUTLINED_FUNCTION") for n in names),
                    merged=sum(n.endswith(".Tgm") for n in names), moved=moved, **result_fields)
    log.info("%s: %s; %d bytes, %d outlined, %d merged functions", name,
             ", ".join(f"{k} {v:.3f}s" for k, v in clock.timings.items()), len(obj), result.outlined, result.merged)
    return result


def round_one(job: RoundOneJob) -> Result:
    clock = _Clock()
    mod = llvm.parse_module(job.data, job.name)
    if job.overrides.cpu is not None or job.overrides.features is not None:
        mod = llvm.retarget(mod, job.name, job.overrides.cpu, job.overrides.features)
    target = job.overrides.apply(llvm.target_info(mod))
    tm = llvm.target_machine(target, job.opt_level)
    clock.lap("parse")
    if job.opt_level > 0:
        llvm.optimize(mod, tm, job.opt_level)
    clock.lap("opt")
    ir = llvm.bitcode(mod)  # before codegen, which rewrites the module in place
    clock.lap("io")
    return _codegen(mod, tm, job.name, clock, {"ir": ir, "target": target}, job.layout)


def round_two(job: RoundTwoJob) -> Result:
    clock = _Clock()
    mod = llvm.parse_module(job.ir, job.name)
    tm = llvm.target_machine(job.target, job.opt_level)
    clock.lap("parse")
    return _codegen(mod, tm, job.name, clock, {"target": job.target}, job.layout)
