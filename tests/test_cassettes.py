"""Every committed cassette is free of credentials; auth appears only as a masked scheme name."""

from __future__ import annotations

import base64
import re

import pytest
import yaml

from connector.catalog.load import load_specs
from tests.conftest import CASSETTES, SECRET_VALUES, TEST_CONNECTION

CASSETTE_FILES = sorted(CASSETTES.rglob("*.yaml"))


def test_there_are_cassettes() -> None:
    assert len(CASSETTE_FILES) >= 23


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_holds_no_credentials(path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    for secret in (*SECRET_VALUES, TEST_CONNECTION["username"]):
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text
    assert not re.search(r"Basic [A-Za-z0-9+/=]{8,}", text)


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_auth_is_a_masked_scheme(path) -> None:  # type: ignore[no-untyped-def]
    """An Authorization header in a cassette names a known auth scheme, nothing else."""
    schemes = set(load_specs().connection.auth_schemes)
    for interaction in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
        headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
        for value in headers.get("authorization", []):
            found = re.fullmatch(r"(?:Basic|Bearer) <([a-z_]+)>", value)
            assert found, value
            assert found.group(1) in schemes, value


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_header_names_its_source_and_licence(path) -> None:  # type: ignore[no-untyped-def]
    """A cassette says whether it was recorded or hand-written, from what, under which licence."""
    header = path.read_text(encoding="utf-8").partition("interactions:")[0]
    assert re.search(r"(?m)^# (Hand-written|Recorded)", header) or "hand-written" in header
    assert re.search(r"(?m)^# Licence: ", header), "add a '# Licence:' line naming the source"
