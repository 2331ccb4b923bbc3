"""`twopass cgdata` as users run it: exit codes, one-line errors, and outputs that are all or nothing."""

from __future__ import annotations

from conftest import assert_clean_error

from twopass.cgdata import CodeGenData, OutlinedHashTree, dump


def sample(tmp_path):
    tree = OutlinedHashTree()
    tree.insert([5, 6, 7], 3)
    tree.insert([5, 9], 2)
    path = tmp_path / "good.cgdata"
    path.write_bytes(dump(CodeGenData(tree=tree)))
    return path


def test_bad_input_leaves_existing_output_untouched(twopass, tmp_path):
    good = sample(tmp_path)
    out = tmp_path / "out.cgdata"
    out.write_bytes(b"precious")
    bad = tmp_path / "bad.o"
    bad.write_bytes(b"\x7fELF" + b"\0" * 10)
    assert_clean_error(twopass("cgdata", "merge", good, bad, "-o", out), str(bad))
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.o", "good.cgdata", "out.cgdata"]


def test_missing_directory_and_same_output(twopass, tmp_path):
    good = sample(tmp_path)
    assert_clean_error(twopass("cgdata", "show", tmp_path / "nope.cgdata"), "nope.cgdata", "No such file")
    assert_clean_error(twopass("cgdata", "merge", tmp_path, "-o", tmp_path / "x"), "is a directory")
    assert_clean_error(twopass("cgdata", "merge", good, "-o", good), "cannot be the same as the output")
    assert_clean_error(twopass("cgdata", "merge", good, "-o", tmp_path / "no" / "dir" / "x.cgdata"),
                       "cannot write")


def test_truncated_and_corrupted_files(twopass, tmp_path):
    data = sample(tmp_path).read_bytes()
    for n in (1, 7, 8, 23, 31, 33, 40, len(data) - 4, len(data) - 1):
        f = tmp_path / f"cut{n}.cgdata"
        f.write_bytes(data[:n])
        assert_clean_error(twopass("cgdata", "show", f), str(f))
    past = bytearray(data)
    past[16:24] = (10**6).to_bytes(8, "little")  # tree offset far past the end
    f = tmp_path / "past.cgdata"
    f.write_bytes(past)
    assert_clean_error(twopass("cgdata", "convert", f), "end of File")
    f.write_bytes(b":outlined_hash_tree\n---\n0: {Hash: 0x0, Terminals: 0, SuccessorIds: [ 7 ]}\n")
    assert_clean_error(twopass("cgdata", "convert", "-f", "binary", f, "-o", tmp_path / "o"), "invalid successor")
    assert not (tmp_path / "o").exists()


def test_merge_mixes_objects_and_cgdata_in_any_order(twopass, tmp_path):
    good = sample(tmp_path)
    text = tmp_path / "good.cgtext"
    assert twopass("cgdata", "convert", good, "-o", text).returncode == 0
    one, two = tmp_path / "1.cgdata", tmp_path / "2.cgdata"
    assert twopass("cgdata", "merge", good, text, "-o", one).returncode == 0
    assert twopass("cgdata", "merge", text, good, "-o", two).returncode == 0
    assert one.read_bytes() == two.read_bytes()
    shown = twopass("cgdata", "show", one).stdout.decode()
    assert "Total Node Count: 5" in shown and "Terminal Node Count: 2" in shown
    assert twopass("cgdata", "merge", "-f", "text", good, good).stdout.count(b"Terminals:       6") == 1
