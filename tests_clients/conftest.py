"""A `mixpanel-connector sandbox --tls` per test module, and the connector that reads it back."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3.util.connection

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository's own `tests` package

from connector import Component, load_component  # noqa: E402
from tests import isolation  # noqa: E402
from tests.isolation import nothing_written_outside, pytest_sessionfinish  # noqa: E402, F401

# As in the main suite: home, cache, state and temp dir in a folder of this run (the sandbox's,
# the SDKs' and node's own files land there too), checked and removed at the end.
WATCH = isolation.redirect()
TRUST = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")


@dataclass(frozen=True)
class Running:
    """A started sandbox command: its URL, the credentials it printed, its CA file."""

    base_url: str
    username: str
    password: str
    project_token: str
    project_id: str
    project_secret: str
    ca: Path

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, what the SDKs take as their host option."""
        return self.base_url.removeprefix("https://")

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.host.rsplit(":", 1)[1])

    @property
    def connection(self) -> dict[str, str]:
        """The connector's connection fields for it."""
        return {
            "username": self.username,
            "password": self.password,
            "projectToken": self.project_token,
        }

    def log(self, since: int = 0) -> list[dict[str, Any]]:
        """The sandbox's request log after `since`."""
        answer = requests.get(
            f"{self.base_url}/_sandbox/requests", params={"since": since}, timeout=10
        )
        answer.raise_for_status()
        return list(answer.json()["requests"])


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """A Python client that tries to reach anything but this machine fails the test at once."""
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if not (host.startswith("127.") or host in ("::1", "localhost")):
                raise AssertionError(f"a client tried to reach {host}: tests stay on 127.0.0.1")
        original(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        yield


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """`mixpanel-connector sandbox --tls` started as a user would, trusted through its CA file."""
    folder = tmp_path_factory.mktemp("tls")
    args = [sys.executable, "-m", "connector.cli", "sandbox", "--tls", "--tls-dir", str(folder)]
    args += ["--project-id", "4242"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        # The URL, then `name: value` lines up to the CA file's (the credentials printed
        # between them may grow; read at most 30 lines).
        base_url = proc.stdout.readline().strip()
        fields: dict[str, str] = {}
        for _ in range(30):
            name, _, value = proc.stdout.readline().strip().partition(": ")
            fields[name] = value
            if name == "CA certificate":
                break
        running = Running(
            base_url=base_url,
            username=fields["username"],
            password=fields["password"],
            project_token=fields["project token"],
            project_id=fields["project id"],
            project_secret=fields["project secret"],
            ca=Path(fields["CA certificate"]),
        )
        saved = {name: os.environ.get(name) for name in TRUST}
        os.environ.update({name: str(running.ca) for name in TRUST})
        yield running
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


@contextmanager
def mixpanel_hosts_to(sandbox: Running) -> Iterator[None]:
    """Connections to `*.mixpanel.com:443` go to the sandbox; certificates are still checked.

    Only for a client, or a call of one, that has no host option: the sandbox's certificate names
    Mixpanel's hosts, so the client checks it as it would Mixpanel's.
    """

    def redirected(original: Callable[..., socket.socket]) -> Callable[..., socket.socket]:
        def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
            host, port = address
            if (host == "mixpanel.com" or host.endswith(".mixpanel.com")) and port == 443:
                address = ("127.0.0.1", sandbox.port)
            return original(address, *args, **kwargs)

        return connect

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "create_connection", redirected(socket.create_connection))
        patch.setattr(
            urllib3.util.connection,
            "create_connection",
            redirected(urllib3.util.connection.create_connection),
        )
        yield


@pytest.fixture(scope="module")
def connector(sandbox: Running) -> Component:
    """The connector pointed at the sandbox."""
    return load_component(base_url=sandbox.base_url)


def today() -> str:
    """Today's UTC date, yyyy-mm-dd."""
    return dt.datetime.now(dt.UTC).date().isoformat()


def yesterday() -> str:
    """Yesterday's UTC date: events sent an hour ago may fall on it just after midnight."""
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()


def exported(component: Component, sandbox: Running) -> list[dict[str, Any]]:
    """Every event of yesterday and today, read back through the connector's raw export."""
    inputs = {"project_id": sandbox.project_id, "from_date": yesterday(), "to_date": today()}
    result = component.run("downloadData", inputs, sandbox.connection)
    return list(result["data"])


def profiles(component: Component, sandbox: Running, **inputs: Any) -> dict[str, dict[str, Any]]:
    """Every user profile, by distinct id, read back through the connector's profile query."""
    inputs = {"project_id": sandbox.project_id, "allPages": True, **inputs}
    result = component.run("queryProfiles", inputs, sandbox.connection)
    return {r["$distinct_id"]: r["$properties"] for r in result["data"]["results"]}


def groups(component: Component, sandbox: Running, group_key: str) -> dict[str, dict[str, Any]]:
    """Every group profile of `group_key`, read back through the connector's raw request."""
    inputs = {
        "baseUrl": sandbox.base_url,
        "url": "/api/query/engage",
        "method": "POST",
        "queryParams": {"project_id": sandbox.project_id, "data_group_id": group_key},
        "responseType": "json",
    }
    result = component.run("rawRequest", inputs, sandbox.connection)
    return {r["$distinct_id"]: r["$properties"] for r in result["data"]["results"]}


def run_node(
    script: str, sandbox: Running, *, redirect: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `node/<script>` with the sandbox's address and credentials in its environment.

    `redirect` loads node/redirect.js first, for a client with no host option.
    """
    environment = {
        **os.environ,
        "NODE_EXTRA_CA_CERTS": str(sandbox.ca),
        "SANDBOX_HOST": sandbox.host,
        "SANDBOX_PORT": str(sandbox.port),
        "SANDBOX_USERNAME": sandbox.username,
        "SANDBOX_PASSWORD": sandbox.password,
        "SANDBOX_TOKEN": sandbox.project_token,
        "SANDBOX_SECRET": sandbox.project_secret,
        "SANDBOX_PROJECT_ID": sandbox.project_id,
        **env,
    }
    done = subprocess.run(
        ["node", *(["--require", str(HERE / "node" / "redirect.js")] if redirect else [])]
        + [str(HERE / "node" / script)],
        cwd=HERE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done
