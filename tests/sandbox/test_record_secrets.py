"""A token carried inside records never shows: refusals, results, errors, dry runs, logs, files.

Events in the SDK's format carry `properties.token`, profile updates `$token` (the specs'
`batch.secret_fields`). The sandbox and the client-side checks refuse some of them (too many
properties, nesting, two operations in one update); every place that shows a refused record,
or anything else about the run, must mask the token, whichever record carries it.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import time
from pathlib import Path
from typing import Any

import pytest

from connector import Component, ConnectorError
from connector.cli.main import main
from connector.sandbox import Sandbox

#: Tokens the records carry: long, short (masked only as a whole value) and non-ASCII.
TOKENS = ["RECORDTOKENfeedface0099887766", "t0k", "jeton-ünïcode-42"]


def _event(token: str, **extra: Any) -> dict[str, Any]:
    properties = {"distinct_id": "user-1", "time": int(time.time()) - 60, "token": token}
    return {"event": "Signed up", "properties": {**properties, **extra}}


def _too_many(token: str) -> dict[str, Any]:
    return _event(token, **{f"p{n}": n for n in range(300)})


def _too_deep(token: str) -> dict[str, Any]:
    return _event(token, nested={"a": {"b": {"c": {"d": 1}}}})


def _bad_time(token: str) -> dict[str, Any]:
    return _event(token, time=5)


def _two_operations(token: str) -> dict[str, Any]:
    return {"$token": token, "$distinct_id": "user-1", "$set": {"a": 1}, "$add": {"n": 1}}


def _no_operation(token: str) -> dict[str, Any]:
    return {"$token": token, "$distinct_id": "user-1"}


EVENT_REFUSALS = [_too_many, _too_deep, _bad_time]
PROFILE_REFUSALS = [_two_operations, _no_operation]


def _good_update(token: str) -> dict[str, Any]:
    return {"$token": token, "$distinct_id": "user-2", "$set": {"plan": "pro"}}


def _cases(sandbox: Sandbox) -> list[tuple[str, str, dict[str, Any], Any, Any]]:
    """(action, records input, other inputs, a good record, the refusals) for each action."""
    own = {"useProjectToken": False}
    project = {"project_id": sandbox.project_id}
    return [
        ("trackEvents", "events", own, _event, EVENT_REFUSALS),
        ("importEvents", "events", project, _event, EVENT_REFUSALS),
        ("updateMultipleProfiles", "propertiesToUpdate", {}, _good_update, PROFILE_REFUSALS),
    ]


def _assert_hidden(token: str, *texts: str) -> None:
    for text in texts:
        assert token not in text
        # nor any piece of it that a cut could leave (long tokens only: a short one is a word)
        if len(token) >= 8:
            assert token[:8] not in text and token[-8:] not in text


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str) + repr(value)


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("case", [0, 1, 2], ids=["track", "import", "profiles"])
def test_refused_records_never_show_their_token(
    sandbox: Sandbox,
    component: Component,
    token: str,
    case: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    action, key, extra, good, refusals = _cases(sandbox)[case]
    records = [good(sandbox.connection["projectToken"])] + [refuse(token) for refuse in refusals]
    result = component.run(action, {**extra, key: records}, sandbox.connection)["data"]
    entries = result.get("failed_records") or result.get("records_refused")
    assert [entry["index"] for entry in entries] == list(range(1, len(records)))
    assert any("***" in entry["message"] for entry in entries)  # the record was quoted, masked
    _assert_hidden(token, _shown(result), caplog.text)
    # Every record refused: the error lists them, masked, and pickles without the token.
    with pytest.raises(ConnectorError) as caught:
        component.run(action, {**extra, key: records[1:]}, sandbox.connection)
    error = caught.value
    assert "***" in str(error)
    _assert_hidden(token, str(error), repr(error), _shown(vars(error)), caplog.text)
    assert token.encode() not in pickle.dumps(error)


@pytest.mark.parametrize("token", TOKENS)
def test_the_dry_run_masks_record_tokens(component: Component, token: str) -> None:
    records = [_event(token), _too_many(token)]
    shown = component.preview("trackEvents", {"events": records, "useProjectToken": False}, {})
    text = _shown(shown)
    assert '"token":"***"' in text  # the form's data, as sent
    _assert_hidden(token, text)


def _cli(
    tmp_path: Path, sandbox: Sandbox, action: str, records: list[Any], *args: str
) -> list[str]:
    connection = tmp_path / "connection.json"
    connection.write_text(json.dumps(sandbox.connection))
    data = tmp_path / "records.json"
    data.write_text(json.dumps(records))
    key = "events" if action.endswith("Events") else "propertiesToUpdate"
    argv = ["run", action, "--connection", str(connection), "--base-url", sandbox.base_url]
    argv += ["--input-file", f"{key}={data}", "--budgets", "memory", *args]
    if action == "trackEvents":
        argv += ["-i", "useProjectToken=false"]
    if action == "importEvents":
        argv += ["-i", f"project_id={sandbox.project_id}"]
    return argv


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("action", ["trackEvents", "importEvents"])
def test_the_command_line_never_prints_record_tokens(
    sandbox: Sandbox,
    tmp_path: Path,
    token: str,
    action: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = _event(sandbox.connection["projectToken"])
    records = [good, _too_many(token), _too_deep(token)]
    assert main(_cli(tmp_path, sandbox, action, records, "--verbose")) == 3  # some refused
    out, err = capsys.readouterr()
    assert "***" in out
    _assert_hidden(token, out, err)
    assert main(_cli(tmp_path, sandbox, action, records, "--dry-run")) == 0
    out, err = capsys.readouterr()
    assert '"token":"***"' in re.sub(r"[\s\\]", "", out)  # JSON, or JSON in a form's JSON
    _assert_hidden(token, out, err)
    assert main(_cli(tmp_path, sandbox, action, records[1:])) == 2  # all refused: nothing sent
    out, err = capsys.readouterr()
    assert "***" in err
    _assert_hidden(token, out, err)


def test_a_checkpoint_left_by_a_stopped_import_holds_no_token(
    sandbox: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))  # where the checkpoint goes
    token = TOKENS[0]
    lines = [json.dumps(_event(token, n=n)) for n in range(4500)] + ["{not json"]
    data = tmp_path / "events.jsonl"
    data.write_text("\n".join(lines) + "\n")
    connection = tmp_path / "connection.json"
    connection.write_text(json.dumps(sandbox.connection))
    argv = ["run", "importEvents", "--connection", str(connection), "--budgets", "memory"]
    argv += ["--base-url", sandbox.base_url, "-i", f"project_id={sandbox.project_id}"]
    argv += ["--input-file", f"events={data}", "--workers", "1"]
    assert main(argv) == 2  # the bad line stops the run after two batches were sent
    out, err = capsys.readouterr()
    assert "4000 record(s) had been sent" in err
    _assert_hidden(token, out, err)
    written = [path for path in state.rglob("*") if path.is_file()]
    assert written, "the stopped run left no checkpoint"
    for path in written:
        _assert_hidden(token, path.read_bytes().decode("utf-8", "replace"))
