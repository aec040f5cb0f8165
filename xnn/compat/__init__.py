"""Run course notebooks unchanged on xnn: make ``cs231n`` (or ``nndl``, ``deeplearning``, ...) import xnn.

Put this before the notebook's own imports::

    import xnn.compat; xnn.compat.alias("cs231n")              # Stanford CS231n 2018+
    import xnn.compat; xnn.compat.alias("dl")                  # a Stanford-style `dl` package (cs231n flavor)
    import xnn.compat; xnn.compat.alias("cs6353")              # Utah CS6353 (cs231n flavor)
    import xnn.compat; xnn.compat.alias("deeplearning", flavor="cs182")   # Berkeley CS182
    import xnn.compat; xnn.compat.alias("cs231n", flavor="cs182")         # Stanford 2016-17
    import xnn.compat
    for name in ("nndl", "utils", "cs231n"):
        xnn.compat.alias(name, flavor="ece147")                # UCLA ECE C147/C247

After it, ``from cs231n.layers import *``, ``from cs231n.classifiers.fc_net import *``,
``from cs231n.solver import Solver``, ``from cs231n import optim`` and the other course modules
(see :func:`modules`) resolve to xnn. The aliased modules are fresh module objects holding xnn's
functions and classes (or the flavor's thin wrappers of them); xnn's own modules are untouched.

The course's own package folder may sit next to the notebook (the assignment layout): the same one
line then puts xnn in front of it. xnn serves the modules above; every other module of the folder
(``cs231n.image_utils``, ``cs231n.classifiers.squeezenet``, ...) loads from it; a name xnn's
module lacks (``from cs231n.data_utils import load_imagenet_val``) comes from the course's own
file of that module; one ``logging`` line (logger ``xnn.compat``) says which modules xnn serves. A package of
that name that is not a course package (no ``layers.py``, ``solver.py`` or ``classifiers/`` in its
folder) is refused unless ``force=True``. Standard-library names and ``xnn`` itself can never be
aliased.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

from ..choices import did_you_mean
from . import _course, _hook
from .flavors import FLAVORS, Flavor

__all__ = ["alias", "aliases", "flavors", "modules", "unalias"]

_NEVER = frozenset({"xnn"}) | frozenset(getattr(sys, "stdlib_module_names", ()))


def flavors() -> dict[str, str]:
    """``{flavor name: which courses it serves}``."""
    return {name: flavor.description for name, flavor in FLAVORS.items()}


def modules(flavor: str = "cs231n") -> list[str]:
    """The module paths a flavor serves, relative to the alias name (``''`` is the package itself)."""
    return _flavor(flavor).modules()


def aliases() -> dict[str, str]:
    """The aliases in force: ``{alias name: flavor name}``."""
    return _hook.finder().names()


def _flavor(flavor: str) -> Flavor:
    if not isinstance(flavor, str) or flavor not in FLAVORS:
        hint = did_you_mean(flavor, FLAVORS)
        raise ValueError(f"alias: unknown flavor {flavor!r}; choose one of {sorted(FLAVORS)}"
                         + (f"; {hint}" if hint else ""))
    return FLAVORS[flavor]


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"alias: name must be a str, got {type(name).__name__}")
    if not name.isidentifier():
        raise ValueError(f"alias: name must be a top-level package name (a Python identifier, no dots), "
                         f"got {name!r}")
    if name in _NEVER:
        raise ValueError(f"alias: refusing to alias {name!r}: it is a standard-library module or xnn itself, "
                         "and shadowing it would break unrelated code (force=True does not apply)")
    return name


def _real_package(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of an importable module called ``name`` that is not one of our aliases, else None."""
    existing = sys.modules.get(name)
    if existing is not None:
        return getattr(existing, "__spec__", None) or importlib.machinery.ModuleSpec(name, None)
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def alias(name: str = "cs231n", flavor: str = "cs231n", force: bool = False) -> types.ModuleType:
    """Make ``import <name>`` and the course submodules of the flavor import xnn.

    Args:
        name: the course's top-level package name (``"cs231n"``, ``"cs6353"``, ``"nndl"``,
            ``"utils"``, ``"deeplearning"``, ...). Several names may be aliased at once.
        flavor: ``"cs231n"`` (Stanford 2018+, Utah), ``"cs182"`` (Berkeley, Stanford 2016-17:
            dropout ``p`` = drop probability) or ``"ece147"`` (UCLA: ``'a'``/``'v'`` optimizer
            keys); see :func:`flavors`.
        force: alias even over an importable package called ``name`` that is not a course
            package (it is then treated like a course folder: the aliased modules take
            precedence, the rest still comes from it), or replace an alias of ``name`` with
            another flavor. A course folder (``layers.py``, ``solver.py`` or ``classifiers/``
            in it) needs no ``force``.

    Returns:
        The aliased top-level module (``import <name>`` gives the same object).

    Raises:
        ValueError: unknown flavor; a name that is not an identifier, is a standard-library
            module or ``xnn``; an importable ``name`` that is not a course package (without
            ``force``); ``name`` is already aliased with another flavor (without ``force``).
        TypeError: ``name`` is not a string.

    Aliasing a name again with the same flavor does nothing (and returns the same module).
    """
    name = _check_name(name)
    chosen = _flavor(flavor)
    current = _hook.finder().get(name)
    if current is not None:
        if current.flavor.name == chosen.name:
            return importlib.import_module(name)
        if not force:
            raise ValueError(f"alias: {name!r} is already aliased with flavor {current.flavor.name!r}; "
                             f"call xnn.compat.unalias({name!r}) first or pass force=True")
        unalias(name)
    real = _real_package(name)
    locations = tuple(real.submodule_search_locations or ()) if real is not None else ()
    if real is not None and not force and not _course.is_course_package(locations):
        where = real.origin or ", ".join(locations) or "sys.modules"
        raise ValueError(f"alias: {name!r} is importable ({where}) but is not a course package (no "
                         f"{', '.join(m if '.' in m else m + '/' for m in _course.COURSE_MARKERS)} in its folder); "
                         f"xnn.compat will not hide it unless you pass force=True (then xnn serves {name}.layers, "
                         f"{name}.solver, ... and the rest still loads from that package)")
    _hook.purge_modules(name)
    _hook.finder().register(_hook.AliasEntry(name, chosen, locations))
    _hook.install()
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(name)
    except BaseException:
        unalias(name)
        raise
    if locations:
        _course.announce(name, chosen, locations)
    return module


def unalias(name: str) -> bool:
    """Remove the alias ``name`` and drop ``name`` and ``name.*`` from ``sys.modules``.

    Returns:
        True if ``name`` was aliased, False otherwise (nothing is touched then).
    """
    entry = _hook.finder().unregister(name)
    if entry is None:
        return False
    _hook.purge_modules(name)
    _hook.uninstall_if_unused()
    return True
