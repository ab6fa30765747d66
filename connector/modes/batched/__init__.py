"""Batched actions: records filled and checked, chunked into requests, sent by a pool."""
