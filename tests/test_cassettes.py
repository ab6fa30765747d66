"""Every committed cassette is free of the test credentials and of any Authorization header."""

from __future__ import annotations

import base64
import re

import pytest

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
    assert not re.search(r"(?im)^\s*authorization:", text)
    assert not re.search(r"Basic [A-Za-z0-9+/=]{8,}", text)
