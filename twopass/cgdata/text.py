"""LLVM's text form of codegen data: a `:kind` header, then one YAML document per part.

Writing reproduces LLVM's yaml::Output byte for byte (key padding, hex hashes, quoting), so that our text
diffs cleanly against llvm-cgdata's. Reading goes through PyYAML with every scalar kept as a string, and the
integers are then parsed the way LLVM parses them (radix prefixes, range checks).
"""

from __future__ import annotations

import re

from .funcmap import StableFunction, StableFunctionMap
from .hashtree import OutlinedHashTree
from .model import KIND_MAP, KIND_TREE, CodeGenData

_HEADER_KINDS = {"outlined_hash_tree": KIND_TREE, "stable_function_map": KIND_MAP}
_YAML_UNSAFE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class TextError(ValueError):
    """Text that is not codegen data; the message says where."""


# -- writing ---------------------------------------------------------------------------------------------

def _key(name: str, indent: str = "") -> str:
    return f"{indent}{name}:" + " " * max(1, 16 - len(name))


def write_text(cg: CodeGenData) -> str:
    out = []
    if cg.tree is not None:
        out.append("# Outlined stable hash tree\n:outlined_hash_tree\n")
    if cg.funcmap is not None:
        out.append("# Stable function map\n:stable_function_map\n")
    if cg.tree is not None:
        out.append(_tree_yaml(cg.tree))
    if cg.funcmap is not None:
        out.append(_map_yaml(cg.funcmap))
    return "".join(out)


def _tree_yaml(tree: OutlinedHashTree) -> str:
    out = ["---\n"]
    for node_id, (hash_, terminals, succ) in enumerate(tree.stable_nodes()):
        out.append(f"{node_id}:\n{_key('Hash', '  ')}0x{hash_:X}\n{_key('Terminals', '  ')}{terminals}\n"
                   f"{_flow(_key('SuccessorIds', '  '), succ)}\n")
    out.append("...\n")
    return "".join(out)


def _flow(prefix: str, items: list[int], wrap: int = 70) -> str:
    """A flow sequence as yaml::Output writes it: past column 70 it breaks the line before an element."""
    start = len(prefix)
    parts, col = [prefix, "[ "], start + 2
    for i, item in enumerate(items):
        if i:
            parts.append(", ")
            col += 2
        if col > wrap:
            parts.append("\n" + " " * (start + 2))
            col = start + 2
        text = str(item)
        parts.append(text)
        col += len(text)
    parts.append(" ]")
    return "".join(parts)


def _map_yaml(fmap: StableFunctionMap) -> str:
    funcs = list(fmap.functions())
    if not funcs:
        return "--- []\n...\n"
    out = ["---\n"]
    for f in funcs:
        out.append(f"- {_key('Hash')}{f.hash}\n{_key('FunctionName', '  ')}{_scalar(f.function_name)}\n"
                   f"{_key('ModuleName', '  ')}{_scalar(f.module_name)}\n{_key('InstCount', '  ')}{f.inst_count}\n")
        if not f.operands:
            out.append("  IndexOperandHashes: []\n")
            continue
        out.append("  IndexOperandHashes:\n")
        for (inst, opnd), h in sorted(f.operands.items()):
            out.append(f"    - {_key('InstIndex')}{inst}\n{_key('OpndIndex', '      ')}{opnd}\n"
                       f"{_key('OpndHash', '      ')}{h}\n")
    out.append("...\n")
    return "".join(out)


_NUMERIC = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL = {"null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE",
            ".nan", ".NaN", ".NAN"} | {s + i for s in ("", "+", "-") for i in (".inf", ".Inf", ".INF")}
_ESCAPES = {0: "\\0", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\e",
            0x22: '\\"', 0x5C: "\\\\", 0x85: "\\N", 0xA0: "\\_", 0x2028: "\\L", 0x2029: "\\P"}


def _looks_numeric(s: str) -> bool:
    if re.fullmatch(r"0o[0-7]+|0x[0-9a-fA-F]+", s):
        return True
    return bool(_NUMERIC.match(s))


def _scalar(s: str) -> str:
    """Quote a string exactly when LLVM's needsQuotes() would, in the style it would choose."""
    if not s:
        return "''"
    single = (s[0].isspace() or s[-1].isspace() or s in _SPECIAL or _looks_numeric(s)
              or s[0] in "-?:\\,[]{}#&*!|>'\"%@`")
    for ch in s:
        c = ord(ch)
        if ch.isascii() and ch.isalnum() or ch in "_-^., \t":
            continue
        if c in (0x0A, 0x0D, 0x7F) or c <= 0x1F or c >= 0x80:
            return '"' + "".join(_escape(ch) for ch in s) + '"'
        single = True
    return "'" + s.replace("'", "''") + "'" if single else s


def _escape(ch: str) -> str:
    """yaml::escape: named escapes, then \\x, \\u or \\U by size for what is not printable."""
    c = ord(ch)
    if c in _ESCAPES:
        return _ESCAPES[c]
    if 0xDC80 <= c <= 0xDCFF:  # a byte that was not UTF-8: LLVM prints U+FFFD, and so do we
        return "\ufffd"
    if c < 0x20 or (c >= 0x80 and not ch.isprintable()):
        return _code_escape(ch)
    return ch  # DEL included: LLVM writes it raw


def _code_escape(ch: str) -> str:
    c = ord(ch)
    return f"\\x{c:02X}" if c < 0x100 else f"\\u{c:04X}" if c <= 0xFFFF else f"\\U{c:08X}"


# -- reading ---------------------------------------------------------------------------------------------

def read_text(text: str) -> CodeGenData:
    lines = text.splitlines(keepends=True)
    kinds, i = 0, 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            i += 1
        elif line.startswith(":"):
            kind = _HEADER_KINDS.get(line[1:].rstrip().lower())
            if kind is None:
                raise TextError(f"invalid codegen data (file header is corrupt): unknown kind {line.strip()!r}")
            kinds |= kind
            i += 1
        else:
            break
    # LLVM's reader takes characters that PyYAML refuses (DEL, C1 controls...); LLVM only ever writes them
    # inside double quotes, where the equivalent escape means the same character.
    body = _YAML_UNSAFE.sub(lambda m: _code_escape(m[0]), "".join(lines[i:]))
    if not body.strip():
        if kinds:
            raise TextError("invalid codegen data (file header is corrupt): the header names data that is missing")
        return CodeGenData()
    import yaml  # here: builds never read text data, and PyYAML takes a tenth of a warm build to import

    try:
        docs = list(yaml.load_all(body, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader)))
    except yaml.YAMLError as e:
        raise TextError(f"malformed codegen data: {_one_line(e)}") from None
    expected = [k for k in (KIND_TREE, KIND_MAP) if kinds & k]
    if len(docs) < len(expected):
        raise TextError(f"malformed codegen data: {len(expected)} YAML documents expected, found {len(docs)}")
    cg = CodeGenData()
    for kind, doc in zip(expected, docs):
        if kind == KIND_TREE:
            cg.tree = _read_tree(doc)
        else:
            cg.funcmap = _read_map(doc)
    return cg


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def _uint(value, bits: int, what: str) -> int:
    """LLVM's getAsUnsignedInteger with radix 0: 0x, 0b, 0o and leading-0 octal prefixes."""
    if not isinstance(value, str):
        raise TextError(f"malformed codegen data: {what} is not a scalar")
    s = value.strip()
    base, digits = 10, s
    low = s.lower()
    if low.startswith("0x"):
        base, digits = 16, s[2:]
    elif low.startswith("0b"):
        base, digits = 2, s[2:]
    elif low.startswith("0o"):
        base, digits = 8, s[2:]
    elif len(s) > 1 and s.startswith("0"):
        base, digits = 8, s[1:]
    try:
        if not digits or not digits.isalnum() or not digits.isascii():
            raise ValueError
        n = int(digits, base)
    except ValueError:
        raise TextError(f"malformed codegen data: {what} {s!r} is not an unsigned integer") from None
    if n >= 1 << bits:
        raise TextError(f"malformed codegen data: {what} {s!r} does not fit in {bits} bits")
    return n


def _mapping(doc, keys: tuple[str, ...], what: str) -> dict:
    if not isinstance(doc, dict):
        raise TextError(f"malformed codegen data: {what} is not a mapping")
    missing = [k for k in keys if k not in doc]
    extra = [k for k in doc if k not in keys]
    if missing or extra:
        problem = f"missing key {missing[0]!r}" if missing else f"unknown key {extra[0]!r}"
        raise TextError(f"malformed codegen data: {what}: {problem}")
    return doc


def _read_tree(doc) -> OutlinedHashTree:
    if doc is None or doc == "":
        return OutlinedHashTree()
    if not isinstance(doc, dict):
        raise TextError("malformed codegen data: the outlined hash tree document is not a mapping")
    nodes = {}
    for key, value in doc.items():
        node_id = _uint(key, 32, "node id")
        node = _mapping(value, ("Hash", "Terminals", "SuccessorIds"), f"node {node_id}")
        succ = node["SuccessorIds"]
        if not isinstance(succ, list):
            raise TextError(f"malformed codegen data: node {node_id}: SuccessorIds is not a sequence")
        if node_id in nodes:
            raise TextError(f"malformed codegen data: node id {node_id} is repeated")
        nodes[node_id] = (_uint(node["Hash"], 64, "Hash"), _uint(node["Terminals"], 32, "Terminals"),
                          [_uint(s, 32, "successor id") for s in succ])
    try:
        return OutlinedHashTree.from_stable_nodes(nodes)
    except ValueError as e:
        raise TextError(f"malformed codegen data: the outlined hash tree is not a tree: {e}") from None


def _read_map(doc) -> StableFunctionMap:
    fmap = StableFunctionMap()
    if doc is None or doc == "":
        return fmap
    if not isinstance(doc, list):
        raise TextError("malformed codegen data: the stable function map document is not a sequence")
    for n, item in enumerate(doc):
        f = _mapping(item, ("Hash", "FunctionName", "ModuleName", "InstCount", "IndexOperandHashes"),
                     f"function {n}")
        for k in ("FunctionName", "ModuleName"):
            if not isinstance(f[k], str):
                raise TextError(f"malformed codegen data: function {n}: {k} is not a string")
        ops = f["IndexOperandHashes"]
        if not isinstance(ops, list):
            raise TextError(f"malformed codegen data: function {n}: IndexOperandHashes is not a sequence")
        inst_count = _uint(f["InstCount"], 32, "InstCount")
        pairs = {}
        for op in ops:
            op = _mapping(op, ("InstIndex", "OpndIndex", "OpndHash"), f"function {n} operand")
            pairs[(_uint(op["InstIndex"], 32, "InstIndex"), _uint(op["OpndIndex"], 32, "OpndIndex"))] = \
                _uint(op["OpndHash"], 64, "OpndHash")
        fmap.insert(StableFunction(_uint(f["Hash"], 64, "Hash"), f["FunctionName"], f["ModuleName"],
                                   inst_count, pairs))
    return fmap
