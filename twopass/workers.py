"""What a worker process does for one module in each round: pure functions of their inputs.

Round one: parse, optimize, save the IR BEFORE codegen (codegen mutates the module), codegen the scratch
object, and pull the codegen-data payloads out of it. Round two: parse the saved IR and codegen again, in a
process whose LLVM options point at the merged data. Both return bytes; the parent writes files.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import astuple, dataclass, field

import msgpack

from . import bitcode
from . import layout as layout_
from . import libllvm, llvm
from .cgdata import records, sections
from .errors import InputError
from .executor import Held
from .llvm import TargetOverrides

log = logging.getLogger("twopass.worker")
_CONTENT = re.compile(r"^OUTLINED_FUNCTION_[\w]*\.content\.(\d+)$")


@dataclass(frozen=True)
class Imports:
    """The thin link's decisions for one module: what to rename, bring in and internalize before optimizing.
    `sources` are (exporter name, the sha256 of its bytes (see `blob`), its promotions, the functions to import
    by their final names)."""

    promote: dict[str, str]
    internalize: list[str]
    sources: list[tuple[str, str, dict[str, str], list[str]]]
    weaken: tuple[str, ...] = ()  # prevailing linkonce copies another module or the linker needs
    hide: tuple[str, ...] = ()  # prevailing linkonce and weak copies nothing outside the bitcode sees
    discard: tuple[str, ...] = ()  # copies the linker did not choose: not emitted (llvm.discard)


@dataclass(frozen=True)
class RoundOneJob:
    """`layout` only when round one's object is the final one (the scratch object's code is thrown away)."""

    name: str
    data: bytes
    opt_level: int
    overrides: TargetOverrides
    layout: layout_.Layout | None = None
    imports: Imports | None = None
    assembler: tuple[str, ...] | None = None  # for assembly a cross target cannot parse in process
    target: llvm.TargetInfo | None = None  # the module's own, as its summary read it; None: read here

    def blob_digests(self) -> list[str]:
        """The exporters' bytes the job reads through `blob`: an executor must get them to its worker."""
        return [digest for _, digest, _, _ in self.imports.sources] if self.imports is not None else []


@dataclass(frozen=True)
class RoundTwoJob:
    name: str
    ir: bytes | Held  # Held: round one's IR, where a distributed executor left it
    target: llvm.TargetInfo
    opt_level: int
    layout: layout_.Layout | None = None
    assembler: tuple[str, ...] | None = None
    discard: tuple[str, ...] = ()  # round one's (Result.discard)


@dataclass
class Result:
    """`ir` only from round one; `payloads` are (kind, bytes) codegen-data sections of the object."""

    obj: bytes
    target: llvm.TargetInfo
    ir: bytes | Held = b""  # Held: left on the machine that made it (a distributed executor's worker)
    payloads: list[tuple[str, bytes]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    outlined: int = 0
    merged: int = 0
    moved: int = 0  # outlined functions given their own section
    content_hashes: list[int] = field(default_factory=list)  # of `.content.<hash>` outlined functions
    discard: tuple[str, ...] = ()  # what round one did not emit, which the saved IR still defines
    cached: bool = False
    cached_seconds: float = 0.0  # what producing a cached result took, as recorded in its entry

    @property
    def seconds(self) -> float:
        return self.cached_seconds if self.cached else sum(self.timings.values())

    def to_entry(self) -> bytes:
        """A cache entry: everything but the IR (its own stream) and the timings (only their sum)."""
        return msgpack.packb({"obj": self.obj, "target": list(astuple(self.target)), "outlined": self.outlined,
                              "content_hashes": self.content_hashes,
                              "payloads": [[k, d] for k, d in self.payloads], "merged": self.merged,
                              "moved": self.moved, "seconds": self.seconds, "discard": list(self.discard)})

    @classmethod
    def from_entry(cls, data: bytes, ir: bytes = b"") -> "Result":
        """ValueError when the entry is not one of ours."""
        try:
            e = msgpack.unpackb(data)
            return cls(obj=e["obj"], target=llvm.TargetInfo(*e["target"]), ir=ir, outlined=e["outlined"],
                       payloads=[(k, d) for k, d in e["payloads"]], merged=e["merged"], moved=e["moved"],
                       content_hashes=list(e["content_hashes"]), discard=tuple(e["discard"]),
                       cached=True, cached_seconds=float(e["seconds"]))
        except (ValueError, KeyError, TypeError, msgpack.UnpackException) as err:
            raise ValueError(f"not a twopass cache entry: {err}") from None


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - self._t
        self._t = now


def _emit(mod, tm, target: llvm.TargetInfo, layout: layout_.Layout | None, name: str, clock: _Clock,
          assembler: tuple[str, ...] | None, ir: bytes, opt_level: int) -> tuple[bytes, int, bool]:
    """The object: straight from codegen, or through assembly text with outlined code moved. A module with
    inline or module-level assembly for a target whose assembly parser llvmlite lacks is compiled to text by
    the --assembler (a clang driver) instead: llvmlite's LLVM would abort, even printing text."""
    foreign = not layout_.assembles_in_process(target.triple) and (bitcode.has_module_asm(ir, name)
                                                                    or llvm.has_inline_asm(mod))
    rewrite = layout is not None and layout.active and layout_.applies_to(target.triple)
    if not foreign and not rewrite:
        obj = llvm.emit_object(mod, tm)
        clock.lap("codegen")
        return obj, 0, False
    if foreign:
        if assembler is None or libllvm.is_assembler(assembler):
            raise InputError(name, f"has assembly, and llvmlite cannot assemble {target.triple} in process: "
                                   "pass --assembler CMD (a clang driver, e.g. zig cc)")
        asm = layout_.compile_external(assembler, ir, opt_level, target.reloc, _LLVM_OPTIONS, name)
    else:
        asm = llvm.emit_assembly(mod, tm)
    clock.lap("codegen")
    moved = 0
    if rewrite:
        assert layout is not None
        # Which assembler, not where it is installed: COMDAT names must not depend on a machine's paths.
        tool = (os.path.basename(layout.assembler[0]), *layout.assembler[1:]) if layout.assembler else ("integrated",)
        key = "|".join((target.triple, target.cpu, target.features, " ".join(tool)))
        asm, moved = layout_.rewrite(asm, layout.fold, key, layout.function_sections)
    if assembler is None:
        obj = llvm.assemble(asm, tm, target.triple)
    elif libllvm.is_assembler(assembler):
        obj = libllvm.assemble(llvm.wrapper_module(asm, target.triple), target.triple, target.cpu, target.features,
                               target.reloc, opt_level, llvm.llvm_major(), name)
    else:
        obj = layout_.assemble_external(assembler, asm, name)
    clock.lap("layout")
    return obj, moved, foreign


def _codegen(mod, tm, name: str, clock: _Clock, result_fields: dict, layout: layout_.Layout | None,
             assembler: tuple[str, ...] | None, ir: bytes, opt_level: int) -> Result:
    """`ir`: the optimized module's bitcode, as saved before codegen."""
    obj, moved, external = _emit(mod, tm, result_fields["target"], layout, name, clock, assembler, ir, opt_level)
    # The outliner and the function merger leave IR declarations of what they created: count them.
    names = [fn.name for fn in mod.functions]
    payloads = [(kind, data) for _, kind, data in sections.find_payloads(obj, name)]
    if external:  # as llvmlite's codegen would have named the module in its function map
        payloads = [(k, records.rename_module(bytes(d), layout_.EXTERNAL_MODULE, mod.name) if k == sections.MERGE
                     else d) for k, d in payloads]
    clock.lap("io")
    result = Result(obj=obj, payloads=payloads, timings=clock.timings,
                    outlined=sum(n.startswith("OUTLINED_FUNCTION") for n in names),
                    content_hashes=sorted({int(m[1]) for n in names if (m := _CONTENT.search(n))}),
                    merged=sum(n.endswith(".Tgm") for n in names), moved=moved, **result_fields)
    log.info("%s: %s; %d bytes, %d outlined, %d merged functions", name,
             ", ".join(f"{k} {v:.3f}s" for k, v in clock.timings.items()), len(obj), result.outlined, result.merged)
    return result


_BLOB_DIR = ""
_LLVM_OPTIONS: tuple[str, ...] = ()


def start(llvm_options: tuple[str, ...], blob_dir: str) -> None:
    """A worker's start: the round's process-global LLVM options, and where the bytes jobs name by digest are."""
    global _BLOB_DIR, _LLVM_OPTIONS
    from . import pages

    llvm.init(llvm_options)
    pages.release("libllvmlite")  # what initializing every target touched (see pages.py)
    _BLOB_DIR, _LLVM_OPTIONS = blob_dir, llvm_options


def blob(digest: str) -> bytes:
    """Bytes the round shipped once (an exporter's module), by their sha256."""
    with open(os.path.join(_BLOB_DIR, digest), "rb") as f:
        return f.read()


TEXT = ".ll"  # beside the round's blobs: a module's print, which its summary leaves for importers (see below)


def summarize(job: tuple[str, bytes] | tuple[str, bytes, str]) -> tuple[bytes, float]:
    """A module's summary for the thin link (msgpack): its defined globals, their sizes, calls and references,
    and its target (round one's, read from the text printed here anyway); and the seconds it took (worker
    time, like a round's timings). A summary cached before it had a target still serves: round one reads it.
    Given the module's digest, the print is also left in the directory of the round's files, for round one's
    importers when the executor keeps that directory for them (`_exporter_ir`)."""
    from . import irtext
    start = time.perf_counter()
    name, data, *digest = job
    mod = llvm.parse_module(data, name)
    text = llvm.text(mod)
    ir = irtext.parse(text)
    summary = irtext.summarize(ir)
    summary["target"] = list(astuple(llvm.target_info(mod, ir)))  # round one then need not print it again
    if digest and _BLOB_DIR:
        path = os.path.join(_BLOB_DIR, digest[0] + TEXT)
        try:  # only a shortcut: without it, importers parse the bitcode
            with open(f"{path}.{os.getpid()}", "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)  # (a module given twice has two summaries: each writes its own, then renames)
            os.replace(f"{path}.{os.getpid()}", path)
        except OSError:
            pass
    return msgpack.packb(summary), time.perf_counter() - start


# An exporter's promoted, printed and parsed IR, kept for the worker's next importer of it: most modules
# import from a dozen others, and redoing that for each pair was 80% of importing (2.4 s of 2.9 s on Lua).
# Where the exporter's summary left its print, the promotion is made on that text instead of parsing and
# printing the module again in every worker (irtext.promote gives the text LLVM would print).
_EXPORTERS: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
_EXPORTERS_BUDGET = 128 << 20  # characters of printed IR kept per worker
_exporters_size = 0


def _exporter_ir(exporter: str, digest: str, promote: dict[str, str]):
    from . import irtext
    global _exporters_size
    key = (digest, tuple(sorted(promote.items())))
    if key in _EXPORTERS:
        _EXPORTERS.move_to_end(key)
        return _EXPORTERS[key][0]
    try:
        with open(os.path.join(_BLOB_DIR, digest + TEXT), encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        ir = irtext.promote(irtext.parse(text), promote)
    except (OSError, ValueError):
        source = llvm.parse_module(blob(digest), exporter)
        llvm.promote(source, promote)
        text = llvm.text(source)
        ir = irtext.parse(text)
    _EXPORTERS[key] = (ir, len(text))
    _exporters_size += len(text)
    while _exporters_size > _EXPORTERS_BUDGET and len(_EXPORTERS) > 1:
        _exporters_size -= _EXPORTERS.popitem(last=False)[1][1]
    return ir


def _import(mod, job: RoundOneJob, imp: Imports) -> None:
    """Promote, import (available_externally; what is not inlined disappears in the optimizer), internalize,
    weaken."""
    from . import irtext
    llvm.promote(mod, imp.promote)
    for exporter, digest, promote, functions in imp.sources:
        try:
            text = irtext.import_module(_exporter_ir(exporter, digest, promote), functions)
        except (ValueError, KeyError) as e:
            raise InputError(job.name, f"cannot import from {exporter}: {e}") from None
        llvm.link_text(mod, text, job.name)
    llvm.make_available_externally(mod, [f for *_, functions in imp.sources for f in functions])
    llvm.internalize(mod, imp.internalize)
    llvm.weaken(mod, imp.weaken)
    llvm.hide(mod, imp.hide)


def round_one(job: RoundOneJob) -> Result:
    clock = _Clock()
    mod = llvm.parse_module(job.data, job.name)
    # The module's own target, before imports bring other modules' functions (and their CPU, features and
    # module flags): its summary's reading, else read here first, when the print is of the smaller module.
    target = job.overrides.apply(job.target or llvm.target_info(mod))
    if job.imports is not None:
        _import(mod, job, job.imports)
    if job.overrides.cpu is not None or job.overrides.features is not None:
        mod = llvm.retarget(mod, job.name, job.overrides.cpu, job.overrides.features)
    tm = llvm.target_machine(target, job.opt_level)
    clock.lap("parse")
    if job.opt_level > 0:
        llvm.optimize(mod, tm, job.opt_level)
    elif job.imports is not None:
        llvm.drop_unreferenced(mod, tm)
    if layout_.applies_to(target.triple):  # after the optimizer, which evaluates and drops constructors
        llvm.use_init_array(mod, job.name)
    clock.lap("opt")
    ir = llvm.bitcode(mod)  # before codegen, which rewrites the module in place
    clock.lap("io")
    discard = job.imports.discard if job.imports is not None else ()
    llvm.discard(mod, discard)
    return _codegen(mod, tm, job.name, clock, {"ir": ir, "target": target, "discard": discard}, job.layout,
                    job.assembler, ir, job.opt_level)


def round_two(job: RoundTwoJob) -> Result:
    clock = _Clock()
    assert isinstance(job.ir, bytes), "an executor replaces a Held with the bytes before the job runs"
    mod = llvm.parse_module(job.ir, job.name)
    llvm.discard(mod, job.discard)
    tm = llvm.target_machine(job.target, job.opt_level)
    clock.lap("parse")
    return _codegen(mod, tm, job.name, clock, {"target": job.target}, job.layout, job.assembler, job.ir,
                    job.opt_level)
