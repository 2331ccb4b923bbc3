"""A `twopass build` answered from its command's record, before the rest of twopass is imported.

The build's own record (rebuild.py) is keyed by what decides its outputs: finding it takes parsing the
arguments, reading and hashing every input and importing the planner, most of a no-op rebuild's time. A
command-line build that succeeded with a cache also leaves a record keyed by the command alone: its words,
working directory, the environment twopass reads, the interpreter and its import path. It lists every file
the build read with a hash of the bytes it read, llvmlite's library and any assembler by size and time, and
what the build wrote: each object by its blob's sha256 and a fingerprint of its bytes, the report and
summary a build answered by its record gives, the manifest. The same command again, with all of that
unchanged, the build's record intact and no pruning due, writes the same outputs and prints the same summary
having imported only this module, the cache, the output writer and the report's (not hashlib: OpenSSL's
load was a tenth of it). An output that still has its fingerprint only gets a new time; the others come
from their blobs, each checked against its sha256. Anything else runs the build, which finds the build's
record or builds.

Builds that read a directory (its listing is no file), run on a cluster (which must be reachable even when
the cache answers) or write more than this replays (intermediates, merged data, verbose logs) leave none.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time

from . import TYPE_CHECKING, __version__
from .cache import Cache, default_dir, sha256

if TYPE_CHECKING:
    from .pipeline import BuildResult

STREAM = "object"
FORMAT = 2  # 2: each object's fingerprint beside its digest

_reads: list[list] | None = None  # [absolute path, fingerprint] of each file read, while a command records
_unrecordable = False  # it read what a fingerprint cannot stand for (a directory)


def fingerprint(data: bytes | None) -> str | None:
    """A hash of bytes read (xxh3: this checks for change, it does not name content)."""
    import xxhash
    return None if data is None else xxhash.xxh3_128(data).hexdigest()


def file_fingerprint(path: str) -> str | None:
    """The fingerprint of a file's bytes now; None if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return fingerprint(f.read())
    except OSError:
        return None


def identity(words: list[str]) -> list[list]:
    """What names the programs that do the work: each existing file among the words (an executable on PATH by
    its name; ziglang's LLD through `python -m ziglang` by its zig binary), by size and time."""
    import shutil

    out = []
    for w in words:
        path = shutil.which(w) if os.sep not in w else w
        if w == "ziglang":
            import importlib.util
            spec = importlib.util.find_spec("ziglang")
            path = os.path.join(os.path.dirname(spec.origin), "zig") if spec and spec.origin else None
        if path and os.path.isfile(path):
            st = os.stat(os.path.realpath(path))
            out.append([os.path.realpath(path), st.st_size, st.st_mtime_ns])
    return out


def begin() -> None:
    """Start noting what the command reads (`note`)."""
    global _reads, _unrecordable
    _reads, _unrecordable = [], False


def note(path: str, data: bytes | None) -> None:
    """The bytes a build read from `path` (None: it found no such file), while a command records."""
    if _reads is not None:
        _reads.append([os.path.abspath(path), fingerprint(data)])


def note_unrecordable() -> None:
    global _unrecordable
    _unrecordable = True


def end() -> list[list] | None:
    """What the command read, or None when no record can stand for it."""
    global _reads
    reads, _reads = _reads, None
    return None if _unrecordable or reads is None else sorted(reads)


def key(argv: list[str]) -> str:
    """Everything a command's outputs can follow from besides the files it reads and the programs it runs."""
    fields = {"stream": "command", "format": FORMAT, "twopass": __version__, "argv": argv, "cwd": os.getcwd(),
              "env": [os.environ.get(k) for k in ("XDG_CACHE_HOME", "HOME")], "cpus": os.cpu_count(),
              "python": [sys.executable, sys.version, sys.path]}
    return sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _cache_dir(argv: list[str]) -> str | None:
    """The cache the words name (`--cache-dir`), the default one, or None for `--no-cache`. Only a guess: the
    record holds the cache its build used, and a record found elsewhere is not used."""
    found = None
    for i, word in enumerate(argv):
        if word == "--no-cache":
            return None
        if word == "--cache-dir" and i + 1 < len(argv):
            found = argv[i + 1]
        elif word.startswith("--cache-dir="):
            found = word.partition("=")[2]
    return os.path.abspath(found or default_dir())


def replay(argv: list[str]) -> int | None:
    """The exit status of the build `argv` (the words after `build`) answered from its command's record, or
    None to run it."""
    start = time.perf_counter()
    root = _cache_dir(argv)
    if root is None:
        return None
    store = Cache(root)
    raw = store.peek(STREAM, key(argv))
    if raw is None:
        return None
    try:
        rec = json.loads(raw)
        if rec["dir"] != root or store.prune_due(rec["interval"]) or not _unchanged(rec["programs"], rec["files"]) \
                or store.peek(STREAM, rec["record"]) is None:
            return None
        outdir, manifest, report, report_path, quiet = (rec["outdir"], rec["manifest"], rec["report"],
                                                        rec["report_path"], rec["quiet"])
        objects, paths, holding = {}, {}, []
        for name, digest, print_ in rec["objects"]:
            if _holds(os.path.join(outdir, name), print_):  # its blob need not be read, nor its sha256 taken
                holding.append(name)
                continue
            data = store.peek_blob(STREAM, digest)
            if data is None:
                return None
            objects[name], paths[name] = data, store.blob_path(STREAM, digest)
        if rec["merged"] is not None:
            os.utime(store.blob_path("scratch", rec["merged"]))  # kept as recently used as the record keeps it
    except (ValueError, KeyError, TypeError, OSError):
        return None
    from . import atomic
    from .report import summary, write_report

    checked = time.perf_counter()
    atomic.write_files(outdir, objects, paths, holding=holding)
    if manifest is not None:
        atomic.write_atomic(manifest[0], manifest[1].encode())
    report["phases_seconds"] = {"plan": round(checked - start, 4), "write": round(time.perf_counter() - checked, 4)}
    if report_path is not None:
        write_report(report, report_path)
    if not quiet:
        print(summary(report), file=sys.stderr)
    return 0


def _holds(path: str, print_: str) -> bool:
    """Whether `path` is a file (not a link to one) whose bytes have this fingerprint, and whose time this
    process may set: an output the replay leaves as it is, but for its time."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or not os.access(path, os.W_OK):
            return False
    except OSError:
        return False
    return file_fingerprint(path) == print_


def _unchanged(programs: list[list], files: list[list]) -> bool:
    for path, size, mtime in programs:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            return False
    return all(file_fingerprint(path) == digest for path, digest in files)


def save(argv: list[str], result: BuildResult, reads: list[list], outdir: str, report_path: str | None,
         manifest_path: str | None, quiet: bool) -> None:
    """The command's record, after its build succeeded: what `replay` needs to do what the build did."""
    from . import libllvm, llvm

    answer = result.again
    root = _cache_dir(argv)
    if answer is None or root is None or root != answer["dir"]:  # where the same words would not look
        return
    assembler = result.plan.options.layout.assembler
    if libllvm.is_assembler(assembler):
        assembler = (libllvm.library_path() or "",)
    programs = identity([*llvm.library_files(), *(assembler or ())])  # every word: `python -m ziglang cc` is zig's
    objects = [[name, digest, file_fingerprint(os.path.join(outdir, name))] for name, digest in answer["objects"]]
    if any(print_ is None for *_, print_ in objects):  # an output gone already: the next build makes it
        return
    rec = {"dir": root, "record": answer["record"], "merged": answer["merged"], "interval": answer["interval"],
           "programs": programs, "files": reads, "outdir": os.path.abspath(outdir), "objects": objects,
           "report": answer["report"], "report_path": report_path and os.path.abspath(report_path),
           "manifest": None if manifest_path is None or result.manifest is None else
           [os.path.abspath(manifest_path), result.manifest.decode()],
           "quiet": quiet}
    Cache(root).put(STREAM, key(argv), json.dumps(rec, sort_keys=True).encode())
