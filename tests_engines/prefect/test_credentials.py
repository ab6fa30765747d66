"""MixpanelCredentials: generated from the connection spec, and Prefect's block standards."""

from __future__ import annotations

import typing

import pytest
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr, ValidationError

from connector.engines.common import component_manifest, location_input
from connector.engines.prefect import MixpanelCredentials


class TestMixpanelCredentialsStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self) -> type[Block]:
        return MixpanelCredentials

    def test_has_a_valid_image(self, block: type[Block]) -> None:  # type: ignore[override]
        # Prefect's version downloads the logo from the internet (tests never do) with Pillow.
        # The block declares no logo, so Prefect's UI shows its default icon, not a broken one.
        assert block._logo_url is None


def test_fields_come_from_the_connection_spec() -> None:
    spec = component_manifest()["connection"]["inputs"]
    fields = MixpanelCredentials.model_fields
    assert list(fields) == [*(i["key"] for i in spec), "region", "base_url"]
    for item in spec:
        field = fields[item["key"]]
        assert field.title == item["label"]
        assert field.description == item["notes"]
        secret = typing.get_args(field.annotation)[0] is SecretStr
        assert secret == bool(item.get("secret")), item["key"]
    assert {k for k, f in fields.items() if SecretStr in typing.get_args(f.annotation)} == {
        "password",
        "projectToken",
        "oauthToken",
    }


def test_region_is_a_literal_of_the_manifests_choices() -> None:
    region = MixpanelCredentials.model_fields["region"]
    assert typing.get_origin(region.annotation) is typing.Literal
    assert typing.get_args(region.annotation) == ("api", "api-eu", "api-in")
    assert region.default == location_input()["default"]
    with pytest.raises(ValidationError, match="region"):
        MixpanelCredentials(region="eu")


def test_secrets_stay_hidden_in_repr_and_dumps() -> None:
    block = MixpanelCredentials(username="svc", password="PREFECTSECRET123", projectToken="TOK987")
    for text in (repr(block), str(block.model_dump()), block.model_dump_json()):
        assert "PREFECTSECRET123" not in text and "TOK987" not in text
    assert block.connection() == {
        "username": "svc",
        "password": "PREFECTSECRET123",
        "projectToken": "TOK987",
    }
    schema = MixpanelCredentials.model_json_schema()["properties"]["password"]
    assert schema["anyOf"][0]["format"] == "password"


def test_prefect_loads_the_collection_through_its_entry_point() -> None:
    from prefect.plugins import load_prefect_collections

    loaded = load_prefect_collections()
    assert loaded["mixpanel_connector"].MixpanelCredentials is MixpanelCredentials
    assert Block.get_block_class_from_key("mixpanel-credentials") is MixpanelCredentials
