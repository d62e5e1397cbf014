"""``reference_uri`` fetched from the web, only when the server allows it, never from inside.

The URL must be http(s); its host must resolve to public addresses only (no loopback, private,
link-local, multicast or reserved ones: a caller cannot make the server reach its own network).
The connection goes to the address that was checked (the host name is kept for the ``Host``
header and TLS), so a second DNS answer cannot swap it; redirects are not followed; the body
is bounded by the upload limit and written to the job's folder.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from .errors import ApiError

TIMEOUT_S = 30.0


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    return ip.is_global and not ip.is_multicast


async def fetch_reference(url: str, target: Path, *, max_bytes: int) -> Path:
    """Download ``url`` to ``target``; ``ApiError`` (400) with the reason when it cannot or may not be."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(400, f"reference_uri must be an http(s) URL, got {url[:80]!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ApiError(400, f"reference_uri has an invalid port: {url[:80]!r}") from None
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ApiError(400, f"reference_uri: cannot resolve {host}: {exc.strerror or exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    private = [a for a in addresses if not is_public_address(a)]
    if private or not addresses:
        raise ApiError(
            400,
            f"reference_uri: {host} is a private or local address ({private[0] if private else 'none'}); only public addresses are fetched",
        )
    pinned = addresses[0]
    netloc = f"[{pinned}]:{port}" if ":" in pinned else f"{pinned}:{port}"
    pinned_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
    received = 0
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", pinned_url, headers=headers, extensions={"sni_hostname": host}) as response,
        ):
            if response.status_code != 200:
                raise ApiError(
                    400,
                    f"reference_uri: {host} answered {response.status_code}, not the image (redirects are not followed)",
                )
            with open(target, "xb") as fh:
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise ApiError(
                            413, f"reference_uri: the file is over this server's limit of {max_bytes / 1e6:g} MB"
                        )
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise ApiError(400, f"reference_uri: cannot download from {host}: {exc}") from None
    return target
