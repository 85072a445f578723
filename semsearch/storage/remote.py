"""Talking to a Chroma server safely, and naming what went wrong with the store.

``connect`` checks the URL, asks the server's heartbeat (5 s), sends the token when there is
one and gives the client timeouts (a hung server is an error within 15 s, not a hang).
``translated`` turns what Chroma raises into one clear line: a full disk, a permission
problem, a damaged vector index (and the command that repairs it), a timeout.
"""

from __future__ import annotations

import contextlib
import errno
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from ..errors import ConfigError, SemsearchError, StoreLocked

#: seconds to connect, and to wait for any one answer
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
TOKEN_HEADER = "X-Chroma-Token"


def parse_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of ``http://HOST:PORT``; one clear error for anything else."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError as e:
        raise ConfigError(f"bad Chroma URL {url!r} ({e}); expected http://HOST:PORT") from e
    if not parsed.hostname or parsed.scheme not in ("http", "https"):
        raise ConfigError(f"bad Chroma URL {url!r}; expected http://HOST:PORT")
    return parsed.hostname, port or (443 if parsed.scheme == "https" else 8000), \
        parsed.scheme == "https"


def heartbeat(url: str, token: str | None) -> None:
    """Raise a one-line SemsearchError unless ``url`` answers like a Chroma server."""
    request = urllib.request.Request(url.rstrip("/") + "/api/v2/heartbeat")
    if token:
        request.add_header(TOKEN_HEADER, token)
    try:
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT) as r:
            body = r.read(4096)
    except urllib.error.HTTPError as e:
        raise SemsearchError(f"{url} does not answer like a Chroma server (HTTP {e.code} on "
                             "/api/v2/heartbeat)") from e
    except (TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise SemsearchError(f"the Chroma server at {url} did not answer within "
                                 f"{CONNECT_TIMEOUT:.0f} s") from e
        what = getattr(reason, "strerror", None) or str(reason)
        raise SemsearchError(f"cannot reach the Chroma server at {url} ({what})") from e
    try:
        ok = isinstance(json.loads(body), dict)
    except ValueError:
        ok = False
    if not ok:
        raise SemsearchError(f"{url} does not answer like a Chroma server (its heartbeat is "
                             "not JSON)")


def connect(url: str, token: str | None) -> Any:
    """A Chroma HttpClient with timeouts (and the token), after a heartbeat."""
    import chromadb
    from chromadb.config import Settings

    host, port, ssl = parse_url(url)
    heartbeat(url, token)
    try:
        client = chromadb.HttpClient(
            host=host, port=port, ssl=ssl,
            headers={TOKEN_HEADER: token} if token else None,
            settings=Settings(anonymized_telemetry=False),
        )
    except Exception as e:
        raise SemsearchError(f"cannot use the Chroma server at {url}: {_first_line(e)}") from e
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        import httpx

        session.timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    return client


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


def _chain(e: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def describe(e: BaseException, where: str) -> str | None:
    """What a store failure means for the user, or None when it is not one we know."""
    for err in _chain(e):
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return f"disk full writing {where}: free some space and run again (what was " \
                   "written so far is kept)"
        if isinstance(err, PermissionError):
            return f"permission denied: {err.filename or where}"
        text = str(err).lower()
        name = type(err).__name__
        if "no space left" in text or "disk is full" in text or "disk full" in text:
            return f"disk full writing {where}: free some space and run again (what was " \
                   "written so far is kept)"
        if "hnsw" in text and ("load" in text or "corrupt" in text or "error" in text):
            return (f"the vector index in {where} is damaged ({_first_line(err)}); rebuild it "
                    "from your files with `semsearch reindex -c COLLECTION`")
        if "timeout" in name.lower() or "timed out" in text:
            return f"the Chroma server at {where} did not answer within {READ_TIMEOUT:.0f} s"
        if name in ("ConnectError", "ConnectionError", "RemoteProtocolError"):
            return f"lost the Chroma server at {where} ({_first_line(err)})"
        if name in ("AuthorizationError", "AuthError") or "401" in text and "token" in text:
            return f"the Chroma server at {where} refused the token: pass --token or " \
                   "$SEMSEARCH_CHROMA_TOKEN"
    return None


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Chroma's failures as one clear SemsearchError (ours pass through unchanged)."""
    try:
        yield
    except (SemsearchError, StoreLocked, KeyboardInterrupt):
        raise
    except Exception as e:
        message = describe(e, where)
        if message is None:
            raise
        raise SemsearchError(message) from e
