"""DWARF that lets functions move to sections of their own, in the assembly LLVM prints for one unit.

LLVM measures a unit's location and range lists, and its own range, from the unit's first function when all
its code is in `.text`; a label difference across sections cannot be assembled, so without this a function
that such a list describes stays in `.text` (and `--gc-sections` and ICF no longer apply to it). Here each
list that describes one function gets a base-address entry of its own, as LLVM's own `-ffunction-sections`
output has, and the unit's range becomes a range list that covers every moved function.

DWARF 4 (`.debug_loc`, `.debug_ranges`: base-address selection entries) and DWARF 5 (`.debug_loclists`,
`.debug_rnglists`: `DW_LLE_base_address` / `DW_RLE_base_address` and `DW_RLE_start_length`, which need no
address-table index). Anything else (several units, other shapes) is left as LLVM wrote it; the layout then
keeps what is measured across sections where it is.
"""

from __future__ import annotations

import bisect
import re

from .asmtext import FUNCTION, LABEL, Pattern

TEXT_BASE = ".Ltwopass_text0"  # the top of `.text`: the unit's range starts there, its first function can move


def rebase_lists(asm: str) -> str:
    """Each location or range list that measures one function (not the unit's first) from the unit's base
    measures from that function instead."""
    if "\t.section\t.debug_loc," in asm or "\t.section\t.debug_ranges," in asm:
        return _rebase_v4(asm)
    if _is_v5(asm):
        return _rebase_v5(asm)
    return asm


def cover_moved_code(asm: str, placed: list[tuple[str, str]]) -> str:
    """Make the compile unit's ranges cover every moved function (`placed`: its symbol and end label), so that
    in a linked program the moved functions' DWARF lies inside their unit."""
    if not placed or asm.count(".Lcu_begin") != 1:
        return asm
    return _cover_v5(asm, placed) if _is_v5(asm) else _cover_v4(asm, placed)


def move_range_pairs(text: str, new_end: dict[str, str]) -> str:
    """[begin, end) pairs in a DWARF 4 range list of a unit with code in several sections: a function's own
    range moves with it; a run of functions that starts with a moved one keeps, in `.text`, what follows the
    place it left (where its old end label stays)."""
    def pair(m: re.Match) -> str:
        if f".Lfunc_end{m[3]}" not in new_end:
            return m[0]
        if m[3] == m[6]:
            return f"{m[1]}{m[2]}\n{m[4]}{new_end[m[5]]}\n"
        return f"{m[1]}.Lfunc_end{m[3]}\n{m[4]}{m[5]}\n"
    return _RANGE_PAIR.sub(pair, text)


def _is_v5(asm: str) -> bool:
    return ".Ldebug_info_start0:\n\t.short\t5\n" in asm or ".Ldebug_info_start0:\n\t.hword\t5\n" in asm


def _words(asm: str) -> tuple[str, str, str]:
    """How this target spells 8, 4 and 2 data bytes (AArch64: .xword, .word, .hword)."""
    return ("xword", "word", "hword") if "\t.xword\t" in asm else ("quad", "long", "short")


def _function_finder(asm: str):
    functions = sorted((m.start(2), m[1]) for m in FUNCTION.finditer(asm))
    starts = [p for p, _ in functions]
    label_at = {m[1]: m.start() for m in LABEL.finditer(asm)}

    def function_of(label: str) -> str | None:
        i = bisect.bisect_right(starts, label_at.get(label, -1)) - 1
        return functions[i][1] if i >= 0 else None
    return function_of, label_at


def _own_text_base(asm: str, base_at: int, base_end: int, high_at: int, high_end: int) -> str | None:
    """The unit's range starts at TEXT_BASE, a label of its own at the top of `.text`, instead of its first
    function (which can then move too): the base at [base_at, base_end) and the `-.Lfunc_begin0` high_pc
    line at [high_at, high_end) are rewritten. None when `.text` does not start with that function."""
    text_at = asm.find("\t.text\n")
    begin0 = _BEGIN0.search(asm)
    if begin0 is None or not 0 <= text_at < begin0.start() or not base_at <= base_end <= high_at:
        return None
    at = text_at + len("\t.text\n")
    base = asm[base_at:base_end].replace(".Lfunc_begin0", TEXT_BASE)
    high = asm[high_at:high_end].replace("-.Lfunc_begin0\n", f"-{TEXT_BASE}\n")
    return (asm[:at] + f"{TEXT_BASE}:\n" + asm[at:base_at] + base + asm[base_end:high_at] + high +
            asm[high_end:])


def _rebase(asm: str, lists: re.Pattern | Pattern, stop_of, new_body) -> str:
    """Each list (from a `lists` label to `stop_of` it) whose `new_body` is not None gets that body."""
    out, pos = [], 0
    for m in lists.finditer(asm):
        stop = stop_of(m)
        if stop is None:
            break
        body = new_body(m, asm[m.end():stop])
        if body is not None:
            out += [asm[pos:m.end()], body]
            pos = stop
    return "".join(out) + asm[pos:] if out else asm


def _sole_owner(function_of, labels: list[str], first: str | None) -> str | None:
    owners = {function_of(x) for x in labels}
    if len(owners) != 1 or None in owners or first in owners:
        return None
    return owners.pop()


# DWARF 4: one 64-bit unit, as LLVM writes it.

_CU_ABBREV = Pattern(r"\t\.section\t\.debug_abbrev,[^\n]*\n\t\.byte\t1\n\t\.byte\t17\n\t\.byte\t[01]\n"
                     r"((?:\t\.byte\t\d+\n\t\.byte\t\d+\n)*?)\t\.byte\t0\n\t\.byte\t0\n")
_CU_HEADER = Pattern(r"\.Ldebug_info_start0:\n\t\.(?:short|hword)\t4\n\t\.(?:long|word)\t\.debug_abbrev\n\t\.byte\t8\n"
                     r"(?:\t[^\n]*\n)*?\t\.(?:quad|xword)\t(\.Lfunc_begin0|\.Ltwopass_text0)\n"
                     r"(\t\.(?:long|word)\t(\.Lfunc_end\d+)-(?:\.Lfunc_begin0|\.Ltwopass_text0)\n)")
_CU_RANGES = Pattern(r"\.Ldebug_info_start0:\n\t\.(?:short|hword)\t4\n\t\.(?:long|word)\t\.debug_abbrev\n\t\.byte\t8\n"
                     r"(?:\t\.(?:byte|short|hword|long|word|quad|xword)\t[^\n]*\n){0,12}?"
                     r"\t\.(?:long|word)\t(\.Ldebug_ranges\d+)\n")
_RANGE_PAIR = Pattern(r"(\t\.(?:quad|xword)\t)(\.Lfunc_begin(\d+))\n(\t\.(?:quad|xword)\t)(\.Lfunc_end(\d+))\n")
_LIST_START = Pattern(r"^\.Ldebug_(?:loc|ranges)\d+:\n", re.M)
_LIST_END = Pattern(r"\t\.(quad|xword)\t0\n\t\.(?:quad|xword)\t0\n")  # x86 and AArch64 spell 8 bytes apart
_BEGIN0 = Pattern(r"^\.Lfunc_begin0:$", re.M)
_BASE_DIFF = Pattern(r"\t\.(?:quad|xword)\t([A-Za-z_.$][\w.$]*)-\.Lfunc_begin0\n")


def _rebase_v4(asm: str) -> str:
    """Base-address selection entries (-1, symbol) start each list of one function; the unit's own base
    moves to TEXT_BASE, so every list gets a base of its own, the first function's included."""
    header = _CU_HEADER.search(asm)
    rebased = None
    if header is not None and header[1] == ".Lfunc_begin0":
        rebased = _own_text_base(asm, header.start(1), header.end(1), header.start(2), header.end(2))
    asm = rebased or asm
    function_of, _ = _function_finder(asm)
    first = None if rebased else function_of(".Lfunc_begin0")

    def stop_of(m: re.Match) -> int | None:
        stop = _LIST_END.search(asm, m.end())
        return None if stop is None else stop.start()

    def new_body(m: re.Match, body: str) -> str | None:
        fn = _sole_owner(function_of, _BASE_DIFF.findall(body), first)
        if fn is None:
            return None
        word = _LIST_END.search(asm, m.end())[1]
        return f"\t.{word}\t-1\n\t.{word}\t{fn}\n" + body.replace("-.Lfunc_begin0\n", f"-{fn}\n")
    return _rebase(asm, _LIST_START, stop_of, new_body)


def _cover_v4(asm: str, placed: list[tuple[str, str]]) -> str:
    """Either the low_pc/high_pc pair of a unit whose code was all in `.text` (it becomes low_pc + a range
    list: `.text`, then each moved function), or a range list already (the moved functions are added before
    its end). Entries use base-address selection, so they need no label difference across sections."""
    abbrev, header = _CU_ABBREV.search(asm), _CU_HEADER.search(asm)
    if abbrev is None:
        return asm
    values = abbrev[1].replace("\t.byte\t", "").split("\n")[:-1]
    pairs = list(zip(values[::2], values[1::2]))
    q, w, _ = _words(asm)
    ranges = "".join(f"\t.{q}\t-1\n\t.{q}\t{sym}\n\t.{q}\t0\n\t.{q}\t{end}-{sym}\n" for sym, end in placed)
    if ("18", "6") in pairs and header is not None:  # DW_AT_high_pc, DW_FORM_data4
        pairs[pairs.index(("18", "6"))] = ("85", "23")  # DW_AT_ranges, DW_FORM_sec_offset: the same 4 bytes
        block = "".join(f"\t.byte\t{a}\n\t.byte\t{f}\n" for a, f in pairs)
        asm = asm[:abbrev.start(1)] + block + asm[abbrev.end(1):]
        header = _CU_HEADER.search(asm)
        base = header[1]
        asm = asm[:header.start(2)] + f"\t.{w}\t.Ltwopass_cu_ranges\n" + asm[header.end(2):]
        text = f"\t.{q}\t-1\n\t.{q}\t{base}\n\t.{q}\t0\n\t.{q}\t{header[3]}-{base}\n"
        # `.text` last: when every function moved, its entry is (0, 0), which ends a DWARF 4 list.
        return (asm + "\t.section\t.debug_ranges,\"\",@progbits\n.Ltwopass_cu_ranges:\n" + ranges + text +
                f"\t.{q}\t0\n\t.{q}\t0\n")
    listed = _CU_RANGES.search(asm)
    if ("85", "23") in pairs and listed is not None:
        start = asm.find(f"\n{listed[1]}:\n")
        stop = _LIST_END.search(asm, start) if start >= 0 else None
        if stop is not None:
            return asm[:stop.start()] + ranges + asm[stop.start():]
    return asm


# DWARF 5: one 64-bit compile unit (DW_UT_compile), its code all in `.text` (low_pc addrx, high_pc data4).

_V5_ABBREV = Pattern(r"\t\.section\t\.debug_abbrev,[^\n]*\n\t\.byte\t1\n\t\.byte\t17\n\t\.byte\t[01]\n"
                     r"((?:\t\.(?:byte\t\d+|ascii\t\"[^\"\n]*\")\n)*?)\t\.byte\t0\n\t\.byte\t0\n")
_V5_UNIT = Pattern(r"\.Ldebug_info_start0:\n\t\.(?:short|hword)\t5\n\t\.byte\t1\n\t\.byte\t8\n"
                   r"\t\.(?:long|word)\t\.debug_abbrev\n\t\.byte\t1\n")
_V5_HIGH = Pattern(r"\t\.(?:long|word)\t(\.Lfunc_end\d+)-(\.Lfunc_begin0|\.Ltwopass_text0)\n")
_V5_LIST = Pattern(r"^\.Ldebug_(loc|ranges)\d+:\n", re.M)
_V5_LIST_STOP = Pattern(r"^(?:[A-Za-z_.$][\w.$]*:|\t\.section\t)", re.M)
_V5_BASE_DIFF = Pattern(r"\t\.uleb128[ \t]([A-Za-z_.$][\w.$]*)-\.Lfunc_begin0\n")
_V5_LEAD_BASE = Pattern(r"\t\.byte\t1\n\t\.(?:byte\t\d+|ascii\t\"[^\"\n]*\")\n")  # base_addressx, an index
_V5_RUN = Pattern(r"\t\.byte\t4\n\t\.uleb128[ \t]\.Lfunc_begin(\d+)-\.Lfunc_begin0\n"
                  r"\t\.uleb128[ \t]\.Lfunc_end(\d+)-\.Lfunc_begin0\n")  # offset_pair over whole functions
_V5_RNGLISTS = Pattern(r"\t\.section\t\.debug_rnglists,[^\n]*\n(?:[^\n]*\n)*?(\.Ldebug_list_header_end\d+):\n")
DW_LLE_BASE_ADDRESS, DW_RLE_BASE_ADDRESS, DW_RLE_START_LENGTH = 6, 5, 7
_HIGH_PC_DATA4 = ("\t.byte\t18", "\t.byte\t6")  # DW_AT_high_pc, DW_FORM_data4


def _v5_unit(asm: str) -> tuple[re.Match, re.Match, re.Match] | None:
    """The unit's abbreviation, its header and its high_pc value line, when the unit is the shape above:
    attribute values are one line each, so the high_pc value is the line after the values before it."""
    abbrev, unit = _V5_ABBREV.search(asm), _V5_UNIT.search(asm)
    if abbrev is None or unit is None:
        return None
    lines = abbrev[1].split("\n")[:-1]
    attrs = list(zip(lines[::2], lines[1::2]))
    if _HIGH_PC_DATA4 not in attrs:
        return None
    at = unit.end()
    for _ in range(attrs.index(_HIGH_PC_DATA4)):
        at = asm.find("\n", at) + 1
        if at == 0 or not asm.startswith("\t.", at):
            return None
    high = _V5_HIGH.match(asm, at)
    return None if high is None else (abbrev, unit, high)


def _rebase_v5(asm: str) -> str:
    """`DW_LLE_base_address` / `DW_RLE_base_address` entries start each list of one function, in place of
    the `base_addressx` entry (.Lfunc_begin0) a list starts with when the unit's base is 0. When the unit's
    base is its first function (low_pc is an address-table index, shared with that function's own DIE),
    that is right wherever the function goes, so its lists stay as they are. The unit's own list, in a unit
    with code in several sections, lists runs of functions in `.text`: each becomes one entry per function."""
    unit = _v5_unit(asm)
    high = unit[2] if unit is not None else None
    unit_base = high is not None and high[2] == ".Lfunc_begin0"
    if high is not None and unit_base:
        asm = _own_text_base(asm, high.start(), high.start(), high.start(), high.end()) or asm
    function_of, label_at = _function_finder(asm)
    first = function_of(".Lfunc_begin0")
    q = _words(asm)[0]

    def stop_of(m: re.Match) -> int | None:
        stop = _V5_LIST_STOP.search(asm, m.end())
        return None if stop is None else stop.start()

    def runs(body: str) -> str | None:
        pairs = _V5_RUN.findall(body)
        if not pairs or len(pairs) * 2 != body.count("-.Lfunc_begin0\n"):
            return None
        numbers = [k for a, b in pairs for k in range(int(a), int(b) + 1)]
        if any(f".Lfunc_begin{k}" not in label_at or f".Lfunc_end{k}" not in label_at for k in numbers):
            return None

        def entries(m: re.Match) -> str:
            return "".join(f"\t.byte\t{DW_RLE_START_LENGTH}\n\t.{q}\t.Lfunc_begin{k}\n"
                           f"\t.uleb128 .Lfunc_end{k}-.Lfunc_begin{k}\n" for k in range(int(m[1]), int(m[2]) + 1))
        return _V5_RUN.sub(entries, body)

    def new_body(m: re.Match, body: str) -> str | None:
        lead = _V5_LEAD_BASE.match(body)
        if lead is None and not unit_base:
            return None  # measured from a base this does not know
        fn = _sole_owner(function_of, _V5_BASE_DIFF.findall(body), None if lead else first)
        if fn is None:
            return runs(body) if lead and m[1] == "ranges" else None
        kind = DW_LLE_BASE_ADDRESS if m[1] == "loc" else DW_RLE_BASE_ADDRESS
        rest = body[lead.end():] if lead else body
        return f"\t.byte\t{kind}\n\t.{q}\t{fn}\n" + rest.replace("-.Lfunc_begin0\n", f"-{fn}\n")
    return _rebase(asm, _V5_LIST, stop_of, new_body)


def _cover_v5(asm: str, placed: list[tuple[str, str]]) -> str:
    """high_pc (data4) becomes DW_AT_ranges (sec_offset, the same 4 bytes) naming a list of
    `DW_RLE_start_length` entries: each moved function, then what stays in `.text`. The list goes into the
    unit's range-list table, or a table of its own when the unit has none."""
    unit = _v5_unit(asm)
    if unit is None:
        return asm
    abbrev, _, high = unit
    q, w, h = _words(asm)
    end, base = high[1], high[2]
    entries = "".join(f"\t.byte\t{DW_RLE_START_LENGTH}\n\t.{q}\t{sym}\n\t.uleb128 {e}-{sym}\n" for sym, e in placed)
    entries += f"\t.byte\t{DW_RLE_START_LENGTH}\n\t.{q}\t{base}\n\t.uleb128 {end}-{base}\n\t.byte\t0\n"
    cu_list = ".Ltwopass_cu_ranges:\n" + entries
    lines = abbrev[1].split("\n")[:-1]
    i = 2 * list(zip(lines[::2], lines[1::2])).index(_HIGH_PC_DATA4)
    lines[i:i + 2] = ["\t.byte\t85", "\t.byte\t23"]  # DW_AT_ranges, DW_FORM_sec_offset: the same 4 bytes
    pairs = "".join(f"{line}\n" for line in lines)
    asm = (asm[:abbrev.start(1)] + pairs + asm[abbrev.end(1):high.start()] + f"\t.{w}\t.Ltwopass_cu_ranges\n" +
           asm[high.end():])
    table = _V5_RNGLISTS.search(asm)
    if table is not None:
        return asm[:table.start(1)] + cu_list + asm[table.start(1):]
    progbits = "%progbits" if "%progbits" in asm else "@progbits"
    return (asm + f"\t.section\t.debug_rnglists,\"\",{progbits}\n"
            f"\t.{w}\t.Ltwopass_rnglists_end-.Ltwopass_rnglists_start\n.Ltwopass_rnglists_start:\n"
            f"\t.{h}\t5\n\t.byte\t8\n\t.byte\t0\n\t.{w}\t0\n" + cu_list + ".Ltwopass_rnglists_end:\n")
