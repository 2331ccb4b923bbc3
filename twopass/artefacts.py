"""The build's view of the cache: which entry each module's round needs, what a hit saves, why a miss ran.

Keys come from plan.py, the one place that says what an artefact depends on. Without a store (`--no-cache`)
every look-up misses and nothing is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import msgpack

from . import llvm, plan as plan_
from .cache import Cache
from .plan import ModuleInput, Plan
from .workers import Result

log = logging.getLogger("twopass.build")


@dataclass
class CacheStats:
    """Hits and misses per round and stream, LLVM seconds the hits saved, and why round two missed."""

    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    seconds_saved: float = 0.0
    round_two_misses: dict[str, int] = field(default_factory=dict)

    def count(self, round_name: str, stream: str, hit: bool) -> None:
        c = self.counts.setdefault(round_name, {}).setdefault(stream, {"hits": 0, "misses": 0})
        c["hits" if hit else "misses"] += 1


class Artefacts:
    def __init__(self, store: Cache | None, plan: Plan, need_ir: bool):
        self.store, self.opts, self.need_ir = store, plan.options, need_ir
        self.stats = CacheStats()
        self.versions = llvm.versions()
        self.keys = {m.output: plan_.module_keys(m, plan.options, self.versions) for m in plan.modules}
        self._last: dict[str, bytes | None] = {}  # each module's last-merged note, as round two read it

    def set_link(self, modules: list[ModuleInput], fields: dict[str, dict]) -> None:
        """Keys once the thin link has decided what each module imports."""
        for m in modules:
            self.keys[m.output] = plan_.module_keys(m, self.opts, self.versions, fields[m.output])

    def _get(self, stream: str, key: str) -> bytes | None:
        return None if self.store is None else self.store.get(stream, key)

    def _put(self, stream: str, key: str, data: bytes) -> None:
        if self.store is not None:
            self.store.put(stream, key, data)

    def _counted(self, round_name: str, stream: str, key: str, decode: Callable[[bytes], Any] | None = None):
        """An entry (through `decode`), counted as a hit or a miss; None when it is missing or `decode` says it
        is not ours (logged)."""
        data = self._get(stream, key)
        value = data
        if data is not None and decode is not None:
            try:
                value = decode(data)
            except ValueError as e:
                log.warning("cache entry %s/%s ignored: %s", stream, key, e)
                value = None
        if self.store is not None:
            self.stats.count(round_name, stream, value is not None)
        return value

    # -- the thin link -----------------------------------------------------------------------------------------

    def summary(self, m: ModuleInput) -> bytes | None:
        return self._counted("summary", "ir", plan_.summary_key(m, self.versions))

    def save_summary(self, m: ModuleInput, data: bytes) -> None:
        self._put("ir", plan_.summary_key(m, self.versions), data)

    def link(self, modules: list[ModuleInput]):
        """The thin link's decisions when they were made before for exactly these inputs and options."""
        if self.store is None:
            return None
        from . import thinlink
        return self._counted("thin link", "ir", self._link_key(modules), thinlink.load_decisions)

    def save_link(self, modules: list[ModuleInput], decisions) -> None:
        if self.store is not None:
            from . import thinlink
            self._put("ir", self._link_key(modules), thinlink.dump_decisions(decisions))

    def _link_key(self, modules: list[ModuleInput]) -> str:
        assert self.opts.thin_link is not None
        return plan_.link_key(modules, self.opts.thin_link, self.versions)

    # -- the rounds --------------------------------------------------------------------------------------------

    def round_one(self, m: ModuleInput) -> Result | None:
        """A module's round one from the cache: its IR when anything needs it, and its object. Without the
        IR the module reruns and writes both again: its object counts as a miss (read all the same, so that
        damage shows and goes at once)."""
        if self.store is None:
            return None
        k = self.keys[m.output]
        ir = b""
        if self.need_ir:
            ir = self._counted("round 1", "ir", k.ir) or b""
            if not ir:
                self._get(self._round_one_stream, k.round_one)
                self.stats.count("round 1", self._round_one_stream, False)
                return None
        result = self._counted("round 1", self._round_one_stream, k.round_one,
                               lambda data: Result.from_entry(data, ir))
        if result is not None:
            self.stats.seconds_saved += result.seconds
        return result

    @property
    def _round_one_stream(self) -> str:
        return "scratch" if self.opts.two_rounds else "object"

    def save_round_one(self, m: ModuleInput, r: Result) -> None:
        k = self.keys[m.output]
        assert isinstance(r.ir, bytes), "the pipeline fetches held IR before saving it"
        self._put("ir", k.ir, r.ir)
        self._put(self._round_one_stream, k.round_one, r.to_entry())

    def round_one_alone(self, m: ModuleInput) -> Result | None:
        if self.store is None:
            return None
        return self._counted("size guard", "object", self.keys[m.output].round_one_alone(self.opts), Result.from_entry)

    def save_round_one_alone(self, m: ModuleInput, r: Result) -> None:
        self._put("object", self.keys[m.output].round_one_alone(self.opts), r.to_entry())

    def round_two(self, m: ModuleInput, r1: Result, cgdata_digest: str) -> Result | None:
        if self.store is None:
            return None
        k = self.keys[m.output]
        # Read on hits too, though only a miss needs it: a damaged note then shows (and goes) at once.
        last = self._last[m.output] = self._get("scratch", plan_.last_merged_key(k.round_one))
        result = self._counted("round 2", "object", k.round_two(self.opts, cgdata_digest), Result.from_entry)
        if result is not None:
            self.stats.seconds_saved += result.seconds
            return result
        why = ("its round one ran" if not r1.cached else
               "merged codegen data changed" if last is not None and last != cgdata_digest.encode() else
               "object not in the cache")
        self.stats.round_two_misses[why] = self.stats.round_two_misses.get(why, 0) + 1
        return None

    def save_round_two(self, m: ModuleInput, r2: Result, cgdata_digest: str) -> None:
        k = self.keys[m.output]
        self._put("object", k.round_two(self.opts, cgdata_digest), r2.to_entry())
        if self._last.get(m.output) != cgdata_digest.encode():  # remembered to explain the next miss
            self._put("scratch", plan_.last_merged_key(k.round_one), cgdata_digest.encode())

    # -- the merged data ---------------------------------------------------------------------------------------

    def _merged_key(self, modules: list[ModuleInput]) -> str:
        return plan_.merged_key([self.keys[m.output].round_one for m in modules])

    def merged(self, modules: list[ModuleInput]) -> bytes | None:
        """The merged data when every module's round one is the one that was merged before."""
        return self._counted("merge", "scratch", self._merged_key(modules))

    def save_merged(self, modules: list[ModuleInput], data: bytes) -> None:
        self._put("scratch", self._merged_key(modules), data)

    def facts(self, modules: list[ModuleInput]) -> dict | None:
        data = self._get("scratch", plan_.facts_key(self._merged_key(modules)))
        try:
            facts = msgpack.unpackb(data) if data is not None else None
            return facts if isinstance(facts, dict) and {"tree", "funcmap", "sequences"} <= facts.keys() else None
        except (ValueError, msgpack.UnpackException):
            return None

    def save_facts(self, modules: list[ModuleInput], facts: dict) -> None:
        self._put("scratch", plan_.facts_key(self._merged_key(modules)), msgpack.packb(facts))
