"""The import hook behind :func:`xnn.compat.alias`: a ``sys.meta_path`` finder and its loader.

One :class:`AliasFinder` instance serves every alias. It answers only for registered top-level
names (``cs231n``, ``nndl``, ...) and the submodules their flavor defines; everything else it
declines (returns ``None``), so the normal import machinery carries on. Each aliased module is a
fresh module object whose namespace is built from xnn objects by :meth:`Flavor.populate`; xnn's
own modules are never renamed or mutated.

When a real package of the same name exists (the course's own folder next to the notebook, or a
package the alias was forced over), the aliased packages keep its directories as their
``__path__``: submodules the flavor does not define (``cs231n.image_utils``,
``cs231n.classifiers.squeezenet``, ...) then still load from the course folder, and every aliased
module falls back to the course's own file of that module for names xnn's module lacks
(:func:`._course.attach_fallback`).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _course

if TYPE_CHECKING:  # pragma: no cover
    from .flavors import Flavor


@dataclass(frozen=True)
class AliasEntry:
    """One registered alias: its top-level name, flavor, and the directories of the real package behind it."""

    name: str
    flavor: Flavor
    real_locations: tuple[str, ...] = ()

    def search_locations(self, relname: str) -> list[str]:
        """``__path__`` for the aliased package ``relname`` ('' = top level): the real dirs that exist."""
        parts = relname.split(".") if relname else []
        dirs = [os.path.join(loc, *parts) for loc in self.real_locations]
        return [d for d in dirs if os.path.isdir(d)]


class AliasLoader(importlib.abc.Loader):
    """Builds an aliased module: the default module object, filled by the flavor's recipe."""

    def __init__(self, entry: AliasEntry, relname: str) -> None:
        self.entry = entry
        self.relname = relname

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # default module creation

    def exec_module(self, module: types.ModuleType) -> None:
        entry = self.entry
        entry.flavor.populate(module, entry.name, self.relname, entry.search_locations(""))
        if entry.real_locations:
            _course.attach_fallback(module, entry.real_locations, self.relname, entry.flavor.is_package(self.relname),
                                    entry.flavor.defines)


class AliasFinder(importlib.abc.MetaPathFinder):
    """``sys.meta_path`` finder for every registered alias name."""

    def __init__(self) -> None:
        self._entries: dict[str, AliasEntry] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ registry
    def register(self, entry: AliasEntry) -> None:
        with self._lock:
            self._entries[entry.name] = entry

    def unregister(self, name: str) -> AliasEntry | None:
        with self._lock:
            return self._entries.pop(name, None)

    def get(self, name: str) -> AliasEntry | None:
        return self._entries.get(name)

    def names(self) -> dict[str, str]:
        """``{alias name: flavor name}`` for every registered alias."""
        return {name: entry.flavor.name for name, entry in self._entries.items()}

    # ------------------------------------------------------------------ finder protocol
    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        top, _, relname = fullname.partition(".")
        entry = self._entries.get(top)
        if entry is None or not entry.flavor.defines(relname):
            return None
        is_package = entry.flavor.is_package(relname)
        spec = importlib.util.spec_from_loader(fullname, AliasLoader(entry, relname), is_package=is_package)
        spec.origin = f"xnn.compat alias, flavor {entry.flavor.name!r}"  # shown in the module repr
        if is_package:
            spec.submodule_search_locations = entry.search_locations(relname)
        return spec

    def invalidate_caches(self) -> None:  # nothing cached
        return None


_FINDER = AliasFinder()


def finder() -> AliasFinder:
    """The process-wide finder (installed on ``sys.meta_path`` while any alias is registered)."""
    return _FINDER


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall_if_unused() -> None:
    """Take the finder off ``sys.meta_path`` when no alias is left."""
    if not _FINDER.names() and _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def purge_modules(name: str) -> list[str]:
    """Drop ``name`` and every ``name.*`` from ``sys.modules``; return the names removed."""
    doomed = [m for m in list(sys.modules) if m == name or m.startswith(name + ".")]
    for m in doomed:
        sys.modules.pop(m, None)
    return doomed
