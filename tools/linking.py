"""Linking as ``zig cc`` does, and what the corpus measures of the result (``.text``).

Linking reproduces ``zig cc -target T <opt> OBJS -o OUT`` exactly (byte-identical output): zig's ld.lld
command line is captured once per target with ``ZIG_VERBOSE_LINK=1`` and replayed through
``zig ld.lld``, so flags zig's driver refuses (``--icf=all``, ``-mllvm ...``) can be added.  Bitcode
inputs make lld run ThinLTO in process; ``-mllvm -codegen-data-thinlto-two-rounds`` makes it run
codegen twice, the second round using the codegen data of the first.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from tools.corpus_common import CORPUS_FORMAT, CorpusError, Target, cache_root, run_step, target_of
from tools.zig import zig_command, zig_env, zig_version
from twopass import objfile
from twopass.errors import InputError

OBJECTS_PLACEHOLDER = "{objects}"
OUTPUT_PLACEHOLDER = "{output}"


def _capture_link_template(t: Target, cache: Path) -> list[str]:
    """zig's final ld.lld argv for ``zig cc -target T <opt> IN.o -o OUT``, with placeholders.

    zig is run in its cache directory on relative names, so the line it prints has no spaces in paths
    and splits cleanly; every path in it is then made absolute.
    """
    zig_cache = cache / "zig"
    zig_cache.mkdir(parents=True, exist_ok=True)
    env = zig_env(cache)
    with tempfile.TemporaryDirectory(dir=zig_cache, prefix="capture-") as tmp:
        rel = Path(tmp).name
        (Path(tmp) / "m.c").write_text("int main(void) { return 0; }\n")
        run_step([*zig_command(), "cc", "-target", t.triple, t.opt, "-c", f"{rel}/m.c", "-o", f"{rel}/m.o"],
             what="compiling the link probe", cwd=zig_cache, env=env)
        proc = run_step([*zig_command(), "cc", "-target", t.triple, t.opt, f"{rel}/m.o", "-o", f"{rel}/m"],
                    what=f"zig cc link for {t.triple}", cwd=zig_cache, env=dict(env, ZIG_VERBOSE_LINK="1"))
        for line in proc.stderr.splitlines():
            argv = line.split()
            if not argv or os.path.basename(argv[0]) != "ld.lld":
                continue
            if any(a == "-o" and b == f"{rel}/m" for a, b in zip(argv, argv[1:])):
                break
        else:
            raise CorpusError(f"no ld.lld line for {rel}/m in zig's verbose link output:\n{proc.stderr[-4000:]}")

    template = []
    for arg in argv[1:]:
        if arg == f"{rel}/m.o":
            template.append(OBJECTS_PLACEHOLDER)
        elif arg == f"{rel}/m":
            template.append(OUTPUT_PLACEHOLDER)
        elif not arg.startswith("-") and not os.path.isabs(arg) and (zig_cache / arg).exists():
            template.append(str(zig_cache / arg))
        else:
            template.append(arg)
    if template.count(OBJECTS_PLACEHOLDER) != 1 or template.count(OUTPUT_PLACEHOLDER) != 1:
        raise CorpusError(f"cannot make a template of zig's link line: {' '.join(argv)}")
    return template


def _template_files(template: Iterable[str]) -> list[str]:
    return [a for a in template if os.path.isabs(a) and not a.startswith("-") and a not in ("/",)]


def link_template(target: str | Target, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """zig's ld.lld arguments for ``target`` (without ``ld.lld``), with ``{objects}`` / ``{output}``.

    Captured once and stored under ``<cache>/link/``; captured again when zig changed or any file it
    references (crt1.o, libc stubs, compiler_rt in zig's cache) has gone.
    """
    t = target_of(target)
    cache = cache_root(cache_dir)
    key = hashlib.sha256(json.dumps([CORPUS_FORMAT, zig_version(), t.triple, t.opt, str(cache)]).encode())
    path = cache / "link" / f"{t.name}-{key.hexdigest()[:16]}.json"
    if path.is_file():
        try:
            template = json.loads(path.read_text())["argv"]
        except (ValueError, KeyError):
            template = None
        if template and all(os.path.exists(f) for f in _template_files(template) if f.startswith(str(cache))):
            return template
    template = _capture_link_template(t, cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"target": t.triple, "opt": t.opt, "zig": zig_version(), "argv": template}, indent=1))
    os.replace(tmp, path)
    return template


def relocation_flags(target: str | Target, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """`twopass build` options that compile for zig's link as lld's LTO compiles for it: lld picks the
    relocation model from the link (PIC only for -pie and -shared), `twopass build` sees no link and keeps the
    modules' PIC level, which costs x86-64 Lua 1.3% of `.text` in a -no-pie executable."""
    template = link_template(target, cache_dir)
    pic = "-shared" in template or ("-pie" in template and "-no-pie" not in template)
    return [] if pic else ["--relocation-model", "static"]


def is_bitcode(path: str | os.PathLike) -> bool:
    with open(path, "rb") as f:
        return objfile.is_bitcode(f.read(4))


def link(objects: Sequence[str | os.PathLike], output: str | os.PathLike, target: str | Target, icf: bool = False,
         extra: Sequence[str] = (), thinlto_two_rounds: bool = False, jobs: int = 2,
         cache_dir: str | os.PathLike | None = None, command_only: bool = False):
    """Link ``objects`` into the executable ``output`` exactly as ``zig cc -target T <opt>`` would.

    Native objects and bitcode both work (also mixed); with bitcode, lld runs ThinLTO in process with
    ``--thinlto-jobs=jobs``.  ``icf`` adds ``--icf=all``; ``thinlto_two_rounds`` adds
    ``-mllvm -codegen-data-thinlto-two-rounds`` (bitcode inputs only); ``extra`` is appended verbatim
    (lld options, e.g. ``["-mllvm", "-enable-machine-outliner"]``).

    Two rounds only change anything where the machine outliner (or ``-enable-global-merge-func``)
    runs, which with zig's flags is nowhere by default (see the module docstring); where it runs, the
    second round outlines sequences seen in other modules into per-module copies that only
    ``--icf=all`` folds, so without ICF the .text grows.

    ``command_only`` returns ``(argv, env)`` of the ld.lld run instead of running it (for benchmarks).
    """
    t = target_of(target)
    cache = cache_root(cache_dir)
    objs = [os.path.abspath(o) for o in objects]
    if not objs:
        raise ValueError("link: no objects")
    for o in objs:
        if not os.path.isfile(o):
            raise CorpusError(f"link: no such file: {o}")
    any_bitcode = any(is_bitcode(o) for o in objs)
    any_archive = any(o.endswith(".a") for o in objs)
    if thinlto_two_rounds and not (any_bitcode or any_archive):
        raise ValueError("link: thinlto_two_rounds needs bitcode inputs (lld's in-process ThinLTO)")
    out = Path(output).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)

    argv: list[str] = []
    for arg in link_template(t, cache):
        if arg == OBJECTS_PLACEHOLDER:
            argv.extend(objs)
        elif arg == OUTPUT_PLACEHOLDER:
            argv.append(str(out))
        else:
            argv.append(arg)
    if any_bitcode or any_archive:
        argv.append(f"--thinlto-jobs={jobs}")
    if thinlto_two_rounds:
        argv += ["-mllvm", "-codegen-data-thinlto-two-rounds"]
    if icf:
        argv.append("--icf=all")
    argv.extend(extra)
    cmd, env = [*zig_command(), "ld.lld", *argv], zig_env(cache)
    if command_only:
        return cmd, env
    proc = run_step(cmd, what=f"linking {out.name} for {t.triple}", env=env)
    sys.stdout.write(proc.stdout)  # e.g. --print-icf-sections, --print-gc-sections
    sys.stderr.write(proc.stderr)  # warnings
    return out


def text_size(executable: str | os.PathLike) -> int:
    """Size in bytes of the ``.text`` section (agrees with ``llvm-readelf -S``)."""
    data = Path(executable).read_bytes()
    if objfile.magic_kind(data) != objfile.ELF:
        raise CorpusError(f"{executable}: not an ELF file")
    try:
        size = next((s.size for s in objfile.elf_sections(data, str(executable)) if s.name == ".text"), None)
    except InputError as e:
        raise CorpusError(str(e)) from None
    if size is None:
        raise CorpusError(f"{executable}: no .text section")
    return size
