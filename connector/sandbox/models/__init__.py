"""The sandbox's state: declared families stored generically, events and identities beside them."""

from .base import Body, Context, Family, Hooks, ModelError
from .families import FAMILIES
from .resources import Resources

__all__ = ["FAMILIES", "Body", "Context", "Family", "Hooks", "ModelError", "Resources"]
