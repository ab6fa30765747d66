from __future__ import annotations

from connector.core.redact import MASK, Redactor, basic_header


def test_masks_secret_and_its_encoded_forms() -> None:
    redactor = Redactor(["s3cr3t/value+x"])
    assert redactor.text("a s3cr3t/value+x b") == f"a {MASK} b"
    assert redactor.text("q=s3cr3t%2Fvalue%2Bx") == f"q={MASK}"


def test_masks_derived_basic_header_and_its_base64() -> None:
    header = basic_header("user", "pass-word-123")
    redactor = Redactor()
    redactor.add_derived(header)
    encoded = header.split()[1]
    assert redactor.text(f"sent {encoded}") == f"sent {MASK}"
    assert redactor.text(header) == MASK


def test_data_masks_sensitive_headers_and_nested_values() -> None:
    redactor = Redactor(["tok-123456"])
    shown = redactor.data(
        {"headers": {"Authorization": "Basic abc"}, "body": [{"t": "tok-123456"}]}
    )
    assert shown == {"headers": {"Authorization": MASK}, "body": [{"t": MASK}]}


def test_short_values_are_not_treated_as_secrets() -> None:
    # Masking one- to three-character values would garble every message.
    assert Redactor(["ab"]).text("abc") == "abc"
