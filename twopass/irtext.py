"""LLVM's textual IR as llvmlite prints it: module summaries for the thin link, and import modules.

llvmlite can rename a global and change its linkage, but it cannot delete a function's body, which is what
carving "these functions, everything else declared" out of another module takes. Both jobs therefore work on
the module's printed form, whose top level is regular (AsmWriter writes one entity per line, a function's
body between `define ... {` and a line `}`), and hand LLVM's parser the result, so any slip is a parse error
in a worker, never silently wrong code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_QUOTED_TEXT = r'"(?:[^"\\]|\\.)*"'
_NAME = r'(?:' + _QUOTED_TEXT + r'|[-a-zA-Z$._][-a-zA-Z$._0-9]*|\d+)'
_REF = re.compile(r"@(" + _NAME + ")")
# A call's callee, in a function's instructions joined by newlines: no match crosses a line.
_CALL = re.compile(r'\b(?:call|invoke|callbr)\b[^@%\n]*?@("(?:[^"\\\n]|\\.)*"|[-a-zA-Z$._][-a-zA-Z$._0-9]*|\d+)\(')
_GLOBAL = re.compile(r"^@(" + _NAME + r") = ")
_DEFINE = re.compile(r"^(define|declare) (.*?)@(" + _NAME + r")\(")


def _define(line: str) -> re.Match[str]:
    """A function's header line, split; ValueError for anything else (importing reports it per module)."""
    m = _DEFINE.match(line)
    if m is None:
        raise ValueError(f"not a function header: {line[:120]}")
    return m
_ATTRS = re.compile(r"^attributes #(\d+) = \{(.*)\}$")
_GROUP = re.compile(r"#(\d+)")
LINKAGES = ("private", "internal", "available_externally", "linkonce", "weak", "common", "appending",
            "extern_weak", "linkonce_odr", "weak_odr", "external")
LOCAL = ("private", "internal")
_VISIBILITY = ("hidden", "protected", "default")


def unquote(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name


def quote(name: str) -> str:
    """A name as LLVM's printer writes it (it quotes more than its parser needs: `$` too)."""
    return name if re.fullmatch(r"[-a-zA-Z._][-a-zA-Z._0-9]*", name) else '"' + name + '"'


@dataclass
class Entity:
    """One top-level global: a function (header line and body lines), a variable, alias or ifunc (one line)."""

    name: str
    kind: str                         # "function", "declaration", "variable", "alias"
    head: str
    body: list[str] = field(default_factory=list)
    comment: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        """The keywords before the type: linkage, preemption, visibility, ... (functions and variables)."""
        if self.kind in ("function", "declaration"):
            return _define(self.head)[2].split()
        words = []
        for w in self.head.split(" = ", 1)[1].split():
            if w in ("global", "constant", "alias", "ifunc"):
                break
            words.append(w)
        return words

    @property
    def defined(self) -> bool:
        return self.kind == "function" or self.kind != "declaration" and not {"external", "extern_weak"} & \
            set(self.words)

    @property
    def linkage(self) -> str:
        return next((w for w in self.words if w in LINKAGES), "external")

    @property
    def visibility(self) -> str:
        return next((w for w in self.words if w in _VISIBILITY), "default")


@dataclass
class ParsedIR:
    header: list[str]                 # source_filename, datalayout, triple
    types: list[str]
    module_asm: bool
    entities: dict[str, Entity]
    attributes: dict[str, str]        # attribute group number -> its text
    metadata: list[str]               # `!N = ...` lines and `!llvm.module.flags`
    used: set[str]                    # names in @llvm.used / @llvm.compiler.used: never renamed
    # What import_module made of each imported global (its lines and the globals they name), and the metadata
    # by number: a worker keeps an exporter's ParsedIR for all the modules that import from it.
    carved: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    metadata_by_id: dict[str, str] | None = None
    renames: dict[str, str] = field(default_factory=dict)  # promotion (see `promote`): old name -> new

    def metadata_index(self) -> dict[str, str]:
        """The `!N = ...` lines by N, made on first use."""
        if self.metadata_by_id is None:
            self.metadata_by_id = {line[1:line.index(" ")]: line for line in self.metadata if line[1:2].isdigit()}
        return self.metadata_by_id


def parse(text: str) -> ParsedIR:
    ir = ParsedIR([], [], False, {}, {}, [], set())
    lines = text.splitlines()
    comment: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith(("source_filename", "target ")):
            ir.header.append(line)
        elif line.startswith("module asm"):
            ir.module_asm = True
        elif line.startswith("%") and " = type " in line:
            ir.types.append(line)
        elif line.startswith(("define ", "declare ")):
            m = _define(line)
            name = unquote(m[3])
            ent = Entity(name, "function" if m[1] == "define" else "declaration", line, comment=comment)
            if m[1] == "define":
                while i < len(lines) and lines[i] != "}":
                    ent.body.append(lines[i])
                    i += 1
                i += 1
            ir.entities[name] = ent
        elif (g := _GLOBAL.match(line)) is not None:
            name = unquote(g[1])
            kind = "alias" if re.search(r"\b(alias|ifunc)\b", line.split(" = ", 1)[1].split(",")[0]) \
                else "variable"
            ir.entities[name] = Entity(name, kind, line)
            if name in ("llvm.used", "llvm.compiler.used"):
                ir.used.update(unquote(n) for n in _REF.findall(line.split(" = ", 1)[1]))
        elif (a := _ATTRS.match(line)) is not None:
            ir.attributes[a[1]] = a[2]
        elif re.match(r"!\d+ = ", line) or line.startswith("!llvm.module.flags = "):
            ir.metadata.append(line)
        comment = [line] if line.startswith("; Function Attrs") else []
    return ir


def promote(ir: ParsedIR, renames: dict[str, str]) -> ParsedIR:
    """The module as LLVM prints it after llvm.promote (exported locals become hidden globals under new names),
    made from its print before: so a worker can import from the text its summary printed, without parsing
    and printing the module again. Heads change now; the lines that name a renamed global change when
    import_module carves them. ValueError where the text cannot say exactly what LLVM would (a renamed
    unnamed global renumbers the others; a COMDAT keeps its old name): then promote with LLVM."""
    if not renames:
        return ir
    entities = dict(ir.entities)
    for old, new in renames.items():
        ent = entities.pop(old, None)
        if ent is None or old.isdigit() or "\\" in old + new or new in entities or " comdat" in ent.head \
                or ent.kind == "declaration":
            raise ValueError(f"cannot promote @{old} in the text")
        entities[new] = Entity(new, ent.kind, _promoted_head(ent, new), ent.body, ent.comment)
    return ParsedIR(ir.header, ir.types, ir.module_asm, entities, ir.attributes, ir.metadata, ir.used,
                    metadata_by_id=ir.metadata_by_id, renames=dict(renames))


def _promoted_head(ent: Entity, new: str) -> str:
    """External linkage (not printed), hidden visibility (which makes dso_local implicit: not printed either),
    in the place LLVM prints visibility: before the DLL storage class and anything after it."""
    def kept(words: list[str]) -> list[str]:
        return [w for w in words if w not in LINKAGES and w not in _VISIBILITY and w != "dso_local"]

    if ent.kind == "function":
        m = _define(ent.head)
        return " ".join([m[1], "hidden", *kept(m[2].split()), "@" + quote(new)]) + ent.head[m.end(3):]
    rest = ent.head.split(" = ", 1)[1].split(" ")
    n = len(ent.words)
    return " ".join(["@" + quote(new), "=", "hidden", *kept(rest[:n]), *rest[n:]])


_REF_OR_STRING = re.compile(r"@(" + _NAME + ")|" + _QUOTED_TEXT)  # an @ inside a string constant names nothing


def _renamed(lines: list[str], renames: dict[str, str]) -> list[str]:
    def one(m: re.Match[str]) -> str:
        new = renames.get(unquote(m[1])) if m[1] is not None else None
        return m[0] if new is None else "@" + quote(new)
    return [_REF_OR_STRING.sub(one, line) if "@" in line else line for line in lines]


def _metadata_closure(lines: list[str], text: str, by_id: dict[str, str]) -> list[str]:
    """The metadata lines `text` and the module flags name, directly or through each other, in their order."""
    todo = set(_META_REF.findall(text))
    todo.update(ref for line in lines if line.startswith("!llvm.module.flags") for ref in _META_REF.findall(line))
    keep: set[str] = set()
    while todo:
        n = todo.pop()
        if n in keep or n not in by_id:
            continue
        keep.add(n)
        todo.update(_META_REF.findall(by_id[n].split(" = ", 1)[1]))
    return [line for line in lines if not line[1:2].isdigit() or line[1:line.index(" ")] in keep]


def _instructions(body: list[str]) -> list[str]:
    """One line per instruction, as LLVM's summary counts them: a switch's cases and a landingpad's clauses
    are lines of their own, indented further; debug records and pseudo probes do not count."""
    return [ln for ln in body if ln.startswith("  ") and ln[2:3] not in (" ", "]", ";")
            and not ln.startswith("  #dbg_") and "@llvm.dbg." not in ln and "@llvm.pseudoprobe" not in ln]


def _refs(text: str) -> list[str]:
    return [unquote(n) for n in _REF.findall(text)]


def summarize(text: str | ParsedIR) -> dict:
    """What the thin link needs of one module (printed, or parsed already), as msgpack-able data: each defined
    global's linkage, visibility, size, call edges, references and whether it may be imported."""
    ir = parse(text) if isinstance(text, str) else text
    functions, variables = {}, {}
    for name, ent in ir.entities.items():
        if name.startswith("llvm."):
            continue
        if ent.kind == "function":
            insts = _instructions(ent.body)
            body = "\n".join(insts)
            calls = sorted({unquote(n) for n in _CALL.findall(body)})
            named = set(_refs(ent.head + "\n" + body))
            functions[name] = {"linkage": ent.linkage, "visibility": ent.visibility, "insts": len(insts),
                               "calls": calls, "refs": sorted(named - set(calls) - {name}),
                               "why_not": _why_not_importable(ir, ent, body, named)}
        elif ent.defined:
            variables[name] = {"linkage": ent.linkage, "visibility": ent.visibility, "kind": ent.kind,
                               "refs": sorted(set(_refs(ent.head.split(" = ", 1)[1])) - {name}),
                               "import": _importable_constant(ir, ent)}
        else:
            continue
        if " comdat" in ent.head and (c := _comdat(ent)) is not None:
            (functions if ent.kind == "function" else variables)[name]["comdat"] = c
    structors = [ir.entities[n] for n in ("llvm.global_ctors", "llvm.global_dtors") if n in ir.entities]
    return {"functions": functions, "variables": variables,
            "renamable": not ir.module_asm, "used": sorted(ir.used),
            "structors": sorted({r for e in structors for r in _refs(e.head.split(" = ", 1)[1])})}


_COMDAT = re.compile(r" comdat(?:\(\$(" + _NAME + r")\))?(?=[ ,]|$)")


def _comdat(ent: Entity) -> str | None:
    """The COMDAT group a definition is in (an alias: its aliasee's, which the thin link looks up)."""
    if ent.kind == "function":
        m = _define(ent.head)
        head = ent.head[_balanced_end(ent.head, m.end() - 1):]
    elif ent.kind == "variable":
        head = ent.head.split(" = ", 1)[1]
    else:
        return None
    c = _COMDAT.search(_QUOTED.sub('""', head))
    if c is None or c[1] is None:
        return None if c is None else ent.name
    named = re.search(r" comdat\(\$(" + _NAME + r")\)", head)
    return unquote(named[1]) if named else None


_TARGET_ATTR = re.compile(r'"(target-cpu|target-features)"="([^"]*)"')
_FN_GROUP = re.compile(r" #(\d+)")
_QUOTED = re.compile(_QUOTED_TEXT)
_PIC = re.compile(r'^!\d+ = !\{i32 \d+, !"(?:PIC|PIE) Level", i32 (\d+)\}$')


def target(ir: ParsedIR) -> tuple[str, str, bool]:
    """The CPU and features every defined function names (else ""), and whether the module flags say PIC/PIE.
    A function's own attributes are the group its header names last (the printer puts them in one)."""
    cpus, features = set(), set()
    for ent in ir.entities.values():
        if ent.kind == "function":
            groups = _FN_GROUP.findall(_QUOTED.sub('""', ent.head))
            attrs = dict(_TARGET_ATTR.findall(ir.attributes.get(groups[-1], ""))) if groups else {}
            cpus.add(attrs.get("target-cpu", ""))
            features.add(attrs.get("target-features", ""))
    pic = any(int(m[1]) > 0 for line in ir.metadata if (m := _PIC.match(line)))
    return cpus.pop() if len(cpus) == 1 else "", features.pop() if len(features) == 1 else "", pic


def _why_not_importable(ir: ParsedIR, ent: Entity, body: str, named: set[str]) -> str:
    """LLVM's reasons a function stays in its module, in short; empty when it may be imported. `body`: its
    instructions; `named`: the globals its header and body name."""
    if ent.linkage not in ("external", *LOCAL):
        return f"{ent.linkage} linkage"
    head_tail = ent.head[ent.head.index("@"):]
    if " section " in head_tail or " comdat" in head_tail:
        return "section or comdat"
    if any(_GROUP.fullmatch(g) and "noinline" in ir.attributes.get(g[1:], "").split()
           for g in re.findall(r"#\d+", head_tail)) or " noinline " in ent.head:
        return "noinline"
    if "asm" in body and re.search(r"\basm\b", body):
        return "inline asm"
    if "blockaddress(" in body or "dso_local_equivalent" in body or "no_cfi" in body:
        return "block address or symbol equivalence"
    for ref in sorted(named):  # the first reason by name, not by the set's order, which changes per process
        target = ir.entities.get(ref)
        if target is not None and target.kind == "alias":
            return f"references alias {ref}"
        if target is None or target.linkage not in LOCAL:
            continue
        if ref.isdigit() or ref in ir.used or ir.module_asm:
            return f"references non-renamable local {ref}"
        if " section " in target.head:
            return f"references local {ref} in an explicit section"
    return ""


def _importable_constant(ir: ParsedIR, ent: Entity) -> bool:
    """LLVM's canImportGlobalVar for a constant (imported with whatever its initializer names): its own,
    renamable, in no section or COMDAT of its own, naming no alias and no local it cannot rename."""
    rest = ent.head.split(" = ", 1)[1]
    if ent.kind != "variable" or ent.linkage not in ("external", *LOCAL) or ent.name in ir.used or ir.module_asm:
        return False
    if not re.match(r"(?:[\w()]+ )*?constant ", rest) or re.search(r"\b(?:thread_local|externally_initialized)\b",
                                                                     rest.split(" constant ", 1)[0]):
        return False
    if " section " in rest or " comdat" in rest or " partition " in rest:
        return False
    for ref in _refs(rest):
        target = ir.entities.get(ref)
        if target is not None and (target.kind == "alias" or target.linkage in LOCAL and ref in ir.used):
            return False
    return True


def _balanced_end(text: str, start: int) -> int:
    """Index just past the bracket group opening at `start` (quotes respected)."""
    return _scan_end(text, start)


def _type_end(text: str, start: int) -> int:
    """Index just past the type at `start`: brackets and quoted names (C++'s `(anonymous namespace)`) may hold
    spaces, and a pointer may carry an address space."""
    i = _scan_end(text, start, " ,")
    if text.startswith(" addrspace(", i):
        i = _balanced_end(text, i + len(" addrspace"))
    return i


def _scan_end(text: str, start: int, separators: str = "") -> int:
    """Where a scan from `start` ends, quotes respected and brackets counted: just past the bracket that closes
    the first group, or with `separators`, at the first of them outside every bracket (or the end)."""
    depth, i, quoted = 0, start, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth -= 1
            if depth == 0 and not separators:
                return i + 1
        elif depth == 0 and c in separators:
            return i
        i += 1
    if separators:
        return i
    raise ValueError(f"unbalanced brackets in: {text[:80]}")


def _without_linkage(words: list[str]) -> list[str]:
    return [w for w in words if w not in LINKAGES]


def declaration(ent: Entity) -> str:
    """The entity as a declaration of the same symbol: what an import module says of what it does not carry."""
    if ent.kind == "declaration":
        return ent.head
    if ent.kind == "function":
        m = _define(ent.head)
        close = _balanced_end(ent.head, m.end() - 1)
        keep = re.findall(r"\b(?:local_unnamed_addr|unnamed_addr|addrspace\(\d+\)|align \d+)\b|#\d+",
                          ent.head[close:])
        return " ".join(["declare", *_without_linkage(m[2].split()), ent.head[m.start(3) - 1:close], *keep])
    name, rest = ent.head.split(" = ", 1)
    v = re.match(r"((?:[\w()]+ )*?)(global|constant) ", rest)
    if v is None:
        raise ValueError(f"cannot declare {ent.name}: {ent.head[:80]}")
    pos = v.end()
    end = _type_end(rest, pos)
    words = [w for w in _without_linkage(v[1].split()) if w != "externally_initialized"]
    align = re.search(r", align (\d+)", rest[end:])
    return " ".join([f"{name} = external", *words, v[2], rest[pos:end].rstrip(",")]) + \
        (f", align {align[1]}" if align else "")


_DBG_ATTACHMENT = re.compile(r",? !dbg !\d+")
_DBG_RECORD = re.compile(r"^\s*(?:#dbg_|(?:tail |notail )?call void @llvm\.dbg\.)")
_META_REF = re.compile(r"!(\d+)")


def _carve(ent: Entity, renames: dict[str, str]) -> tuple[list[str], list[str]]:
    """One imported global as an import module carries it, and the globals its lines name: a constant as it is,
    external until every import is linked; a function defined with no linkage, comdat or debug info. The
    names in its lines as `renames` has them (its head is promoted already)."""
    lines, refs = _carve_lines(ent)
    if not renames:
        return lines, refs
    lines = _renamed(lines, renames)
    return lines, _refs("\n".join(lines))


def _carve_lines(ent: Entity) -> tuple[list[str], list[str]]:
    if ent.kind == "variable":
        name_, rest = ent.head.split(" = ", 1)
        words = rest.split(" ")
        cut = next(i for i, w in enumerate(words) if w not in LINKAGES)
        head = _DBG_ATTACHMENT.sub("", f"{name_} = " + " ".join(words[cut:]))
        return [head], _refs(head)
    m = _define(ent.head)
    head = " ".join(["define", *_without_linkage(m[2].split())]) + " " + ent.head[m.start(3) - 1:]
    head = _DBG_ATTACHMENT.sub("", re.sub(r" comdat(\(\$" + _NAME + r"\))?", "", head))
    body = [_DBG_ATTACHMENT.sub("", line) if "!dbg" in line else line for line in ent.body
            if not _DBG_RECORD.match(line)]
    return [head, *body, "}"], _refs("\n".join([head, *body]))


def import_module(ir: ParsedIR, functions: list[str]) -> str:
    """The module to link into an importer: `functions` (constants among them) defined (external; the importer
    makes them available_externally once every import is linked: LLVM's linker drops an available_externally
    definition that nothing in the destination names yet, so a function imported for another import that comes
    later would be lost), with everything they (and the metadata they carry) name declared. `ir` is the exporter's,
    its renames already applied.

    Without their debug info: the exporter's compile unit is not the importer's, and LLVM drops an import's
    debug info when it parses it anyway ("DICompileUnit not listed in llvm.dbg.cu"), after parsing all of it,
    once per importer (a quarter of a -g build's round-one time). Only the metadata the bodies still name comes
    along."""
    wanted = sorted(set(functions))
    out = [*ir.header, *ir.types]
    bodies: list[str] = []
    named: set[str] = set()
    for name in wanted:
        lines, refs = ir.carved.get(name) or ir.carved.setdefault(name, _carve(ir.entities[name], ir.renames))
        if ir.entities[name].kind == "variable":
            bodies.insert(0, lines[0])
        else:
            bodies += lines
        named.update(refs)
    metadata = _metadata_closure(ir.metadata, "\n".join(bodies), ir.metadata_index())
    if ir.renames:
        metadata = _renamed(metadata, ir.renames)
    for line in metadata:
        if "@" in line:
            named.update(_refs(line))
    for name in sorted(named - set(wanted)):
        used = ir.entities.get(name)
        if used is None:
            raise ValueError(f"@{name} is used but not defined or declared")
        if used.kind == "alias":
            raise ValueError(f"cannot import a reference to alias @{name}")
        out.append(_DBG_ATTACHMENT.sub("", declaration(used)))
    out += bodies
    # Only the attribute groups these lines name: a group is mostly the CPU's whole feature list (2 KB from
    # clang 19), and all of a module's groups were two thirds of every import's text for LLVM to parse.
    groups = set(_GROUP.findall("\n".join(out)))
    out += [f"attributes #{n} = {{{a}}}" for n, a in ir.attributes.items() if n in groups]
    out += metadata
    return "\n".join(out) + "\n"
