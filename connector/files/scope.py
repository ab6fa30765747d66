"""Where a resumable job's data goes: the server, the credential and the inputs it was for.

An import checkpoint or a partial export belongs to one target. It records the origin its
requests actually go to (scheme, host and port), a keyed digest of the credentials they carry
(connector.core.localkey: never the secret, and not testable against guesses) and a keyed
digest of each other input (the project among them). A rerun whose scope differs starts
fresh, and `difference` says why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..call import Call
from ..core.localkey import keyed_digest
from ..core.urls import origin_of

__all__ = ["MAX_SCOPE_INPUTS", "Scope", "scope_of"]

#: A recorded scope naming more inputs than this is not one of ours (it is refused, unread).
MAX_SCOPE_INPUTS = 1000
_PURPOSE_CREDENTIAL = "resume-credential"
_PURPOSE_INPUT = "resume-input"


@dataclass(frozen=True)
class Scope:
    """The target of one job: origin, credential digest and a digest per other input.

    `labels` (not recorded) name the inputs in messages.
    """

    origin: str
    credential: str
    inputs: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """What a state file records."""
        return {"origin": self.origin, "credential": self.credential, "inputs": dict(self.inputs)}

    def difference(self, recorded: Any) -> str:
        """Why state recorded for `recorded` (a `to_dict`) does not apply here; "" when it does."""
        if not isinstance(recorded, Mapping):
            return "it records no target (server, credential and inputs)"
        reasons: list[str] = []
        origin = recorded.get("origin")
        if origin != self.origin:
            reasons.append(f"another server ({_short(origin)}, not {self.origin})")
        if recorded.get("credential") != self.credential:
            reasons.append("another credential")
        others = recorded.get("inputs")
        if not isinstance(others, Mapping) or len(others) > MAX_SCOPE_INPUTS:
            reasons.append("inputs it does not record")
        else:
            changed = sorted(
                k for k in {*others, *self.inputs} if others.get(k) != self.inputs.get(k)
            )
            if changed:
                names = ", ".join(self._name(k) for k in changed[:5])
                more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
                reasons.append(f"other inputs: {names}{more}")
        return "; ".join(reasons)

    def _name(self, key: str) -> str:
        label = self.labels.get(key)
        return f"{label} ({key})" if label and label != key else key


def scope_of(call: Call, others: Mapping[str, Any], records_key: str = "") -> Scope:
    """The scope of `call`: where its requests go, with which credentials, for `others`.

    A batched call (`records_key` names its records) is rendered with no records: its
    origin and credentials do not depend on them.

    Raises:
        StateError: the local key cannot be used.
    """
    values = {**call.values, records_key: []} if records_key else call.values
    request, header = call.render(values)
    secret = [str(call.connection.get(key) or "") for key in call.secrets_rendered()]
    credential = keyed_digest(_PURPOSE_CREDENTIAL, header or "", *secret)
    inputs = {
        key: keyed_digest(_PURPOSE_INPUT, key, _canonical(value))
        for key, value in others.items()
        if key != records_key
    }
    labels = {spec.key: spec.label for spec in call.op.value_inputs}
    return Scope(str(origin_of(request.url)), credential, inputs, labels)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _short(value: Any) -> str:
    text = str(value) if value else "none recorded"
    return text if len(text) <= 100 else text[:100] + "..."
