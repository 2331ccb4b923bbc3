"""Inputs for the llvm-cgdata test cases: text forms, and objects that carry raw payload sections built with llc."""

from __future__ import annotations

from pathlib import Path

SECTION_NAMES = {  # (outline, merge) section names as LLVM writes them per object format
    "x86_64-linux-gnu": ("__llvm_outline", "__llvm_merge"),
    "arm64-apple-darwin": ("__DATA,__llvm_outline", "__DATA,__llvm_merge"),
    # LLVM 22 writes .loutline/.lmerge to COFF but llvm-cgdata 22 reads only the common names there, so the
    # comparisons use those; test_coff_names_llvm_writes covers the names LLVM writes.
    "x86_64-windows-msvc": ("__llvm_outline", "__llvm_merge"),
}


def tree_text(*chains: tuple[list[int], int]) -> str:
    """A hash tree in LLVM's text form, built from (sequence, terminals) pairs by our own writer."""
    from twopass.cgdata import CodeGenData, OutlinedHashTree
    from twopass.cgdata.text import write_text

    tree = OutlinedHashTree()
    for seq, count in chains:
        tree.insert(seq, count)
    return write_text(CodeGenData(tree=tree))


def map_text(*funcs: tuple[int, str, str, int, dict]) -> str:
    lines = [":stable_function_map", "---"]
    for h, fn, mod, inst, ops in funcs:
        lines += [f"- Hash: {h}", f"  FunctionName: {fn}", f"  ModuleName: {mod}", f"  InstCount: {inst}"]
        if not ops:
            lines.append("  IndexOperandHashes: []")
            continue
        lines.append("  IndexOperandHashes:")
        for (i, o), oh in ops.items():
            lines += [f"    - InstIndex: {i}", f"      OpndIndex: {o}", f"      OpndHash: {oh}"]
    return "\n".join(lines) + "\n...\n"


def raw_payload(llvm_tool, tmp: Path, text: str, name: str) -> bytes:
    """The record bytes as LLVM itself serializes them: llvm-cgdata's indexed file minus the 32-byte header."""
    src, out = tmp / f"{name}.cgtext", tmp / f"{name}.raw.cgdata"
    src.write_text(text)
    llvm_tool("llvm-cgdata", "--convert", "--format", "binary", src, "-o", out)
    return out.read_bytes()[32:]


def make_object(llvm_tool, tmp: Path, name: str, triple: str, outline: list[bytes] = (),
                merge: list[bytes] = (), names: tuple[str, str] | None = None) -> Path:
    """An object file whose codegen-data sections hold exactly the given records (one global per record)."""
    sect_outline, sect_merge = names or SECTION_NAMES[triple]
    lines = []
    for n, (sect, payloads) in enumerate(((sect_outline, outline), (sect_merge, merge))):
        for i, data in enumerate(payloads):
            body = "".join(f"\\{b:02X}" for b in data)
            align = 1 if n == 0 else 4
            lines.append(f'@d{n}_{i} = private unnamed_addr constant [{len(data)} x i8] c"{body}", '
                         f'section "{sect}", align {align}')
    lines.append(f'@llvm.used = appending global [{len(lines)} x ptr] [' +
                 ", ".join(f"ptr @{ln.split()[0][1:]}" for ln in lines) + '], section "llvm.metadata"')
    ll = tmp / f"{name}.ll"
    ll.write_text("\n".join(lines) + "\n")
    obj = tmp / f"{name}.o"
    llvm_tool("llc", "-filetype=obj", "-mtriple", triple, ll, "-o", obj)
    return obj


def assert_equivalent(ours: Path, theirs: Path, exact: bool) -> None:
    """Our merged file against llvm-cgdata's: the same bytes, or (when `exact` is False) the same content
    with the function-map name table possibly in another order: LLVM interns names in its hash table's
    iteration order, twopass in sorted entry order so that its output does not depend on input order."""
    a, b = ours.read_bytes(), theirs.read_bytes()
    if exact or a == b:
        assert a == b
        return
    from twopass.cgdata import parse

    x, y = parse(a, str(ours)), parse(b, str(theirs))
    assert len(a) == len(b)
    assert (x.tree is None) == (y.tree is None) and (x.tree is None or x.tree.stable_nodes() == y.tree.stable_nodes())
    assert sorted(x.funcmap.names) == sorted(y.funcmap.names) and x.funcmap.names != y.funcmap.names
    assert list(x.funcmap.functions()) == list(y.funcmap.functions())
