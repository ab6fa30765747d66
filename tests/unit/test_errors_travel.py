"""Every error crosses a process boundary: same type, message and attributes, and no secret.

The classes are enumerated from connector.errors (and checked against connector's exports), and
each one's arguments are drawn from its `__init__`'s type hints, so a new error class is covered
without touching this file.
"""

from __future__ import annotations

import base64
import inspect
import multiprocessing
import pickle
import time
import typing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connector
from connector import errors
from connector.core.jsonenc import EncodedList
from connector.core.redact import Redactor, basic_header
from connector.modes.batched.chunks import Sent
from connector.prepare.request import HTTPRequest

PASSWORD = "pw-SECRET-a1b2c3d4"
TOKEN = "tok-SECRET-e5f6a7b8"
SHORT = "Zq9"  # a short secret: masked only where it stands as a whole value
HEADER = basic_header("svc-user", PASSWORD)
SECRETS = (PASSWORD, TOKEN, HEADER, HEADER.split()[1])

ERROR_CLASSES = sorted(
    (
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == errors.__name__
    ),
    key=lambda cls: cls.__name__,
)


def _redactor() -> Redactor:
    secrets = Redactor([PASSWORD, TOKEN, SHORT])
    secrets.add_derived(HEADER)
    return secrets


def test_every_exported_error_is_enumerated() -> None:
    exported = {
        obj
        for obj in vars(connector).values()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    }
    assert exported <= set(ERROR_CLASSES)
    assert {errors.AuthError, errors.TransportError, errors.InputError} <= exported
    assert len(ERROR_CLASSES) >= 17


# --- realistic values ---------------------------------------------------------------------------

_words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).filter(
    lambda text: "SECRET" not in text and SHORT not in text
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | _words
)
_secret_text = st.sampled_from(
    [
        PASSWORD,
        f"token={TOKEN}&x=1",
        f'{{"token": "{TOKEN}"}}',
        HEADER,
        f"Authorization: {HEADER}",
        f"https://h.example/?t={SHORT}",
    ]
)


def _json_of(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_words, inner, max_size=4),
        max_leaves=12,
    )


_json = _json_of(_scalars | _secret_text)
#: What an error holds when no request says which values are secret: the runtime's own text.
_plain_json = _json_of(_scalars)


@st.composite
def _records(draw: st.DrawFn) -> Any:
    """A batch's records as a request holds them: a list, an EncodedList, or sent JSON views."""
    items = draw(st.lists(st.dictionaries(_words, _json, max_size=3), max_size=4))
    items.append({"event": "e", "properties": {"token": TOKEN}})
    whole = orjson.dumps(items)
    form = draw(st.sampled_from(["list", "encoded", "sent"]))
    if form == "list":
        return items
    parts: list[Any] = [memoryview(whole)[1:-1]]
    return EncodedList(items, parts) if form == "encoded" else Sent(parts, len(items))


@st.composite
def _requests(draw: st.DrawFn) -> HTTPRequest:
    records = draw(_records())
    return HTTPRequest(
        action="importEvents",
        method="POST",
        url=f"https://api.example.com/import?project_id=1&token={TOKEN}",
        params=(("t", TOKEN), ("verbose", "1")),
        headers={"Authorization": HEADER, "X-Note": PASSWORD},
        body_format="json",
        body=draw(st.sampled_from([records, {"data": draw(_json)}, f"data={TOKEN}"])),
        content=draw(st.sampled_from([None, f'[{{"token":"{TOKEN}"}}]'.encode()])),
        form_fields=(("data", TOKEN),),
        files=(("file", "events.json", TOKEN.encode()),),
        inputs={"events": records, "password": PASSWORD, "n": draw(_scalars)},
        secrets=_redactor(),
        credentials_to="api.example.com (trusted host)",
    )


_problems = st.builds(errors.InputProblem, key=_words, label=_words, message=_words)
_spec_problems = st.builds(
    errors.SpecProblem,
    file=_words,
    line=st.none() | st.integers(1, 10_000),
    pointer=_words,
    message=_words,
)


def _strategy(name: str, hint: Any, request: Any = None) -> st.SearchStrategy[Any]:
    """Values for one `__init__` parameter, by its name and type hint.

    A body quotes secrets only beside the request that sent them (as parse_response builds it).
    """
    if name == "request":
        return st.none() | _requests()
    if hint is Any:
        return _json if request is not None else _plain_json
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return st.lists(_problems if item is errors.InputProblem else _spec_problems, max_size=3)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return st.one_of(*(_strategy(name, arg) for arg in typing.get_args(hint)))
    if hint is type(None):
        return st.none()
    if hint is str:
        return _words
    if hint is Path:
        return _words.map(Path)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(0, 10**6)
    if hint is float:
        return st.floats(0, 1e6)
    raise AssertionError(f"no strategy for parameter {name}: {hint!r}; add one here")


@st.composite
def _errors(draw: st.DrawFn, cls: type[BaseException]) -> BaseException:
    if cls.__init__ is BaseException.__init__:
        error = cls(draw(_words))
    else:
        hints = typing.get_type_hints(cls.__init__, vars(errors))
        kwargs: dict[str, Any] = {}
        args: list[Any] = []
        for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            if param.default is not param.empty and not draw(st.booleans()):
                continue
            hint = hints.get(param.name, Any)
            value = draw(_strategy(param.name, hint, kwargs.get("request")))
            if param.kind is param.KEYWORD_ONLY:
                kwargs[param.name] = value
            else:
                args.append(value)
        error = cls(*args, **kwargs)
    if isinstance(error, errors.APIError):
        error.attempts = draw(st.integers(1, 30))
        if draw(st.booleans()):
            error.add_note_to_message(" (gave up after 3 attempts)")
    if draw(st.booleans()):
        error.add_note(draw(_words))
    # Causes a library raised, quoting secrets: they never travel.
    cause = ConnectionError(f"POST https://api.example.com/?token={TOKEN} ({HEADER})")
    cause.__context__ = KeyError(PASSWORD)
    error.__cause__ = cause
    return error


def _assert_no_secret(blob: bytes) -> None:
    for secret in SECRETS:
        assert secret.encode() not in blob
    assert base64.b64encode(f"svc-user:{PASSWORD}".encode()) not in blob
    assert f"={SHORT}".encode() not in blob


def _same_request(loaded: HTTPRequest, sent: HTTPRequest) -> None:
    """A request after a round trip: what it said, masked; file contents and encoded body gone."""
    mask = sent.secrets
    assert (loaded.action, loaded.method) == (sent.action, sent.method)
    assert loaded.url == mask.text(sent.url)
    assert loaded.params == tuple((k, mask.text(v)) for k, v in sent.params)
    assert loaded.body == mask.data(sent.body) and loaded.content is None
    assert loaded.inputs == mask.data(sent.inputs)
    assert [(f, n) for f, n, _ in loaded.files] == [(f, n) for f, n, _ in sent.files]
    assert loaded.credentials_to == sent.credentials_to
    assert loaded.to_dict()["headers"] == sent.to_dict()["headers"]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_error_travels_whole_and_without_secrets(
    cls: type[BaseException], data: st.DataObject
) -> None:
    error = data.draw(_errors(cls))
    blob = pickle.dumps(error)
    _assert_no_secret(blob)
    loaded = pickle.loads(blob)
    assert type(loaded) is cls
    request = getattr(error, "request", None)
    masked = isinstance(request, HTTPRequest)  # no request: nothing is known to be secret

    def mask(value: Any) -> Any:
        return request.secrets.data(value) if masked else value

    assert str(loaded) == (request.secrets.text(str(error)) if masked else str(error))
    assert loaded.args == tuple(mask(list(error.args)))
    assert loaded.__cause__ is None and loaded.__context__ is None
    for name, value in vars(error).items():
        if isinstance(value, HTTPRequest):
            _same_request(loaded.request, value)
        else:
            assert getattr(loaded, name) == mask(value), name
    _assert_no_secret(pickle.dumps(loaded))
    assert pickle.loads(pickle.dumps(loaded)).args == loaded.args  # and it travels again


def test_a_message_quoting_a_request_secret_travels_masked() -> None:
    request = HTTPRequest(action="a", method="GET", url="https://h/", secrets=_redactor())
    error = errors.ServerError(f"boom {TOKEN}", status=500, request=request, body={"t": TOKEN})
    loaded = pickle.loads(pickle.dumps(error))
    assert str(loaded) == "boom ***" and loaded.body == {"t": "***"} and loaded.status == 500


# --- end to end: a worker process's failures reach the parent typed -----------------------------


def _import_in_worker(
    base_url: str, connection: dict[str, str], project_id: str, token: str
) -> Any:
    from connector import load_component
    from connector.budgets.memory import BudgetRegistry

    component = load_component(base_url=base_url, rate_registry=BudgetRegistry())
    now = int(time.time())
    events = [{"event": "e", "properties": {"distinct_id": f"u{i}", "time": now}} for i in range(5)]
    inputs = {"events": events, "project_id": project_id}
    return component.run("importEvents", inputs, connection, workers=2)


@pytest.mark.parametrize("token", ["", TOKEN], ids=["no token", "records carry a token"])
@pytest.mark.parametrize("wrong", ["password", "username"])
def test_a_workers_auth_failure_reaches_the_parent_as_auth_error(wrong: str, token: str) -> None:
    from connector.sandbox import Sandbox

    with Sandbox() as sandbox:
        base_url = sandbox.base_url
        connection = {**sandbox.connection, wrong: PASSWORD}
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            future = pool.submit(_import_in_worker, base_url, connection, sandbox.project_id, token)
            with pytest.raises(errors.AuthError) as caught:
                future.result(timeout=120)
    error = caught.value
    assert error.status == 401
    assert "Mixpanel refused the credentials (HTTP 401) for importEvents" in str(error)
    assert error.request.action == "importEvents"
    assert error.request.url.startswith(base_url)
    _assert_no_secret(pickle.dumps(error))
    assert PASSWORD not in repr(vars(error)) and TOKEN not in repr(vars(error))
