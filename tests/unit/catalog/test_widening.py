"""Overlays may not widen where credentials go unless the caller opts in, and then it shows."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from connector import InputError, SpecError, load_component
from connector.budgets.memory import BudgetRegistry
from connector.catalog import check_specs
from connector.catalog.widening import connection_reads, pinned_to_trusted_host
from connector.cli import main
from tests.conftest import TEST_CONNECTION
from tests.http.listener import listening


def _action(url: str, *, auth: str = "service_account", extra: str = "") -> str:
    return f"""\
key: leak
label: Leak
description: Sends the request somewhere.
inputs:
  - use: connection
request:
  method: GET
  url: "{url}"
  auth: {auth}
{extra}sample: {{}}
"""


def _overlay(tmp_path: Path, action: str | None = None, component: str | None = None) -> Path:
    folder = tmp_path / "overlay"
    (folder / "actions").mkdir(parents=True, exist_ok=True)
    if action is not None:
        (folder / "actions" / "leak.yaml").write_text(action)
    if component is not None:
        (folder / "component.yaml").write_text(component)
    return folder


def _cases(port: int) -> dict[str, tuple[str | None, str | None, str]]:
    url = f"http://127.0.0.1:{port}/x"
    return {
        "trusted_hosts": (
            _action(url),
            'trusted_hosts: ["*", "http://127.0.0.1:*"]\n',
            "/trusted_hosts",
        ),
        "allow_any_host": (
            _action(url, extra='  allow_any_host: "true"\n'),
            None,
            "/request/allow_any_host",
        ),
        "secret_in_query": (
            _action(url, auth="none", extra='  query: {pw: "{{ connection.password }}"}\n'),
            None,
            "/request/query/pw",
        ),
    }


@pytest.mark.parametrize("case", ["trusted_hosts", "allow_any_host", "secret_in_query"])
def test_a_widening_overlay_is_refused_and_sends_nothing(tmp_path: Path, case: str) -> None:
    with listening() as listener:
        action, component, pointer = _cases(listener.port)[case]
        overlay = _overlay(tmp_path, action, component)
        spec, problems = check_specs(overlays=[overlay])
        assert spec is None
        assert [p.pointer for p in problems] == [pointer]
        assert "--allow-overlay-trust-widening" in problems[0].message
        with pytest.raises(SpecError, match="may not widen where credentials go"):
            load_component(spec_paths=[overlay])
        assert listener.requests == []


@pytest.mark.parametrize("case", ["trusted_hosts", "allow_any_host", "secret_in_query"])
def test_with_the_opt_in_it_loads_and_describe_and_dry_run_say_so(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as listener:
        action, component, pointer = _cases(listener.port)[case]
        overlay = _overlay(tmp_path, action, component)
        flag = "--allow-overlay-trust-widening"
        assert main(["validate", "--specs", str(overlay)]) == 1
        assert main(["validate", "--specs", str(overlay), flag]) == 0
        capsys.readouterr()
        assert main(["describe", "leak", "--json", "--specs", str(overlay), flag]) == 0
        described = json.loads(capsys.readouterr().out)
        assert any(pointer in note for note in described["trust_widened"])
        loaded = load_component(
            spec_paths=[overlay],
            allow_overlay_trust_widening=True,
            rate_registry=BudgetRegistry(),
            rng=random.Random(1),
        )
        if case == "secret_in_query":
            # Accepted, yet a request holding a secret still goes only where credentials may.
            with pytest.raises(InputError, match="'127.0.0.1' is not a Mixpanel host"):
                loaded.run("leak", {}, TEST_CONNECTION)
        else:
            [shown] = loaded.preview("leak", {}, TEST_CONNECTION)
            assert any(pointer in note for note in shown["trust_widened"])
            assert TEST_CONNECTION["password"] not in json.dumps(shown)
        assert listener.requests == []


def test_the_opt_in_is_not_carried_by_the_spec_cache(tmp_path: Path) -> None:
    with listening() as listener:
        action, component, _ = _cases(listener.port)["trusted_hosts"]
        overlay = _overlay(tmp_path, action, component)
        load_component(spec_paths=[overlay], allow_overlay_trust_widening=True)
        with pytest.raises(SpecError):
            load_component(spec_paths=[overlay])


def test_an_overlay_replacing_a_shipped_action_as_it_was_widens_nothing(tmp_path: Path) -> None:
    from connector.catalog import specs_root

    overlay = _overlay(tmp_path)
    for key in ("rawRequest", "trackEvents"):
        text = (specs_root() / "actions" / f"{key}.yaml").read_text()
        (overlay / "actions" / f"{key}.yaml").write_text(text)
    spec, problems = check_specs(overlays=[overlay])
    assert problems == [] and spec is not None
    assert spec.actions["rawRequest"].trust_widened == ()


def test_with_the_opt_in_the_listener_does_get_the_credentials(tmp_path: Path) -> None:
    with listening() as listener:
        action, component, _ = _cases(listener.port)["allow_any_host"]
        overlay = _overlay(tmp_path, action, component)
        loaded = load_component(
            spec_paths=[overlay], allow_overlay_trust_widening=True, rate_registry=BudgetRegistry()
        )
        loaded.run("leak", {}, TEST_CONNECTION)
        assert len(listener.authorizations) == 1
        assert listener.authorizations[0].startswith("Basic ")


@pytest.mark.parametrize(
    ("template", "reads"),
    [
        ("{{ connection.password }}", {"password"}),
        ("{{ connection['token'] }}", {"token"}),
        ("{{ connection.get('username') }}", {"username"}),
        ("{{ connection | tojson }}", {"*"}),
        ("{{ connection[name] }}", {"*"}),
        ("{{ region }}", set()),
    ],
)
def test_connection_reads(template: str, reads: set[str]) -> None:
    assert connection_reads(template) == reads


def test_a_secret_in_the_body_is_no_widening_when_the_url_pins_a_trusted_host(
    tmp_path: Path,
) -> None:
    body = '  body: {format: json, content: {t: "{{ connection.projectToken }}"}}\n'
    for url in ("https://api.mixpanel.com/x", "https://{{ region }}.mixpanel.com/x"):
        action = _action(url, auth="none", extra=body).replace(
            "  - use: connection\n", "  - use: connection\n  - use: region\n"
        )
        overlay = _overlay(tmp_path, action)
        assert check_specs(overlays=[overlay])[1] == [], url
    for url in ("https://{{ region }}mixpanel.com/x", "http://api.mixpanel.com/x", "https://x.y/"):
        action = _action(url, auth="none", extra=body).replace(
            "  - use: connection\n", "  - use: connection\n  - use: region\n"
        )
        overlay = _overlay(tmp_path, action)
        [problem] = check_specs(overlays=[overlay])[1]
        assert problem.pointer == "/request/body/content/t", url


def test_a_shipped_style_body_secret_to_an_untrusted_host_is_refused_at_run_time() -> None:
    import dataclasses

    component = load_component(rate_registry=BudgetRegistry())
    spec = component.spec
    op = spec.actions["trackEvents"]
    moved = dataclasses.replace(
        op, request={**op.request, "url": "http://127.0.0.1:9/track", "auth": "none"}
    )
    component.settings.spec = dataclasses.replace(
        spec, actions={**spec.actions, "trackEvents": moved}
    )
    from tests.specs.cases import example_inputs

    with pytest.raises(InputError, match="'127.0.0.1' is not a Mixpanel host"):
        component.preview("trackEvents", example_inputs(moved), TEST_CONNECTION)


def test_a_host_chosen_from_an_input_s_choices_is_pinned_only_when_every_choice_is_trusted() -> (
    None
):
    trusted = ["mixpanel.com", "*.mixpanel.com"]
    url = "https://{{ regionAndDomain }}.com/api/app/data-deletions/v3.0"
    region = {"key": "regionAndDomain", "choices": [{"value": "mixpanel"}, "eu.mixpanel"]}
    assert pinned_to_trusted_host(url, trusted, [region])
    evil = {**region, "choices": [*region["choices"], "evil"]}
    assert not pinned_to_trusted_host(url, trusted, [evil])
    assert not pinned_to_trusted_host(url, trusted, [{"key": "regionAndDomain"}])
    assert not pinned_to_trusted_host(url, trusted, [])
