"""How an action's requests are made: one strategy per mode (single, paged, streamed, batched)."""
