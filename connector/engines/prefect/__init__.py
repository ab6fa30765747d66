"""Prefect integration: the MixpanelCredentials block and its tasks (run, export, copy)."""

from .credentials import MixpanelCredentials
from .tasks import copy_project, export_to_file, fetch_picklist, run_action

__all__ = [
    "MixpanelCredentials",
    "copy_project",
    "export_to_file",
    "fetch_picklist",
    "run_action",
]
