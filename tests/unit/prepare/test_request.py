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
