"""The size guard on real programs: brotli's command-line tool (x86-64 -O2), where global outlining loses,
keeps round one's objects (the same bytes a `--rounds 1` build makes, from the cache when it has them); Lua,
where it wins, keeps round two's. The estimate agrees with lld's links (map file) within 0.5%."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_twopass
from tools import brotli
from tools.bench_sizeguard import linked_contribution
from tools.linking import link, text_size
from tools.zig import build_bitcode
from twopass import sizeguard

pytestmark = pytest.mark.slow


def build(bitcode, out: Path, *flags) -> dict:
    report = out.with_suffix(".json")
    proc = run_twopass("build", *bitcode, "-o", out, "-j", "2", "-q", "--report", report, *flags)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(report.read_text())


def objects(out: Path) -> dict[str, bytes]:
    return {o.name: o.read_bytes() for o in sorted(out.glob("*.o"))}


def linked(out: Path) -> tuple[int, int]:
    """(what the objects add to the linked .text, the program's .text), linked as zig cc links, with ICF."""
    objs = sorted(out.glob("*.o"))
    exe, mapfile = out.with_suffix(".exe"), out.with_suffix(".map")
    link(objs, exe, "x86_64", icf=True, extra=[f"-Map={mapfile}"])
    return linked_contribution(mapfile.read_text(), {str(o) for o in objs}), text_size(exe)


def test_brotli_keeps_round_one_where_global_outlining_loses(tmp_path):
    bitcode = brotli.build_bitcode("x86_64")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    guarded = build(bitcode, tmp_path / "guarded", *cache)["size_guard"]
    assert guarded["kept"] == "round one" and guarded["saved"] > 0
    build(bitcode, tmp_path / "unguarded", "--size-guard", "off", "--no-cache")
    build(bitcode, tmp_path / "rounds1", "--rounds", "1", "--no-cache")
    assert objects(tmp_path / "guarded") == objects(tmp_path / "rounds1")
    assert objects(tmp_path / "unguarded") != objects(tmp_path / "rounds1")
    (got_one, text_one), (got_two, text_two) = linked(tmp_path / "guarded"), linked(tmp_path / "unguarded")
    assert text_one < text_two
    sample = tmp_path / "sample.txt"
    sample.write_bytes(b"".join(o for o in objects(tmp_path / "guarded").values())[:200_000])
    for exe in (tmp_path / "guarded.exe", tmp_path / "unguarded.exe"):  # the programs work: a round trip
        packed, back = exe.with_suffix(".br"), exe.with_suffix(".out")
        subprocess.run([exe, "-f", "-o", packed, sample], check=True)
        subprocess.run([exe, "-d", "-f", "-o", back, packed], check=True)
        assert back.read_bytes() == sample.read_bytes() and packed.stat().st_size < sample.stat().st_size
    for est, got in ((guarded["round_one_text"], got_one), (guarded["round_two_text"], got_two)):
        assert abs(est - got) <= 0.005 * got
    # The fallback objects come from the cache (--save-temps: from each module's entries, not the build's record)
    again = build(bitcode, tmp_path / "warm", *cache, "--save-temps", str(tmp_path / "temps"))
    assert objects(tmp_path / "warm") == objects(tmp_path / "guarded")
    assert again["cache"]["streams"]["size guard"]["object"]["hits"] == len(bitcode)


def test_lua_keeps_round_two_where_it_wins(tmp_path):
    bitcode = build_bitcode("x86_64")
    guard = build(bitcode, tmp_path / "lua", "--no-cache")["size_guard"]
    assert guard["kept"] == "round two" and guard["round_two_text"] < guard["round_one_text"]
    got, _ = linked(tmp_path / "lua")
    assert abs(sizeguard.estimate(objects(tmp_path / "lua")).total - got) <= 0.005 * got
