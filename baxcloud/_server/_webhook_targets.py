"""Where the local server may deliver webhooks.

Refused: unspecified addresses (0.0.0.0/8, ::), link-local addresses
(169.254.0.0/16, fe80::/10: cloud metadata services answer there), the other
cloud metadata addresses and hostnames below, and IPv6 addresses that embed an
IPv4 address refused here (::ffff:a.b.c.d, ::a.b.c.d, 6to4, 64:ff9b::/96).
Loopback and private addresses are allowed: local development delivers to them.

A URL is checked when it is registered (`check_webhook_url`), and again at every
delivery after resolving its host (`pinned_targets`): a name may resolve
elsewhere later (DNS rebinding), so the delivery connects to the very
addresses that were checked, keeping the original Host header and TLS server
name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import attrs
import httpx

from ._request_input import MAX_URL_CHARS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
        "metadata.packet.net",
    }
)
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6 (inside fc00::/7)
    }
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_LEGACY_IPV4_CHARS = frozenset("0123456789abcdefx.")

LINK_LOCAL = "a link-local address (where cloud metadata services answer)"
UNSPECIFIED = "an unspecified address"
METADATA_ADDRESS = "a cloud metadata service address"
METADATA_HOSTNAME = "a cloud metadata service hostname"


class TargetRefused(Exception):
    """The endpoint's host is (or resolves to) an address deliveries must not reach."""


@attrs.frozen
class Target:
    """One checked address to POST to, standing in for the endpoint URL's host."""

    url: httpx.URL
    host_header: str
    sni_hostname: str


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IPAddress) -> str | None:
    """What `address` is, if deliveries must not reach it; None if they may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_problem(embedded)
            return None if inner is None else f"an IPv6 form of {embedded}, {inner}"
        if address.is_unspecified:
            return UNSPECIFIED
    elif address in _THIS_NETWORK:
        return UNSPECIFIED
    if address in METADATA_ADDRESSES:
        return METADATA_ADDRESS
    if address.is_link_local:
        return LINK_LOCAL
    return None


def _literal(host: str) -> IPAddress | None:
    """`host` as an address: dotted or IPv6, or a legacy IPv4 form such as 2852039166,
    0xa9fea9fe or 169.254.43518, which resolvers accept too."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and set(host) <= _LEGACY_IPV4_CHARS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _canonical_name(host: str) -> str:
    try:
        name = host.encode("idna").decode("ascii")  # also maps full-width dots and letters
    except UnicodeError:
        name = host
    return name.lower().rstrip(".")


def host_problem(host: str) -> str | None:
    """Why a URL with this host must not be registered, as '<what> (<host>)'; or None."""
    name = _canonical_name(host)
    if name in METADATA_HOSTNAMES:
        return f"{METADATA_HOSTNAME} ({name})"
    address = _literal(name)
    if address is None:
        return None
    problem = address_problem(address)
    return None if problem is None else f"{problem} ({address})"


def check_webhook_url(url: object) -> str | None:
    """None if `url` is an acceptable endpoint URL, else what is wrong with it."""
    if not isinstance(url, str):
        return "must be a string"
    if not 1 <= len(url) <= MAX_URL_CHARS:
        return f"must be 1-{MAX_URL_CHARS} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return "must be a valid http:// or https:// URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    problem = host_problem(parts.hostname)
    if problem is not None:
        return f"must not point at {problem}"
    return None


def check_urls(urls: Sequence[str]) -> None:
    """Raise ValueError naming the first unacceptable URL's problem (config check)."""
    for index, url in enumerate(urls):
        problem = check_webhook_url(url)
        if problem is not None:
            raise ValueError(f"webhook_urls[{index}] {problem}")


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order (raises OSError)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def pinned_targets(url: str, resolve: Resolver) -> list[Target]:
    """The addresses to try, in order, for `url`; raises TargetRefused or OSError."""
    original = httpx.URL(url)
    host = original.raw_host.decode("ascii")
    problem = host_problem(host)
    if problem is not None:
        raise TargetRefused(f"{host} is {problem}")
    port = original.port or (443 if original.scheme == "https" else 80)
    targets: list[Target] = []
    seen: set[IPAddress] = set()
    try:
        found_addresses = await resolve(host, port)
    except OSError as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    for found in found_addresses:
        address = ipaddress.ip_address(found.split("%", 1)[0])
        problem = address_problem(address)
        if problem is not None:  # one bad answer refuses the name: it may be rebinding
            raise TargetRefused(f"{host} resolves to {address}, {problem}")
        if address not in seen:
            seen.add(address)
            targets.append(
                Target(
                    url=original.copy_with(host=str(address)),
                    host_header=original.netloc.decode("ascii"),
                    sni_hostname=host,
                )
            )
    if not targets:
        raise OSError(f"{host} resolves to no address")
    return targets
