"""Prefect integration: the MixpanelCredentials block and its tasks (run, export, copy, sync)."""

from .credentials import MixpanelCredentials
from .state_block import MixpanelSyncState
from .syncs import cohort_changes, sync_to_file
from .tasks import copy_project, export_to_file, fetch_picklist, run_action

__all__ = [
    "MixpanelCredentials",
    "MixpanelSyncState",
    "cohort_changes",
    "copy_project",
    "export_to_file",
    "fetch_picklist",
    "run_action",
    "sync_to_file",
]
