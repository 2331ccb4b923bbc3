"""A link's record (relink.py): the same link of unchanged files is the program that link made, with the linker's
messages, and no linker run; anything that could change the program links again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from test_ld import MIXED_OUTPUT, build_mixed, link_mixed, make_toolchain
from twopass import relink


@pytest.fixture(scope="module")
def tc(tmp_path_factory):
    return make_toolchain(tmp_path_factory.mktemp("relink"))


def counting_linker(d: Path) -> Path:
    """The real linker behind a script that notes each run, so a test sees whether the linker ran."""
    script = d / "counted-ld.lld"
    script.write_text(f'#!/bin/sh\necho run >> "{d / "runs"}"\nexec "{sys.executable}" -m ziglang ld.lld "$@"\n')
    script.chmod(0o755)
    return script


def runs(d: Path) -> int:
    return len((d / "runs").read_text().split()) if (d / "runs").exists() else 0


def link(tc, d: Path, *extra, first: str | None = None, **kw):
    """The mixed program of test_ld.py, through the counting linker, with a cache; `first`: a library directory
    searched before the program's own."""
    own = [f"-Wl,--thinlto-cache-dir={d / 'cache'}", f"-Wl,--twopass-ld-path={d / 'counted-ld.lld'}", *extra]
    if first is None:
        return link_mixed(tc, d, "app", *own, **kw)
    return tc.cc("-O2", "-flto=thin", "-fuse-ld=twopass", "main.o", "dyn.o", "callee.o", "entry.o", f"-L{first}",
                 "-L.", "-lmixed", "-ldl", "-Wl,--export-dynamic", "-o", "app", *own, cwd=d, **kw)


def test_an_unchanged_link_is_the_program_it_made(tc, tmp_path):
    d = tmp_path / "p"
    build_mixed(tc, d)
    counting_linker(d)
    link(tc, d)
    assert runs(d) == 2  # the index-only run and the link
    first = (d / "app").read_bytes()
    (d / "app").unlink()
    again = link(tc, d)
    assert runs(d) == 2 and (d / "app").read_bytes() == first and again.stderr == ""
    assert (d / "app").stat().st_mode & 0o111 and tc.run(d / "app").stdout == MIXED_OUTPUT
    # Where the program goes is not what it is: the same link to another name comes from the cache too.
    link_mixed(tc, d, "app2", f"-Wl,--thinlto-cache-dir={d / 'cache'}", f"-Wl,--twopass-ld-path={d / 'counted-ld.lld'}")
    assert runs(d) == 2 and (d / "app2").read_bytes() == first


def test_a_changed_file_or_library_links_again(tc, tmp_path):
    d = tmp_path / "p"
    build_mixed(tc, d)
    counting_linker(d)
    (d / "first").mkdir()
    link(tc, d, first="first")
    assert runs(d) == 2
    # A native object the linker read (not bitcode twopass read): new bytes, a new link.
    (d / "native.c").write_text((d / "native.c").read_text() + "\nint native_extra(void) { return 7; }\n")
    tc.cc("-O2", "-c", "native.c", "-o", "native.o", cwd=d)
    tc.ar("libmixed.a", "native.o", cwd=d)
    link(tc, d, first="first")
    assert runs(d) == 4
    link(tc, d, first="first")
    assert runs(d) == 4
    # The same files, but -lmixed would now find another library, searched first.
    (d / "first" / "libmixed.a").write_bytes((d / "libmixed.a").read_bytes())
    link(tc, d, first="first")
    assert runs(d) == 6 and tc.run(d / "app").stdout == MIXED_OUTPUT


def test_the_linkers_messages_come_again(tc, tmp_path):
    d = tmp_path / "p"
    build_mixed(tc, d)
    counting_linker(d)
    warned = link(tc, d, "-Wl,-z,nosuchkeyword")
    assert "nosuchkeyword" in warned.stderr
    again = link(tc, d, "-Wl,-z,nosuchkeyword")
    assert runs(d) == 2 and again.stderr == warned.stderr


@pytest.mark.parametrize("extra", [["-Wl,-Map=app.map"], ["-Wl,--twopass-report=r.json"], ["-Wl,--build-id=uuid"]])
def test_links_that_write_more_or_must_differ_run_each_time(tc, tmp_path, extra):
    d = tmp_path / "p"
    build_mixed(tc, d)
    counting_linker(d)
    link(tc, d, *extra)
    link(tc, d, *extra)
    assert runs(d) == 4


def test_dependency_files_are_read_as_make_reads_them(tmp_path):
    deps = tmp_path / "d"
    deps.write_text("out: \\\n  a.o \\\n  dir\\ with\\ spaces/b.a \\\n  odd\\#name.o \\\n  cost$$.o\n\na.o:\n")
    assert relink.read_dependency_file(str(deps)) == ["a.o", "dir with spaces/b.a", "odd#name.o", "cost$.o"]
    assert relink.read_dependency_file(str(tmp_path / "missing")) == []
