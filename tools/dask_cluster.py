"""A real Dask cluster on 127.0.0.1 for tests and benchmarks: `dask scheduler` and `dask worker` processes, as a
user would start them (no in-process LocalCluster: its workers would share this process's LLVM and options)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def readme_config() -> str:
    """The README's Dask configuration for a build cluster: its one YAML block, as a user would save it."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^ *```yaml\n(.*?)^ *```", text, re.M | re.S)
    if len(blocks) != 1:
        raise RuntimeError(f"README.md: expected one yaml block (Dask's configuration), found {len(blocks)}")
    return textwrap.dedent(blocks[0])


def _die_with_parent() -> None:
    """SIGTERM when the process that started it ends however it ends (a test run killed by a timeout), so no
    scheduler or worker is left behind to load the machine for what runs next."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def dask_command() -> list[str]:
    return [sys.executable, "-m", "dask"]  # this interpreter's, whatever `dask` is on PATH


class Cluster:
    """`with Cluster(tmp, workers=2) as c:` -> c.scheduler_file, c.address; c.kill(name) SIGKILLs one worker
    (its nanny too: a machine lost, not a process restarted)."""

    def __init__(self, directory: Path, workers: int = 2, tls: dict[str, str] | None = None,
                 env: dict[str, str] | None = None, worker_env: dict[str, dict[str, str]] | None = None,
                 threads: int = 1, config: str | None = None):
        """`config`: a Dask configuration (YAML) that every process of the cluster reads from its DASK_CONFIG
        directory, as a user's would."""
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if config is not None:
            (self.directory / "dask-config").mkdir(exist_ok=True)
            (self.directory / "dask-config" / "twopass.yaml").write_text(config)
            env = dict(env or {}, DASK_CONFIG=str(self.directory / "dask-config"))
        self.scheduler_file = self.directory / "scheduler.json"
        self.tls = tls
        self.env = dict(os.environ, **(env or {}))
        self.worker_env = worker_env or {}
        self.names = [f"w{i + 1}" for i in range(workers)]
        self.threads = threads
        self.procs: dict[str, subprocess.Popen] = {}
        self._client = None

    def _tls_args(self) -> list[str]:
        if not self.tls:
            return []
        return ["--tls-ca-file", self.tls["ca"], "--tls-cert", self.tls["cert"], "--tls-key", self.tls["key"]]

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.directory / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen([*dask_command(), *args], stdout=log, stderr=subprocess.STDOUT,
                                            env=env, cwd=self.directory, start_new_session=True,
                                            preexec_fn=_die_with_parent)
        log.close()

    def __enter__(self) -> "Cluster":
        protocol = ["--protocol", "tls"] if self.tls else []
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(self.scheduler_file), *protocol, *self._tls_args()],
                    self.env)
        self._wait(lambda: self.scheduler_file.exists(), "the scheduler file")
        for name in self.names:
            self.start_worker(name)
        self._wait(lambda: self.worker_count() == len(self.names), f"{len(self.names)} workers")
        return self

    def start_worker(self, name: str) -> None:
        env = dict(self.env, **self.worker_env.get(name, {}))
        self._start(name, ["worker", "--scheduler-file", str(self.scheduler_file), "--name", name,
                           "--nthreads", str(self.threads), "--no-dashboard", "--host", "127.0.0.1",
                           "--local-directory", str(self.directory / name), *self._tls_args()], env)

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def client(self):
        """A client of this cluster in this process, to watch it (the builds under test are other processes)."""
        if self._client is None:
            from distributed import Client
            from distributed.security import Security
            security = Security(tls_ca_file=self.tls["ca"], tls_client_cert=self.tls["cert"],
                                tls_client_key=self.tls["key"], require_encryption=True) if self.tls else None
            self._client = Client(scheduler_file=str(self.scheduler_file), timeout=30, security=security,
                                  set_as_default=False)
        return self._client

    def worker_count(self) -> int:
        return len(self.client().scheduler_info(n_workers=-1)["workers"])

    def processing(self) -> dict[str, list[str]]:
        """Worker name -> the keys of the tasks it is running now."""
        info = self.client().scheduler_info(n_workers=-1)["workers"]
        return {info[a]["name"]: [str(k) for k in keys] for a, keys in self.client().processing().items()
                if a in info}

    def _wait(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((self.directory / f"{n}.log").read_text(errors="replace")[-2000:] for n in self.procs)
                raise RuntimeError(f"Dask cluster in {self.directory}: no {what} ({dead or 'timeout'})\n{logs}")
            time.sleep(0.2)

    def descendants(self, name: str) -> set[int]:
        """Every live process below the one started for `name` (its worker, and twopass's children of it)."""
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        found: set[int] = set()
        frontier = {self.procs[name].pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
            found |= frontier
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far of the scheduler, of the Dask worker processes themselves (nannies, workers) and of
        twopass's children of the workers (LLVM), each with its children that ended and were waited for."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {"scheduler": 0.0, "dask workers": 0.0, "twopass children": 0.0}
        for name, proc in self.procs.items():
            for pid in {proc.pid} | self.descendants(name):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    with open(f"/proc/{pid}/cmdline") as f:
                        cmdline = f.read().replace("\0", " ")
                except OSError:
                    continue
                kind = "scheduler" if name == "scheduler" else \
                    "twopass children" if " -m twopass." in cmdline else "dask workers"
                out[kind] += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
        return out

    @contextlib.contextmanager
    def frozen(self):
        """Every process of the cluster stopped (SIGSTOP) meanwhile: the machine as if it had no cluster, for a
        local build timed between cluster builds. Timeouts do not fire: scheduler and workers stop together."""
        pids = [pid for name, proc in self.procs.items() for pid in (proc.pid, *self.descendants(name))]
        try:
            self._signal(pids, signal.SIGSTOP)
            yield
        finally:
            self._signal(pids, signal.SIGCONT)

    @staticmethod
    def _signal(pids: list[int], sig: int) -> None:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:  # a child that ended since it was listed
                pass

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def __exit__(self, *exc) -> None:
        if self._client is not None:
            self._client.close()
        for name in list(self.procs)[::-1]:
            proc = self.procs.pop(name)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass


def self_signed(directory: Path) -> dict[str, str]:
    """A CA and one certificate for 127.0.0.1 signed by it (openssl), for scheduler, workers and client alike."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "node.pem", directory / "node.key", directory / "node.csr"
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=twopass test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out",
        str(cert), "-days", "2", "-extfile", str(ext))
    return {"ca": str(ca), "cert": str(cert), "key": str(key)}
