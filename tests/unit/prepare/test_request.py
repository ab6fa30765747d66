from __future__ import annotations

from connector.core.redact import Redactor, basic_header
from connector.prepare.request import HTTPRequest


def _request() -> HTTPRequest:
    secrets = Redactor(["tok-secret-1"])
    secrets.add_derived(basic_header("u", "pw-secret-2"))
    return HTTPRequest(
        action="act",
        method="POST",
        url="https://api.mixpanel.com/track",
        params=(("verbose", "1"), ("token", "tok-secret-1")),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body_format="form",
        body={"data": {"token": "tok-secret-1"}},
        auth_scheme="service_account",
        secrets=secrets,
    )


def test_full_url_appends_the_query() -> None:
    assert _request().full_url == "https://api.mixpanel.com/track?verbose=1&token=tok-secret-1"


def test_repr_and_dry_run_view_mask_secrets() -> None:
    request = _request()
    assert "tok-secret-1" not in repr(request)
    shown = request.to_dict()
    assert shown["url"] == "https://api.mixpanel.com/track?verbose=1&token=***"
    assert shown["body"] == {"data": {"token": "***"}}
    assert shown["headers"]["Authorization"] == "***"
    assert "pw-secret-2" not in str(shown)


def test_an_error_pickles_without_any_secret() -> None:
    import pickle

    from connector.core.redact import Redactor, basic_header
    from connector.errors import AuthError

    header = basic_header("user-1", "pw-SECRET-1")
    secrets = Redactor(["pw-SECRET-1", "tok-SECRET-2"])
    secrets.add_derived(header)
    request = HTTPRequest(
        action="a",
        method="POST",
        url="https://api.example.com/x?token=tok-SECRET-2",
        params=(("t", "tok-SECRET-2"),),
        headers={"Authorization": header, "X": "pw-SECRET-1"},
        body_format="json",
        body={"token": "tok-SECRET-2"},
        content=b'{"token":"tok-SECRET-2"}',
        form_fields=(("f", "pw-SECRET-1"),),
        files=(("file", "f.txt", b"tok-SECRET-2"),),
        inputs={"password": "pw-SECRET-1"},
        secrets=secrets,
    )
    error = AuthError("a: HTTP 401", status=401, request=request)
    blob = pickle.dumps(error)
    for secret in (b"SECRET", header.encode(), header.split()[1].encode()):
        assert secret not in blob
    loaded = pickle.loads(blob)
    assert loaded.request.action == "a" and loaded.status == 401
    assert loaded.request.url == "https://api.example.com/x?token=***"
    assert "a: HTTP 401" in str(loaded)


def test_copies_keep_the_secrets_for_sending() -> None:
    import copy

    from connector.core.redact import Redactor

    request = HTTPRequest(
        action="a",
        method="GET",
        url="https://h/?t=tok-SECRET-2",
        secrets=Redactor(["tok-SECRET-2"]),
    )
    for copied in (copy.copy(request), copy.deepcopy(request)):
        assert copied.url == request.url and copied.secrets.text(copied.url) == "https://h/?t=***"


def test_host_is_read_as_the_http_client_reads_it() -> None:
    assert HTTPRequest(action="a", method="GET", url="https://API.mixpanel.com/x").host == (
        "api.mixpanel.com"
    )
    assert HTTPRequest(action="a", method="GET", url="http://127.0.0.1:9\\@a.b/").host == ""
