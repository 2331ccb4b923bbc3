"""Global codegen data across builds: what a writer build leaves behind and what a reader build takes in.

A writer build (nightly, on a build farm) produces the merged data; everyday reader builds use it, possibly
stale, in one round. LLVM's .cgdata carries no target triple, so a writer also leaves `<FILE>.twopass.json`
(triple, sha256 of the data): a reader refuses data made for another target when that record is there, and
otherwise (data from llvm-cgdata, say) reports how much of the data matched so staleness or a wrong target
shows as a figure instead of a silently useless build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from . import again, cgdata
from .atomic import write_atomic
from .cgdata.files import read_input
from .errors import InputError
from .plan import triple_key

SIDECAR = ".twopass.json"


@dataclass(frozen=True)
class ReaderData:
    """`raw` is what LLVM reads: the very bytes that were hashed into the cache keys and parsed here."""

    path: str
    raw: bytes
    digest: str
    data: cgdata.CodeGenData


def load_for_reader(path: str, triple: str) -> ReaderData:
    """The data a reader build will use, checked before any work: readable, well-formed, holding data (text
    that is no YAML mapping parses as an empty document), for this target. The file is read once."""
    raw = read_input(path)
    again.note(path, raw)
    data = cgdata.parse(raw, path)  # one clear error for a damaged or unsupported file
    if data.tree is None and data.funcmap is None:
        raise InputError(path, "holds no codegen data (neither an outlined hash tree nor a function map)")
    digest = hashlib.sha256(raw).hexdigest()
    meta = _read_sidecar(path)
    if meta is not None and meta.get("sha256") == digest and meta.get("triple") and \
            triple_key(meta["triple"]) != triple_key(triple):
        raise InputError(path, f"codegen data for {meta['triple']}, but the modules are {triple}")
    return ReaderData(path, raw, digest, data)


def _read_sidecar(path: str) -> dict | None:
    try:
        with open(path + SIDECAR, "rb") as f:
            raw = f.read()
    except OSError:
        raw = None
    again.note(path + SIDECAR, raw)
    try:
        meta = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def write_for_readers(path: str, merged: cgdata.CodeGenData, fmt: str, triple: str) -> None:
    """The data file (atomically) and its record of the target."""
    body = cgdata.dump(merged, fmt)
    write_atomic(path, body)
    record = {"triple": triple, "sha256": hashlib.sha256(body).hexdigest(), "format": fmt}
    write_atomic(path + SIDECAR, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def facts(data: cgdata.CodeGenData) -> dict:
    """What reports say of merged data, kept in the cache next to it (a warm build then parses no tree)."""
    tree, funcmap = data.tree, data.funcmap
    return {"tree": None if tree is None else {"nodes": tree.size(), "terminals": tree.size(terminal_only=True),
                                               "depth": tree.depth()},
            "funcmap": None if funcmap is None else {"unique_hashes": funcmap.unique_hash_count(),
                                                     "functions": funcmap.total_function_count()},
            "sequences": sorted(tree.terminal_sequence_hashes()) if tree is not None else []}


def usage(known: dict, content_hashes: set[int], merged_functions: int) -> dict:
    """How much of the data (its `facts`) a build used: outlined sequences it found again, functions it merged."""
    sequences = set(known["sequences"])
    used = len(sequences & content_hashes)
    return {"sequences": len(sequences), "sequences_used": used,
            "sequences_used_percent": round(100.0 * used / len(sequences), 1) if sequences else 0.0,
            "stable_functions": known["funcmap"]["functions"] if known["funcmap"] is not None else 0,
            "merged_functions": merged_functions}


def merge_payloads(modules: list[tuple[str, list[tuple[str, bytes]]]],
                   thresholds: cgdata.MergeThresholds) -> tuple[bytes, dict]:
    """Round one's payloads of every module into one indexed .cgdata, and its facts: the build's merge, a
    function of its inputs alone so that an executor can run it anywhere."""
    merger = cgdata.Merger()
    for path, payloads in modules:
        for kind, data in payloads:
            merger.add_payload(kind, data, path)
    merged = merger.result(thresholds=thresholds)
    return cgdata.dump(merged), facts(merged)
