"""Why a stream did not open, in words: refused, unknown host, or silent past the timeout.

OpenCV only says "not opened". After it gives up, one plain TCP connect to the stream's
host and port tells a refused connection (nothing listening: a wrong port, a server that
is down) and an unknown host name from a server that accepted the connection but sent no
video in time, so the sentence names the real cause.
"""

from __future__ import annotations

import socket
import urllib.parse

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "rtmp": 1935, "rtmps": 443, "http": 80, "https": 443}


def stream_failure(url: str, shown: str, timeout_s: float) -> str:
    """The sentence for a stream that did not deliver a first frame."""
    silent = (
        f"{shown} could not be opened within {timeout_s:g} s; check the address, the "
        "credentials and that the camera or server is reachable."
    )
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port that is not a number
        return silent
    if not host or port is None:
        return silent
    try:
        with socket.create_connection((host, port), timeout=min(2.0, timeout_s)):
            pass
    except ConnectionRefusedError:
        return (
            f"{shown}: the connection to {host}:{port} was refused (nothing is listening "
            "there); check the address and port and that the camera or server is running."
        )
    except socket.gaierror:
        return f"{shown}: the host name {host} could not be resolved; check the address."
    except OSError:
        return silent
    return silent
