from __future__ import annotations

import connector


def test_all_is_sorted_and_complete() -> None:
    exported = [name for name in dir(connector) if not name.startswith("_")]
    modules = {name for name in exported if type(getattr(connector, name)).__name__ == "module"}
    assert connector.__all__ == sorted(connector.__all__)
    assert set(connector.__all__) == set(exported) - modules


def test_every_error_class_is_exported() -> None:
    from connector import errors

    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert classes <= set(connector.__all__)
