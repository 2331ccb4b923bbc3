"""LLVM's own llvm-cgdata tests (llvm/test/tools/llvm-cgdata/), re-expressed with inputs written here.

Every case runs both tools on the same inputs and checks the expected figures AND that twopass and
llvm-cgdata 22 agree: same --show text, same text form, same bytes.
"""

from __future__ import annotations

import pytest

from cgdata_inputs import SECTION_NAMES, assert_equivalent, make_object, map_text, raw_payload, tree_text
from conftest import assert_clean_error

TRIPLES = list(SECTION_NAMES)
TREE_A = tree_text(([1, 2], 4))            # 0 -> 1 -> 2 (T=4)
TREE_B = tree_text(([1, 3], 5))            # 0 -> 1 -> 3 (T=5)
FUNC1 = (1, "Func1", "Mod1", 2, {(0, 1): 3})
FUNC2 = (1, "Func2", "Mod1", 2, {(0, 1): 4})


def both_merge(llvm_tool, twopass, tmp_path, inputs, *flags, exact=True):
    """Merge with both tools; assert identical show output, text form and bytes; return the show text.

    `exact=False` where LLVM's name-table order depends on its hash table (several hashes): see
    `assert_equivalent`."""
    ours, theirs = tmp_path / "ours.cgdata", tmp_path / "theirs.cgdata"
    llvm_tool("llvm-cgdata", "--merge", *flags, *inputs, "-o", theirs)
    proc = twopass("cgdata", "merge", *flags, *inputs, "-o", ours)
    assert proc.returncode == 0, proc.stderr.decode()
    show = llvm_tool("llvm-cgdata", "--show", ours).stdout
    assert show == llvm_tool("llvm-cgdata", "--show", theirs).stdout
    assert show == twopass("cgdata", "show", ours).stdout
    text = llvm_tool("llvm-cgdata", "--convert", "--format", "text", ours).stdout
    assert text == llvm_tool("llvm-cgdata", "--convert", "--format", "text", theirs).stdout
    assert_equivalent(ours, theirs, exact)
    return show.decode(), text.decode()


def counts(show: str) -> dict[str, int]:
    return {k.strip(): int(v) for k, v in (ln.split(":") for ln in show.splitlines() if ln.strip()[-1].isdigit())}


@pytest.mark.parametrize("triple", TRIPLES)
def test_merge_hashtree_single(llvm_tool, twopass, tmp_path, triple):
    obj = make_object(llvm_tool, tmp_path, "a", triple, outline=[raw_payload(llvm_tool, tmp_path, TREE_A, "a")])
    show, _ = both_merge(llvm_tool, twopass, tmp_path, [obj])
    assert counts(show) == {"Total Node Count": 3, "Terminal Node Count": 1, "Depth": 2}


@pytest.mark.parametrize("triple", TRIPLES)
def test_merge_hashtree_double_and_concat(llvm_tool, twopass, tmp_path, triple):
    raw = raw_payload(llvm_tool, tmp_path, TREE_A, "a")
    obj = make_object(llvm_tool, tmp_path, "a", triple, outline=[raw])
    concat = make_object(llvm_tool, tmp_path, "c", triple, outline=[raw, raw])  # two records, one section
    _, text_double = both_merge(llvm_tool, twopass, tmp_path, [obj, obj])
    _, text_concat = both_merge(llvm_tool, twopass, tmp_path, [concat])
    assert text_double == text_concat
    assert "Terminals:       8" in text_double


def test_merge_hashtree_archive(llvm_tool, twopass, tmp_path):
    a = make_object(llvm_tool, tmp_path, "a", TRIPLES[0], outline=[raw_payload(llvm_tool, tmp_path, TREE_A, "a")])
    b = make_object(llvm_tool, tmp_path, "b", TRIPLES[0], outline=[raw_payload(llvm_tool, tmp_path, TREE_B, "b")])
    archive = tmp_path / "ab.a"
    llvm_tool("llvm-ar", "rc", archive, a, b)
    show, text = both_merge(llvm_tool, twopass, tmp_path, [archive])
    assert counts(show) == {"Total Node Count": 4, "Terminal Node Count": 2, "Depth": 2}
    # Stable ids: children are numbered in descending hash order.
    assert "2:\n  Hash:            0x3\n  Terminals:       5" in text
    assert "3:\n  Hash:            0x2\n  Terminals:       4" in text


@pytest.mark.parametrize("triple", TRIPLES)
def test_merge_funcmap_single_double_concat(llvm_tool, twopass, tmp_path, triple):
    raw1 = raw_payload(llvm_tool, tmp_path, map_text(FUNC1), "f1")
    raw2 = raw_payload(llvm_tool, tmp_path, map_text(FUNC2), "f2")
    single = make_object(llvm_tool, tmp_path, "s", triple, merge=[raw1])
    show, _ = both_merge(llvm_tool, twopass, tmp_path, [single], "--skip-trim")
    assert counts(show) == {"Unique hash Count": 1, "Total function Count": 1, "Mergeable function Count": 0}
    other = make_object(llvm_tool, tmp_path, "o", triple, merge=[raw2])
    show, text = both_merge(llvm_tool, twopass, tmp_path, [single, other], "--skip-trim")
    assert counts(show) == {"Unique hash Count": 1, "Total function Count": 2, "Mergeable function Count": 2}
    assert text.index("Func1") < text.index("OpndHash:        3") < text.index("Func2")
    concat = make_object(llvm_tool, tmp_path, "c", triple, merge=[raw1, raw2])
    assert both_merge(llvm_tool, twopass, tmp_path, [concat], "--skip-trim")[1] == text


def test_merge_funcmap_archive_and_trim(llvm_tool, twopass, tmp_path):
    objs = [make_object(llvm_tool, tmp_path, n, TRIPLES[0],
                        merge=[raw_payload(llvm_tool, tmp_path, map_text(f), n)])
            for n, f in (("f1", FUNC1), ("f2", FUNC2))]
    archive = tmp_path / "f.a"
    llvm_tool("llvm-ar", "rc", archive, *objs)
    show, _ = both_merge(llvm_tool, twopass, tmp_path, [archive], "--skip-trim")
    assert counts(show)["Mergeable function Count"] == 2
    # Trimmed: two 2-instruction functions with one parameter cost 6 and gain 2.4: pruned, header only.
    show, _ = both_merge(llvm_tool, twopass, tmp_path, [archive])
    assert show == ""
    assert (tmp_path / "ours.cgdata").read_bytes() == bytes.fromhex(
        "ff63676461746181" "04000000" "00000000" "2000000000000000" "2000000000000000")


def test_merge_trim_keeps_profitable_and_drops_identical_operands(llvm_tool, twopass, tmp_path):
    funcs = [(9, f"F{i}", f"M{i}", 10, {(0, 1): 100 + i, (2, 0): 7}) for i in range(3)]
    funcs.append((5, "Lone", "M0", 10, {(0, 0): 1}))
    funcs.append((6, "Odd", "M0", 4, {(0, 0): 1}))
    funcs.append((6, "Odd", "M1", 5, {(0, 0): 1}))  # different InstCount: bucket is invalid
    objs = [make_object(llvm_tool, tmp_path, f"m{i}", TRIPLES[0],
                        merge=[raw_payload(llvm_tool, tmp_path, map_text(f), f"m{i}")])
            for i, f in enumerate(funcs)]
    show, text = both_merge(llvm_tool, twopass, tmp_path, objs, exact=False)
    assert counts(show) == {"Unique hash Count": 1, "Total function Count": 3, "Mergeable function Count": 3}
    assert "OpndHash:        7" not in text and "OpndHash:        101" in text


@pytest.mark.parametrize("triple", TRIPLES)
def test_merge_combined_funcmap_hashtree(llvm_tool, twopass, tmp_path, triple):
    tree = raw_payload(llvm_tool, tmp_path, TREE_A, "t")
    fmap = raw_payload(llvm_tool, tmp_path, map_text(FUNC1), "m")
    assert (len(tree), len(fmap)) == (72, 84)
    obj = make_object(llvm_tool, tmp_path, "both", triple, outline=[tree], merge=[fmap])
    show, _ = both_merge(llvm_tool, twopass, tmp_path, [obj], "--skip-trim")
    assert counts(show) == {"Total Node Count": 3, "Terminal Node Count": 1, "Depth": 2, "Unique hash Count": 1,
                            "Total function Count": 1, "Mergeable function Count": 0}


def test_coff_names_llvm_writes(llvm_tool, twopass, tmp_path):
    tree = raw_payload(llvm_tool, tmp_path, TREE_A, "t")
    fmap = raw_payload(llvm_tool, tmp_path, map_text(FUNC1), "m")
    common = make_object(llvm_tool, tmp_path, "common", "x86_64-windows-msvc", [tree], [fmap])
    coff = make_object(llvm_tool, tmp_path, "coff", "x86_64-windows-msvc", [tree], [fmap],
                       names=(".loutline", ".lmerge"))
    outputs = []
    for obj in (common, coff):
        out = tmp_path / f"{obj.stem}.cgdata"
        assert twopass("cgdata", "merge", "--skip-trim", obj, "-o", out).returncode == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"Func1" in outputs[1]


@pytest.mark.parametrize("text", [TREE_A, map_text(FUNC1, FUNC2, (7, "x/y z", "'q'", 1, {}))])
def test_convert_and_show(llvm_tool, twopass, tmp_path, text):
    src = tmp_path / "in.cgtext"
    src.write_text(text)
    for tool_out, ours_out in (("l.cgdata", "t.cgdata"),):
        llvm_tool("llvm-cgdata", "--convert", "--format", "binary", src, "-o", tmp_path / tool_out)
        assert twopass("cgdata", "convert", "--format", "binary", src, "-o", tmp_path / ours_out).returncode == 0
        assert (tmp_path / tool_out).read_bytes() == (tmp_path / ours_out).read_bytes()
    # binary -> text -> binary is the identity, and the text is LLVM's to the byte.
    back = twopass("cgdata", "convert", tmp_path / "l.cgdata").stdout
    assert back == llvm_tool("llvm-cgdata", "--convert", tmp_path / "l.cgdata").stdout
    (tmp_path / "back.cgtext").write_bytes(back)
    twopass("cgdata", "convert", "-f", "binary", tmp_path / "back.cgtext", "-o", tmp_path / "back.cgdata")
    assert (tmp_path / "back.cgdata").read_bytes() == (tmp_path / "l.cgdata").read_bytes()
    for flag in ((), ("--cgdata-version",)):
        assert (twopass("cgdata", "show", *flag, tmp_path / "l.cgdata").stdout ==
                llvm_tool("llvm-cgdata", "--show", *flag, tmp_path / "l.cgdata").stdout)


def test_empty(llvm_tool, twopass, tmp_path):
    src = tmp_path / "empty.cgtext"
    src.write_text("# no data\n")
    llvm_tool("llvm-cgdata", "--convert", "--format", "binary", src, "-o", tmp_path / "l.cgdata")
    twopass("cgdata", "convert", "--format", "binary", src, "-o", tmp_path / "t.cgdata")
    assert (tmp_path / "t.cgdata").read_bytes() == (tmp_path / "l.cgdata").read_bytes() == bytes.fromhex(
        "ff63676461746181" "04000000" "00000000" "2000000000000000" "2000000000000000")
    assert twopass("cgdata", "show", "--cgdata-version", tmp_path / "t.cgdata").stdout == b"Version: 4\n"
    assert twopass("cgdata", "convert", tmp_path / "t.cgdata").stdout == b""


ERROR_CASES = {
    "empty": (b"", "empty codegen data"),
    "malformed": (b"\xff", "malformed codegen data"),
    "corrupt": (b"\xffcgdata\x81", "invalid codegen data (file header is corrupt)"),
    "version": (b"\xffcgdata\x81" + bytes.fromhex("05000000 00000000 1800000000000000"),
                "unsupported codegen data version"),
    "eof": (b"\xffcgdata\x81" + bytes.fromhex("01000000 01000000 1800000000000000"), "end of File"),
    "bad-kind-header": (b":foo\n", "invalid codegen data (file header is corrupt)"),
    "kinds-without-data": (b":outlined_hash_tree\n", "invalid codegen data (file header is corrupt)"),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_match_llvm(llvm_tool, twopass, tmp_path, case):
    data, message = ERROR_CASES[case]
    f = tmp_path / f"{case}.cgdata"
    f.write_bytes(data)
    theirs = llvm_tool("llvm-cgdata", "--show", f, check=False)
    assert theirs.returncode == 1 and message in theirs.stderr.decode()
    assert_clean_error(twopass("cgdata", "show", f), str(f), message)


ODD_NAMES = ["\x7f", "a\x01b", "tab\there", "nl\nx", "cr\rx", "é", "\u0085", "\u00a0x", "\u2028", "\ufeff",
             'a\\b"c', "it's", "\U0001F600", "x:y", "- a", "#c", "123", "0x1F", "1e5", ".5", "null", "a b ",
             "a/b", "a%b", "\u0080", "\u009f", "\ufffe", "", "true", "~", "-.inf"]


def test_text_quoting_matches_llvm(llvm_tool, tmp_path):
    """Names that need quoting or escaping: our text is LLVM's text, and both read back to the same bytes."""
    from twopass.cgdata import CodeGenData, StableFunction, StableFunctionMap, dump, parse

    fmap = StableFunctionMap()
    for i, name in enumerate(ODD_NAMES):
        fmap.insert(StableFunction(i, name, f"mod {name}", 1, {}))
    binary = tmp_path / "odd.cgdata"
    binary.write_bytes(dump(CodeGenData(funcmap=fmap)))
    theirs = llvm_tool("llvm-cgdata", "--convert", binary).stdout
    assert dump(parse(binary.read_bytes(), "odd"), "text") == theirs
    (tmp_path / "odd.cgtext").write_bytes(theirs)
    llvm_tool("llvm-cgdata", "--convert", "-f", "binary", tmp_path / "odd.cgtext", "-o", tmp_path / "back.cgdata")
    assert dump(parse(theirs, "odd.cgtext")) == (tmp_path / "back.cgdata").read_bytes() == binary.read_bytes()
