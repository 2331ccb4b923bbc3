"""lld's ELF command line as data: response files expanded, each argument one `Arg` (an option with its value,
or an input), with the state that decides how an input is read (--whole-archive, --start-lib, -Bstatic).

`twopass ld` rewrites a link line without re-implementing the linker, so it only needs to know which arguments
are inputs and which take a value, as lld's own option table says (lld/ELF/Options.td: `Eq`/`EEq` options take
`--name=value` or `--name value`, `J`/`JJ` ones only `--name=value`, one-letter `JoinedOrSeparate` ones `-lfoo`
or `-l foo`; the longest known name wins, so `-export-dynamic` is a flag, not `-e xport-dynamic`). An option
it does not know is passed on as a flag: at worst its value is taken for an input, which is passed on too.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

from .errors import InputError

# Options with a value that may be the next argument (Eq, EEq, Separate in lld/ELF/Options.td).
_SEPARATE = frozenset("""
auxiliary compress-debug-sections defsym split-stack-adjust-size Tbss Tdata Ttext call-graph-ordering-file
dynamic-linker dynamic-list entry exclude-libs filter fini format hash-style init just-symbols keep-unique Map
orphan-handling print-symbol-order rpath retain-symbols-file script section-start soname sort-section sysroot
target2 trace-symbol undefined unresolved-symbols version-script wrap mllvm plugin mips-got-size library
library-path compress-sections in-implib out-implib irpgo-profile default-script dependency-file error-limit
error-handling-script export-dynamic-symbol export-dynamic-symbol-list image-base oformat pack-dyn-relocs
remap-inputs reproduce symbol-ordering-file threads time-trace-granularity undefined-glob rsp-quoting
warn-backrefs-exclude why-live lto-known-safe-vtables opt-remarks-hotness-threshold shuffle-sections
thinlto-cache-policy load-pass-plugin android-memtag-mode Ttext-segment chroot opt-remarks-filename
opt-remarks-passes opt-remarks-format rpath-link output dT
""".split())
_SEPARATE_SHORT = frozenset("fFb")           # -f NAME, never -fNAME
_JOINED_OR_SEPARATE = frozenset("lLmoeRThyuzOG")  # -lfoo or -l foo
# Flags a one-letter option above would otherwise swallow (`-export-dynamic`, `-end-lib`, `-help`, ...).
_FLAGS = frozenset("""
eh-frame-hdr emit-relocs enable-new-dtags end-group end-lib error-unresolved-symbols export-dynamic help unique
undefined-version merge-exidx-entries long-plt lto-emit-asm lto-emit-llvm
""".split())
# Joined-only prefixes (J/JJ) whose value follows the name directly, like `--lto-O2`.
_JOINED_PREFIXES = ("lto-O", "lto-CGO")
_ALIASES = {"o": "output", "l": "library", "L": "library-path", "e": "entry", "u": "undefined", "T": "script",
            "R": "rpath", "h": "soname", "y": "trace-symbol", "F": "filter", "f": "auxiliary", "b": "format",
            "dT": "default-script"}
_FLAG_ALIASES = {"E": "export-dynamic", "r": "relocatable", "Bshareable": "shared", "static": "Bstatic",
                 "dn": "Bstatic", "non_shared": "Bstatic", "dy": "Bdynamic", "call_shared": "Bdynamic", "V": "v",
                 "pic-executable": "pie"}


@dataclass
class Arg:
    """One argument as given (`tokens`, one or two) and what it means: `name` is the option's canonical name
    without dashes (None for an input file), `value` its value (the path for an input)."""

    tokens: list[str]
    name: str | None
    value: str | None = None

    @property
    def is_input(self) -> bool:
        return self.name is None


def expand(argv: list[str], _depth: int = 0) -> list[str]:
    """`@file` arguments replaced by their contents, GNU-quoted, recursively (as lld does)."""
    out: list[str] = []
    for tok in argv:
        if tok.startswith("@") and len(tok) > 1:
            if _depth > 20:
                raise InputError(tok[1:], "response files nest too deeply")
            try:
                with open(tok[1:], encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                out.append(tok)  # lld too takes a missing @file literally, and says so
                continue
            except (OSError, UnicodeDecodeError) as e:
                raise InputError(tok[1:], getattr(e, "strerror", None) or str(e)) from None
            try:
                out += expand(shlex.split(text, posix=True), _depth + 1)
            except ValueError as e:
                raise InputError(tok[1:], f"cannot split the response file: {e}") from None
        else:
            out.append(tok)
    return out


def parse(argv: list[str]) -> list[Arg]:
    args: list[Arg] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if not tok.startswith("-") or tok == "-":
            args.append(Arg([tok], None, tok))
            continue
        body = tok.lstrip("-")
        dashes = len(tok) - len(body)
        name, eq, value = body.partition("=")
        if eq and (name in _SEPARATE or name.startswith("plugin-opt") or dashes == 2 or name in _ALIASES):
            args.append(Arg([tok], _ALIASES.get(name, name), value))
        elif body in _SEPARATE or (dashes == 1 and body in _SEPARATE_SHORT):
            args.append(_separate(argv, i, tok, _ALIASES.get(body, body)))
            i += i < len(argv)
        elif body in _FLAGS or body in _FLAG_ALIASES or (dashes == 2 and not body.startswith(_JOINED_PREFIXES)):
            args.append(Arg([tok], _FLAG_ALIASES.get(body, body)))
        elif body.startswith(_JOINED_PREFIXES):
            prefix = next(p for p in _JOINED_PREFIXES if body.startswith(p))
            args.append(Arg([tok], prefix, body[len(prefix):]))
        elif dashes == 1 and body[:1] in _JOINED_OR_SEPARATE:
            letter, rest = body[0], body[1:]
            if rest:
                args.append(Arg([tok], _ALIASES.get(letter, letter), rest))
            else:
                args.append(_separate(argv, i, tok, _ALIASES.get(letter, letter)))
                i += i < len(argv)
        else:
            args.append(Arg([tok], body))
    return args


def _separate(argv: list[str], i: int, tok: str, name: str) -> Arg:
    """An option whose value is the next argument (lld reports one missing at the end itself)."""
    return Arg([tok, argv[i]], name, argv[i]) if i < len(argv) else Arg([tok], name)


def render(args: list[Arg]) -> list[str]:
    return [t for a in args for t in a.tokens]


def option(name: str, value: str | None = None) -> Arg:
    """A new argument in the spelling lld documents."""
    if value is None:
        return Arg([f"--{name}"], name)
    return Arg([f"--{name}={value}"], name, value)


@dataclass
class InputState:
    """What lld's reading of an input depends on at its place in the line."""

    whole_archive: bool = False
    in_lib: bool = False       # inside --start-lib ... --end-lib: objects are lazy, like archive members
    static: bool = False       # -Bstatic: -l finds only lib<name>.a
    stack: list[tuple[bool, bool]] = field(default_factory=list)

    def update(self, arg: Arg) -> None:
        n = arg.name
        if n == "whole-archive" or n == "no-whole-archive":
            self.whole_archive = n == "whole-archive"
        elif n == "start-lib" or n == "end-lib":
            self.in_lib = n == "start-lib"
        elif n == "Bstatic" or n == "Bdynamic":
            self.static = n == "Bstatic"
        elif n == "push-state":
            self.stack.append((self.whole_archive, self.static))
        elif n == "pop-state" and self.stack:
            self.whole_archive, self.static = self.stack.pop()


def search_dirs(args: list[Arg]) -> list[str]:
    """Every -L, in order (lld reads them all before any -l), with a leading `=` or `$SYSROOT` meaning the
    --sysroot."""
    sysroot = next((a.value for a in reversed(args) if a.name == "sysroot" and a.value), "")
    dirs = []
    for a in args:
        if a.name == "library-path" and a.value is not None:
            d = a.value
            if d.startswith("="):
                d = sysroot + d[1:]
            elif d.startswith("$SYSROOT"):
                d = sysroot + d[len("$SYSROOT"):]
            dirs.append(d)
    return dirs


def find_library(name: str, dirs: list[str], static: bool) -> str | None:
    """lld's searchLibrary: `:file` by its exact name, else lib<name>.so (unless -Bstatic), then lib<name>.a,
    directory by directory."""
    for d in dirs:
        if name.startswith(":"):
            candidates = [name[1:]]
        else:
            candidates = ([] if static else [f"lib{name}.so"]) + [f"lib{name}.a"]
        for c in candidates:
            path = os.path.join(d, c)
            if os.path.isfile(path):
                return path
    return None
