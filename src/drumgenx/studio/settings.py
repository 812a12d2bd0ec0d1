"""The studio's settings: one frozen dataclass, the one place its defaults live.

Light (stdlib only): ``drumgenx --help`` reads the defaults from here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["LOOPBACK_NAMES", "StudioSettings", "is_loopback"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""Host names a browser on this machine reaches a loopback-bound studio by."""


@dataclass(frozen=True)
class StudioSettings:
    """How ``drumgenx studio`` serves (`drumgenx.studio.server.serve`).

    Attributes
    ----------
    host
        Address to bind (127.0.0.1: this machine only).
    port
        TCP port, 0..65535; 0 picks any free port.
    open_browser
        Open the page in the default browser once the server listens.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    open_browser: bool = True


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the studio on this machine (a loopback address or name)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
