"""Planning a build: which modules, what each output is called, which LLVM options each round runs with.

Everything here is decided before any worker starts, so bad inputs (missing files, directories without
modules, mixed target triples, name clashes) are reported before any work is done.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePath

from . import __version__, again, bitcode, objfile
from .errors import InputError, TwopassError
from .executor import CGDATA
from .layout import Layout, applies_to, assembles_in_process, check_target
from .llvm import TargetOverrides
from .thinlink import LinkOptions

MODULE_SUFFIXES = (".bc", ".ll", ".o")
OUTLINER_MODES = ("never", "local", "global")


@dataclass(frozen=True)
class ModuleSource:
    """A module to build, wherever its bytes came from: a file, an archive member, memory. `name` is what
    messages call it (`lib.a(x.o)`); `path` names its output (`lib.a/x.o`) and tells two sources apart."""

    name: str
    data: bytes
    path: str

    @classmethod
    def file(cls, path: str) -> "ModuleSource":
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InputError(path, e.strerror or str(e)) from None
        again.note(path, data)
        return cls(path, data, path)


@dataclass(frozen=True)
class ModuleInput:
    path: str      # what messages call it: as the user named it (or as found under a directory they named)
    output: str    # relative output path, unique and independent of input order
    data: bytes
    triple: str

    @functools.cached_property  # plan keys, the build's record, the thin link and summaries all ask
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class BuildOptions:
    opt_level: int = 2
    outliner: str = "global"
    rounds: int = 2
    merge_functions: bool = True
    overrides: TargetOverrides = field(default_factory=TargetOverrides)
    extra_llvm: tuple[str, ...] = ()
    layout: Layout = field(default_factory=Layout)
    cgdata_in: str | None = None      # reader build: one round that uses this data
    cgdata_in_digest: str = ""        # its contents' sha256: the cache key must not trust a path
    thin_link: LinkOptions | None = None  # import across modules (None: each module alone)
    size_guard: bool = True           # two rounds: keep round one's objects when they are smaller

    @property
    def two_rounds(self) -> bool:
        return self.outliner == "global" and self.rounds == 2 and self.cgdata_in is None

    def one_round(self) -> "BuildOptions":
        return dataclasses.replace(self, rounds=1)

    @property
    def generates_cgdata(self) -> bool:
        """Round one writes codegen-data payloads (a writer or two-round build)."""
        return self.outliner == "global" and self.cgdata_in is None

    def final_layout(self, round_: int) -> Layout | None:
        """The layout a round's objects get: only final objects, and only when there can be outlined code."""
        final = round_ == 2 or not self.two_rounds
        return self.layout if final and self.outliner != "never" and self.layout.active else None

    def llvm_options(self, round_: int) -> tuple[str, ...]:
        """The process-global LLVM options of a round's workers; a reader build and round two read the data
        file the executor puts at CGDATA (the reader's bytes as hashed, or the merged data)."""
        opts = ["-enable-machine-outliner=never" if self.outliner == "never" else "-enable-machine-outliner"]
        if self.merge_functions:
            opts.append("-enable-global-merge-func")
        if self.cgdata_in is not None or (self.outliner == "global" and round_ == 2):
            opts.append(f"-codegen-data-use-path={CGDATA}")
        elif self.outliner == "global":
            opts.append("-codegen-data-generate")
        return (*opts, *self.extra_llvm)


@dataclass
class Plan:
    modules: list[ModuleInput]
    options: BuildOptions

    @property
    def triple(self) -> str:
        return self.modules[0].triple


# -- cache keys: the one place that says what an artefact depends on -------------------------------------------
#
# base(m)        = twopass, llvmlite and LLVM versions; the input module's bytes; -O level; CPU / features /
#                  relocation-model overrides; every LLVM option round one's workers set (outliner mode,
#                  function merging, codegen-data generation, each -mllvm option); for a reader build, the
#                  sha256 of the --cgdata-in file's contents (never its path); with the thin link, LLVM's
#                  rule: the sha256 of every module it imports from, what it imports from each, and its
#                  own and its exporters' promotions and its internalizations (`Decisions.key_fields`).
# summary(m)     = H("summary", versions, the input module's bytes)   stream "ir": the thin link's input
# link           = H("link", versions, link options, every module's output name and input bytes) stream "ir":
#                  the thin link's decisions, so a rebuild of unchanged inputs reads no summary
# ir(m)          = H("ir", base)                        stream "ir": the optimized IR
# round_one(m)   = H("round1", base, final layout)      stream "scratch" (two rounds) or "object" (one round);
#                                                       the layout (fold mode, assembler, function
#                                                       sections) only when round one's object is final
# round_two(m)   = H("round2", base, sha256 of the merged codegen data, round two's LLVM options without the
#                    data file's path, final layout)    stream "object"
# merged         = H("merged", every module's round_one key, sorted)   stream "scratch"
# facts          = H("facts", merged)   stream "scratch": what reports say of the merged data
# last_merged(m) = H("last merged", round_one(m))   stream "scratch": the sha256 of the merged data m's
#                  round two last used, to say why round two reran; the one entry a build may rewrite (a note,
#                  not an artefact: every other entry is written once and never changes)
# The target triple, CPU and features the module asks for come from its bytes, so they are in `base` too.

KEY_FORMAT = 8  # bumped whenever the bytes for the same key change (2: SLP vectorizer on at -O2;
#                  3: static constructors in .init_array; 4: summaries name constructors, count as LLVM does;
#                  5: constants imported; 6: the CPU, features and PIC level read before imports, from the
#                  module's own functions and flags; 7: aliases internalized, dead weak definitions dropped,
#                  what is unreferenced dropped at -O0, summaries name COMDAT groups, under a linker
#                  linkonce/weak copies go local or hidden; 8: under a linker the copies it did not choose are
#                  not emitted, and round one's entry names them; a linker's -mcpu no longer rewrites
#                  functions)


def _digest(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _layout_fields(layout: Layout | None) -> list | None:
    return None if layout is None else [layout.fold, list(layout.assembler or ()), layout.function_sections]


def _text_route(options: BuildOptions) -> dict:
    """A final object without the layout step still goes through the assembler when its module has assembly
    the target's in-process parser cannot read: which assembler then matters."""
    if options.two_rounds or options.final_layout(1) is not None or options.layout.assembler is None:
        return {}
    return {"assembler": list(options.layout.assembler)}


@dataclass(frozen=True)
class ModuleKeys:
    ir: str
    round_one: str
    base: str

    def round_one_alone(self, options: BuildOptions) -> str:
        """The size guard's fallback: the object a `--rounds 1` build of the module makes (and caches)."""
        return _round_one_key(self.base, options.one_round())

    def round_two(self, options: BuildOptions, cgdata_digest: str) -> str:
        return _digest({"round": 2, "base": self.base, "cgdata": cgdata_digest,
                        "llvm": list(options.llvm_options(2)),
                        "layout": _layout_fields(options.final_layout(2))})


def summary_key(module: ModuleInput, versions: dict[str, str]) -> str:
    return _digest({"stream": "summary", "format": KEY_FORMAT, "twopass": __version__, **versions,
                    "input": module.digest})


def link_key(modules: list[ModuleInput], options: LinkOptions, versions: dict[str, str]) -> str:
    return _digest({"stream": "link", "format": KEY_FORMAT, "twopass": __version__, **versions,
                    "options": [options.instr_limit, options.evolution, options.shared, sorted(options.exports),
                                *([options.resolution] if options.resolution is not None else [])],
                    "modules": sorted([m.output, m.digest] for m in modules)})


def merged_key(round_one_keys: list[str]) -> str:
    return _digest({"stream": "merged", "round_one": sorted(round_one_keys)})


def facts_key(merged: str) -> str:
    return _digest({"stream": "facts", "merged": merged})


def last_merged_key(round_one: str) -> str:
    return _digest({"stream": "last merged", "round_one": round_one})


def module_keys(module: ModuleInput, options: BuildOptions, versions: dict[str, str],
                link: dict | None = None) -> ModuleKeys:
    o = options.overrides
    base = _digest({"format": KEY_FORMAT, "twopass": __version__, **versions, "input": module.digest, "link": link,
                    "opt_level": options.opt_level, "cpu": o.cpu, "features": o.features, "reloc": o.reloc,
                    "default_cpu": o.default_cpu,
                    "llvm": list(options.llvm_options(1)), "cgdata_in": options.cgdata_in_digest})
    return ModuleKeys(ir=_digest({"stream": "ir", "base": base}), round_one=_round_one_key(base, options), base=base)


def _round_one_key(base: str, options: BuildOptions) -> str:
    return _digest({"round": 1, "base": base, "two_rounds": options.two_rounds,
                    "layout": _layout_fields(options.final_layout(1)), **_text_route(options)})


def expand_inputs(args: list[str], _depth: int = 0) -> list[str]:
    """Files, directories (walked in sorted order) and @response files, in the order given."""
    out: list[str] = []
    for arg in args:
        if arg.startswith("@") and len(arg) > 1:
            if _depth > 8:
                raise InputError(arg[1:], "response files nest too deeply")
            try:
                with open(arg[1:], "rb") as f:
                    data = f.read()
                text = data.decode("utf-8")
            except OSError as e:
                raise InputError(arg[1:], e.strerror or str(e)) from None
            except UnicodeDecodeError:
                raise InputError(arg[1:], "a response file must be UTF-8 text") from None
            again.note(arg[1:], data)
            out += expand_inputs(shlex.split(text, comments=True), _depth + 1)
        elif os.path.isdir(arg):
            again.note_unrecordable()  # which modules it holds is no file's bytes
            found = _walk(arg)
            if not found:
                raise InputError(arg, "no LLVM modules (.bc, .ll, or bitcode .o files) in this directory")
            out += found
        elif not os.path.exists(arg):
            raise InputError(arg, "No such file or directory")
        else:
            out.append(arg)
    return out


def _walk(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.endswith((".bc", ".ll")) or (name.endswith(".o") and _is_bitcode_file(path)):
                found.append(path)
    return found


def _is_bitcode_file(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return objfile.is_bitcode(f.read(4))
    except OSError:
        return False


def output_names(paths: list[str]) -> dict[str, str]:
    """Each input's output path: its file name with `.o`, plus just enough parent directories to be unique
    (and its suffix kept when x.ll sits beside x.bc). Depends only on the set of inputs, never their order."""
    parts = {p: PurePath(os.path.abspath(p)).parts[1:] for p in paths}
    depth = {p: 1 for p in paths}
    keep: set[str] = set()
    while True:
        by_name: dict[str, list[str]] = {}
        for p in paths:
            by_name.setdefault(_output_name(parts[p][-depth[p]:], p in keep), []).append(p)
        clashes = [ps for ps in by_name.values() if len(ps) > 1]
        if not clashes:
            return {p: name for name, ps in by_name.items() for p in ps}
        for ps in clashes:
            growable = [p for p in ps if depth[p] < len(parts[p])]
            if growable:
                for p in growable:
                    depth[p] += 1
            elif keep.issuperset(ps):
                raise InputError(ps[0], f"its output name clashes with {ps[1]}")
            else:
                keep.update(ps)


def _output_name(parts: tuple[str, ...], keep_suffix: bool = False) -> str:
    *dirs, name = parts
    stem, suffix = os.path.splitext(name)
    base = name if keep_suffix or suffix not in MODULE_SUFFIXES else stem
    return "/".join([*dirs, base + ".o"])


def read_inputs(args: list[str]) -> list[ModuleSource]:
    """Files, directories and @response files as module sources; a file named twice is an error."""
    paths = expand_inputs(args)
    seen: dict[str, str] = {}
    for p in paths:
        real = os.path.realpath(p)
        if real in seen:
            raise InputError(p, f"given twice (also as {seen[real]})")
        seen[real] = p
    return [ModuleSource.file(p) for p in paths]


def make_plan(sources: list[ModuleSource], options: BuildOptions) -> Plan:
    if not sources:
        raise TwopassError("", "no input modules")
    by_path: dict[str, str] = {}
    for src in sources:
        if src.path in by_path:
            raise InputError(src.name, f"given twice (also as {by_path[src.path]})")
        by_path[src.path] = src.name
    names = output_names([src.path for src in sources])
    modules = [ModuleInput(src.name, names[src.path], src.data, _triple(src.data, src.name)) for src in sources]
    first = modules[0]
    for m in modules[1:]:
        if triple_key(m.triple) != triple_key(first.triple):
            raise TwopassError("", f"mixed target triples: {first.path} is {first.triple or '(none)'}, "
                                   f"{m.path} is {m.triple or '(none)'}")
    if options.final_layout(2 if options.two_rounds else 1) is not None:
        if options.layout.assembler is None and applies_to(first.triple) and not assembles_in_process(first.triple):
            from . import libllvm  # another target's text, assembled here when LLVM's shared library is at hand
            options = dataclasses.replace(options, layout=dataclasses.replace(options.layout,
                                                                              assembler=libllvm.assembler()))
        check_target(options.layout, first.triple)
    return Plan(modules, options)


def triple_key(triple: str) -> tuple[str, ...]:
    """What must agree across modules: architecture, OS and environment, not their versions
    (zig writes x86_64-unknown-linux5.10.0-gnu2.31.0; lld links that with x86_64-unknown-linux-gnu)."""
    arch, *rest = triple.split("-")
    return (arch, *(re.sub(r"[\d.]+$", "", part) for part in rest if part != "unknown"))


def _triple(data: bytes, path: str) -> str:
    kind = bitcode.module_kind(data)
    if kind == "bitcode":
        return bitcode.read_triple(data, path)
    if kind == "ir-text":
        return bitcode.text_triple(data.decode("utf-8", "replace"))
    raise InputError(path, "not an LLVM module (expected bitcode or textual IR)")
