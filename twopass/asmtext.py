"""Regular expressions compiled on first use, and the patterns over the assembly text LLVM prints that the layout
and its DWARF rewriting share."""

from __future__ import annotations

import re


class Pattern:
    """A regular expression compiled on first use: every build imports this module, but a warm one rewrites
    no assembly, and compiling these patterns up front was 6% of a warm build."""

    def __init__(self, *args):
        self._args, self._compiled = args, None

    def __getattr__(self, name: str):  # only for what the instance does not have yet: each method once
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        value = getattr(self._compiled, name)
        setattr(self, name, value)
        return value


LABEL = Pattern(r"^([A-Za-z_.$][\w.$]*):", re.M)
FUNCTION = Pattern(r"^\t\.type\t([A-Za-z_.$][\w.$]*),[@%]function\n(\1:)", re.M)
