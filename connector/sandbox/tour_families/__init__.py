"""The tour's steps for the families beyond the first actions: queries, groups, the /api/app ones.

Each step is (key, inputs, summary); inputs read the ids earlier steps created from the store,
so the steps run in order: create, read, change, delete.

The steps are in queries.py (profiles, groups, identities, queries, cohorts, pipelines) and
app.py (the /api/app families); common.py holds what they share.
"""

from __future__ import annotations

from . import app, queries
from .common import FamilyStep, Inputs, Summary

__all__ = ["FamilyStep", "Inputs", "STEPS", "Summary"]

#: Every family step, in tour order.
STEPS: tuple[FamilyStep, ...] = queries.STEPS + app.STEPS
