"""Spec folders in load order: the shipped specs, then overlay folders laid out the same way."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecProblem

SHIPPED = "shipped"
# Overlay folders from the environment: a path-separator list, like PATH.
SPECS_ENV = "MIXPANEL_CONNECTOR_SPECS"
_TOP_FILES = ("component.yaml", "connection.yaml", "inputs.yaml")
_FOLDERS = ("actions", "data_sources")


@dataclass
class Layer:
    """One spec folder: the shipped one (complete) or an overlay (any subset of its files)."""

    root: Path
    source: str
    overlay: bool
    shared: dict[str, Any] = field(default_factory=dict)
    _listing: dict[str, list[tuple[str, bool]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def shown_root(self) -> Path | None:
        """Shipped files are named relative to the specs folder, overlay files by full path."""
        return None if self.overlay else self.root

    def files(self) -> list[Path]:
        """Every spec file this layer holds, in load order (none resolving outside an overlay)."""
        found = [self.root / name for name in _TOP_FILES if (self.root / name).is_file()]
        for folder in _FOLDERS:
            found += [path for path, _ in self._listed(folder)]
        escaping = set(self.escaping())
        return [path for path in found if path not in escaping] if escaping else found

    def _listed(self, folder: str) -> list[tuple[Path, bool]]:
        """The `*.yaml` entries of `folder`, sorted by name, each with whether it is a link."""
        where = self.root / folder
        return [(where / name, link) for name, link in self.named(folder)]

    def named(self, folder: str) -> list[tuple[str, bool]]:
        """The names of `folder`'s `*.yaml` entries, sorted, each with whether it is a link.

        Listed once per Layer (a load makes its own layers).
        """
        if folder not in self._listing:
            try:
                with os.scandir(self.root / folder) as entries:
                    found = [(e.name, e.is_symlink()) for e in entries if e.name.endswith(".yaml")]
            except OSError:  # no such folder (or not one)
                found = []
            self._listing[folder] = sorted(found)
        return self._listing[folder]

    def stat_paths(self) -> list[str]:
        """The paths whose stat data stands for this layer at a start: its shared files and folders.

        An operation's own file is looked at when the operation is first used
        (connector.catalog.stamps); a file added, removed or renamed changes its folder's times.
        """
        root = str(self.root)
        return [os.path.join(root, name) for name in (*_TOP_FILES, *_FOLDERS)]

    def escaping(self) -> list[Path]:
        """An overlay's spec files that resolve outside its folder (links out of it): refused.

        Only links are resolved: a file that is no link, in a folder that is none, is inside.
        """
        if not self.overlay or not self.root.is_dir():
            return []
        root = self.root.resolve()
        found = [self.root / name for name in _TOP_FILES]
        for folder in _FOLDERS:
            linked = (self.root / folder).is_symlink()
            found += [path for path, link in self._listed(folder) if link or linked]
        return [
            path
            for path in found
            if (path.is_symlink() or path.exists()) and not path.resolve().is_relative_to(root)
        ]

    def problems(self) -> list[SpecProblem]:
        """An overlay folder that is missing or holds nothing a spec folder holds."""
        if not self.overlay:
            return []
        if not self.root.is_dir():
            return [SpecProblem(str(self.root), None, "", "overlay folder does not exist")]
        escaping = [
            SpecProblem(
                str(path),
                None,
                "",
                f"resolves to {path.resolve()}, outside the overlay folder {self.root}; refused",
            )
            for path in self.escaping()
        ]
        if escaping:
            return escaping
        # migrate.yaml and mappings/ are read by the migration commands (connector/migrate).
        migration = (self.root / "migrate.yaml").is_file() or (self.root / "mappings").is_dir()
        if not self.files() and not migration:
            expected = ", ".join((*_TOP_FILES, *(f"{f}/*.yaml" for f in _FOLDERS)))
            return [
                SpecProblem(
                    str(self.root), None, "", f"overlay folder holds no spec files ({expected})"
                )
            ]
        return []


def overlay_paths(spec_paths: Sequence[Path | str] | None) -> list[Path]:
    """The overlay folders to load: `spec_paths` when given, else those in $SPECS_ENV."""
    if spec_paths is None:
        spec_paths = [p for p in os.environ.get(SPECS_ENV, "").split(os.pathsep) if p.strip()]
    return [Path(p) for p in spec_paths]


def spec_layers(root: Path, overlays: Sequence[Path | str]) -> list[Layer]:
    """The complete spec folder `root` followed by every overlay folder, in order."""
    layers = [Layer(root, SHIPPED, overlay=False)]
    return layers + [Layer(Path(p), str(p), overlay=True) for p in overlays]


def merge_component(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """An overlay's component.yaml over the shipped one: named sections merged, the rest replaced.

    Rate limits and environment variables are merged by name.
    """
    merged = {**base, **over}
    for section in ("rate_limits", "environment"):
        if section in over:
            merged[section] = {**(base.get(section) or {}), **(over[section] or {})}
    return merged
