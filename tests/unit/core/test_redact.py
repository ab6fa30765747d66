from __future__ import annotations

import json

import pytest

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


@pytest.mark.parametrize("secret", ['to"k\\en-1', "päss/wörd#1", "a b+c&d=e"])
def test_json_escaped_and_url_encoded_forms_are_masked(secret: str) -> None:
    from urllib.parse import quote, quote_plus

    redactor = Redactor([secret])
    for form in (
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
    ):
        assert redactor.text(f"before {form} after") == "before *** after", form
    assert secret not in json.dumps(redactor.data({"body": {"token": secret}}))
    assert redactor.text(json.dumps({"token": secret})) == '{"token": "***"}'


@pytest.mark.parametrize("secret", ["x", "ab", "a&b"])
def test_short_secrets_are_masked_as_whole_values_without_wrecking_words(secret: str) -> None:
    redactor = Redactor([secret])
    assert redactor.data({"password": secret, "other": [secret]}) == {
        "password": "***",
        "other": ["***"],
    }
    from urllib.parse import quote_plus

    shown = quote_plus(secret)
    assert redactor.text(f"https://h/p?token={shown}&x=1") == "https://h/p?token=***&x=1"
    assert redactor.text(f'{{"token": "{secret}"}}') == '{"token": "***"}'
    assert redactor.text(f"http://u:{shown}@h/") == "http://u:***@h/"
    message = "Invalid input for axbxab: a value that is not allowed"
    assert redactor.text(message) == message


def test_a_redactor_pickles_empty() -> None:
    import pickle

    redactor = pickle.loads(pickle.dumps(Redactor(["s3cret-value"])))
    assert redactor.text("s3cret-value") == "s3cret-value"
    assert b"s3cret" not in pickle.dumps(Redactor(["s3cret-value"]))


def test_secrets_registered_while_other_threads_mask_are_never_half_seen() -> None:
    """Batched calls learn record tokens on one thread while workers mask on others."""
    import threading

    redactor = Redactor(["base-secret-0"])
    stop = threading.Event()
    failures: list[BaseException] = []

    def mask() -> None:
        try:
            while not stop.is_set():
                assert redactor.text("x base-secret-0 y") == "x *** y"
                redactor.data({"a": ["base-secret-0", "plain"]})
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    workers = [threading.Thread(target=mask) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        for n in range(2000):
            redactor.add(f"record-token-{n:05d}")
            redactor.add(f"s{n % 7}")
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == []
    assert redactor.text("record-token-01999 and s3 t=s3") == "*** and s3 t=***"


def test_an_extended_redactor_masks_both_and_leaves_the_original_alone() -> None:
    base = Redactor(["conn-secret-1"])
    wider = base.extended(["record-token-2"])
    assert wider.text("conn-secret-1 record-token-2") == "*** ***"
    assert base.text("record-token-2") == "record-token-2"
    assert "record-token-2" in wider and "record-token-2" not in base
