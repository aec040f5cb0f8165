"""xnn.compat.alias: course package names import xnn (the mechanism; flavors in test_compat_flavors.py).

Notebook-style imports run in a fresh interpreter (``_run``) so nothing leaks between tests; the
in-process tests use the ``aliased`` fixture, which always unaliases afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from course_stub import run_python

from xnn import compat
from xnn.compat import _hook


def _run(code: str, cwd: Path) -> str:
    """Run ``code`` in a fresh interpreter (cwd on sys.path, like a notebook); return stdout."""
    return run_python(code, cwd).stdout


@pytest.fixture
def aliased():
    """alias(name, flavor) that is undone after the test."""
    made: list[str] = []

    def make(name: str, flavor: str = "cs231n", **kw):
        module = compat.alias(name, flavor=flavor, **kw)
        made.append(name)
        return module

    yield make
    for name in made:
        compat.unalias(name)
    assert _hook.finder() not in sys.meta_path or compat.aliases()


# --------------------------------------------------------------------------- notebook imports
NOTEBOOK_CS231N = """
    import xnn.compat; xnn.compat.alias("cs231n")
    import numpy as np
    from cs231n.classifiers.fc_net import *
    from cs231n.classifiers.cnn import *
    from cs231n.layers import *
    from cs231n.layer_utils import *
    from cs231n.fast_layers import conv_forward_fast, conv_backward_fast, max_pool_forward_fast
    from cs231n.solver import Solver
    from cs231n import optim
    from cs231n.optim import sgd_momentum, rmsprop, adam
    from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
    from cs231n.data_utils import get_CIFAR10_data, load_CIFAR10, load_pickle
    from cs231n.vis_utils import visualize_grid
    from cs231n.classifiers import LinearSVM, Softmax
    from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
    from cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
    from cs231n.classifiers.linear_classifier import LinearClassifier
    import xnn.layers, xnn.models, xnn.solver, xnn.optim
    assert FullyConnectedNet is xnn.models.FullyConnectedNet and TwoLayerNet is xnn.models.TwoLayerNet
    assert ThreeLayerConvNet is xnn.models.ThreeLayerConvNet
    assert affine_forward is xnn.layers.affine_forward and dropout_forward is xnn.layers.dropout_forward
    assert conv_relu_pool_forward is xnn.layers.conv_relu_pool_forward
    assert Solver is xnn.solver.Solver and optim.adam is xnn.optim.adam
    import cs231n.fc_net, cs231n.cnn
    assert cs231n.fc_net.FullyConnectedNet is FullyConnectedNet
    print("ok")
"""


def test_cs231n_notebook_imports(tmp_path):
    assert _run(NOTEBOOK_CS231N, tmp_path).strip() == "ok"


@pytest.mark.parametrize("name", ["cs6353", "dl"])  # Utah CS6353; the Stanford-style `dl` package
def test_stanford_style_names_use_cs231n_flavor(tmp_path, name):
    out = _run(f"""
        import xnn.compat; xnn.compat.alias("{name}")
        from {name}.layers import *
        from {name}.classifiers.fc_net import FullyConnectedNet
        from {name}.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
        from {name}.classifiers.neural_net import TwoLayerNet
        from {name}.classifiers.cnn import ThreeLayerConvNet
        from {name}.data_utils import get_CIFAR10_data, load_CIFAR10
        from {name}.solver import Solver
        import xnn.layers, xnn.models
        assert affine_backward is xnn.layers.affine_backward and dropout_forward is xnn.layers.dropout_forward
        assert FullyConnectedNet is xnn.models.FullyConnectedNet
        print(xnn.compat.aliases())
    """, tmp_path)
    assert out.strip() == f"{{'{name}': 'cs231n'}}"


def test_berkeley_notebook_imports(tmp_path):
    out = _run("""
        import xnn.compat; xnn.compat.alias("deeplearning", flavor="cs182")
        from deeplearning.classifiers.fc_net import *
        from deeplearning.layers import *
        from deeplearning.layer_utils import *
        from deeplearning.solver import Solver
        from deeplearning import optim
        from deeplearning.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
        import xnn.compat.cs182 as cs182, xnn.compat.solvers as solvers
        assert dropout_forward is cs182.dropout_forward and FullyConnectedNet is cs182.FullyConnectedNet
        assert Solver is solvers.CS182Solver
        print("ok")
    """, tmp_path)
    assert out.strip() == "ok"


def test_ucla_notebook_imports_two_names(tmp_path):
    out = _run("""
        import xnn.compat
        xnn.compat.alias("nndl", flavor="ece147"); xnn.compat.alias("utils", flavor="ece147")
        from nndl.fc_net import *
        from nndl.cnn import *
        from nndl.layers import *
        from nndl.conv_layers import *
        from nndl.layer_utils import *
        from nndl import optim
        from utils.solver import Solver
        from utils.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
        from utils.data_utils import get_CIFAR10_data
        import xnn.compat.ece147 as ece147, xnn.compat.ece147_optim as ece147_optim, xnn.compat.solvers as s
        assert FullyConnectedNet is ece147.FullyConnectedNet and ThreeLayerConvNet is ece147.ThreeLayerConvNet
        assert optim.rmsprop is ece147_optim.rmsprop and optim.sgd_nesterov_momentum is not None
        assert Solver is s.ECE147Solver and conv_forward_naive is not None
        print(sorted(xnn.compat.aliases().items()))
    """, tmp_path)
    assert out.strip() == "[('nndl', 'ece147'), ('utils', 'ece147')]"


# --------------------------------------------------------------------------- module contents
def test_star_exports_follow_the_course_files(aliased):
    aliased("cs231n")
    import importlib
    layers = importlib.import_module("cs231n.layers")
    fast = importlib.import_module("cs231n.fast_layers")
    utils = importlib.import_module("cs231n.layer_utils")
    fc_net = importlib.import_module("cs231n.classifiers.fc_net")
    assert {"affine_forward", "spatial_groupnorm_backward", "svm_loss", "np"} <= set(layers.__all__)
    assert "conv_forward_fast" not in layers.__all__  # layers.py does not define the fast ones
    assert {"conv_forward_fast", "max_pool_backward_fast"} <= set(fast.__all__)
    # layer_utils.py star-imports layers and fast_layers; fc_net.py star-imports layers and layer_utils
    assert set(layers.__all__) | set(fast.__all__) <= set(utils.__all__)
    assert {"TwoLayerNet", "FullyConnectedNet", "affine_relu_forward", "batchnorm_forward"} <= set(fc_net.__all__)
    assert all(not n.startswith("_") for n in fc_net.__all__)
    data_utils = importlib.import_module("cs231n.data_utils")
    assert {"load_CIFAR10", "get_CIFAR10_data", "load_pickle", "load_CIFAR_batch"} <= set(data_utils.__all__)
    vis = importlib.import_module("cs231n.vis_utils")
    assert {"visualize_grid", "vis_grid", "vis_nn"} <= set(vis.__all__)


def test_modules_are_fresh_objects_and_xnn_is_untouched(aliased):
    import importlib

    import xnn.optim
    aliased("cs231n")
    optim = importlib.import_module("cs231n.optim")
    assert optim is not xnn.optim and optim.__name__ == "cs231n.optim"
    assert xnn.optim.__name__ == "xnn.optim" and xnn.optim.__spec__.name == "xnn.optim"
    assert optim.__xnn_flavor__ == "cs231n" and "xnn.compat" in repr(optim)


def test_unknown_submodule_is_module_not_found(aliased):
    aliased("cs231n")
    with pytest.raises(ModuleNotFoundError):
        __import__("cs231n.no_such_module")


# --------------------------------------------------------------------------- alias / unalias
def test_realias_same_flavor_is_idempotent(aliased):
    first = aliased("cs231n")
    import importlib
    optim = importlib.import_module("cs231n.optim")
    assert compat.alias("cs231n") is first
    assert importlib.import_module("cs231n.optim") is optim
    assert sys.meta_path.count(_hook.finder()) == 1


def test_other_flavor_needs_force(aliased):
    aliased("cs231n")
    with pytest.raises(ValueError, match="already aliased with flavor 'cs231n'"):
        compat.alias("cs231n", flavor="cs182")
    module = aliased("cs231n", flavor="cs182", force=True)
    assert module.__xnn_flavor__ == "cs182" and compat.aliases() == {"cs231n": "cs182"}


def test_unalias_removes_modules_and_finder():
    compat.alias("xnn_compat_probe")
    import importlib
    importlib.import_module("xnn_compat_probe.optim")
    assert compat.unalias("xnn_compat_probe") is True
    assert not any(m == "xnn_compat_probe" or m.startswith("xnn_compat_probe.") for m in sys.modules)
    assert _hook.finder() not in sys.meta_path
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("xnn_compat_probe")
    assert compat.unalias("xnn_compat_probe") is False


def test_several_names_at_once(aliased):
    aliased("nndl", "ece147")
    aliased("utils", "ece147")
    aliased("cs231n")
    assert compat.aliases() == {"nndl": "ece147", "utils": "ece147", "cs231n": "cs231n"}
    compat.unalias("utils")
    assert "utils" not in compat.aliases() and _hook.finder() in sys.meta_path


# --------------------------------------------------------------------------- refusals
def test_real_package_is_refused_without_force():
    with pytest.raises(ValueError, match="'pytest' is importable .* but is not a course package"):
        compat.alias("pytest")
    assert "pytest" not in compat.aliases()


def test_stdlib_and_xnn_are_refused_even_with_force():
    for name in ("json", "os", "xnn"):
        with pytest.raises(ValueError, match="standard-library module or xnn"):
            compat.alias(name)
        with pytest.raises(ValueError, match="force=True does not apply"):
            compat.alias(name, force=True)
    import json
    assert json.__spec__.origin.endswith("json/__init__.py") and not compat.aliases()


@pytest.mark.parametrize("name, error", [("cs231n.layers", ValueError), ("", ValueError), ("2cs", ValueError),
                                         (None, TypeError), (3, TypeError)])
def test_bad_names(name, error):
    with pytest.raises(error, match="alias: name"):
        compat.alias(name)


def test_unknown_flavor():
    with pytest.raises(ValueError, match=r"unknown flavor 'cs999'.*'cs182', 'cs231n', 'ece147'"):
        compat.alias("cs231n", flavor="cs999")
    assert not compat.aliases()


def test_flavors_and_modules_listing():
    assert set(compat.flavors()) == {"cs231n", "cs182", "ece147"}
    mods = compat.modules("cs231n")
    for m in ("layers", "fast_layers", "layer_utils", "optim", "solver", "gradient_check", "data_utils",
              "vis_utils", "classifiers", "classifiers.fc_net", "classifiers.cnn", "classifiers.softmax",
              "classifiers.linear_svm", "classifiers.linear_classifier", "fc_net", "cnn"):
        assert m in mods
    assert {"conv_layers", "conv_layer_utils"} <= set(compat.modules("ece147"))


def test_alias_over_a_real_course_folder(tmp_path):
    """A course folder next to the notebook: aliased in one line; its extra modules still load."""
    pkg = tmp_path / "cs231n"
    (pkg / "classifiers").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text("def affine_forward(*a):\n    raise RuntimeError('course stub')\n")
    (pkg / "image_utils.py").write_text("from .layers import *\nCOURSE = True\n")
    (pkg / "classifiers" / "__init__.py").write_text("")
    (pkg / "classifiers" / "squeezenet.py").write_text("from ..image_utils import *\n")
    (pkg / "datasets" / "cifar-10-batches-py").mkdir(parents=True)  # where get_datasets.sh puts CIFAR-10
    out = _run("""
        import xnn.compat
        xnn.compat.alias("cs231n")
        import xnn.layers
        from cs231n.layers import affine_forward
        from cs231n.image_utils import COURSE, affine_forward as via_course
        from cs231n.classifiers.squeezenet import COURSE as deep
        print(affine_forward is xnn.layers.affine_forward, via_course is affine_forward, COURSE, deep)
        from cs231n.data_utils import get_CIFAR10_data
        try:
            get_CIFAR10_data()
        except Exception as e:  # the course's (empty) datasets folder is where it looked
            print("cs231n/datasets/cifar-10-batches-py" in str(e))
    """, tmp_path)
    assert out.split("\n")[:2] == ["True True True True", "True"]


def test_course_datasets_default_only_when_present(tmp_path):
    import types

    from xnn.compat.course_data import use_course_datasets
    seen = []
    module = types.SimpleNamespace(get_CIFAR10_data=lambda *a, cifar10_dir=None: seen.append((a, cifar10_dir)))
    use_course_datasets(module, [str(tmp_path)])
    module.get_CIFAR10_data(10, 5)
    (tmp_path / "datasets" / "cifar-10-batches-py").mkdir(parents=True)
    module.get_CIFAR10_data(10, 5)
    module.get_CIFAR10_data(cifar10_dir="mine")
    assert seen == [((10, 5, 1000, True), None),
                    ((10, 5, 1000, True), str(tmp_path / "datasets" / "cifar-10-batches-py")),
                    ((49000, 1000, 1000, True), "mine")]
