"""JSON for the live view: secrets masked, every token an escaped span that never breaks inside.

A line may break only between tokens (after a comma or a colon: `<wbr>`) or at a space inside
a long string; a word is cut only if it is wider than the whole column (`.json .w`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from html import escape
from typing import Any

from connector.core.redact import MASK, Redactor, basic_header

#: Keys whose values are credentials, whatever they hold.
SECRET_KEYS = frozenset(
    {"token", "$token", "password", "secret", "api_secret", "authorization", "access_token"}
)
#: A string that is an Authorization value: shown as its scheme and the mask.
_CREDENTIAL = re.compile(r"(?i)^\s*(basic|bearer)\s+\S+")
#: Strings up to this long, without spaces, never break (a column is always wider).
SHORT = 40
STYLE = (
    ".json{font:12px ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:normal}"
    ".json span{white-space:nowrap}.json .w{white-space:pre-wrap;overflow-wrap:anywhere}"
    ".json .k{color:#5028c0}.json .s,.json .w{color:#17702b}.json .n{color:#a15c00}"
    ".json .l{color:#b00020}.json .m{color:#888}"
)


@functools.lru_cache(maxsize=8)
def redactor(secrets: tuple[str, ...], username: str = "") -> Redactor:
    """What masks the sandbox's secrets, their Basic headers included (cached per secrets)."""
    masks = Redactor(s for s in secrets if s)
    for secret in filter(None, secrets):
        masks.add_derived(basic_header(username, secret) if username else "")
        masks.add_derived(basic_header(secret, ""))
    return masks


def mask(value: Any, masks: Redactor) -> Any:
    """`value` with secrets masked: by key, as Authorization values, and wherever they occur."""
    if isinstance(value, Mapping):
        return {
            str(k): MASK if str(k).lower() in SECRET_KEYS and v else mask(v, masks)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask(v, masks) for v in value]
    if isinstance(value, str):
        found = _CREDENTIAL.match(value)
        return f"{found.group(1)} {MASK}" if found else masks.text(value)
    return value


def _string(text: str, css: str) -> str:
    shown = json.dumps(text, ensure_ascii=False)
    if css == "s" and (len(shown) > SHORT or " " in text):
        css = "w"
    if text == MASK:
        css = "m"
    return f'<span class="{css}">{escape(shown)}</span>'


def tokens(value: Any) -> str:
    """`value` (already masked) as HTML: one span per token, break chances after , and :."""
    if isinstance(value, Mapping):
        items = [f"{_string(str(k), 'k')}:<wbr> {tokens(v)}" for k, v in value.items()]
        return "{" + ",<wbr> ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",<wbr> ".join(tokens(v) for v in value) + "]"
    if isinstance(value, str):
        return _string(value, "s")
    if value is None or isinstance(value, bool):
        return f'<span class="l">{json.dumps(value)}</span>'
    if isinstance(value, int | float):
        return f'<span class="n">{escape(json.dumps(value))}</span>'
    return _string(str(value), "s")


def render(value: Any, masks: Redactor) -> str:
    """A JSON value as a `<code class="json">` block, masked and escaped."""
    return f'<code class="json">{tokens(mask(value, masks))}</code>'
