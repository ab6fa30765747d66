"""One temporary Prefect server (prefect_test_harness) for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# As the README says: the temporary server reports no usage (and prints no telemetry errors).
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


@pytest.fixture(scope="session")
def harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
