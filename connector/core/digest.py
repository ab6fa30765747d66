"""A stable digest of an action and its inputs, for state a rerun must recognise as its own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["inputs_digest"]


def inputs_digest(action: str, inputs: Mapping[str, Any]) -> str:
    """A SHA-256 over the action key and its inputs (canonical JSON; non-JSON values by str)."""
    text = json.dumps([action, dict(inputs)], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
