"""JSON on the live view: one escaped span per token, breaks only between tokens, secrets masked."""

from __future__ import annotations

import base64
import re

from connector.core.redact import Redactor
from connector.sandbox import jsonview


def test_each_token_is_one_span_with_a_break_chance_after_commas_and_colons() -> None:
    html = jsonview.render({"user-id": "shopper-10", "n": [1, 2.5, None, True]}, Redactor())
    assert html == (
        '<code class="json">{<span class="k">&quot;user-id&quot;</span>:<wbr> '
        '<span class="s">&quot;shopper-10&quot;</span>,<wbr> <span class="k">&quot;n&quot;</span>'
        ':<wbr> [<span class="n">1</span>,<wbr> <span class="n">2.5</span>,<wbr> '
        '<span class="l">null</span>,<wbr> <span class="l">true</span>]}</code>'
    )
    assert "white-space:nowrap" in jsonview.STYLE.split(".json span", 1)[1].split("}")[0]


def test_long_or_spaced_strings_may_wrap_inside_only_at_need() -> None:
    words = "a sentence with spaces"
    long = "x" * (jsonview.SHORT + 1)
    html = jsonview.tokens([words, long, "short"])
    assert re.findall(r'<span class="(\w)">', html) == ["w", "w", "s"]
    rule = jsonview.STYLE.split(".json .w{", 1)[1].split("}")[0]
    assert "white-space:pre-wrap" in rule and "overflow-wrap:anywhere" in rule


def test_markup_in_keys_and_values_is_escaped() -> None:
    html = jsonview.tokens({"<b>k</b>": "</code><script>x()</script>", "n": float("inf")})
    assert "<script" not in html and "<b>" not in html and "</code>" not in html
    assert "&lt;/code&gt;&lt;script&gt;" in html and '<span class="n">Infinity</span>' in html


def test_secrets_are_masked_by_key_by_value_and_as_basic_headers() -> None:
    masks = jsonview.redactor(("pa55word-long", "tok3n-value"), "svc.user")
    basic = base64.b64encode(b"svc.user:pa55word-long").decode()
    token_basic = base64.b64encode(b"tok3n-value:").decode()
    value = {
        "token": "short",
        "Authorization": "Basic anything",
        "api": {"secret": "s", "empty_secret_is_shown": ""},
        "auth": f"Basic {basic}",
        "bearer": "Bearer abc.def",
        "note": f"sent {token_basic} and tok3n-value to them",
    }
    masked = jsonview.mask(value, masks)
    assert masked == {
        "token": "***",
        "Authorization": "***",
        "api": {"secret": "***", "empty_secret_is_shown": ""},
        "auth": "Basic ***",
        "bearer": "Bearer ***",
        "note": "sent *** and *** to them",
    }
    html = jsonview.render(value, masks)
    assert "tok3n" not in html and basic not in html and "short" not in html
    assert '<span class="m">&quot;***&quot;</span>' in html
