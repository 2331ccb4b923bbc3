"""Reaching a Dask cluster: its address or scheduler file, certificates, and a client whose every failure to
connect is one line within a bounded time (Dask's own waits are not all bounded by its timeout)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

from .errors import TwopassError

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Cluster:
    """Where the scheduler is and how to reach it (Dask's own option names)."""

    address: str | None = None
    scheduler_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    @property
    def name(self) -> str:
        return self.address or self.scheduler_file or ""

    def security(self):
        """Certificates given here, else Dask's configuration (`distributed.comm.tls.*`, DASK_* variables)."""
        from distributed.security import Security
        if not (self.tls_ca_file or self.tls_cert or self.tls_key):
            return Security()
        for path in (self.tls_ca_file, self.tls_cert, self.tls_key):
            if path is not None and not os.path.isfile(path):
                raise TwopassError(path, "no such certificate or key file")
        return Security(tls_ca_file=self.tls_ca_file, tls_client_cert=self.tls_cert, tls_client_key=self.tls_key,
                        require_encryption=True)


def import_client() -> Any:
    """distributed's Client, imported without numpy where this process has none yet: distributed imports it
    only to allocate the buffers it receives into (protocol.utils.host_array, else a bytearray), nothing a
    build sends or gets back is an array, and numpy's import with its BLAS threads was 0.12 of the 0.40
    CPU-seconds the client took to import Dask, on the build's cores. Later imports of numpy find it."""
    if "numpy" in sys.modules:
        from distributed import Client
        return Client
    sys.modules["numpy"] = None  # type: ignore[assignment]  # import numpy: ImportError
    try:
        from distributed import Client
    finally:
        if "numpy" in sys.modules and sys.modules["numpy"] is None:
            del sys.modules["numpy"]
    return Client


def connect(cluster: Cluster, started: threading.Event | None = None):
    """A client of the cluster, its workers waited for; `started` is set once Dask is imported, when the
    timeout starts to count."""
    Client = import_client()

    if started is not None:
        started.set()

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its reconnect chatter is not the user's business
    if cluster.scheduler_file is not None and not os.path.isfile(cluster.scheduler_file):
        raise TwopassError(cluster.scheduler_file, "no such scheduler file")
    security = cluster.security()
    address = cluster.address or _file_address(cluster.scheduler_file)
    if address.startswith("tls://") and security.get_connection_args("client").get("ssl_context") is None:
        raise TwopassError(cluster.name, "a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key "
                                         "(or Dask's distributed.comm.tls configuration)")
    try:
        client = Client(cluster.address, scheduler_file=cluster.scheduler_file, timeout=cluster.timeout,
                        security=security, set_as_default=False)
    except TwopassError:
        raise
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TwopassError(cluster.name, f"cannot reach the Dask scheduler within {cluster.timeout:g} s "
                                         f"({detail})") from None
    try:
        client.wait_for_workers(1, timeout=cluster.timeout)
    except (OSError, TimeoutError):
        client.close()
        raise TwopassError(cluster.name, f"no Dask worker joined the scheduler within {cluster.timeout:g} s") from None
    return client


def _file_address(path: str | None) -> str:
    import json

    try:
        with open(path or "", encoding="utf-8") as f:
            return str(json.load(f)["address"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise TwopassError(str(path), f"not a Dask scheduler file ({type(e).__name__}: {e})") from None
