"""The batched mode: many records in right-sized requests, sent by an adaptive pool."""
