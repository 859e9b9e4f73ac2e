"""The simulator's own certificate authority and server certificate."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

# The names clients reach the simulator by, including the storage name that
# tests put in upload URLs and that never resolves.
SERVER_NAMES = ("127.0.0.1", "localhost", "::1", "lem-storage.invalid")


@dataclass(frozen=True)
class TlsFiles:
    ca_path: Path
    server_pem: Path  # private key and certificate chain

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_pem)
        return context


def ensure_tls_files(directory: Path) -> TlsFiles:
    """The CA and server certificate in `directory`, made on first use and
    kept, so that clients trusting the CA keep trusting a restarted simulator."""
    files = TlsFiles(ca_path=directory / "ca.pem", server_pem=directory / "server.pem")
    if not (files.ca_path.exists() and files.server_pem.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="LEM simulator")
        ca.issue_cert(*SERVER_NAMES).private_key_and_cert_chain_pem.write_to_path(str(files.server_pem))
        ca.cert_pem.write_to_path(str(files.ca_path))
    return files
