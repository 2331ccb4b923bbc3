"""A build's record in the cache: what a no-op rebuild reads instead of every module's entries.

A build that succeeded leaves one entry (stream "object") keyed by everything that decides what it writes: the
versions, every option, each module's output name and input bytes. It holds the sha256 of each object and of
the merged codegen data, whose bytes the cache keeps by content (`Cache.put_blob`), and the report the build
wrote. The same build again reads that one entry instead of a thin link, three streams per module and a size
estimate: it checks each object against its sha256 and places it at its output by the cheapest safe means
(`place`). A missing or damaged blob makes the record a miss, and the build runs as usual.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from . import __version__
from .cache import Cache
from .plan import KEY_FORMAT, Plan

STREAM = "object"
# What a report says of how this run went, not of what it built: never stored, made anew on a hit.
_VOLATILE = ("jobs", "phases_seconds", "llvm_seconds", "orchestration_overhead", "cache", "placement",
             "cluster_bytes", "failures", "timeline", "parent_cpu_seconds")


def key(plan: Plan, versions: dict[str, str]) -> str:
    """Everything that decides a build's outputs, and nothing about where they came from or go."""
    options = dataclasses.asdict(plan.options)
    options["cgdata_in"] = None  # its contents' digest is there; its path changes nothing
    fields = {"stream": "build", "format": KEY_FORMAT, "twopass": __version__, **versions, "options": options,
              "modules": sorted([m.output, m.digest] for m in plan.modules)}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Record:
    objects: dict[str, bytes]  # output name -> bytes, each checked against its recorded sha256
    merged: bytes | None
    report: dict[str, Any]     # what the recording build's report said of its outputs
    blob_paths: dict[str, str]  # output name -> the cache file holding its bytes
    seconds: float             # the LLVM work the recorded build stands for
    digests: dict[str, str]    # output name -> the sha256 its blob is kept under
    merged_digest: str | None  # the merged data's, kept as a blob of the scratch stream


def lookup(store: Cache, build_key: str) -> Record | None:
    import msgpack

    raw = store.get(STREAM, build_key)
    if raw is None:
        return None
    try:
        entry = msgpack.unpackb(raw)
        wanted = {name: digest for name, digest in entry["objects"]}
        merged_digest = entry["merged"]
        report = json.loads(entry["report"])
        seconds = float(entry["seconds"])
    except (ValueError, KeyError, TypeError, msgpack.UnpackException):
        return None
    objects, paths = {}, {}
    for name, digest in wanted.items():
        data = store.get_blob(STREAM, digest)
        if data is None:
            return None
        objects[name], paths[name] = data, store.blob_path(STREAM, digest)
    merged = None
    if merged_digest is not None:
        merged = store.get_blob("scratch", merged_digest)
        if merged is None:
            return None
    return Record(objects, merged, report, paths, seconds, wanted, merged_digest)


def keep_blobs(store: Cache, objects: dict[str, bytes], merged: bytes | None) -> dict[str, str]:
    """A finished build's objects and merged data in the cache by content, before its outputs are placed from
    there; returns the sha256 of each (the merged data's under "")."""
    digests = {name: store.put_blob(STREAM, data) for name, data in sorted(objects.items())}
    if merged is not None:
        digests[""] = store.put_blob("scratch", merged)
    return digests


def save(store: Cache, build_key: str, digests: dict[str, str], report: dict) -> Record:
    """The record, once its blobs are kept (keep_blobs): a record never names a blob that was not written.
    Returns it as `lookup` would find it, without the bytes."""
    import msgpack

    kept = {k: v for k, v in report.items() if k not in _VOLATILE}
    kept["modules"] = [{k: v for k, v in m.items() if k != "input"} for m in report.get("modules", [])]
    objects = sorted((name, d) for name, d in digests.items() if name)
    seconds = sum(report.get("llvm_seconds", {}).values()) + report.get("cache", {}).get("llvm_seconds_saved", 0)
    store.put(STREAM, build_key, msgpack.packb({"objects": objects, "merged": digests.get(""), "seconds": seconds,
                                                "report": json.dumps(kept, sort_keys=True)}))
    return Record({}, None, json.loads(json.dumps(kept, sort_keys=True)), {}, float(seconds), dict(objects),
                  digests.get(""))


def report(record: Record, plan: Plan, jobs: int, phases: dict[str, float]) -> dict:
    """The recording build's report, as a run that read one entry and ran nothing tells it."""
    out = dict(record.report)
    inputs = {m.output: m.path for m in plan.modules}
    modules = {m["output"]: m for m in out.get("modules", [])}
    out["modules"] = []
    for m in plan.modules:
        entry = {"input": inputs[m.output], **modules.get(m.output, {"output": m.output})}
        for rnd in ("round1", "round2"):
            if rnd in entry:
                entry[rnd] = {**entry[rnd], "cached": True, "seconds": {}}
        out["modules"].append(entry)
    out.update(jobs=jobs, phases_seconds={k: round(v, 4) for k, v in phases.items()}, llvm_seconds={},
               orchestration_overhead=None, failures=[],
               cache={"streams": {"build": {STREAM: {"hits": 1, "misses": 0}}},
                      "llvm_seconds_saved": round(record.seconds, 4), "round2_misses_because": {}})
    return out
