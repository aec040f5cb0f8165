"""The course's own package folder behind an alias (the real assignment layout).

Courses hand out their package (``cs231n/``, ``nndl/``, ``deeplearning/``, ...) as a folder next
to the notebooks. When :func:`xnn.compat.alias` finds such a folder it keeps it behind the alias:

* :func:`is_course_package` tells a course folder (one holding ``layers.py``, ``solver.py`` or a
  ``classifiers/`` package) from any other package of the same name, which is refused unless forced;
* the aliased packages use the folder as their ``__path__``, so the modules xnn does not serve
  (``rnn_layers``, ``coco_utils``, ...) load from it (see :mod:`._hook`);
* :func:`attach_fallback` gives each aliased module a module-level ``__getattr__``: a name xnn's
  module lacks (``data_utils.load_imagenet_val``, ``classifiers.KNearestNeighbor``) is taken from
  the course's own file of that module, executed once, on first use, under the module's name
  (so its relative imports resolve to the aliased siblings);
* :func:`announce` logs the one line that says which modules xnn serves in the folder's place.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import types
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["COURSE_MARKERS", "announce", "attach_fallback", "course_file", "course_modules", "is_course_package"]

logger = logging.getLogger("xnn.compat")

#: Files or folders that only a CS231n-style course package holds (UCLA's ``utils/`` has only the Solver).
COURSE_MARKERS = ("layers.py", "solver.py", "classifiers")


def is_course_package(locations: Sequence[str]) -> bool:
    """Whether one of the package's directories holds a course marker (:data:`COURSE_MARKERS`)."""
    return any(os.path.exists(os.path.join(d, marker)) for d in locations for marker in COURSE_MARKERS)


def course_file(locations: Sequence[str], relname: str, is_package: bool) -> str | None:
    """The course's own source file of module ``relname`` ('' = the package itself), or None."""
    parts = relname.split(".") if relname else []
    for d in locations:
        base = os.path.join(d, *parts)
        path = os.path.join(base, "__init__.py") if is_package else base + ".py"
        if os.path.isfile(path):
            return path
    return None


def course_modules(locations: Sequence[str]) -> list[str]:
    """Module paths of the folder, relative to it: top-level ``*.py`` and those of its sub-packages."""
    found: set[str] = set()
    for d in locations:
        for entry in sorted(os.listdir(d)) if os.path.isdir(d) else ():
            stem, ext = os.path.splitext(entry)
            if ext == ".py" and stem.isidentifier() and stem != "__init__":
                found.add(stem)
            elif entry.isidentifier() and os.path.isfile(os.path.join(d, entry, "__init__.py")):
                found.add(entry)
                found.update(f"{entry}.{m}" for m in course_modules([os.path.join(d, entry)]))
    return sorted(found)


def announce(name: str, flavor: Any, locations: Sequence[str]) -> None:
    """Log (once per alias) which modules xnn serves in front of the course folder, and what stays the course's."""
    present = course_modules(locations)
    served = [m for m in present if flavor.defines(m)] or flavor.modules()[1:]
    own = [m for m in present if not flavor.defines(m)]
    logger.warning("xnn.compat: %s is the course folder %s; xnn (flavor %r) serves its %s; %s",
                   name, os.pathsep.join(locations), flavor.name, ", ".join(served),
                   f"its other modules ({', '.join(own)}) and any name xnn's modules lack load from the folder"
                   if own else "any name xnn's modules lack loads from the folder's own file")


class _CourseFallback:
    """A module ``__getattr__``: missing public names come from the course's file of that module."""

    def __init__(self, module: types.ModuleType, path: str, is_submodule: Callable[[str], bool]) -> None:
        self.module = module
        self.path = path
        self.is_submodule = is_submodule
        self.course: types.ModuleType | None = None
        self.loading = False

    def __call__(self, name: str) -> Any:
        if name.startswith("_") or self.loading or self.is_submodule(name):
            # dunder probes (inspect, IPython) and submodules go the normal way; no course code runs
            raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r}")
        course = self._load(name)
        if not hasattr(course, name):
            raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r} (neither xnn's "
                                 f"module nor the course's {self.path} defines it)")
        value = getattr(course, name)
        setattr(self.module, name, value)  # found once, then a plain attribute
        return value

    def _load(self, wanted: str) -> types.ModuleType:
        if self.course is not None:
            return self.course
        spec = importlib.util.spec_from_file_location(
            self.module.__name__, self.path,
            submodule_search_locations=getattr(self.module, "__path__", None))
        course = importlib.util.module_from_spec(spec)
        self.loading = True
        try:
            spec.loader.exec_module(course)
        except Exception as exc:
            raise ImportError(f"{self.module.__name__}: xnn's module has no {wanted!r}, and the course's own "
                              f"{self.path} failed to load ({type(exc).__name__}: {exc})",
                              name=self.module.__name__, path=self.path) from exc
        finally:
            self.loading = False
        self.course = course
        return course


def attach_fallback(module: types.ModuleType, locations: Sequence[str], relname: str, is_package: bool,
                    defines: Callable[[str], bool]) -> None:
    """Give the aliased ``module`` (``<alias>.<relname>``) a ``__getattr__`` reading the course's file.

    ``defines(relname)`` says whether the flavor serves a module path; for a package, names that
    are its submodules (served or in the folder) are left to the import system.
    """
    path = course_file(locations, relname, is_package)
    if path is None:
        return
    prefix = f"{relname}." if relname else ""
    dirs = [os.path.join(d, *relname.split(".")) if relname else d for d in locations]

    def is_submodule(name: str) -> bool:
        if not is_package:
            return False
        return defines(prefix + name) or any(
            os.path.isfile(os.path.join(d, name + ".py")) or os.path.isdir(os.path.join(d, name)) for d in dirs)

    module.__getattr__ = _CourseFallback(module, path, is_submodule)
