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


def serve(
    home: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    echo: Callable[[str], None] = print,
) -> int:
    """Run a Chroma server over ``HOME/chroma`` until interrupted; returns its exit code.

    Refuses (StoreLocked) while another semsearch process writes the embedded store or reads
    it at this moment.
    """
    if not 0 < port < 65536:
        raise ConfigError(f"bad port {port}")
    where = resolve_home(home)
    where.mkdir(parents=True, exist_ok=True)
    url = server_url(host, port)
    local = server_url("127.0.0.1" if host in WILDCARDS else host, port)
    note = f"{SERVE} (pid {os.getpid()}) at {url}"
    with WriteLock(where, wait=False, note=note), EmbeddedStore.of(where).reserve(note):
        command = [*chroma_command(), "run", "--path", str(where / "chroma"),
                   "--host", host, "--port", str(port)]
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
                     + ("" if up else " (still starting)"))
                echo(f"point the CLI at it with: export SEMSEARCH_CHROMA_URL={url}")
                echo("(or --chroma-url on any command; Ctrl-C stops the server)")
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


__all__ = ["serve", "chroma_command", "server_url", "wait_until_up", "StoreLocked"]
