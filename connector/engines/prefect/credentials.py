"""MixpanelCredentials: a Prefect block whose fields are generated from the connection spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from ...component import Component
from ...loading import load_component
from ..common import (
    LOCATION_INPUTS,
    RATE_WAIT_S,
    REGION_INPUT,
    component_manifest,
    connection_inputs,
    location_input,
    location_values,
    with_defaults,
    with_progress,
)

BASE_URL_FIELD = "base_url"
CODE_EXAMPLE = """
```python
from connector.engines.prefect import MixpanelCredentials

mixpanel_credentials_block = MixpanelCredentials.load("BLOCK_NAME")
```
"""


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith(".") else f"{text}."


class CredentialsMethods:
    """What the generated credentials block does with its fields."""

    def connection(self) -> dict[str, Any]:
        """The component's connection mapping, secrets revealed for the call only."""
        mapping = {}
        for spec in connection_inputs():
            value = getattr(self, spec["key"])
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value not in (None, ""):
                mapping[spec["key"]] = value
        return mapping

    def component(self, rate_wait_s: float = RATE_WAIT_S) -> Component:
        """The loaded component, pointed at Base URL when one is set.

        Its calls wait up to `rate_wait_s` for a client-side rate budget before failing.
        """
        return with_progress(
            load_component(base_url=getattr(self, BASE_URL_FIELD) or None, rate_wait_s=rate_wait_s)
        )

    def inputs_for(
        self, component: Component, key: str, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """`inputs` plus this project's location defaults the action declares."""
        return with_defaults(component, key, inputs, location_values(getattr(self, REGION_INPUT)))


def _fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec in connection_inputs():
        kind: Any = SecretStr if spec.get("secret") else str
        fields[spec["key"]] = (
            kind | None,
            Field(
                default=None,
                title=spec["label"],
                description=_sentence(spec.get("notes") or spec["label"]),
                examples=[spec["example"]]
                if spec.get("example") and not spec.get("secret")
                else None,
            ),
        )
    region = location_input()
    labels = ", ".join(location_input(key)["label"] for key in LOCATION_INPUTS)
    choices: Any = Literal[tuple(choice["value"] for choice in region["choices"])]
    fields[REGION_INPUT] = (
        choices,
        Field(
            default=region["default"],
            title=region["label"],
            description=_sentence(region["notes"]) + f" Sets every action's {labels} by default.",
        ),
    )
    fields[BASE_URL_FIELD] = (
        str | None,
        Field(
            default=None,
            title="Base URL",
            description="Leave empty for Mixpanel; set a proxy or test server URL to redirect "
            "every request there.",
        ),
    )
    return fields


def _namespace() -> dict[str, Any]:
    """The class body a `class MixpanelCredentials(Block)` statement would have."""
    fields = _fields()
    return {
        "__module__": __name__,
        "__qualname__": "MixpanelCredentials",
        "__doc__": "Mixpanel service account, project token and region, as a Prefect block.",
        "__annotations__": {key: kind for key, (kind, _) in fields.items()},
        **{key: info for key, (_, info) in fields.items()},
        "_block_type_name": "Mixpanel Credentials",
        "_block_type_slug": "mixpanel-credentials",
        "_description": _sentence(component_manifest()["connection"]["description"]),
        "_documentation_url": component_manifest()["documentation_url"],
        "_code_example": CODE_EXAMPLE,
    }


MixpanelCredentials: Any = type(Block)(
    "MixpanelCredentials", (CredentialsMethods, Block), _namespace()
)
