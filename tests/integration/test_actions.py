"""Each action end to end against a cassette that holds the exchange Mixpanel's OpenAPI defines."""

from __future__ import annotations

import pytest

from connector import Component


@pytest.mark.vcr
def test_create_alias(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "createAlias",
        {
            "region": "api-eu",
            "alias": "user-alias-67890",
            "distinct_id": "user-12345",
            "strict": "1",
        },
        connection,
    )
    assert result == {"data": 1}
