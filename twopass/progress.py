"""The progress line a build draws on a terminal while its rounds run."""

from __future__ import annotations

import sys


class Progress:
    """`[round 1  12/33] lapi.o` rewritten in place on a TTY; nothing at all otherwise."""

    def __init__(self, enabled: bool | None = None, stream=sys.stderr):
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.total = self.done = 0
        self.phase = ""

    def start(self, phase: str, total: int) -> None:
        self.phase, self.total, self.done = phase, total, 0
        self._draw("")

    def advance(self, name: str) -> None:
        self.done += 1
        self._draw(name)

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _draw(self, name: str) -> None:
        if self.enabled:
            self.stream.write(f"\r\033[K[{self.phase} {self.done}/{self.total}] {name}"[:200])
            self.stream.flush()
