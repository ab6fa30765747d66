"""Loads the component: shipped specs plus overlays, environment settings, an embedded plugin."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

from .budgets.limits import Registry
from .catalog.layers import overlay_paths
from .catalog.load import load_specs
from .component import Component
from .core.urls import checked_base_url
from .plugins import load_plugin
from .send.attempts import Clock
from .send.retry import RetryPolicy
from .send.transport import Transport


def load_component(
    base_url: str | None = None,
    *,
    spec_paths: Sequence[Path | str] | None = None,
    transport: Transport | None = None,
    retry: RetryPolicy | None = None,
    rate_wait_s: float = 0.0,
    rate_registry: Registry | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    sandbox: bool = False,
    budgets: str | None = None,
    workers: int | None = None,
    allow_overlay_trust_widening: bool = False,
) -> Component:
    """Load the shipped specs (and overlays); `base_url` redirects trusted-host requests there.

    Without `base_url`, the variable component.yaml's `environment.base_url` names is read.

    `spec_paths` are overlay folders laid out like specs/ (default: $MIXPANEL_CONNECTOR_SPECS, a
    path-separator list); their actions and data sources add to or replace the shipped ones.

    The keyword options are Component's: retry policy, rate-budget wait cap, budget registry,
    clock, jitter source, where the budgets live (`budgets`: memory, sqlite:///PATH or
    redis://HOST:PORT/DB) and the workers of batched actions. `sandbox=True` sends
    everything to the embedded sandbox plugin (state kept between runs; its own
    credentials), and each result says so under "sandbox". An overlay that adds trusted hosts,
    lets a request send credentials to any host or renders a connection secret outside an auth
    scheme is refused unless `allow_overlay_trust_widening` (describe and dry runs then list it).
    """
    embedded = load_plugin("sandbox").embed() if sandbox else None
    if embedded is not None:
        base_url = embedded.base_url
    spec = load_specs(
        overlays=overlay_paths(spec_paths),
        allow_overlay_trust_widening=allow_overlay_trust_widening,
    )
    env_name = spec.environment.get("base_url")
    env_url = os.environ.get(env_name) if env_name else None
    if env_url and not base_url:
        checked_base_url(env_url, key=str(env_name), label=f"Base URL from ${env_name}")
    return Component(
        spec,
        base_url=base_url or env_url or None,
        transport=transport,
        retry=retry,
        rate_wait_s=rate_wait_s,
        rate_registry=rate_registry,
        clock=clock,
        rng=rng,
        embedded=embedded,
        budgets=budgets,
        workers=workers,
    )
