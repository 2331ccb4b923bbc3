"""Job functions for the pool tests; they live in a module so workers can import them."""

import logging
import os
import signal

from twopass.errors import InputError

STATE = {}


def init(tag: str) -> None:
    STATE["tag"] = tag


def job(arg):
    kind, value = arg
    if kind == "ok":
        return (STATE["tag"], value * 2, os.getpid())
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "llvm-fatal":  # what LLVM's report_fatal_error does: print, then exit(1)
        os.write(2, b"LLVM ERROR: Cannot select: intrinsic %llvm.bogus\n")
        os._exit(1)
    if kind == "input":
        raise InputError(value, "bad input")
    if kind == "log":
        logging.getLogger("twopass.worker").warning("from %s", value)
        logging.getLogger("twopass.worker").debug("not at this level")
        return value
    if kind == "bug":
        raise ZeroDivisionError("division by zero")
    raise AssertionError(kind)
