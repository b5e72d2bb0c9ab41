"""TLS options reach the clients: Redis (``rediss://`` + ``ssl_ca_certs``) and memcached
(``tls_context``) against servers that only speak TLS, with a throwaway CA."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
from collections.abc import Iterator

import pytest

from fastcache.backends import AsyncRedisBackend, BackendUnavailable, MemcachedBackend, RedisBackend
from tests.servers import MemcachedServer, RedisServer, require_binary


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A CA and a server certificate for 127.0.0.1 (files in the returned directory).

    Both carry the extensions RFC 5280 asks for, which ``ssl.create_default_context``
    checks from Python 3.13 on (``VERIFY_X509_STRICT``): the CA's basicConstraints
    (critical, CA:TRUE), keyUsage and subject key identifier; the server's authority key
    identifier (without it 3.13 refuses the chain: "sslv3 alert certificate unknown").
    """
    d = str(tmp_path_factory.mktemp("tls"))
    openssl = require_binary("openssl")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=fastcache test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.ext")
    yield d


def _tls_answers(port: int, ca: str, request: bytes, expect: bytes) -> bool:
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(request)
        return s.recv(100).startswith(expect)


class TLSRedis(RedisServer):
    def __init__(self, certs: str) -> None:
        super().__init__()
        self.certs = certs

    def _argv(self) -> list[str]:
        argv = super()._argv()
        argv[argv.index("--port") + 1] = "0"
        return [*argv, "--tls-port", str(self.port),
                "--tls-cert-file", os.path.join(self.certs, "server.pem"),
                "--tls-key-file", os.path.join(self.certs, "server.key"),
                "--tls-ca-cert-file", os.path.join(self.certs, "ca.pem"),
                "--tls-auth-clients", "no"]

    def _answers(self) -> bool:
        return _tls_answers(self.port, os.path.join(self.certs, "ca.pem"), b"PING\r\n", b"+PONG")


class TLSMemcached(MemcachedServer):
    def __init__(self, certs: str) -> None:
        super().__init__()
        self.certs = certs

    def _argv(self) -> list[str]:
        chain, key = (os.path.join(self.certs, f) for f in ("server.pem", "server.key"))
        return [*super()._argv(), "-Z", "-o", f"ssl_chain_cert={chain},ssl_key={key}"]

    def _answers(self) -> bool:
        return _tls_answers(self.port, os.path.join(self.certs, "ca.pem"), b"version\r\n",
                            b"VERSION")


def test_redis_over_tls(certs: str) -> None:
    ca = os.path.join(certs, "ca.pem")
    with TLSRedis(certs) as server:
        url = f"rediss://127.0.0.1:{server.port}/0"
        with RedisBackend(url, ssl_ca_certs=ca, prefix="tls") as b:
            b.set("k", {"secret": b"\x00"})
            assert b.get("k") == {"secret": b"\x00"}

        async def async_round_trip() -> object:
            async with AsyncRedisBackend(url, ssl_ca_certs=ca, prefix="tls") as a:
                return await a.get("k")

        assert asyncio.run(async_round_trip()) == {"secret": b"\x00"}
        # without the CA the server's certificate is refused: unavailable, never plaintext
        with RedisBackend(url, prefix="tls", timeout=0.5) as untrusted, \
                pytest.raises(BackendUnavailable):
            untrusted.get("k")


def test_memcached_over_tls(certs: str) -> None:
    with TLSMemcached(certs) as server:
        ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
        b = MemcachedBackend([server.address], prefix="tls", tls_context=ctx)
        b.set("k", [1, "two"])
        assert b.get("k") == [1, "two"]
        assert b.get_many(["k", "x"]) == {"k": [1, "two"]}
        b.close()
