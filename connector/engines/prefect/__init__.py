"""Prefect integration: the MixpanelCredentials block and the run_action / export_to_file tasks."""

from .credentials import MixpanelCredentials
from .state_block import MixpanelSyncState
from .syncs import cohort_changes, sync_to_file
from .tasks import export_to_file, fetch_picklist, run_action

__all__ = [
    "MixpanelCredentials",
    "MixpanelSyncState",
    "cohort_changes",
    "export_to_file",
    "fetch_picklist",
    "run_action",
    "sync_to_file",
]
