"""Worker processes forked from a process of twopass's own that imported their modules once.

multiprocessing's fork server did this before, but it brings its resource tracker along: a third Python
process of 9 MB, on AArch64 builds 6% of the build's peak memory, that twopass has nothing for. This server
is a fork of the process that needs workers (when that has no other thread; else `python -m twopass.zygote FD
MODULE...`, 0.05 s slower to start): it imports the modules (never initializing LLVM, which is not fork-safe
once it runs), then forks a child for each request on its socket. The request carries the child's
job socket; the answer is the child's pid and the read end of a pipe on which the server writes the child's
exit status once it has reaped it, so the pool waits on that pipe as on a child of its own. The server exits
when its socket closes: when the process that started it ends, however it ends.
"""

from __future__ import annotations

import atexit
import gc
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Callable

from .errors import TwopassError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

_STATUS = 4  # bytes of a child's exit status on its pipe: signed, as Popen.returncode
_UNKNOWN = 255  # the status of a child whose server died before reaping it


class Forked:
    """A child of the server, with the Process interface the pool uses."""

    def __init__(self, pid: int, conn: Connection, status_fd: int):
        self.pid, self.conn, self.sentinel = pid, conn, status_fd
        self._exitcode: int | None = None

    @property
    def exitcode(self) -> int | None:
        if self._exitcode is None and self.sentinel >= 0 and select.select([self.sentinel], [], [], 0)[0]:
            data = os.read(self.sentinel, _STATUS)
            self._exitcode = int.from_bytes(data, "little", signed=True) if len(data) == _STATUS else _UNKNOWN
            os.close(self.sentinel)
            self.sentinel = -1
        return self._exitcode

    def is_alive(self) -> bool:
        return self.exitcode is None

    def join(self, timeout: float | None = None) -> None:
        if self.sentinel >= 0:
            select.select([self.sentinel], [], [], timeout)
        _ = self.exitcode  # takes the status in, if it came

    def kill(self) -> None:
        if self.exitcode in (None, _UNKNOWN):  # not reaped by the server, so the pid is still this child's
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Server:
    """The parent's end of one server."""

    def __init__(self, preload: tuple[str, ...]):
        ours, theirs = socket.socketpair()
        # A process group of its own: a Ctrl-C meant for the build reaches the parent only, which stops the
        # workers. Its output is a file of its own, quoted if it fails: a Ctrl-C that still reached it while
        # it started (before it left the group) prints nothing, a worker cannot write into the build's
        # stdout, and a caller reading the build's output through a pipe does not wait for this process.
        self.stderr = tempfile.TemporaryFile()
        self.popen: subprocess.Popen | _Process
        forked = _fork(theirs.fileno(), preload, self.stderr.fileno()) if threading.active_count() == 1 else None
        if forked is not None:
            self.popen = forked
        else:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # what this imports
            self.popen = subprocess.Popen([sys.executable, "-m", "twopass.zygote", str(theirs.fileno()), *preload],
                                          pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                                          stdout=self.stderr, stderr=self.stderr, process_group=0)
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        self.used = False

    def fork(self) -> Forked:
        from multiprocessing.connection import Connection

        self.used = True
        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"f"], [theirs.fileno()])
                msg, fds, _, _ = socket.recv_fds(self.sock, 8, 1)
        except OSError:
            msg, fds = b"", []
        finally:
            theirs.close()
        if len(msg) != 8 or len(fds) != 1:
            ours.close()
            for fd in fds:
                os.close(fd)
            raise OSError("no answer")
        return Forked(int.from_bytes(msg, "little"), Connection(ours.detach()), fds[0])

    def failure(self) -> str:
        """The last line the server wrote before it died."""
        self.stderr.seek(0)
        lines = [ln.strip() for ln in self.stderr.read()[-4096:].decode("utf-8", "replace").splitlines()]
        return next((ln for ln in reversed(lines) if ln), "")

    def close(self) -> None:
        self.stderr.close()
        self.sock.close()
        if not self.used:  # maybe still importing: nothing to wait for
            self.popen.kill()
        reap(self.popen)


class _Process:
    """A child forked from this process, with the part of Popen's interface the server's owner uses."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:  # a kernel before 5.3: wait() polls
            self._pidfd = -1

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else's wait
                pid, status = self.pid, _UNKNOWN << 8
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                if self._pidfd >= 0:
                    os.close(self._pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.returncode is None and self._pidfd >= 0 and not select.select([self._pidfd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired("twopass fork server", timeout or 0)
        while (code := self.poll()) is None:  # the pidfd is readable once the child has exited
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("twopass fork server", timeout or 0)
            select.select([], [], [], 0.001)
        return code

    def kill(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


def _fork(fd: int, preload: tuple[str, ...], output: int) -> _Process | None:
    """The server as a fork of this process (single-threaded: nothing is mid-way in another thread): it
    skips python's own start, and shares this process's interpreter and modules. The child keeps none of
    this process's files: every other descriptor is pointed at /dev/null, not closed, so that an object of
    this process's that still names one closes /dev/null, not a file the server opened since."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:  # no memory to copy this process's page tables (strict overcommit): start one afresh
        return None
    if pid:
        return _Process(pid)
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.setpgid(0, 0)
        gc.freeze()  # this process's objects: never traversed here or in workers, so their pages stay shared
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # not whatever stands for them in this process
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        for name in os.listdir("/proc/self/fd"):
            other = int(name)
            if other > 2 and other not in (fd, null):
                try:
                    os.dup2(null, other)
                except OSError:  # the directory listing's own descriptor, closed since
                    pass
        main(fd, list(preload))
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        os._exit(code)


def reap(popen: subprocess.Popen | _Process, timeout: float = 5) -> int:
    """A child's exit status, once it has ended by itself within `timeout` seconds, else killed."""
    try:
        return popen.wait(timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        return popen.wait()


_SERVERS: dict[tuple[str, ...], Server] = {}
_SERVERS_LOCK = threading.Lock()


def _server(preload: tuple[str, ...]) -> Server:
    """The running server for `preload`; under _SERVERS_LOCK."""
    server = _SERVERS.get(preload)
    if server is None or server.popen.poll() is not None:
        if server is not None:
            server.close()
        server = _SERVERS[preload] = Server(preload)
    return server


def start(preload: tuple[str, ...]) -> None:
    """Start the server now, so that its own start (python, LLVM's library) overlaps the caller's: imports,
    planning, the real linker's resolution. One never forked from is killed at exit, not waited for, so a
    build the cache answers loses nothing to it."""
    with _SERVERS_LOCK:
        _server(preload)


def fork(preload: tuple[str, ...]) -> Forked:
    """A child of the server for `preload`, started on first use, and once more if it died (the OOM killer)."""
    for _ in range(2):
        with _SERVERS_LOCK:
            server = _server(preload)
        try:
            return server.fork()
        except OSError:
            code = reap(server.popen)
    last = server.failure()
    raise TwopassError("twopass's fork server", f"exited with status {code} before starting a worker"
                       + (f": {last}" if last else ""))


def _close_servers() -> None:
    with _SERVERS_LOCK:
        for server in _SERVERS.values():
            server.close()
        _SERVERS.clear()


atexit.register(_close_servers)


def _serve(sock: socket.socket, child_main: Callable[[Connection], None]) -> None:
    """Fork a child per request until the socket closes; report each child's status when it is reaped."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    status: dict[int, int] = {}  # child pid -> write end of its status pipe
    while True:
        ready = select.select([sock.fileno(), wake_r], [], [])[0]
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(status)
        if sock.fileno() not in ready:
            continue
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1, 1)
        except OSError:
            msg, fds = b"", []
        if not msg:
            _end(status)
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            for fd in (wake_r, wake_w, status_r, status_w, *status.values()):
                os.close(fd)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _name("twopass-worker")
            sock.close()
            code = 0
            try:
                from multiprocessing.connection import Connection

                child_main(Connection(fds[0]))
            except BaseException:
                code = 1
                import traceback
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(fds[0])
        status[pid] = status_w
        try:
            socket.send_fds(sock, [pid.to_bytes(8, "little")], [status_r])
        except OSError:
            _end(status)  # the parent is gone (interrupted)
        os.close(status_r)


def _end(status: dict[int, int]) -> None:
    """The parent closed its end: its pools are closed, or it is gone. A child still running is work nobody
    waits for; it is killed and reaped here (an orphan would stay a zombie under an init that does not reap).
    os._exit skips LLVM's static destructors: nothing of this process needs them."""
    for pid in status:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in status:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    os._exit(0)


def _reap(status: dict[int, int]) -> None:
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = status.pop(pid, None)
        if fd is not None:
            os.write(fd, os.waitstatus_to_exitcode(code).to_bytes(_STATUS, "little", signed=True))
            os.close(fd)


def _name(name: str) -> None:
    """The name `ps`, `top` and the OOM killer's log show for this process (a fork has its parent's command
    line)."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name)
    except OSError:
        pass


def main(fd: int, preload: list[str]) -> None:
    import importlib

    from .pool import serve_child

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop (kill -INT of the group)
    _name("twopass-server")
    for name in preload:
        importlib.import_module(name)
    from . import pages

    pages.release("libllvmlite")  # what importing it touched stays out of this long-lived process
    _serve(socket.socket(fileno=fd), serve_child)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
