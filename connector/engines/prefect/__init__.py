"""Prefect integration: the MixpanelCredentials block and the run_action / export_to_file tasks."""

from .credentials import MixpanelCredentials
from .tasks import export_to_file, fetch_picklist, run_action

__all__ = ["MixpanelCredentials", "export_to_file", "fetch_picklist", "run_action"]
