"""Store URLs are masked as the client reads them: no spelling of a password survives.

Each URL is first read with redis-py's own parser (`redis.connection.parse_url`), to know the
spelling really hands the client that secret, then masked; the masked text must hold no part of
it, and the client reading the masked URL must find no password but `***`.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, unquote_plus

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from redis.connection import parse_url

from connector.budgets import mask_url, open_budgets
from connector.budgets.storeurl import url_secrets
from connector.errors import BudgetStoreError

#: Characters that must be percent-encoded to stay inside a password or a query value.
_RESERVED = set("%/?#@:&=+; []")
# The secret starts with Q and ends with Z, written literally, and no other part of the URLs
# holds either letter: any fragment of the secret left in the masked text shows.
_middle = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="QZ"),
    min_size=2,
    max_size=12,
)
_secrets = _middle.map(lambda text: f"Q{text}Z")
_hosts = st.sampled_from(
    ["cache", "127.0.0.1", "[::1]", "[2001:db8::7]", "redis.internal", "[::1", "::1"]
)
_ports = st.sampled_from(["", ":6379", ":6380", ":99999", ":port"])
_extras = st.sampled_from(["", "&lease_s=5", "&prefix=budgets", "&db=2&socket_timeout=3"])


@st.composite
def _encoded(draw: st.DrawFn, text: str) -> str:
    """`text` percent-encoded as some client might: reserved characters always, others at
    random, with upper- or lower-case hex; Q and Z (the markers) always literal."""
    out = []
    for char in text:
        must = char in _RESERVED or not char.isascii() or not char.isprintable()
        if char not in "QZ" and (must or draw(st.booleans())):
            hexed = quote(char, safe="")
            if hexed == char:
                hexed = "".join(f"%{b:02X}" for b in char.encode())
            out.append(hexed.lower() if draw(st.booleans()) else hexed)
        else:
            out.append(char)
    return "".join(out)


@st.composite
def _password_option_name(draw: st.DrawFn) -> str:
    """`password` spelled with some of its letters percent-encoded (pass%77ord, %70assword…)."""
    return "".join(
        f"%{ord(c):02{'X' if draw(st.booleans()) else 'x'}}" if draw(st.booleans()) else c
        for c in "password"
    )


@st.composite
def _urls(draw: st.DrawFn) -> tuple[str, str, str]:
    """A redis URL carrying the secret somewhere the client reads it, and the secret."""
    secret = draw(_secrets)
    spelled = draw(_encoded(secret))
    scheme = draw(st.sampled_from(["redis", "rediss", "REDIS"]))
    where = draw(_hosts) + draw(_ports) + "/0"
    user = draw(st.sampled_from(["", "worker", "default", "a%40b"]))
    place = draw(st.sampled_from(["userinfo", "query", "both", "user only"]))
    extra = draw(_extras)
    if place == "userinfo":
        url = f"{scheme}://{user}:{spelled}@{where}?x=1{extra}"
    elif place == "query":
        url = f"{scheme}://{where}?{draw(_password_option_name())}={spelled}{extra}"
    elif place == "both":
        name = draw(_password_option_name())
        url = f"{scheme}://{user}:{spelled}@{where}?{name}={spelled}{extra}"
    else:
        url = f"{scheme}://{spelled}@{where}{'?' + extra[1:] if extra else ''}"
    return url, secret, place


def _client_reads(url: str) -> dict[str, object] | None:
    try:
        return parse_url(url)
    except ValueError:
        return None  # the client refuses it (a bad port, an unclosed IPv6 bracket)


@given(_urls())
@example(("redis://cache/0?pass%77ord=QSECRETZ", "QSECRETZ", "query"))
@example(("redis://:Qpa%2FssZ@cache:6379/0", "Qpa/ssZ", "userinfo"))
@example(("redis://u:Qpa%23ssZ@[::1]:6379/0", "Qpa#ssZ", "userinfo"))
def test_no_spelling_of_a_password_survives_masking(case: tuple[str, str, str]) -> None:
    url, secret, place = case
    read = _client_reads(url)
    if read is not None:  # the spelling really hands the client the secret
        assert read.get("username" if place == "user only" else "password") == secret
    masked = mask_url(url)
    for text in (masked, unquote(masked), unquote_plus(masked)):
        assert secret not in text
        assert "Q" not in text and "Z" not in text, masked  # nor any part of it
    again = _client_reads(masked)
    if again is not None:
        assert again.get("password") in (None, "***")
        assert again.get("username") in (None, "***", "u", "worker", "default", "a@b", "")
    assert secret in url_secrets(url) or secret in [unquote(s) for s in url_secrets(url)]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://cache/0?pass%77ord=SECRET", "redis://cache/0?password=***"),
        ("redis://cache/0?%70ASSWORD=SECRET&lease_s=5", "redis://cache/0?pASSWORD=***&lease_s=5"),
        ("redis://cache/0?ssl_password=SECRET", "redis://cache/0?ssl_password=***"),
        ("redis://cache/0?p%20w=SECRET", "redis://cache/0?***"),
        ("redis://tok3n-SECRET@cache:6379/0", "redis://***@cache:6379/0"),
        ("redis://:s3%63ret@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
        ("redis://:s3cret@[::1/0", "redis://:***@[::1/0"),
        ("redis://cache/0#SECRET", "redis://cache/0#***"),
        ("redis:SECRET@cache", "redis:***"),
        ("sqlite:////home/me@corp/b.sqlite3", "sqlite:////home/me@corp/b.sqlite3"),
        ("sqlite:///b.sqlite3?password=SECRET", "sqlite:///b.sqlite3?password=***"),
    ],
)
def test_spellings_of_a_credential_are_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_an_encoded_password_option_never_reaches_an_error() -> None:
    """The issue's case: redis-py takes `pass%77ord` as the password; the error hides it."""
    assert parse_url("redis://127.0.0.1:1/0?pass%77ord=SECRET-x9")["password"] == "SECRET-x9"
    registry = open_budgets("redis://127.0.0.1:1/0?pass%77ord=SECRET-x9&socket_timeout=0.2")
    from connector.budgets.limits import RateLimit

    limit = RateLimit("q", per_hour=1, per_second=None, max_concurrent=None)
    with pytest.raises(BudgetStoreError) as caught:
        registry.budget(limit).acquire("p", max_wait_s=0)
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(registry)
    assert caught.value.url == "redis://127.0.0.1:1/0?password=***&socket_timeout=0.2"
