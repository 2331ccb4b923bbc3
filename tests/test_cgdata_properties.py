"""Properties of the codegen-data layer: round trips, order independence, and readers that never crash."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twopass.cgdata import CodeGenData, Merger, OutlinedHashTree, StableFunction, StableFunctionMap, dump, parse
from twopass.cgdata.records import write_map, write_tree
from twopass.errors import InputError

u64 = st.integers(0, 2**64 - 1)
small_hash = st.integers(0, 6)  # few distinct values: shared prefixes, shared buckets
names = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=12)

sequences = st.lists(st.tuples(st.lists(st.one_of(small_hash, u64), min_size=1, max_size=6),
                               st.integers(0, 2**16)), max_size=12)
functions = st.lists(st.builds(StableFunction, st.one_of(small_hash, u64), names, names, st.integers(1, 50),
                               st.dictionaries(st.tuples(st.integers(0, 49), st.integers(0, 5)), u64,
                                               max_size=4)), max_size=12)


def make_tree(seqs) -> OutlinedHashTree:
    tree = OutlinedHashTree()
    for seq, count in seqs:
        tree.insert(seq, count)
    return tree


def make_map(funcs) -> StableFunctionMap:
    fmap = StableFunctionMap()
    for f in funcs:
        if all(i < f.inst_count for i, _ in f.operands):
            fmap.insert(f)
    return fmap


def canonical(cg: CodeGenData) -> tuple:
    tree = cg.tree.stable_nodes() if cg.tree is not None else None
    fmap = [(f.hash, f.function_name, f.module_name, f.inst_count, sorted(f.operands.items()))
            for f in cg.funcmap.functions()] if cg.funcmap is not None else None
    return tree, fmap


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(sequences, functions)
def test_binary_and_text_round_trip(seqs, funcs):
    cg = CodeGenData(tree=make_tree(seqs), funcmap=make_map(funcs))
    binary = dump(cg)
    again = parse(binary, "x")
    assert canonical(again) == canonical(cg)
    assert dump(again) == binary
    text = dump(cg, "text")
    from_text = parse(text, "x.cgtext")
    assert canonical(from_text) == canonical(cg)
    assert dump(from_text, "text") == text


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(sequences, functions), min_size=1, max_size=5), st.randoms(), st.booleans())
def test_merge_is_order_independent(parts, rnd, skip_trim):
    payloads = []
    for seqs, funcs in parts:
        payloads.append(("outline", write_tree(make_tree(seqs))))
        payloads.append(("merge", write_map(make_map(funcs))))
    results = []
    for _ in range(3):
        rnd.shuffle(payloads)
        merger = Merger()
        for kind, data in payloads:
            merger.add_payload(kind, data, "obj")
        results.append(dump(merger.result(skip_trim)))
    assert results[0] == results[1] == results[2]


def test_tree_merge_sums_terminals():
    a, b = make_tree([([1, 2], 4)]), make_tree([([1, 2], 3), ([1], 1), ([9, 9, 9], 2)])
    a.merge(b)
    assert (a.find([1, 2]), a.find([1]), a.find([9, 9, 9]), a.find([9, 9]), a.find([5])) == (7, 1, 2, 0, 0)
    assert (a.size(), a.size(terminal_only=True), a.depth()) == (6, 3, 3)


def sample_file() -> bytes:
    rnd = random.Random(7)
    tree = make_tree([([rnd.randrange(5) for _ in range(4)], rnd.randrange(1, 9)) for _ in range(6)])
    fmap = make_map([StableFunction(rnd.randrange(3), f"fn{i}", f"mod{i % 2}", 6, {(1, 0): rnd.randrange(4)})
                     for i in range(6)])
    return dump(CodeGenData(tree=tree, funcmap=fmap))


def test_every_truncation_is_a_clean_error():
    data = sample_file()
    for n in range(len(data)):
        try:
            parse(data[:n], "t.cgdata")
        except InputError as e:
            assert str(e).startswith("t.cgdata: ")


@settings(max_examples=400)
@given(st.data())
def test_corrupted_binary_never_crashes(data):
    blob = bytearray(sample_file())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    try:
        parse(bytes(blob), "f.cgdata")
    except InputError:
        pass


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_garbage_text_never_crashes(text):
    try:
        parse((":outlined_hash_tree\n:stable_function_map\n" + text).encode(), "f.cgtext")
    except InputError:
        pass


@pytest.mark.parametrize("text,needle", [
    (":outlined_hash_tree\n---\n0: [1, 2]\n...\n", "node 0 is not a mapping"),
    (":outlined_hash_tree\n---\n0:\n  Hash: 0x0\n  Terminals: 0\n  SuccessorIds: [ 1 ]\n...\n",
     "invalid successor id 1"),
    (":outlined_hash_tree\n---\n0:\n  Hash: zz\n  Terminals: 0\n  SuccessorIds: [  ]\n...\n",
     "Hash 'zz' is not an unsigned integer"),
    (":stable_function_map\n---\n- Hash: 1\n  FunctionName: f\n...\n", "missing key 'ModuleName'"),
    (":stable_function_map\n---\n- Hash: 0x10000000000000000\n  FunctionName: f\n  ModuleName: m\n"
     "  InstCount: 1\n  IndexOperandHashes: []\n...\n", "does not fit in 64 bits"),
    (":stable_function_map\n---\n- [unclosed\n", "malformed codegen data"),
])
def test_bad_text_messages(text, needle):
    with pytest.raises(InputError) as e:
        parse(text.encode(), "bad.cgtext")
    assert str(e.value).startswith("bad.cgtext: ") and needle in str(e.value)


def test_radix_prefixes_like_llvm():
    text = (":outlined_hash_tree\n---\n0x0:\n  Hash: 0\n  Terminals: 0\n  SuccessorIds: [ 0b1 ]\n"
            "1:\n  Hash: 0o17\n  Terminals: 010\n  SuccessorIds: [  ]\n...\n")
    tree = parse(text.encode(), "r.cgtext").tree
    assert tree.find([15]) == 8


def test_map_record_layout_matches_worked_example():
    fmap = make_map([StableFunction(1, "Func1", "Mod1", 2, {(0, 1): 3})])
    raw = write_map(fmap)
    assert len(raw) == 84
    assert struct.unpack_from("<IQ", raw) == (2, 12) and raw[12:24] == b"Func1\0Mod1\0\0"
    assert struct.unpack_from("<IQIIIQQ", raw, 24) == (1, 1, 0, 1, 2, 16, 20)
    assert struct.unpack_from("<IIIQ", raw, 64) == (1, 0, 1, 3)
