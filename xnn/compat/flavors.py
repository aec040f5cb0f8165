"""Flavors: which course module names exist, and which xnn objects fill each of them.

A :class:`Flavor` maps a module path relative to the alias (``"layers"``,
``"classifiers.fc_net"``, ``""`` for the top-level package) to a :class:`Recipe`. A recipe lists
the names the course file defines (taken from xnn modules), the sibling course modules the file
star-imports (cs231n's ``fc_net.py`` does ``from ..layers import *``, so ``from
cs231n.classifiers.fc_net import *`` also yields every layer function), and flavor overrides:
objects that adapt a signature or a dict key for one course (a flavor wraps xnn, it never forks
the math). The name lists come from :mod:`xnn.layers` and :mod:`xnn.optim`; the objects are
taken from their source modules when the aliased module is first imported.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import layers, optim

Names = tuple[tuple[str, tuple[str, ...]], ...]  # ((xnn module, (name, ...)), ...)


@dataclass(frozen=True)
class Recipe:
    """How to fill one aliased module.

    ``names``: required ``(source module, names)`` pairs; ``optional``: the same, silently skipped
    when the source lacks a name; ``star_from``: sibling module paths (relative to the alias)
    whose ``__all__`` this module re-exports, as the course file's ``from .x import *`` does;
    ``overrides``: flavor objects applied last; ``package``: whether it has submodules;
    ``post``: ``"module:function"`` adapters called as ``function(module, package_dirs)`` at the
    end, where ``package_dirs`` are the real course package's directories (empty unless forced).
    """

    names: Names = ()
    optional: Names = ()
    star_from: tuple[str, ...] = ()
    overrides: Names = ()
    package: bool = False
    post: tuple[str, ...] = ()

    def with_overrides(self, source: str, names: tuple[str, ...]) -> Recipe:
        return dataclasses.replace(self, overrides=self.overrides + ((source, names),))


def _import_source(where: str, source: str) -> types.ModuleType:
    try:
        return importlib.import_module(source)
    except ImportError as exc:
        raise ImportError(f"{where}: cannot import {source} ({exc})") from exc


def _take(where: str, source: str, names: tuple[str, ...], required: bool) -> dict[str, Any]:
    """``{name: object}`` from module ``source``; a missing required name is an ``ImportError``.

    An entry ``"course_name=xnn_name"`` exposes ``source.xnn_name`` under ``course_name``.
    """
    module = _import_source(where, source)
    found: dict[str, Any] = {}
    for entry in names:
        name, _, attr = entry.partition("=")
        attr = attr or name
        if hasattr(module, attr):
            found[name] = getattr(module, attr)
        elif required:
            raise ImportError(f"{where}: {source} has no {attr!r}", name=where)
    return found


@dataclass(frozen=True)
class Flavor:
    """A named set of recipes (see the module docstring). ``description`` says which courses use it."""

    name: str
    description: str
    recipes: dict[str, Recipe] = field(default_factory=dict)

    def defines(self, relname: str) -> bool:
        return relname in self.recipes

    def is_package(self, relname: str) -> bool:
        return self.recipes[relname].package

    def modules(self) -> list[str]:
        """The module paths this flavor serves, relative to the alias ('' = the package itself)."""
        return sorted(self.recipes)

    def derive(self, name: str, description: str, overrides: dict[str, Names] | None = None,
               extra: dict[str, Recipe] | None = None) -> Flavor:
        """A new flavor: this one's recipes, plus ``extra`` modules, with ``overrides`` per module."""
        recipes = dict(self.recipes)
        recipes.update(extra or {})
        for relname, pairs in (overrides or {}).items():
            for source, names in pairs:
                recipes[relname] = recipes[relname].with_overrides(source, names)
        return Flavor(name, description, recipes)

    def populate(self, module: types.ModuleType, alias: str, relname: str,
                 package_dirs: tuple[str, ...] | list[str] = ()) -> None:
        """Fill ``module`` (the aliased ``<alias>.<relname>``) with its recipe's objects and ``__all__``.

        ``package_dirs``: the directories of a real package the alias was forced over (for ``post``).
        """
        recipe = self.recipes[relname]
        where = f"{alias}.{relname}" if relname else alias
        namespace: dict[str, Any] = {}
        exported: set[str] = set()
        for sibling in recipe.star_from:
            other = importlib.import_module(f"{alias}.{sibling}")
            names = tuple(getattr(other, "__all__", ()))
            namespace.update({n: getattr(other, n) for n in names})
            exported.update(names)
        for pairs, required in ((recipe.names, True), (recipe.optional, False), (recipe.overrides, True)):
            for source, names in pairs:
                found = _take(where, source, names, required)
                namespace.update(found)
                exported.update(found)
        if recipe.names or recipe.star_from:
            namespace["np"] = np  # the course files import numpy as np; star imports carry it
            exported.add("np")
        module.__dict__.update(namespace)
        module.__all__ = sorted(exported)
        module.__doc__ = (f"xnn stand-in for the course module {where} (xnn.compat flavor {self.name!r}); "
                          "its objects come from xnn.")
        module.__xnn_flavor__ = self.name
        for target in recipe.post:
            source, _, func = target.partition(":")
            getattr(_import_source(where, source), func)(module, list(package_dirs))


# --------------------------------------------------------------------------- cs231n file contents
LAYERS = layers.LAYERS_NAMES
FAST_LAYERS = layers.FAST_LAYERS_NAMES
FAST_LAYERS_OPTIONAL = layers.FAST_LAYERS_EXTRA_NAMES
LAYER_UTILS = layers.LAYER_UTILS_NAMES
LAYER_UTILS_OPTIONAL = layers.LAYER_UTILS_EXTRA_NAMES
OPTIM = optim.UPDATE_RULES
GRADIENT_CHECK = ("eval_numerical_gradient", "eval_numerical_gradient_array", "eval_numerical_gradient_blobs",
                  "eval_numerical_gradient_net", "grad_check_sparse")
DATA_UTILS = ("load_pickle", "load_CIFAR_batch", "load_CIFAR10", "get_CIFAR10_data")
DATA_UTILS_OPTIONAL = ("load_tiny_imagenet", "load_models", "load_imagenet_val")
VIS_UTILS = ("visualize_grid", "vis_grid", "vis_nn")
RNN_LAYERS = layers.RNN_LAYERS_NAMES
COCO_UTILS = ("load_coco_data", "decode_captions", "sample_coco_minibatch", "BASE_DIR")

_FC_NET = Recipe(names=(("xnn.models", ("TwoLayerNet", "FullyConnectedNet")),), star_from=("layers", "layer_utils"))
_CNN = Recipe(names=(("xnn.models", ("ThreeLayerConvNet",)),), star_from=("layers", "fast_layers", "layer_utils"))

CS231N = Flavor(
    "cs231n",
    "Stanford CS231n 2018+ (keep-probability dropout, dropout_keep_ratio=, normalization=); "
    "also Utah CS6353",
    {
        "": Recipe(package=True),
        "layers": Recipe(names=(("xnn.layers", LAYERS),)),
        "fast_layers": Recipe(names=(("xnn.layers", FAST_LAYERS),),
                              optional=(("xnn.layers", FAST_LAYERS_OPTIONAL),)),
        "layer_utils": Recipe(names=(("xnn.layers", LAYER_UTILS),), optional=(("xnn.layers", LAYER_UTILS_OPTIONAL),),
                              star_from=("layers", "fast_layers")),
        "optim": Recipe(names=(("xnn.optim", OPTIM),)),
        "solver": Recipe(names=(("xnn.solver", ("Solver",)),)),
        "gradient_check": Recipe(names=(("xnn.gradient_check", GRADIENT_CHECK),)),
        "data_utils": Recipe(names=(("xnn.data", DATA_UTILS),), optional=(("xnn.data", DATA_UTILS_OPTIONAL),),
                             post=("xnn.compat.course_data:use_course_datasets",)),
        "vis_utils": Recipe(names=(("xnn.vis", VIS_UTILS),)),
        "classifiers": Recipe(package=True, star_from=("classifiers.linear_classifier",)),
        "classifiers.softmax": Recipe(names=(("xnn.models", ("softmax_loss_naive", "softmax_loss_vectorized")),)),
        "classifiers.linear_svm": Recipe(names=(("xnn.models", ("svm_loss_naive", "svm_loss_vectorized")),)),
        "classifiers.linear_classifier": Recipe(names=(("xnn.models", ("LinearClassifier", "LinearSVM", "Softmax")),),
                                                star_from=("classifiers.linear_svm", "classifiers.softmax")),
        "classifiers.fc_net": _FC_NET,
        "classifiers.cnn": _CNN,
        "classifiers.neural_net": Recipe(names=(("xnn.compat.neural_net", ("TwoLayerNet",)),)),  # a1 up to 2020
        "fc_net": _FC_NET,  # flat layout (UCLA nndl.fc_net, nndl.cnn)
        "cnn": _CNN,
        # assignment 3 (recurrent captioning); classifiers/rnn.py star-imports rnn_layers
        "rnn_layers": Recipe(names=(("xnn.layers", RNN_LAYERS),)),
        "classifiers.rnn": Recipe(names=(("xnn.models", ("CaptioningRNN",)),), star_from=("rnn_layers",)),
        "captioning_solver": Recipe(names=(("xnn.captioning_solver", ("CaptioningSolver",)),)),
        "coco_utils": Recipe(names=(("xnn.data.coco", COCO_UTILS),), post=("xnn.compat.course_data:use_course_coco",)),
    },
)

_CS182 = "xnn.compat.cs182"
CS182 = CS231N.derive(
    "cs182",
    "Berkeley CS182 `deeplearning` and Stanford CS231n 2016-17 (dropout p = DROP probability, mask rand >= p, "
    "FullyConnectedNet(dropout=0, use_batchnorm=False) whose batchnorm stays in train mode as in the starter, "
    "Solver.record_histories_as_npz, log_acc_iteration)",
    overrides={
        "layers": ((_CS182, ("dropout_forward", "dropout_backward")),),
        "classifiers.fc_net": ((_CS182, ("FullyConnectedNet",)),),
        "fc_net": ((_CS182, ("FullyConnectedNet",)),),
        "solver": (("xnn.compat.solvers", ("Solver=CS182Solver",)),),
    },
)

_ECE147 = "xnn.compat.ece147"
CONV_LAYERS = ("conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
               "spatial_batchnorm_forward", "spatial_batchnorm_backward")
CONV_LAYER_UTILS = ("conv_relu_forward", "conv_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward",
                    "conv_bn_relu_forward", "conv_bn_relu_backward")
#: UCLA's nndl/layer_tests.py: its six self-tests and its rel_error.
LAYER_TESTS = ("affine_forward_test", "affine_backward_test", "relu_forward_test", "relu_backward_test",
               "affine_relu_test", "fc_net_test", "rel_error")
ECE147 = CS231N.derive(
    "ece147",
    "UCLA ECE C147/C247 `nndl` and `utils` (keep-probability dropout, FullyConnectedNet(dropout=1, "
    "use_batchnorm=False), rmsprop state 'a', adam state 'v'/'a'/'t', sgd_nesterov_momentum, nndl.layer_tests)",
    overrides={
        "optim": (("xnn.compat.ece147_optim", ("rmsprop", "adam", "sgd_nesterov_momentum")),),
        "classifiers.fc_net": ((_ECE147, ("FullyConnectedNet",)),),
        "fc_net": ((_ECE147, ("FullyConnectedNet",)),),
        "classifiers.cnn": ((_ECE147, ("ThreeLayerConvNet",)),),
        "cnn": ((_ECE147, ("ThreeLayerConvNet",)),),
        "solver": (("xnn.compat.solvers", ("Solver=ECE147Solver",)),),
        "captioning_solver": (("xnn.compat.solvers", ("CaptioningSolver=ECE147CaptioningSolver",)),),
    },
    extra={
        "layer_tests": Recipe(names=(("xnn.compat.ece147_layer_tests", LAYER_TESTS),
                                     ("xnn.gradient_check", GRADIENT_CHECK[:2]),
                                     ("xnn.layers", ("affine_relu_forward", "affine_relu_backward")),
                                     (_ECE147, ("FullyConnectedNet",))),
                              star_from=("layers",)),
        "conv_layers": Recipe(names=(("xnn.layers", CONV_LAYERS),), star_from=("layers",)),
        "conv_layer_utils": Recipe(names=(("xnn.layers", CONV_LAYER_UTILS),),
                                   star_from=("layers", "conv_layers", "fast_layers")),
    },
)

FLAVORS: dict[str, Flavor] = {f.name: f for f in (CS231N, CS182, ECE147)}
