"""Reading and writing codegen-data files in either form, and how a file's form is recognised."""

from __future__ import annotations

import gc
from contextlib import contextmanager

from ..atomic import write_atomic
from ..errors import InputError
from .indexed import is_indexed, read_indexed, write_indexed
from .model import CodeGenData

BINARY, TEXT = "binary", "text"


@contextmanager
def no_cycle_collection():
    """Merging allocates millions of small acyclic objects; the cyclic GC's repeated full scans of them made
    merge time grow faster than the input (1.9x per module from 250 to 2,000 modules). Reference counting
    frees everything here, so the collector is paused while we work."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse(data: bytes, where: str) -> CodeGenData:
    """Detect the form like LLVM's CodeGenDataReader: empty, indexed (magic), text (printable), else malformed."""
    if not data:
        raise InputError(where, "empty codegen data")
    try:
        if is_indexed(data):
            with no_cycle_collection():
                return read_indexed(data)
        if _looks_like_text(data):
            from .text import TextError, read_text  # compiling its patterns cost warm builds 10 ms
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise TextError(f"malformed codegen data: not UTF-8 text at byte {e.start}") from None
            return read_text(text)
    except ValueError as e:  # IndexedError, TextError
        raise InputError(where, str(e)) from None
    raise InputError(where, "malformed codegen data: neither an indexed .cgdata file nor its text form")


def load(path: str) -> CodeGenData:
    return parse(read_input(path), path)


def read_input(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise InputError(path, "is a directory") from None
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None


def _looks_like_text(data: bytes) -> bool:
    """LLVM's test: every one of the first (up to) 8 bytes is printable ASCII or white space."""
    return all(0x20 <= b <= 0x7E or b in b"\t\n\v\f\r" for b in data[:8])


def dump(cg: CodeGenData, fmt: str = BINARY) -> bytes:
    from .text import write_text
    with no_cycle_collection():
        return write_text(cg).encode("utf-8", "surrogateescape") if fmt == TEXT else write_indexed(cg)


def save(cg: CodeGenData, path: str, fmt: str = BINARY) -> None:
    write_atomic(path, dump(cg, fmt))
