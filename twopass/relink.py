"""A link's record in the cache: the same link of unchanged files places the program that link made.

ld.twopass asks the real linker which files its final link read (`--dependency-file`). After a link
that succeeded it keeps the program by content (`Cache.put_blob`) and a record keyed by what the link was told
and by what does the work: its arguments (response files expanded), working directory, twopass's environment,
the linker and the versions that decide twopass's code. The record lists every file the two linker runs and
twopass read, each with a hash of its bytes, and the file every `-l` found. The same link again, with every
one of those files the same bytes and every `-l` finding the same file, writes the program from the cache and
runs nothing, not even the linker: what the linker printed on that link (kept when standard error was not a
terminal) is printed again. Anything else (a changed or missing file, a new library earlier in the search
path, a link that writes other files or asks to be told what it does) runs as usual.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import __version__, ldargs
from .again import file_fingerprint, identity
from .ldargs import Arg

if TYPE_CHECKING:
    from .cache import Cache

STREAM = "object"
# Links that write more than the program, print what they do, or must differ each time: never from the cache.
_WRITERS = frozenset("""
Map M print-map why-extract print-archive-stats print-gc-sections print-icf-sections print-symbol-order trace t
trace-symbol y verbose v version save-temps reproduce dependency-file time-trace time-trace-file
thinlto-index-only thinlto-emit-imports-files thinlto-emit-index-files lto-emit-asm lto-emit-llvm
opt-remarks-filename cref out-implib relocatable r
""".split())
_OWN_WRITERS = ("report", "manifest", "cgdata_out", "verify_determinism", "save_temps")


def _writes_more(args: list[Arg], own) -> bool:
    if any(getattr(own, name, None) for name in _OWN_WRITERS):
        return True
    for a in args:
        if a.name in _WRITERS or (a.name == "build-id" and a.value == "uuid"):
            return True
        if a.name == "plugin-opt" and (a.value == "save-temps" or (a.value or "").startswith(
                "-codegen-data-generate")):
            return True
        if a.name == "mllvm" and (a.value or "").startswith("-codegen-data-generate"):
            return True
    return False


def _libraries(args: list[Arg]) -> list[list]:
    """Which file each -l finds (lld's search, as linkinputs.scan follows it)."""
    dirs, state, found = ldargs.search_dirs(args), ldargs.InputState(), []
    for a in args:
        state.update(a)
        if a.name == "library":
            found.append([a.value, state.static, ldargs.find_library(a.value or "", dirs, state.static) or ""])
    return found


@dataclass
class Relink:
    """One link's record: looked up before the link, saved after it."""

    store: Cache
    key: str
    output: str
    args: list[Arg]
    extra_files: list[str]  # what twopass itself reads besides the linker's inputs

    def replay(self) -> bool:
        """Place the program this link made before, if every file it read is unchanged; print what the linker
        printed then. False when the record does not hold."""
        import msgpack

        from .atomic import write_atomic

        raw = self.store.get(STREAM, self.key)
        if raw is None:
            return False
        try:
            rec = msgpack.unpackb(raw)
            files, libraries, digest, mode, stderr = (rec["files"], rec["libraries"], rec["output"], rec["mode"],
                                                      rec["stderr"])
        except (ValueError, KeyError, TypeError, msgpack.UnpackException):
            return False
        if libraries != _libraries(self.args) or any(file_fingerprint(p) != h for p, h in files):
            return False
        program = self.store.get_blob(STREAM, digest)
        if program is None:
            return False
        write_atomic(self.output, program, mode)
        sys.stderr.buffer.write(stderr)
        sys.stderr.flush()
        return True

    def save(self, dependency_file: str, replaced: list[str], workdir: str, stderr: bytes) -> None:
        """After a link that succeeded: the program by content, then the record naming it. The final link says
        which files it read (`dependency_file`; an index-only run ends before it writes one); the inputs
        twopass `replaced` (bitcode, archives of it) it no longer reads."""
        import msgpack

        read: set[str] = {*self.extra_files, *replaced, *read_dependency_file(dependency_file)}
        inside = os.path.join(os.path.abspath(workdir), "")
        read = {p for p in read if not os.path.abspath(p).startswith(inside)}  # twopass's own objects
        files = sorted([p, h] for p in read if (h := file_fingerprint(p)) is not None)
        try:
            with open(self.output, "rb") as f:
                program = f.read()
            mode = os.stat(self.output).st_mode & 0o777
        except OSError:
            return
        digest = self.store.put_blob(STREAM, program)
        self.store.put(STREAM, self.key, msgpack.packb(
            {"files": files, "libraries": _libraries(self.args), "output": digest, "mode": mode, "stderr": stderr}))


def prepare(args: list[Arg], own, linker: list[str], cache_dir: str | None, output: str) -> Relink | None:
    """The record this link would have, or None when it may not come from the cache (no cache, or a link that
    writes more than its program). Where the program goes is not in the key: nothing in it depends on that."""
    if cache_dir is None or not own.cache or _writes_more(args, own):
        return None
    from . import libllvm, llvm
    from .cache import Cache as Store

    extra = [p for p in (own.export_symbols_file, own.cgdata_in) if p]
    assembler = own.assembler.split()[:1] if own.assembler else []
    argv = ldargs.render([Arg(["-o", ""], "output", "") if a.name == "output" else a for a in args])
    fields = {"stream": "link", "twopass": __version__, **llvm.versions(), "argv": argv, "cwd": os.getcwd(),
              "env": [os.environ.get(k) for k in ("TWOPASS_LDFLAGS", "TWOPASS_LD")],
              "programs": identity([*linker, *assembler]), "in_process_assembler": libllvm.assembler()}
    key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return Relink(Store(cache_dir), key, output, args, extra)


def read_dependency_file(path: str) -> list[str]:
    """The prerequisites of lld's --dependency-file (Make's syntax, clang's and GCC's escapes)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError:
        return []
    head = text.split("\n\n", 1)[0]
    _, _, body = head.partition(":")
    out, word, i = [], [], 0
    body = body.replace("\\\n", " ")
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in " #\\":
            j = i
            while j < len(body) and body[j] == "\\":
                j += 1
            if j < len(body) and body[j] == " ":  # 2n+1 backslashes before a space: n backslashes and a space
                word.append("\\" * ((j - i) // 2) + " ")
                i = j + 1
                continue
            if j < len(body) and body[j] == "#":
                word.append("\\" * ((j - i) - 1) + "#")
                i = j + 1
                continue
            word.append(body[i:j])
            i = j
            continue
        if c == "$" and body[i + 1:i + 2] == "$":
            word.append("$")
            i += 2
            continue
        if c.isspace():
            if word:
                out.append("".join(word))
                word = []
            i += 1
            continue
        word.append(c)
        i += 1
    if word:
        out.append("".join(word))
    return out
