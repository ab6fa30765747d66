"""Writes cassettes/test_examples/: each action's example request and the sample it documents.

For the actions beyond the seed, the request is the action's dry run from its own examples and
the answer is its sample output, so `tests/integration/test_examples.py` replays every example
end to end. Credentials are masked as the recorded cassettes mask them. Run it after changing an
action's examples or sample; `--check` fails when a cassette is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from vcr.request import Request  # noqa: E402

from connector import load_component  # noqa: E402
from connector.catalog.spec import OperationSpec  # noqa: E402
from tests.conftest import (  # noqa: E402
    KNOWN_AUTH,
    SECRET_VALUES,
    TEST_CONNECTION,
    TOKEN_PLACEHOLDER,
    TOKEN_VALUES,
)
from tests.specs.cases import example_inputs  # noqa: E402
from tests.specs.seed import read_seed  # noqa: E402
from tests.wire_match import fingerprint_request  # noqa: E402

FOLDER = ROOT / "cassettes" / "test_examples"
HEADER = """\
# Hand-written from {file} ({operation_id}): the request is {key}'s dry run from its own
# examples, the answer its sample output (the OpenAPI's response example, or one built from its
# response schema). Written by tools/example_cassettes.py.
# Licence: follows Mixpanel's OpenAPI (mixpanel/docs, MIT; vendored in tests/contract/openapi/,
# see SOURCE.md). Not recorded from Mixpanel.
"""


def _scrub(text: str) -> str:
    for secret in SECRET_VALUES:
        text = text.replace(secret, TOKEN_PLACEHOLDER if secret in TOKEN_VALUES else "<SECRET>")
    return text


# The waiting (GDPR) and CSV (lookup table) actions have cassette tests of their own.
PLAIN_AUTH = ("service_account", "none")


def covered(op: OperationSpec, seed: set[str]) -> bool:
    """Whether the action replays its examples from a cassette of this folder."""
    body = op.request.get("body") or {}
    return (
        op.kind == "action"
        and op.key not in seed
        and not op.wait
        and op.request["auth"] in PLAIN_AUTH
        and body.get("format") != "csv"
    )


def cassette(op: OperationSpec) -> str:
    """The cassette text of one action."""
    component = load_component()
    request, authorization = component.prepare(op, example_inputs(op), TEST_CONNECTION)
    headers = dict(request.headers)
    if authorization:
        headers["Authorization"] = authorization
    recorded = fingerprint_request(
        Request(request.method, request.full_url, request.content, headers), KNOWN_AUTH, _scrub
    )
    body = recorded.body.decode() if isinstance(recorded.body, bytes) else recorded.body
    as_dict: dict[str, Any] = {
        "body": body or None,
        "headers": {name: [value] for name, value in recorded.headers.items()},
        "method": recorded.method,
        "uri": recorded.uri,
    }
    data = op.sample["data"]
    answer = {
        "body": {"string": json.dumps(data)},
        "headers": {"Content-Type": ["application/json"]},
        "status": {"code": 200, "message": "OK"},
    }
    document = {"interactions": [{"request": as_dict, "response": answer}], "version": 1}
    head = HEADER.format(key=op.key, **op.openapi)
    return head + yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=100)


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every example cassette."""
    spec = load_component().spec
    seed = set(read_seed())
    stale = []
    FOLDER.mkdir(parents=True, exist_ok=True)
    for op in spec.actions.values():
        if not covered(op, seed):
            continue
        path = FOLDER / f"test_example_replays[{op.key}].yaml"
        text = cassette(op)
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run tools/example_cassettes.py):", ", ".join(stale))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
