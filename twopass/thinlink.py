"""The thin link: from every module's summary, what each module imports, exports, promotes and internalizes.

This is stage 2 of ThinLTO (llvm/lib/Transforms/IPO/FunctionImport.cpp, LTO.cpp) on summaries only: it never
sees IR. Import follows LLVM's rules and defaults: starting from every live function a module defines (what
the roots reach, as LLVM's computeDeadSymbols), a callee defined elsewhere is imported when it is eligible and
has at most `instr_limit` instructions; its own callees are then considered with the limit times `evolution`
(0.7, truncated to a whole number at each level as LLVM does), and so on. What an imported function references in
its module is exported from there; exported locals are promoted to hidden globals named `<name>.llvm.<n>`, n
from the exporter's content hash, so exporter and importers agree without talking. Then every external
definition that nothing outside its module can reach (the roots: `main` and the exported symbols; for a shared
library, or inputs without a `main`, every default-visibility symbol too) becomes internal, which lets the
optimizer drop or inline it.

Under a linker (`twopass ld`) the real linker's symbol resolution replaces those guesses: per module and symbol,
whether this copy prevails (p) and whether anything outside the bitcode sees it (x: native objects, shared
libraries, -shared, --export-dynamic, -u, --entry...; r: --wrap/--defsym). Visible symbols stay external, a
reference to a symbol means its prevailing copy (even from a module holding a non-prevailing one), and a
prevailing linkonce copy that another module or the outside needs becomes weak, so the optimizer cannot drop
it (LLVM's thinLTOResolvePrevailingGUID). Non-prevailing copies stay for the linker's COMDAT deduplication:
llvmlite cannot take a global out of its comdat, and LLVM rejects an available_externally one inside it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

INSTR_LIMIT = 100
EVOLUTION = 0.7
_KEEP_EXTERNAL = ("appending", "common", "extern_weak")


@dataclass(frozen=True)
class LinkOptions:
    instr_limit: int = INSTR_LIMIT
    evolution: float = EVOLUTION
    shared: bool = False
    exports: tuple[str, ...] = ("main",)
    resolution: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None = None  # (module, ((symbol, flags)))

    def resolved(self) -> dict[str, dict[str, str]] | None:
        """The linker's resolution by module name (ModuleSource.name), or None outside a linker."""
        return None if self.resolution is None else {m: dict(syms) for m, syms in self.resolution}


@dataclass
class Decisions:
    """One module's share of the thin link; everything its round-one worker must do, and its cache key."""

    promote: dict[str, str] = field(default_factory=dict)              # local -> promoted name
    imports: dict[str, list[str]] = field(default_factory=dict)        # exporter module -> its functions
    internalize: list[str] = field(default_factory=list)
    exported: set[str] = field(default_factory=set)
    weaken: list[str] = field(default_factory=list)                   # prevailing linkonce copies others need
    hide: list[str] = field(default_factory=list)                     # prevailing copies no link exports
    discard: list[str] = field(default_factory=list)                  # copies the linker did not choose
    variables: dict[str, list[str]] = field(default_factory=dict)      # exporter module -> its constants

    def sources(self) -> dict[str, list[str]]:
        """Everything imported, functions and constants, by exporter."""
        return {e: sorted({*self.imports.get(e, ()), *self.variables.get(e, ())})
                for e in sorted({*self.imports, *self.variables})}

    def key_fields(self, digests: dict[str, str], promotions: dict[str, dict[str, str]]) -> dict:
        """What the module's bytes depend on beyond its own input: LLVM's rule (the hashes of every module
        it imports from and its import, export and internalization decisions)."""
        fields = {"promote": sorted(self.promote.items()), "internalize": self.internalize,
                  "imports": [[digests[e], fns, sorted(promotions[e].items())]
                              for e, fns in sorted(self.imports.items())]}
        if self.variables:
            fields["variables"] = [[digests[e], names] for e, names in sorted(self.variables.items())]
        if self.weaken:
            fields["weaken"] = self.weaken
        if self.hide:
            fields["hide"] = self.hide
        if self.discard:
            fields["discard"] = self.discard
        return fields


def promoted_name(name: str, digest: str) -> str:
    return f"{name}.llvm.{int(digest[:8], 16)}"


def thin_link(summaries: dict[str, dict], digests: dict[str, str], options: LinkOptions,
              resolution: dict[str, dict[str, str]] | None = None) -> dict[str, Decisions]:
    """`summaries`, `digests` and the linker's `resolution` (if any) by module; the same inputs give the same
    decisions whatever their order."""
    order = sorted(summaries)
    external: dict[str, list[str]] = {}  # name -> modules defining it with external linkage
    prevailing: dict[str, str] = {}      # name -> the module whose copy the linker chose
    for mod in order:
        s = summaries[mod]
        for name, g in (*s["functions"].items(), *s["variables"].items()):
            if g["linkage"] not in ("private", "internal"):
                external.setdefault(name, []).append(mod)
                if resolution is not None and "p" in resolution[mod].get(name, ""):
                    prevailing[name] = mod
    decisions = {mod: Decisions() for mod in order}

    def resolve(context: str, name: str) -> str | None:
        """The module whose definition `name` means inside `context`."""
        s = summaries[context]
        g = s["functions"].get(name) or s["variables"].get(name)
        if resolution is not None:
            if g is not None and (g["linkage"] in ("private", "internal") or name not in external
                                  or "p" in resolution[context].get(name, "") or name not in prevailing):
                return context
            return prevailing.get(name)
        if g is not None:
            return context
        owners = external.get(name, [])
        return owners[0] if len(owners) == 1 else None

    # Inputs without a main are not a program but a library: what it exports is whatever has default visibility.
    shared = resolution is None and (options.shared or not any("main" in summaries[mod]["functions"]
                                                                for mod in order))
    roots_of = {mod: set(options.exports) if resolution is None else _linker_roots(resolution[mod])
                for mod in order}
    live, referenced = _live(summaries, roots_of, shared, resolve)
    alone = set() if resolution is None else _alone(summaries, prevailing, external)
    for mod in order:
        _imports_for(mod, summaries, resolve, decisions, options, live)
    for mod in order:
        d, s = decisions[mod], summaries[mod]
        for name in sorted(d.exported):
            g = s["functions"].get(name) or s["variables"].get(name)
            if g["linkage"] in ("private", "internal"):
                d.promote[name] = promoted_name(name, digests[mod])
        roots = roots_of[mod]
        if resolution is not None:
            d.weaken = [name for name, g in sorted((*s["functions"].items(), *s["variables"].items()))
                        if g["linkage"].startswith("linkonce") and prevailing.get(name) == mod
                        and (name in roots or name in d.exported or (mod, name) in referenced)]
        if s["renamable"]:
            d.internalize = _internalized(mod, s, roots, d.exported, referenced, live, shared)
            if resolution is not None:
                d.internalize = sorted({*d.internalize, *_local_copies(mod, s, roots, d.exported, referenced,
                                                                       prevailing, alone)})
        if resolution is not None:
            # The prevailing copy of a linkonce or weak symbol nothing outside the bitcode sees (the linker
            # left its x off: in a shared library, C++'s inline functions and template instances) is hidden.
            # LLVM internalizes it or, when other modules need it, auto-hides it, and lld keeps it out of the
            # dynamic symbols; the final link sees objects, not bitcode, and would export every one. (Not
            # internalized: llvmlite cannot take it out of its COMDAT, which another object may hold.)
            d.hide = [name for name, g in sorted((*s["functions"].items(), *s["variables"].items()))
                      if g["linkage"].startswith(("linkonce", "weak")) and prevailing.get(name) == mod
                      and g["visibility"] == "default" and name not in roots and name not in s["used"]
                      and name not in d.internalize]
            d.discard = _discarded(s, resolution[mod])
    return decisions


def _internalized(mod: str, s: dict, roots: set[str], exported: set[str], referenced: set[tuple[str, str]],
                  live: set[tuple[str, str]], shared: bool) -> list[str]:
    """External definitions nothing outside `mod` needs. A weak definition nothing live reaches goes too
    (LLVM drops every dead symbol): left, it would name what other modules made local. Linkonce ones the
    optimizer drops by themselves. (Not for a module whose asm may name anything.)"""
    names = []
    for name, g in sorted((*s["functions"].items(), *s["variables"].items())):
        dead_weak = g["linkage"] in ("weak", "weak_odr") and (mod, name) not in live
        if (not (g["linkage"] == "external" or dead_weak) or name in roots or name in exported
                or (mod, name) in referenced or name in s["used"] or (shared and g["visibility"] == "default")):
            continue
        names.append(name)
    return names


def _alone(summaries: dict[str, dict], prevailing: dict[str, str], external: dict[str, list[str]]) -> set[str]:
    """Names whose every copy but the prevailing one is linkonce (dropped in its module when unused), not
    `used`, in a module without asm: no other object can keep a COMDAT group of that name."""
    return {name for name, owner in prevailing.items()
            if all(m == owner or (summaries[m]["renamable"] and name not in summaries[m]["used"]
                                  and _definition(summaries[m], name)["linkage"].startswith("linkonce"))
                   for m in external[name])}


def _local_copies(mod: str, s: dict, roots: set[str], exported: set[str], referenced: set[tuple[str, str]],
                  prevailing: dict[str, str], alone: set[str]) -> list[str]:
    """Prevailing linkonce and weak copies only their own module needs, as LLVM internalizes them (so the
    optimizer may inline a single use and drop the body: 7% of `.text` on a C++ library). llvmlite cannot take
    a global out of its COMDAT, where LLVM makes the group no-deduplicate; so a copy goes local only when no
    other object can keep a group of that name, which the final link might choose over this one: every member
    of its group goes local with it, and each is `alone`."""
    defined = {**s["variables"], **s["functions"]}

    def local_copy(name: str, g: dict) -> bool:
        if g["linkage"] in ("private", "internal"):
            return True
        return (g["linkage"].startswith(("linkonce", "weak")) and prevailing.get(name) == mod and name in alone
                and name not in roots and name not in exported and (mod, name) not in referenced
                and name not in s["used"])

    def group(name: str, g: dict) -> str | None:
        if g.get("kind") == "alias" and g["refs"] and g["refs"][0] in defined:
            return defined[g["refs"][0]].get("comdat")
        return g.get("comdat")

    groups: dict[str, list[tuple[str, dict]]] = {}
    for name, g in defined.items():
        if (c := group(name, g)) is not None:
            groups.setdefault(c, []).append((name, g))
    return sorted(name for name, g in defined.items()
                  if g["linkage"] not in ("private", "internal") and local_copy(name, g)
                  and all(local_copy(n, m) for n, m in groups.get(group(name, g) or "", [(name, g)])))


def _discarded(s: dict, flags: dict[str, str]) -> list[str]:
    """The linkonce and weak copies the linker did not choose (another object's copy prevails), which LLVM drops
    before code generation: C++'s inline functions and template instances, compiled, outlined and merged in
    every module that has them (merged bodies of copies the final link throws away stayed, 1% of a program).
    They stay definitions through the optimizer, which may inline them (an odr copy is as good as the chosen
    one; the rest are interposable, which it does not inline), and are emitted by no round (workers: they
    become available_externally once the IR is saved). Not an alias or an aliasee (an alias must point to a
    definition), not `used`, and not in a module whose asm may name anything."""
    if not s["renamable"]:
        return []
    aliased = {g["refs"][0] for g in s["variables"].values() if g.get("kind") == "alias" and g["refs"]}
    return sorted(name for name, g in (*s["functions"].items(), *s["variables"].items())
                  if g["linkage"].startswith(("linkonce", "weak")) and name in flags and "p" not in flags[name]
                  and g.get("kind") != "alias" and name not in aliased and name not in s["used"])


def _definition(summary: dict, name: str) -> dict:
    return summary["functions"].get(name) or summary["variables"][name]


def _linker_roots(flags: dict[str, str]) -> set[str]:
    """What the outside of the bitcode sees (x) or the linker redefines (r); a copy that does not prevail is
    kept as it is (the linker chooses), so it counts as a root too."""
    return {name for name, f in flags.items() if "x" in f or "r" in f or "p" not in f}


def _live(summaries: dict[str, dict], roots_of: dict[str, set[str]], shared: bool,
          resolve) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """LLVM's computeDeadSymbols: the (module, name) pairs reachable through calls and references from the
    roots, a module's constructors and used names, and everything in a module whose asm may name anything; and
    those of them that live code of another module names. Only live code imports, and only its references keep
    a symbol of another module external."""
    live: set[tuple[str, str]] = set()
    referenced: set[tuple[str, str]] = set()
    work: list[tuple[str, str]] = []
    for mod, s in summaries.items():
        keep = roots_of[mod].union(s["used"], s.get("structors", ()))
        for group in (s["functions"], s["variables"]):
            for name, g in group.items():
                if (name in keep or not s["renamable"] or (shared and g["visibility"] == "default"
                                                           and g["linkage"] not in ("private", "internal"))):
                    work.append((mod, name))
    while work:
        pair = work.pop()
        if pair in live:
            continue
        live.add(pair)
        mod, name = pair
        s = summaries[mod]
        g = _definition(s, name)
        for ref in (*g.get("calls", ()), *g["refs"]):
            owner = resolve(mod, ref)
            if owner is None or not _defines(summaries[owner], ref):
                continue
            if owner != mod:
                referenced.add((owner, ref))
            if (owner, ref) not in live:
                work.append((owner, ref))
    return live, referenced


def _imports_for(mod: str, summaries: dict[str, dict], resolve, decisions: dict[str, Decisions],
                 options: LinkOptions, live: set[tuple[str, str]]) -> None:
    """LLVM's ComputeImportForModule: a worklist of call edges with decaying instruction limits, whole numbers
    as in LLVM (each level's limit is truncated: 100, 70, 49, 34, 23...)."""
    best: dict[tuple[str, str], int] = {}
    work = deque((mod, callee, options.instr_limit)
                 for name, fn in sorted(summaries[mod]["functions"].items()) if (mod, name) in live
                 for callee in fn["calls"])
    while work:
        context, name, limit = work.popleft()
        owner = resolve(context, name)
        if owner is None or owner == mod:
            continue
        fn = summaries[owner]["functions"].get(name)
        if fn is None or _clashes(summaries[mod], name, fn) or fn["why_not"] or fn["insts"] > limit \
                or best.get((owner, name), -1) >= limit:
            continue
        if fn["linkage"] in ("private", "internal") and not summaries[owner]["renamable"]:
            continue
        best[(owner, name)] = limit
        _export(decisions[owner], owner, name, (*fn["calls"], *fn["refs"]), resolve)
        work.extend((owner, callee, int(limit * options.evolution)) for callee in fn["calls"])
    imports: dict[str, set[str]] = {}
    for owner, name in best:
        imports.setdefault(owner, set()).add(name)
    decisions[mod].imports = {owner: sorted(names) for owner, names in sorted(imports.items())}
    refs = [(mod, ref) for name, fn in sorted(summaries[mod]["functions"].items()) if (mod, name) in live
            for ref in fn["refs"]]
    refs += [(owner, ref) for owner, name in sorted(best) for ref in summaries[owner]["functions"][name]["refs"]]
    decisions[mod].variables = _constants_for(mod, refs, summaries, resolve, decisions)


def _constants_for(mod: str, work: list[tuple[str, str]], summaries: dict[str, dict], resolve,
                   decisions: dict[str, Decisions]) -> dict[str, list[str]]:
    """LLVM's computeImportForReferencedGlobals: a constant of another module that live code here (or a
    function imported here) references comes as a definition, and so do the constants its initializer names,
    so loads from it fold (a table lookup becomes a compare). What it names stays exported from its module."""
    found: dict[str, set[str]] = {}
    while work:
        context, name = work.pop()
        owner = resolve(context, name)
        if owner is None or owner == mod or name in found.get(owner, ()):
            continue
        var = summaries[owner]["variables"].get(name)
        if var is None or not var["import"] or _clashes(summaries[mod], name, var):
            continue
        found.setdefault(owner, set()).add(name)
        _export(decisions[owner], owner, name, var["refs"], resolve)
        work.extend((owner, ref) for ref in var["refs"])
    return {owner: sorted(names) for owner, names in sorted(found.items())}


def _export(exporter: Decisions, owner: str, name: str, refs, resolve) -> None:
    """`name` is imported elsewhere: it and what it names in its module `owner` stay reachable from there."""
    exporter.exported.add(name)
    exporter.exported.update(ref for ref in refs if resolve(owner, ref) == owner)


def _clashes(summary: dict, name: str, g: dict) -> bool:
    """The importer has its own `name` where the exporter's is not a local (which is promoted to a name of its
    own: LLVM tells locals apart by their module)."""
    return g["linkage"] not in ("private", "internal") and _defines(summary, name)


def _defines(summary: dict, name: str) -> bool:
    return name in summary["functions"] or name in summary["variables"]


def dump_decisions(decisions: dict[str, Decisions]) -> bytes:
    import msgpack
    return msgpack.packb({mod: [d.promote, d.imports, d.internalize, d.weaken, d.variables, d.hide, d.discard]
                          for mod, d in sorted(decisions.items())})


def load_decisions(data: bytes) -> dict[str, Decisions]:
    """ValueError when `data` is not what dump_decisions wrote."""
    import msgpack
    try:
        return {mod: Decisions(dict(p), {e: list(f) for e, f in i.items()}, list(n),
                               weaken=list(w), variables={e: list(f) for e, f in v.items()}, hide=list(h),
                               discard=list(x))
                for mod, (p, i, n, w, v, h, x) in msgpack.unpackb(data).items()}
    except (ValueError, TypeError, AttributeError, msgpack.UnpackException) as e:
        raise ValueError(f"not thin-link decisions: {e}") from None


def load_summaries(raw: dict[str, bytes]) -> dict[str, dict]:
    import msgpack
    return {name: msgpack.unpackb(data) for name, data in raw.items()}


def statistics(decisions: dict[str, Decisions]) -> dict:
    return {"imported_functions": sum(len(f) for d in decisions.values() for f in d.imports.values()),
            "imported_constants": sum(len(v) for d in decisions.values() for v in d.variables.values()),
            "importing_modules": sum(bool(d.imports) for d in decisions.values()),
            "promoted": sum(len(d.promote) for d in decisions.values()),
            "internalized": sum(len(d.internalize) for d in decisions.values()),
            "weakened": sum(len(d.weaken) for d in decisions.values()),
            "hidden": sum(len(d.hide) for d in decisions.values()),
            "discarded": sum(len(d.discard) for d in decisions.values())}
