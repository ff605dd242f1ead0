"""Describe link targets: scheme, host, registered domain (offline public suffix list), internal."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit


@cache
def _extractor() -> Any:
    # Imported on first use: a rebuild that parses nothing starts faster without it.
    import tldextract

    # The bundled suffix-list snapshot only: nothing is fetched and nothing cached on disk.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


def describe(url: str, *, site_hosts: Collection[str] = ()) -> dict[str, object]:
    """Scheme, host, registered domain and whether ``url`` points inside the site.

    >>> describe("https://aws.amazon.com/blogs/")["domain"]
    'amazon.com'
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".") or None
    except ValueError:
        return {"scheme": None, "host": None, "domain": None, "internal": False}
    scheme = parts.scheme.lower() or None
    if scheme == "mailto":
        address = parts.path.rsplit("@", 1)
        host = address[1].lower() if len(address) == 2 and address[1] else None
    domain = registered_domain(host) if host else None
    relative = scheme is None and host is None
    internal = relative or (
        host is not None and scheme != "mailto" and _same_site(host, site_hosts)
    )
    return {"scheme": scheme, "host": host, "domain": domain, "internal": internal}


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The registered domain of ``host`` (``aws.amazon.com`` -> ``amazon.com``); IPs stay as-is."""
    return _extractor()(host).top_domain_under_public_suffix or host


def _same_site(host: str, site_hosts: Collection[str]) -> bool:
    bare = host.removeprefix("www.")
    return any(bare == site.removeprefix("www.") for site in site_hosts)
