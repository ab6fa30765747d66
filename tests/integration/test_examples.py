"""Every action beyond the seed runs its own examples end to end against a cassette.

The cassettes (cassettes/test_examples/, written by tools/example_cassettes.py) hold each
action's example request, matched on everything Mixpanel sees, and its sample as the answer: a
changed example, template or sample fails here until the cassette is written again.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from connector import Component, load_component
from tests.conftest import ROOT
from tests.specs.cases import example_inputs
from tests.specs.seed import read_seed
from tools.example_cassettes import FOLDER, covered

SPEC = load_component().spec
SEED = set(read_seed())
KEYS = sorted(key for key, op in SPEC.actions.items() if covered(op, SEED))


def test_every_new_family_has_example_cassettes() -> None:
    assert len(KEYS) >= 80
    assert sorted(p.name for p in FOLDER.glob("*.yaml")) == sorted(
        f"test_example_replays[{key}].yaml" for key in KEYS
    )


def test_the_cassettes_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "example_cassettes.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.vcr
@pytest.mark.parametrize("key", KEYS)
def test_example_replays(component: Component, connection: dict[str, str], key: str) -> None:
    op = SPEC.actions[key]
    assert component.run(key, example_inputs(op), connection) == op.sample
