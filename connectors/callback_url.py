"""Where a partner may have results sent: a callback URL is compared with the agreed prefixes by its parsed
scheme, host, port and path (never as text), and it may not lead to this machine or a private network unless
the channel names that network. Checked when a ticket is pushed, and again, with the name resolved, before
each write-back."""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable, Iterable, Optional
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class CallbackRefused(ValueError):
    """The URL is not one results may be sent to; str() says why."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> "Origin":
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise CallbackRefused("the port is not a number") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise CallbackRefused("only http and https URLs are taken")
        if "@" in parts.netloc:
            raise CallbackRefused("a user or password in the URL is not taken")
        if not parts.hostname:
            raise CallbackRefused("the URL names no host")
        return cls(scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme], parts.path or "/")

    def within(self, prefix: "Origin") -> bool:
        """Same scheme, host and port exactly, and the path under the prefix's path."""
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        base = prefix.path if prefix.path.endswith("/") else prefix.path + "/"
        return self.path == prefix.path or self.path.startswith(base) or prefix.path == "/"


def _internal(address: Address) -> bool:
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified)


def _literal(host: str) -> Optional[Address]:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class CallbackPolicy:
    """The agreed prefixes (empty: any public address; a host a prefix names may be internal) and the internal
    networks a channel allows by name when it agrees no prefixes."""

    def __init__(self, prefixes: Iterable[str], private_networks: Iterable[str] = (),
                 resolve: Callable[[str, int], list[str]] | None = None):
        self.prefixes = [Origin.parse(p) for p in prefixes]
        self.networks = [ipaddress.ip_network(n, strict=False) for n in private_networks]
        self.resolve = resolve or _resolve

    def check(self, url: str, resolve: bool = False) -> Origin:
        """The parsed URL if results may go there, else CallbackRefused; `resolve` also looks the name up and
        checks every address it has (before a write-back)."""
        origin = Origin.parse(url)
        named = [p for p in self.prefixes if origin.within(p)]
        if self.prefixes and not named:
            raise CallbackRefused("must be under one of: " + ", ".join(
                f"{p.scheme}://{p.host}:{p.port}{p.path}" for p in self.prefixes))
        if named:   # the channel named this very host: an intranet partner may be reached
            return origin
        literal = _literal(origin.host)
        if literal is not None or origin.host == "localhost" or origin.host.endswith(".localhost"):
            addresses = [literal] if literal is not None else [ipaddress.ip_address("127.0.0.1")]
        elif resolve:
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolve(origin.host, origin.port)]
            except OSError:
                raise CallbackRefused(f"the host {origin.host} cannot be resolved") from None
        else:
            return origin
        for address in addresses:
            if _internal(address) and not any(address in n for n in self.networks):
                raise CallbackRefused(f"{address} is an internal address; name its network in "
                                      "callback_private_networks to allow it")
        return origin


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
