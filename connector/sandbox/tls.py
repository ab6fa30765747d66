"""TLS for the sandbox: a certificate from a local CA made at start, and TLS over a socket's bytes.

The CA's private key never leaves memory; only its certificate is written (`ca.pem`), for
clients to trust through `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE` or `NODE_EXTRA_CA_CERTS`. The
server certificate names the loopback addresses, `localhost`, the address bound, and Mixpanel's
host names (`mixpanel.com`, `*.mixpanel.com`) for clients that cannot be given another host.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .addresses import LOOPBACK_NAMES, is_unspecified

CA_FILE = "ca.pem"
#: The environment variables that make common clients trust a CA file.
TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")
MIXPANEL_NAMES = ("mixpanel.com", "*.mixpanel.com")
INSTALL_HINT = "pip install 'mixpanel-connector[sandbox]'"
READ_BYTES = 256 * 1024
HANDSHAKE_RECORD = 0x16  # the first byte of a TLS ClientHello


class TLSUnavailable(RuntimeError):
    """The library that makes certificates is not installed."""


@dataclass
class Certificates:
    """The server's TLS context, and the CA file clients trust (in `folder`)."""

    context: ssl.SSLContext
    ca_path: Path
    folder: Path
    temporary: bool

    def cleanup(self) -> None:
        """Remove the folder when it was made for this run (a chosen folder is kept)."""
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)


def names_for(host: str) -> list[str]:
    """The names the certificate covers: loopback, `host` when it is one address, Mixpanel's."""
    names = list(LOOPBACK_NAMES)
    if host and not is_unspecified(host) and host not in names:
        names.append(host)
    return [*names, *MIXPANEL_NAMES]


def make_certificates(host: str, folder: str | os.PathLike[str] | None = None) -> Certificates:
    """A new CA and a server certificate for `host`; `ca.pem` goes in `folder` (else a temp one).

    Raises TLSUnavailable when trustme is not installed.
    """
    try:
        import trustme
    except ImportError:
        raise TLSUnavailable(f"serving https needs trustme: {INSTALL_HINT}") from None
    ca = trustme.CA(organization_name="mixpanel-connector sandbox")
    leaf = ca.issue_cert(*names_for(host), organization_name="mixpanel-connector sandbox")
    temporary = folder is None
    where = Path(tempfile.mkdtemp(prefix="mixpanel-sandbox-tls-") if folder is None else folder)
    where.mkdir(parents=True, exist_ok=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    with leaf.private_key_and_cert_chain_pem.tempfile(dir=str(where)) as pem:  # mode 0600
        context.load_cert_chain(pem)
    ca_path = where / CA_FILE
    partial = where / f".{CA_FILE}.{os.getpid()}"
    ca.cert_pem.write_to_path(str(partial))
    os.replace(partial, ca_path)  # a client never reads half a file
    return Certificates(context, ca_path, where, temporary)


class TLSLayer:
    """One connection's TLS, done in memory: socket bytes in, plaintext out, and back.

    `receive` runs the handshake as bytes arrive; whatever TLS has to send (handshake records,
    encrypted answers, alerts) waits in `outgoing()`. Raises ssl.SSLError on a failed handshake.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.ready = False  # handshake done
        self.closed = False  # the client sent close_notify

    def receive(self, data: bytes) -> bytes:
        """Feed socket bytes (b"" at end of stream); return the plaintext they complete."""
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()
        if not self.ready:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self.ready = True
        pieces = []
        while True:
            try:
                piece = self._tls.read(READ_BYTES)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.closed = True
                break
            if not piece:
                break
            pieces.append(piece)
        return b"".join(pieces)

    def send(self, plaintext: bytes | memoryview) -> None:
        """Encrypt `plaintext`; the records wait in `outgoing()`."""
        self._tls.write(plaintext)

    def outgoing(self) -> bytes:
        """The bytes TLS has produced for the socket since the last call."""
        return self._outgoing.read()

    def close_notify(self) -> bytes:
        """The alert that ends the TLS session cleanly, to send before closing."""
        try:
            self._tls.unwrap()
        except ssl.SSLError:  # want-read: the client's own close_notify is not awaited
            pass
        return self._outgoing.read()
