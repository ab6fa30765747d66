"""Scheduled syncs: each record delivered once, late ones included (see connector/sync/README)."""
