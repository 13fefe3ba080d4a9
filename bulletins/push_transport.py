"""How the server reaches a push service: only at a public address, checked as it connects.

A subscription's endpoint is checked when the browser sends it (bulletins.push), but its name is looked up again
each time the server posts a bulletin. A name that pointed at a public address then can point at one on this network
now (DNS rebinding), and the server would post there. So the transport looks the name up, keeps the public addresses
alone and connects to one of them in the same step: the request goes to the very address that was checked, and TLS
is still verified against the name. (Where the environment names an outbound proxy, requests goes through it and the
proxy looks the name up: a site that needs one should allow it only public addresses.)
"""

import ipaddress
import socket

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util.connection import create_connection


def reachable_address(address: str) -> bool:
    """A public address, or loopback where the settings allow it (tests' local push service)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is no part of the address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.5 is 10.0.0.5
    return ip.is_global or (settings.WEBPUSH_LOOPBACK_HTTP and ip.is_loopback)


class _PublicOnly:
    """urllib3's connection, connecting only to an address reachable_address() allows."""

    def _new_conn(self) -> socket.socket:
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise NewConnectionError(self, f"the push service's name could not be looked up: {exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in found if reachable_address(info[4][0])))
        if not addresses:
            raise NewConnectionError(self, f"{self._dns_host} has no public address: not posted to")
        failure = None
        for address in addresses:  # in the resolver's order, as urllib3 tries them (IPv6 unroutable here, say)
            try:
                return create_connection((address, self.port), self.timeout, source_address=self.source_address,
                                         socket_options=self.socket_options)
            except OSError as exc:
                failure = exc
        raise NewConnectionError(self, f"the push service could not be reached: {failure}") from failure


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


def push_session() -> requests.Session:
    """A requests session for posting to push services (pywebpush's `requests_session`)."""
    session = requests.Session()
    adapter = _PublicOnlyAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
