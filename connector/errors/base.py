"""The root of the connector's errors, and how every error pickles (see `connector.errors`)."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["ConnectorError"]


class ConnectorError(Exception):
    """Base class of every error this package raises."""

    retriable: ClassVar[bool] = False

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as type, message and attributes, whatever `__init__` takes (connector.errors)."""
        return (_rebuilt, (type(self), self._travelling(self.args), self._travelling(vars(self))))

    def _travelling(self, value: Any) -> Any:
        """`value` as it may leave the process (APIError masks it with its request's secrets)."""
        return value


def _rebuilt(cls: type[ConnectorError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An error of type `cls` with `args` and attributes `state`, its `__init__` not called."""
    error = cls.__new__(cls, *args)
    error.args = tuple(args)
    error.__dict__.update(state)
    return error
