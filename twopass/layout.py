"""Make outlined code foldable by a linker: each outlined function in a section of its own.

LLVM's global outliner emits one internal copy of a sequence per occurrence and counts on the linker's
identical code folding to keep one; ICF and `--gc-sections` work on whole sections, and llvmlite has no
function-sections switch, so without this every copy stays in the module's one `.text` (round two then makes
programs bigger). We rewrite the assembly LLVM prints instead and assemble it again:

- `sections`: each `OUTLINED_FUNCTION_*` moves to `.text.<name>`; `ld.lld --icf=all`, gold and mold fold.
- `comdat`: each one also joins a COMDAT group named after a hash of its exact final text (instructions,
  operands, symbols it refers to, alignment, target), under a global hidden weak symbol of that name, so any
  ELF linker keeps one copy without ICF. A reference to a module-local symbol makes the key module-specific.
  LLVM's `.content.<hash>` suffix is not enough: it hashes the sequence before its frame is built.
- In either mode, with `function_sections` (`-ffunction-sections`), every other function in `.text` moves
  to `.text.<name>` as well, as lld's LTO code generation does, so `--gc-sections` drops what was inlined
  into all its callers.

DWARF: the compile unit's range is `.Lfunc_begin0 .. .Lfunc_end<last>` and the last function is an outlined
one, so `.Lfunc_end<K>` stays in `.text` where it was, and the moved function gets a new end label that
only its own `.Lfunc_end<K>-.Lfunc_begin<K>` and `.size` use. A function that something else measures
across sections (a label difference the assembler could not resolve) stays where it is; so does, in comdat
mode, one whose inner labels allocated data refers to (a discarded group would leave it dangling).
`dwarf` first rewrites what debug info measures across functions, so that with `-g` this is rare.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass

from . import dwarf
from .asmtext import FUNCTION as _FUNCTION
from .asmtext import LABEL as _LABEL
from .asmtext import Pattern as _Pattern
from .errors import TwopassError

FOLD_MODES = ("sections", "comdat", "none")


OUTLINED_PREFIX = "OUTLINED_FUNCTION_"
COMDAT_PREFIX = "OUTLINED_FUNCTION.comdat."

_GLOBAL = _Pattern(r"^\s*\.(?:globl|global|weak)\s+([\w.$]+)", re.M)
_TOKEN = _Pattern(r'"(?:[^"\\]|\\.)*"|(?<![%\w.$])[A-Za-z_.$][\w.$]*')
_SECTION = _Pattern(r"^\t\.(section|pushsection|popsection|previous|text|data|bss)\b[ \t]*([^\s,]*)", re.M)


@dataclass(frozen=True)
class Layout:
    """How final objects are laid out: `fold` mode, and the external assembler (None: assemble in process)."""

    fold: str = "sections"
    assembler: tuple[str, ...] | None = None
    function_sections: bool = True  # every other function in `.text` gets a section of its own too

    @property
    def active(self) -> bool:
        return self.fold != "none"


def applies_to(triple: str) -> bool:
    """ELF only: Mach-O objects are already atomized (`.subsections_via_symbols`); COFF is left alone."""
    parts = triple.split("-")
    return not any(p.startswith(("darwin", "macos", "ios", "tvos", "watchos", "xros", "windows", "win32",
                                 "uefi")) or p in ("apple", "msvc", "coff", "macho") for p in parts[1:])


_X86 = ("x86_64", "amd64", "i386", "i486", "i586", "i686")


def assembles_in_process(triple: str) -> bool:
    """llvmlite registers only the host's assembly parser (and parsing another target's aborts the process)."""
    def family(arch: str) -> str:
        arch = arch.lower()
        return "x86" if arch in _X86 else "aarch64" if arch in ("aarch64", "arm64") else arch
    return family(triple.split("-")[0]) == family(os.uname().machine)


def check_target(layout: Layout, triple: str) -> None:
    """Before any work: a cross target whose outlined code must move needs an assembler for it: LLVM's shared
    library (libllvm.py) or an external one."""
    if layout.active and layout.assembler is None and applies_to(triple) and not assembles_in_process(triple):
        raise TwopassError(triple, "outlined functions need their own sections, and llvmlite assembles only the "
                           f"host's ({os.uname().machine}) code: install twopass[cross] (LLVM's assemblers for "
                           "every target), or pass --assembler CMD (for example "
                           f"'python -m ziglang cc -target {triple.split('-')[0]}-linux-musl -c') "
                           "or --fold-outlined=none")


def assemble_external(command: tuple[str, ...], asm: str, module: str) -> bytes:
    """`COMMAND x.s -o x.o` in a private directory; its first error line names the module's failure."""
    return _external(command, [], "module.s", asm.encode("utf-8", "surrogateescape"), "module.o", module)


EXTERNAL_MODULE = "module.bc"


def compile_external(command: tuple[str, ...], ir: bytes, opt_level: int, reloc: str,
                     llvm_options: tuple[str, ...], module: str) -> str:
    """Codegen of optimized bitcode by the assembler command, which must then be a clang driver (zig cc is):
    its module identifier is EXTERNAL_MODULE (see `cgdata.records.rename_module`).
    `COMMAND -S -O<n> -Xclang -disable-llvm-passes -mllvm <the round's options> x.bc -o x.s`. For inline
    assembly on a target whose assembly parser llvmlite lacks: LLVM parses inline asm even when it prints
    assembly text (the integrated assembler is on, and llvmlite offers no TargetOptions to turn it off)."""
    args = ["-S", "-fno-verbose-asm", f"-O{opt_level}", "-Xclang", "-disable-llvm-passes",
            "-fPIC" if reloc == "pic" else "-fno-pic",
            *(a for opt in llvm_options for a in ("-mllvm", opt))]
    return _external(command, args, EXTERNAL_MODULE, ir, "module.s", module).decode("utf-8", "surrogateescape")


def _external(command: tuple[str, ...], args: list[str], src_name: str, data: bytes, out_name: str,
              module: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="twopass-as-") as tmp:
        src, out = os.path.join(tmp, src_name), os.path.join(tmp, out_name)
        with open(src, "wb") as f:
            f.write(data)
        try:
            import subprocess  # a warm build never assembles: 4 ms saved
            # Relative names: what the tool writes into its output (a module identifier) must not vary.
            proc = subprocess.run([*command, *args, src_name, "-o", out_name], capture_output=True, cwd=tmp)
        except OSError as e:
            raise TwopassError(module, f"cannot run the assembler {command[0]}: {e.strerror or e}") from None
        if proc.returncode or not os.path.isfile(out):
            err = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
            first = next((ln for ln in err if "error" in ln.lower()),  # GNU as says "Error:" after a heading
                         err[0] if err else f"exit status {proc.returncode}")
            raise TwopassError(module, f"assembler failed: {first.replace(src, src_name)}")
        with open(out, "rb") as f:
            return f.read()


@dataclass
class _Block:
    name: str
    start: int        # offset of its first line (alignment / .type)
    end: int          # offset just past its last line (.size, or the .cfi_endproc after it), newline included
    labels: list[str]  # labels it defines, in order, its name first
    end_label: str    # .Lfunc_end<K>, or "" when LLVM printed none


_PREAMBLE_LINE = _Pattern(r"\t\.(?:p2align|balign|align|type)\b[^\n]*\n$")
_NEXT_FUNCTION = _Pattern(r"^(?:\t\.type\t|OUTLINED_FUNCTION_[\w.$]*:$)", re.M)
_BLOCK_NAME = _Pattern(r"OUTLINED_FUNCTION_[\w.$]*:\n")
_ANY_LABEL = _Pattern(r"[A-Za-z_.$][\w.$]*:\n")


def _outlined_labels(asm: str):
    at = asm.find("\nOUTLINED_FUNCTION_")
    while at >= 0:
        m = _BLOCK_NAME.match(asm, at + 1)
        at = asm.find("\nOUTLINED_FUNCTION_", at + 1)
        if m:
            yield m


def _function_labels(asm: str, sections: tuple[list[int], list[str]]):
    """Every function's label that `.text` holds (what is in other sections already has one of its own)."""
    where, names = sections
    for m in _FUNCTION.finditer(asm):
        if names[bisect.bisect_right(where, m.start()) - 1] == ".text":
            yield _ANY_LABEL.match(asm, m.start(2))


def _find_blocks(asm: str, sections: tuple[list[int], list[str]], function_sections: bool = False
                 ) -> list[_Block]:
    found = {m.start(): m for m in _outlined_labels(asm)}
    if function_sections:
        for m in _function_labels(asm, sections):
            found.setdefault(m.start(), m)
    blocks = []
    for m in (found[at] for at in sorted(found)):
        name, start = m[0][:-2], m.start()
        while start > 0:
            prev = asm.rfind("\n", 0, start - 1) + 1
            if not _PREAMBLE_LINE.match(asm, prev, start):
                break
            start = prev
        size = asm.find(f"\n\t.size\t{name},", m.end() - 1)
        if size < 0 or _NEXT_FUNCTION.search(asm, m.end(), size):
            continue  # no .size, or another function starts before it: not a shape we know
        end = asm.find("\n", size + 1) + 1 or len(asm)
        if asm.startswith("\t.cfi_endproc\n", end):
            end += len("\t.cfi_endproc\n")
        labels = [name, *_LABEL.findall(asm, m.end(), end)]
        ends = [lb for lb in labels if lb.startswith(".Lfunc_end")]
        blocks.append(_Block(name, start, end, labels, ends[0] if len(ends) == 1 else ""))
    return blocks


def _sections_at(asm: str) -> tuple[list[int], list[str]]:
    """Where the current section changes, and to what (following push/pop), for `bisect` look-ups."""
    where, names, stack, current = [0], [".text"], [], ".text"
    for m in _SECTION.finditer(asm):
        kind, arg = m.groups()
        if kind == "pushsection":
            stack.append(current)
        if kind in ("popsection", "previous"):
            current = stack.pop() if stack else ".text"
        else:
            current = arg if kind in ("section", "pushsection") else "." + kind
        where.append(m.start())
        names.append(current)
    return where, names


def _unsafe(asm: str, blocks: list[_Block], comdat: bool, sections: tuple[list[int], list[str]]) -> set[str]:
    """Names of blocks that cannot move: measured across sections, or (comdat) pointed into from data."""
    owner = {lb: b for b in blocks for lb in b.labels}
    starts = [b.start for b in blocks]

    def holder(pos: int) -> _Block | None:
        i = bisect.bisect_right(starts, pos) - 1
        return None if i < 0 or pos >= blocks[i].end else blocks[i]

    where, names = sections
    label_at: dict[str, int] = {}  # made when first needed: most modules never need it

    def section(pos: int) -> str:
        return names[bisect.bisect_right(where, pos) - 1]

    bad: set[str] = set()
    for p, left_name, right in _differences(asm):
        a, b = owner.get(left_name), owner.get(right)
        if a is not None and a is not b and left_name == a.end_label:
            a = None  # .Lfunc_end<K> stays in .text (the compile unit's range ends there)
        if a is b:
            continue  # both in one block, or both staying
        inside = holder(p)
        if inside is None and b is None and not label_at:
            label_at.update((lm[1], lm.start()) for lm in _LABEL.finditer(asm))
        if inside is None and b is None and right in label_at and section(label_at[right]) == section(p) and \
                _DATA_WORD.match(asm, asm.rfind("\n", 0, p) + 1):
            continue  # `.long A-B`, B in the word's own section: a PC-relative relocation (PIC jump tables)
        bad.update(blk.name for blk in (a, b, inside) if blk is not None)
    if comdat:
        for m in _LOCAL_REF.finditer(asm):
            blk = owner.get(m[0])
            if blk is not None and holder(m.start()) is None and not section(m.start()).startswith(".debug_"):
                bad.add(blk.name)
    return bad


_DATA_WORD = _Pattern(r"\t\.(?:long|quad|word|4byte|8byte)\t")
_LOCAL_REF = _Pattern(r"(?<![\w.$])\.L[\w.$]+")
_MINUS_NAME = _Pattern(r"-([A-Za-z_.$][\w.$]*)")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$")


def _differences(asm: str):
    r"""(position of the minus, A, B) for each `A-B` LLVM printed (a label difference; the B of A-B-C is the A
    of B-C): each minus found by itself and A read backwards from it, as `(?<![\w.$])([\w.$]+)-(?=NAME)` would
    find them, a tenth of that pattern's time (it tried every name in the text)."""
    for m in _MINUS_NAME.finditer(asm):
        p = start = m.start()
        while start > 0 and (asm[start - 1] in _NAME_CHARS or asm[start - 1].isalnum()):  # isalnum: \w's others
            start -= 1
        if start < p:
            yield p, asm[start:p], m[1]


def _content_key(block_text: str, block: _Block, module_locals: set[str], module_digest: str,
                 target: str) -> str:
    """What decides the group: the block's text with its own labels numbered, its name abstracted, and
    `.loc` lines dropped; the module's digest joins in when it refers to a module-local symbol."""
    ordinal = {lb: f"<L{i}>" for i, lb in enumerate(block.labels)}
    local = False

    def norm(m: re.Match) -> str:
        nonlocal local
        tok = m[0]
        if tok in ordinal:
            return ordinal[tok]
        if tok in module_locals:
            local = True
        return tok

    body = _TOKEN.sub(norm, _DEBUG_LINES.sub("", block_text))
    h = hashlib.sha256(target.encode() + b"\0" + body.encode())
    if local:
        h.update(b"\0module\0" + module_digest.encode())
    return h.hexdigest()[:32]


_DEBUG_LINES = _Pattern(r"^\s*\.(?:loc|file)\s[^\n]*\n", re.M)


def rewrite(asm: str, fold: str, target: str, function_sections: bool = False) -> tuple[str, int]:
    """The assembly with outlined functions (and with `function_sections` all others in `.text`) moved;
    returns (text, number of functions moved).

    `target` (triple, CPU, features, assembler) goes into COMDAT keys: the same text can assemble to other
    bytes elsewhere (x86 padding NOPs depend on the CPU). In comdat mode, copies with equal keys inside one
    module become one function: the others' labels are set to the kept copy's, so debug info still resolves.
    """
    if fold == "none" or OUTLINED_PREFIX not in asm and not function_sections:
        return asm, 0
    if not asm.endswith("\n"):
        asm += "\n"
    asm = dwarf.rebase_lists(asm)
    sections = _sections_at(asm)  # finding the blocks and checking them both ask
    blocks = _find_blocks(asm, sections, function_sections)
    comdat = fold == "comdat"
    bad = _unsafe(asm, blocks, comdat, sections) if blocks else set()
    blocks = [b for b in blocks if b.name not in bad]
    if not blocks:
        return asm, 0
    progbits = "%progbits" if target.startswith(("arm", "thumb")) else "@progbits"
    new_end = {b.end_label: ".Ltwopass_end" + b.end_label[len(".Lfunc_end"):] for b in blocks if b.end_label}
    rename: dict[str, str] = {}
    if comdat:
        module_locals = set(_LABEL.findall(asm)) - set(_GLOBAL.findall(asm))
        digest = hashlib.sha256(asm.encode()).hexdigest()
        for b in blocks:
            if not b.name.startswith(OUTLINED_PREFIX):
                continue
            rename[b.name] = COMDAT_PREFIX + _content_key(asm[b.start:b.end], b, module_locals, digest, target)

    inner = {b.end_label: set(b.labels) for b in blocks if b.end_label}

    def own_length(m: re.Match) -> str:
        # What measures from inside a function to its end moves with it (its own length, an exception table's
        # last call-site range); .Lfunc_end<K> against anything else stays in .text.
        return f"{new_end[m[1]]}-{m[2]}" if m[2] in inner.get(m[1], ()) else m[0]

    tables = {b.end_label[len(".Lfunc_end"):]: b.name for b in blocks
              if b.end_label and not b.name.startswith(OUTLINED_PREFIX) and rename.get(b.name) is None}

    def own_tables(m: re.Match) -> str:
        # A moved function's jump tables go with it into `.rodata.<name>`, as LLVM's -function-sections puts
        # them (its DataSections): in the module's one `.rodata` they would keep the function from --gc-sections.
        name = tables.get(m[4])
        if name is None:
            return m[0]
        return f"{m[1]}\t.pushsection\t.rodata.{name},\"a\",{m[2]}\n{m[3]}\t.popsection\n"

    def fix_outside(text: str) -> str:
        if tables:
            text = _JUMP_TABLE.sub(own_tables, text)
        if new_end:
            text = _END_DIFF.sub(own_length, text)
            text = dwarf.move_range_pairs(text, new_end)
        return _rename(text, rename) if rename else text

    out: list[str] = []
    kept: dict[str, _Block] = {}  # comdat signature -> the block that defines it here
    pos = 0
    for b in blocks:
        out.append(fix_outside(asm[pos:b.start]))
        pos = b.end
        sig = rename.get(b.name)
        if sig in kept:
            theirs = kept[sig]
            out += [f"\t.set\t{new_end.get(mine, mine)}, {new_end.get(other, other)}\n"
                    for mine, other in zip(b.labels[1:], theirs.labels[1:])]
        else:
            if sig:
                kept[sig] = b
                out.append(f"\t.pushsection\t.text.{sig},\"axG\",{progbits},{sig},comdat\n"
                           f"\t.weak\t{sig}\n\t.hidden\t{sig}\n")
            else:
                out.append(f"\t.pushsection\t.text.{b.name},\"ax\",{progbits}\n")
            text = asm[b.start:b.end]
            if b.end_label:  # its own end label is the only one in it
                text = text.replace(b.end_label, new_end[b.end_label])
            out.append(_rename(text, rename) if rename else text)
            out.append("\t.popsection\n")
        if b.end_label:
            out.append(f"{b.end_label}:\n")
    out.append(fix_outside(asm[pos:]))
    placed = [(rename.get(b.name, b.name), new_end[b.end_label]) for b in blocks
              if b.end_label and (rename.get(b.name) is None or kept[rename[b.name]] is b)]
    return dwarf.cover_moved_code("".join(out), placed), len(blocks)



_JUMP_TABLE = _Pattern(r'^(\t\.section\t\.rodata,"a",([@%]progbits)\n)((?:\t\.p2align[^\n]*\n)?\.LJTI(\d+)_\d+:\n'
                       r'(?:\t\.p2align[^\n]*\n|\.LJTI\4_\d+:\n|\t\.(?:quad|xword|long|word|short|hword|byte)\t[^\n]*\n)*)',
                       re.M)  # a function's jump tables (.LJTI<function number>_<n>) in the module's `.rodata`
_END_DIFF = _Pattern(r"(\.Lfunc_end\d+)-([A-Za-z_.$][\w.$]*)(?![\w.$])")
_STRING_OR_SYMBOL = _Pattern(r'"(?:[^"\\\n]|\\.)*"|(?<![%\w.$])(?:OUTLINED_FUNCTION_|\.Lfunc_end)[\w.$]*')


def _rename(text: str, names: dict[str, str]) -> str:
    """Replace outlined-function names and end labels as whole tokens, never inside string literals (DWARF
    names stay as LLVM wrote them)."""
    return _STRING_OR_SYMBOL.sub(lambda m: names.get(m[0], m[0]), text)
