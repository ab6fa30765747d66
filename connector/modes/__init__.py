"""How an action's requests are made: one at a time, paged, streamed or batched."""
