"""Airflow runs from a throw-away home with a SQLite metadata DB; connections come from env vars."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.sandbox import Sandbox

HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
DAGS = Path(__file__).resolve().parent / "dags"
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
        # dag-factory reports usage over the internet when a DAG runs unless told not to.
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
    }
)
CONN_ENV = "AIRFLOW_CONN_MIXPANEL_DEFAULT"


def set_connection(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, **extra: str) -> None:
    """`mixpanel_default` as Airflow reads it from the environment, pointed at the sandbox."""
    value = {
        "conn_type": "mixpanel",
        "host": sandbox.base_url,
        "extra": {**sandbox.connection, **extra},
    }
    monkeypatch.setenv(CONN_ENV, json.dumps(value))


@pytest.fixture
def conn(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    set_connection(monkeypatch, sandbox)
    return sandbox


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    from airflow.utils import db

    db.initdb()
    yield
