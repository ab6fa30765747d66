"""MixpanelSyncState: a Prefect block holding one sync's verified state document."""

from __future__ import annotations

from prefect.blocks.core import Block


class MixpanelSyncState(Block):
    """What a Mixpanel sync delivered: keyed digests and a cursor, never the records."""

    _block_type_name = "Mixpanel Sync State"
    _description = "The state of a scheduled Mixpanel sync (written by the sync flows)."

    document: str = ""
