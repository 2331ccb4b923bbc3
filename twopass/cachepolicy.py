"""The cache's pruning policy in LLVM's syntax (CachePruningPolicy): parsed only where a build or `twopass cache`
prunes, so that a build answered from its command's record (again.py) never imports it."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import TwopassError

_WHERE = "--cache-policy"


@dataclass(frozen=True)
class Policy:
    """LLVM's CachePruningPolicy and its defaults. interval: 0 prunes every time, None never (except, as in
    LLVM, when there is no timestamp file yet). expiration 0, max_size_percent 0 or 100, max_size_bytes 0
    and max_size_files 0 each disable their limit."""

    interval: float | None = 1200.0            # 20m
    expiration: float = 7 * 24 * 3600.0        # 1 week
    max_size_percent: int = 75                 # of the cache's size plus the free space on its disk
    max_size_bytes: int = 0
    max_size_files: int = 1000000


def _integer(text: str) -> int | None:
    """StringRef::getAsInteger(0, uint64_t): the radix from a 0x/0b/0o/0 prefix, every character a digit of
    it, and the value fitting 64 bits; so "0x10" is 16 and "010" is 8, as LLVM reads them."""
    radix, digits = 10, text
    if text[:2] in ("0x", "0X"):
        radix, digits = 16, text[2:]
    elif text[:2] in ("0b", "0B"):
        radix, digits = 2, text[2:]
    elif text[:2] == "0o":
        radix, digits = 8, text[2:]
    elif len(text) > 1 and text[0] == "0" and text[1] in "0123456789":
        radix, digits = 8, text[1:]
    allowed = "0123456789abcdefghijklmnopqrstuvwxyz"[:radix]
    if not digits or any(c not in allowed and c not in allowed.upper() for c in digits):
        return None
    value = int(digits, radix)
    return value if value < 1 << 64 else None


def _number(text: str) -> int:
    value = _integer(text)
    if value is None:
        raise TwopassError(_WHERE, f"'{text}' not an integer")
    return value


def _duration(text: str) -> float:
    if not text:
        raise TwopassError(_WHERE, "Duration must not be empty")
    number = _number(text[:-1])
    unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1])
    if unit is None:
        raise TwopassError(_WHERE, f"'{text}' must end with one of 's', 'm' or 'h'")
    return float(number * unit)


def parse_policy(text: str) -> Policy:
    """parseCachePruningPolicy: `key=value` items split on ':', checked in the same order with the same
    messages (an empty item, as in "a::b", is LLVM's "Unknown key: ''"; a trailing ':' is fine)."""
    fields: dict = {}
    rest = text
    while rest:
        item, _, rest = rest.partition(":")
        key, _, value = item.partition("=")
        if key == "prune_interval":
            fields["interval"] = _duration(value)
        elif key == "prune_after":
            fields["expiration"] = _duration(value)
        elif key == "cache_size":
            if not value.endswith("%"):
                raise TwopassError(_WHERE, f"'{value}' must be a percentage")
            percent = _number(value[:-1])
            if percent > 100:
                raise TwopassError(_WHERE, f"'{value[:-1]}' must be between 0 and 100")
            fields["max_size_percent"] = percent
        elif key == "cache_size_bytes":
            mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(value[-1:].lower(), 1)
            fields["max_size_bytes"] = _number(value[:-1] if mult > 1 else value) * mult
        elif key == "cache_size_files":
            fields["max_size_files"] = _number(value)
        else:
            raise TwopassError(_WHERE, f"Unknown key: '{key}'")
    return Policy(**fields)
