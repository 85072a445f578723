"""``semsearch serve``: a Chroma server over the data directory, for several users or processes.

The server (``chroma run --path HOME/chroma``) owns the vector store while it runs: semsearch
holds the data directory's write lock and the store lock for it, so embedded semsearch
processes are told to use the server (``--chroma-url``) instead of opening the directory
themselves. Models still run in each client process; the catalog (``HOME/catalog.sqlite``)
stays with each client's ``--home``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from ..errors import ConfigError, SemsearchError, StoreLocked
from .embedded import SERVE, EmbeddedStore
from .home import resolve_home
from .locking import WriteLock
from .token_proxy import TokenProxy


def chroma_command() -> list[str]:
    """How to run Chroma's CLI: the ``chroma`` script beside this Python, else on PATH, else
    through chromadb's CLI module."""
    here = Path(sys.executable).parent / ("chroma.exe" if os.name == "nt" else "chroma")
    if here.is_file():
        return [str(here)]
    found = shutil.which("chroma")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from chromadb.cli.cli import app; "
            "sys.argv[0] = 'chroma'; sys.exit(app())"]


WILDCARDS = {"", "0.0.0.0", "::", "[::]"}


def server_url(host: str, port: int) -> str:
    """The URL clients use: a wildcard address is shown as this machine's name."""
    shown = socket.gethostname() if host in WILDCARDS else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def wait_until_up(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
                  ) -> bool:
    """Poll the server's heartbeat until it answers (True) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TOKEN_ENV = "SEMSEARCH_CHROMA_TOKEN"


def loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    home: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    echo: Callable[[str], None] = print,
    token: str | None = None,
) -> int:
    """Run a Chroma server over ``HOME/chroma`` until interrupted; returns its exit code.

    Loopback by default. Another address needs a ``token``: Chroma then listens on a loopback
    port behind a :class:`~.token_proxy.TokenProxy` on ``host:port`` that refuses requests
    without it. Refuses (StoreLocked) while another semsearch process writes the embedded
    store or reads it at this moment.
    """
    if not 0 < port < 65536:
        raise ConfigError(f"bad port {port}")
    token = token or os.environ.get(TOKEN_ENV) or None
    if not loopback(host) and not token:
        raise ConfigError(
            f"serving on {host} lets anyone who reaches it read and delete your collections: "
            f"give a token with --token TOKEN (or ${TOKEN_ENV}), or serve on 127.0.0.1")
    where = resolve_home(home)
    where.mkdir(parents=True, exist_ok=True)
    url = server_url(host, port)
    proxied = token is not None
    inner = free_port() if proxied else port
    local = server_url("127.0.0.1", inner) if proxied or host in WILDCARDS \
        else server_url(host, port)
    note = f"{SERVE} (pid {os.getpid()}) at {url}"
    proxy: TokenProxy | None = None
    with WriteLock(where, wait=False, note=note), EmbeddedStore.of(where).reserve(note):
        if proxied:
            assert token is not None
            try:
                proxy = TokenProxy(host.strip("[]"), port, ("127.0.0.1", inner), token)
            except OSError as e:
                raise SemsearchError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
            proxy.start()
        command = [*chroma_command(), "run", "--path", str(where / "chroma"),
                   "--host", "127.0.0.1" if proxied else host, "--port", str(inner)]
        try:
            proc = subprocess.Popen(command)
        except OSError as e:
            raise SemsearchError(f"cannot start Chroma ({command[0]}): {e}") from e

        def stop(signum: int, frame: FrameType | None) -> None:
            proc.terminate()

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            up = wait_until_up(local, proc=proc)
            if proc.poll() is None:
                echo(f"semsearch: serving {where / 'chroma'} at {url}"
                     + ("" if up else " (still starting)")
                     + (" (token required)" if proxied else " (this machine only)"))
                echo(f"point the CLI at it with: export SEMSEARCH_CHROMA_URL={url}"
                     + (f" {TOKEN_ENV}=..." if proxied else ""))
                echo("(or --chroma-url" + (" and --token" if proxied else "")
                     + " on any command; Ctrl-C stops the server)")
            return proc.wait()
        except KeyboardInterrupt:
            try:
                return proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.terminate()
                return proc.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proxy is not None:
                proxy.shutdown()
                proxy.server_close()


__all__ = ["serve", "chroma_command", "server_url", "wait_until_up", "StoreLocked"]
