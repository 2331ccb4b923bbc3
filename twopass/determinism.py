"""Output determinism: manifests of a build, and comparisons that name what differs and where.

Users compare builds, cache them remotely and bisect them, so the same inputs must give the same bytes. A
manifest (`build --manifest`) pins a build: each output's sha256 and the merged codegen data's. When two builds
disagree, the first differing byte is named by module, section and offset, which is what one needs to start
looking (a timestamp in `.comment`, a path in `.debug_str`, a reordered `.text`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from .errors import InputError

MANIFEST_FORMAT = 1


def manifest(outputs: dict[str, bytes], cgdata: bytes | None) -> dict:
    return {"format": MANIFEST_FORMAT,
            "objects": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(outputs.items())},
            "cgdata": None if cgdata is None else hashlib.sha256(cgdata).hexdigest()}


def dump_manifest(m: dict) -> bytes:
    return (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()


def load_manifest(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            m = json.loads(f.read())
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    except ValueError as e:
        raise InputError(path, f"not a twopass manifest: {e}") from None
    if not isinstance(m, dict) or m.get("format") != MANIFEST_FORMAT or not isinstance(m.get("objects"), dict):
        raise InputError(path, f"not a twopass manifest (format {MANIFEST_FORMAT})")
    return m


@dataclass(frozen=True)
class Difference:
    module: str
    what: str

    def __str__(self) -> str:
        return f"{self.module}: {self.what}"


def diff_manifests(a: dict, b: dict, a_name: str = "A", b_name: str = "B") -> list[Difference]:
    out = []
    for name in sorted(set(a["objects"]) | set(b["objects"])):
        ha, hb = a["objects"].get(name), b["objects"].get(name)
        if ha is None or hb is None:
            out.append(Difference(name, f"only in {a_name if hb is None else b_name}"))
        elif ha != hb:
            out.append(Difference(name, f"sha256 {ha[:16]}... in {a_name}, {hb[:16]}... in {b_name}"))
    if a.get("cgdata") != b.get("cgdata"):
        out.append(Difference("merged codegen data", f"sha256 {a.get('cgdata')} in {a_name}, "
                                                     f"{b.get('cgdata')} in {b_name}"))
    return out


def read_outputs(outdir: str, suffix: str = ".o") -> dict[str, bytes]:
    """Every object (every file ending in `suffix`) under a build's output directory, by relative path."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(outdir):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(suffix):
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    found[os.path.relpath(path, outdir).replace(os.sep, "/")] = f.read()
    return found


def diff_outputs(a: dict[str, bytes], b: dict[str, bytes], a_name: str, b_name: str) -> list[Difference]:
    out = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            out.append(Difference(name, f"only in the {a_name if name not in b else b_name} build"))
        elif a[name] != b[name]:
            out.append(Difference(name, f"{a_name} and {b_name} builds differ: {first_difference(a[name], b[name])}"))
    return out


def first_difference(a: bytes, b: bytes) -> str:
    """Where two objects first differ: the section and the offset inside it (ELF), else the file offset."""
    n = min(len(a), len(b))
    at = next((i for i in range(n) if a[i] != b[i]), n)
    if at == n:
        return f"sizes {len(a)} and {len(b)} (one is a prefix of the other)"
    sections = _elf_sections(a)
    for name, start, size in sections:
        if start <= at < start + size:
            return f"section {name} at offset {at - start:#x} (file offset {at:#x})"
    return f"file offset {at:#x}" + (" (outside any section's contents)" if sections else "")


def _elf_sections(data: bytes) -> list[tuple[str, int, int]]:
    """(name, file offset, size) of each ELF section with contents; [] for anything that is not a readable ELF
    file (a comparison names the file offset then, rather than failing on the object it describes)."""
    from . import objfile

    try:
        return [(s.name, s.offset, len(s.data)) for s in objfile.elf_sections(data, "") if s.data]
    except InputError:
        return []


# -- verify-determinism: the same inputs built several ways ------------------------------------------------

def verify(inputs: list[str], options, jobs: int = 2, against: str | None = None, cluster=None
           ) -> list[Difference]:
    """Build the inputs five ways (cold cache; warm cache; one job; reversed inputs; another working
    directory, temporary directory and output path), and a sixth on the Dask `cluster` if given, and compare
    every output with the first build's. The builds without a cache also keep their intermediates (round one's
    IR and scratch objects, the merged data: what the cache keeps), compared among them: a cache is only as
    deterministic as what it stores, and objects can agree while the IR behind them does not.

    Each build runs `twopass.build` with the same typed options in a process of its own (this very twopass,
    installed or from a checkout), started in its own directory with its own TMPDIR."""
    from .pipeline import RunOptions
    from .plan import expand_inputs

    inputs = [os.path.abspath(p) for p in expand_inputs(inputs)]
    jobs = max(2, jobs)
    root = tempfile.mkdtemp(prefix="twopass-verify-")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    try:
        cache = os.path.join(root, "cache")
        variants = {"reference": (inputs, RunOptions(jobs=jobs, cache_dir=cache), "w1"),
                    "warm-cache": (inputs, RunOptions(jobs=jobs, cache_dir=cache), "w1"),
                    "jobs-1": (inputs, RunOptions(jobs=1, cache=False), "w1"),
                    "reversed-inputs": (inputs[::-1], RunOptions(jobs=jobs, cache=False), "w1"),
                    "elsewhere": (inputs, RunOptions(jobs=jobs, cache=False), "w2/deeper/still")}
        if cluster is not None:  # its files named from the build's own directory
            cluster = dataclasses.replace(cluster, **{f: os.path.abspath(v) for f in (
                "scheduler_file", "tls_ca_file", "tls_cert", "tls_key") if (v := getattr(cluster, f)) is not None})
            variants["cluster"] = (inputs, RunOptions(jobs=jobs, cache=False), "w3")
        built: dict[str, tuple[dict[str, bytes], dict]] = {}
        kept: dict[str, dict[str, bytes]] = {}  # a build without a cache -> its intermediates
        problems: list[Difference] = []
        for name, (ins, run, where) in variants.items():
            cwd, tmp = os.path.join(root, where), os.path.join(root, where, "tmp")
            os.makedirs(tmp, exist_ok=True)
            out, man = os.path.join(cwd, f"out-{name}"), os.path.join(cwd, f"{name}.manifest")
            temps = None if run.cache else os.path.join(cwd, f"temps-{name}")  # (a cached build with them
            # would neither leave nor read the build's record, which the warm build is there to read)
            request = pickle.dumps((ins, options, out, dataclasses.replace(run, manifest=man, save_temps=temps),
                                    cluster if name == "cluster" else None))
            proc = subprocess.run([sys.executable, "-c", "from twopass.determinism import _build; _build()"],
                                  input=request, cwd=cwd, capture_output=True,
                                  env={**os.environ, "TMPDIR": tmp, "PYTHONPATH": path})
            if proc.returncode:
                err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                return [Difference("build", f"the {name} build failed: {err[-1] if err else proc.returncode}")]
            built[name] = (read_outputs(out), load_manifest(man))
            if temps is not None:
                kept[name] = {f"--save-temps {n}": data for n, data in read_outputs(temps, "").items()}
        ref_out, ref_man = built["reference"]
        for name, (outs, m) in built.items():
            problems += diff_outputs(ref_out, outs, "reference", name)
            if m.get("cgdata") != ref_man.get("cgdata"):
                problems.append(Difference("merged codegen data", f"reference and {name} builds differ"))
        first = next(iter(kept))
        for name, files in kept.items():
            problems += diff_outputs(kept[first], files, first, name)
        if against:
            problems += diff_manifests(load_manifest(against), ref_man, against, "this build")
        if not problems:
            print(f"ok: {len(ref_out)} objects identical across {len(variants)} builds ({', '.join(variants)}), "
                  f"and {len(kept[first])} intermediates across the {len(kept)} without a cache")
        return problems
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _build() -> None:
    """One of verify's builds: (inputs, options, outdir, run options) pickled on stdin; an error on stderr."""
    from .pipeline import build
    from .errors import TwopassError

    inputs, options, outdir, run, cluster = pickle.loads(sys.stdin.buffer.read())
    try:
        if cluster is None:
            build(inputs, options, outdir, run)
        else:
            from .distributed import DaskExecutor
            with DaskExecutor(cluster, run.jobs) as executor:
                build(inputs, options, outdir, run, executor)
    except TwopassError as e:
        sys.exit("error: " + "; ".join(e.lines()))
