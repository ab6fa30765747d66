"""The sandbox's routes: the table of what it serves (table.py) and the router (routing.py)."""

from __future__ import annotations

from .routing import API_PREFIXES, Route, Router, api_of, crud, either
from .table import (
    DELETIONS,
    EXPERIMENT,
    FLAGS,
    IMPORTS,
    INGESTION,
    ORGANIZATION,
    PIPELINE,
    PROJECT,
    QUERY,
    QUERY_PREFIXES,
    RETRIEVALS,
    ROUTER,
    ROUTES,
    SCHEMAS,
)

__all__ = [
    "API_PREFIXES",
    "DELETIONS",
    "EXPERIMENT",
    "FLAGS",
    "IMPORTS",
    "INGESTION",
    "ORGANIZATION",
    "PIPELINE",
    "PROJECT",
    "QUERY",
    "QUERY_PREFIXES",
    "RETRIEVALS",
    "ROUTER",
    "ROUTES",
    "Route",
    "Router",
    "SCHEMAS",
    "api_of",
    "crud",
    "either",
]
