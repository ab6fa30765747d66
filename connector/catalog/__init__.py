"""Spec files -> ComponentSpec: YAML documents with line marks, overlays, checks and the cache."""

from .build import build_component
from .load import check_layers, check_specs, load_specs, meta_schema, specs_root

__all__ = [
    "build_component",
    "check_layers",
    "check_specs",
    "load_specs",
    "meta_schema",
    "specs_root",
]
