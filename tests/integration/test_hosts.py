"""Every operation sends each data-residency choice to Mixpanel's documented host for it.

Mixpanel serves each residency from its own hosts (https://docs.mixpanel.com/docs/privacy/eu-residency
and .../in-residency): ingestion on api[-eu|-in].mixpanel.com, the Query API on
[eu.|in.]mixpanel.com, Raw Export and pipelines on data[-eu|-in].mixpanel.com. The table is
written here from those pages, not from the specs, so a spec that sends one residency's data
to another's host fails. Without the input, the US host is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from connector import Component
from connector.catalog.load import load_specs
from tests.specs.cases import example_inputs

HOSTS: dict[str, dict[str, str]] = {
    "region": {
        "api": "api.mixpanel.com",
        "api-eu": "api-eu.mixpanel.com",
        "api-in": "api-in.mixpanel.com",
    },
    "regionAndDomain": {
        "mixpanel": "mixpanel.com",
        "eu.mixpanel": "eu.mixpanel.com",
        "in.mixpanel": "in.mixpanel.com",
    },
    "dataAndDomain": {
        "data": "data.mixpanel.com",
        "data-eu": "data-eu.mixpanel.com",
        "data-in": "data-in.mixpanel.com",
    },
}
US = {"region": "api", "regionAndDomain": "mixpanel", "dataAndDomain": "data"}


def _cases() -> list[Any]:
    spec = load_specs()
    cases = []
    for op in [*spec.actions.values(), *spec.data_sources.values()]:
        for field in op.value_inputs:
            if field.key in HOSTS:
                cases.append(pytest.param(op.key, field.key, id=f"{op.key}.{field.key}"))
    return cases


def _host(component: Component, key: str, inputs: dict[str, Any], connection: Any) -> str:
    [request] = component.preview(key, inputs, connection)
    return urlsplit(request["url"]).hostname or ""


def test_every_residency_input_is_in_the_table() -> None:
    spec = load_specs()
    for op in [*spec.actions.values(), *spec.data_sources.values()]:
        for field in op.value_inputs:
            if field.key in HOSTS:
                assert set(field.choices) == set(HOSTS[field.key]), f"{op.key}.{field.key}"
    assert len(_cases()) >= 20


@pytest.mark.parametrize(("op_key", "input_key"), _cases())
def test_each_residency_goes_to_its_host(
    component: Component, connection: dict[str, str], op_key: str, input_key: str
) -> None:
    op = component.spec.operation(op_key)
    inputs = example_inputs(op)
    for choice, host in HOSTS[input_key].items():
        assert _host(component, op_key, {**inputs, input_key: choice}, connection) == host, choice
    inputs.pop(input_key, None)
    default_host = HOSTS[input_key][US[input_key]]
    assert _host(component, op_key, inputs, connection) == default_host, "without the input"
