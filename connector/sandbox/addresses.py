"""This machine's own names and addresses (loopback), and the `Host` headers that name them."""

from __future__ import annotations

import ipaddress
import re
import socket

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")


def is_unspecified(host: str) -> bool:
    """0.0.0.0 or :: (every address of the machine)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    """`host` is, or resolves only to, loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(f[4][0]).is_loopback for f in found)


def names_this_machine(host: str | None, bound: str) -> bool:
    """A `Host` header naming a loopback name or the name the server is bound to.

    A web page that rebinds its own DNS name to this machine sends that name, and is refused.
    When bound to every address, any IP address is accepted too: only a DNS name can be rebound.
    """
    match = _HOST.fullmatch(host or "")
    if match is None:
        return False
    name = match.group(1).lower().strip("[]")
    if name in LOOPBACK_NAMES or name == bound.lower():
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return is_unspecified(bound)
