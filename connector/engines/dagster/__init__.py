"""Dagster integration: the Mixpanel component for `defs.yaml` files and its resource."""

from .component import MixpanelComponent
from .resource import MixpanelResource

__all__ = ["MixpanelComponent", "MixpanelResource"]
