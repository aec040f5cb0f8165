"""xnn.layers exports every cs231n layer name, and layer modules never do math with NumPy/CuPy."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import xnn.layers

LAYERS_DIR = Path(xnn.layers.__file__).parent

# cs231n layers.py (assignments 1 and 2 together)
LAYERS_PY = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "svm_loss", "softmax_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
]
# cs231n fast_layers.py
FAST_LAYERS_PY = [
    "conv_forward_im2col", "conv_backward_im2col", "conv_forward_strides", "conv_backward_strides",
    "conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast",
    "max_pool_forward_reshape", "max_pool_backward_reshape",
    "max_pool_forward_im2col", "max_pool_backward_im2col",
]
# cs231n layer_utils.py, plus xnn's extra norm sandwiches
LAYER_UTILS_PY = [
    "affine_relu_forward", "affine_relu_backward", "conv_relu_forward", "conv_relu_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward",
]
EXTRA_SANDWICHES = ["affine_bn_relu_forward", "affine_bn_relu_backward",
                    "affine_ln_relu_forward", "affine_ln_relu_backward"]
# assignment 3's rnn_layers.py (it defines its own affine pair)
RNN_LAYERS_PY = [
    "affine_forward", "affine_backward", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward", "sigmoid", "lstm_step_forward", "lstm_step_backward",
    "lstm_forward", "lstm_backward", "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
]
ALL_NAMES = LAYERS_PY + FAST_LAYERS_PY + LAYER_UTILS_PY + EXTRA_SANDWICHES + RNN_LAYERS_PY[2:]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_name_importable_and_listed(name):
    obj = getattr(xnn.layers, name, None)
    assert callable(obj), f"xnn.layers.{name} is missing"
    assert name in xnn.layers.__all__
    assert inspect.getdoc(obj), f"xnn.layers.{name} has no docstring"


def test_all_is_consistent():
    assert len(set(xnn.layers.__all__)) == len(xnn.layers.__all__)
    for name in xnn.layers.__all__:
        assert hasattr(xnn.layers, name), name


def test_star_import_gives_every_name():
    ns: dict = {}
    exec("from xnn.layers import *", ns)
    assert set(ALL_NAMES) <= set(ns)


def test_signatures_match_cs231n():
    sig = lambda f: list(inspect.signature(getattr(xnn.layers, f)).parameters)  # noqa: E731
    assert sig("affine_bn_relu_forward") == ["x", "w", "b", "gamma", "beta", "bn_param"]
    assert sig("affine_ln_relu_forward") == ["x", "w", "b", "gamma", "beta", "ln_param"]
    assert sig("conv_bn_relu_forward") == ["x", "w", "b", "gamma", "beta", "conv_param", "bn_param"]
    assert sig("conv_relu_pool_forward") == ["x", "w", "b", "conv_param", "pool_param"]
    assert sig("spatial_groupnorm_forward") == ["x", "gamma", "beta", "G", "gn_param"]
    for name in ALL_NAMES:
        if name in RNN_LAYERS_PY[2:]:
            continue
        if name.endswith("_backward") or name.endswith("_backward_alt"):
            assert sig(name) == ["dout", "cache"], name


def test_rnn_layer_group_and_signatures():
    assert list(xnn.layers.RNN_LAYERS_NAMES) == RNN_LAYERS_PY
    sig = lambda f: list(inspect.signature(getattr(xnn.layers, f)).parameters)  # noqa: E731
    assert sig("rnn_step_forward") == ["x", "prev_h", "Wx", "Wh", "b"]
    assert sig("rnn_step_backward") == ["dnext_h", "cache"]
    assert sig("rnn_forward") == sig("lstm_forward") == ["x", "h0", "Wx", "Wh", "b"]
    assert sig("rnn_backward") == sig("lstm_backward") == ["dh", "cache"]
    assert sig("lstm_step_forward") == ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
    assert sig("lstm_step_backward") == ["dnext_h", "dnext_c", "cache"]
    assert sig("word_embedding_forward") == ["x", "W"]
    assert sig("temporal_affine_forward") == ["x", "w", "b"]
    assert sig("temporal_softmax_loss") == ["x", "y", "mask", "verbose"]
    for name in ("word_embedding_backward", "temporal_affine_backward"):
        assert sig(name) == ["dout", "cache"]


# --------------------------------------------------------------------------- no NumPy/CuPy math
# numpy attributes a layer module may name: dtypes and dtype helpers for signatures/defaults
ALLOWED_NUMPY_ATTRS = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                       "bool_", "dtype", "ndarray", "generic", "floating", "integer"}


def _layer_modules():
    return sorted(p for p in LAYERS_DIR.rglob("*.py"))


def _numpy_violations(tree: ast.AST) -> list[str]:
    aliases: set[str] = set()
    bad: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "cupy":
                    bad.append(f"line {node.lineno}: import {a.name}")
                if a.name == "numpy":
                    aliases.add(a.asname or "numpy")
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root == "cupy":
                bad.append(f"line {node.lineno}: from {node.module} import ...")
            if root == "numpy":
                names = {a.name for a in node.names}
                if not names <= ALLOWED_NUMPY_ATTRS:
                    bad.append(f"line {node.lineno}: from {node.module} import {sorted(names)}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr not in ALLOWED_NUMPY_ATTRS:
                bad.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return bad


@pytest.mark.parametrize("path", _layer_modules(), ids=lambda p: p.name)
def test_layer_module_does_no_numpy_or_cupy_math(path):
    bad = _numpy_violations(ast.parse(path.read_text(), filename=str(path)))
    assert not bad, f"{path.name} uses NumPy/CuPy directly: {bad}"


def test_scanner_catches_violations():
    assert _numpy_violations(ast.parse("import numpy as np\ny = np.sum(x)")) == ["line 2: np.sum"]
    assert _numpy_violations(ast.parse("import cupy\n"))
    assert _numpy_violations(ast.parse("from numpy import einsum\n"))
    assert _numpy_violations(ast.parse("import numpy as np\ndef f(dtype=np.float32): pass")) == []


def test_layer_modules_import_without_cupy():
    for path in _layer_modules():
        rel = path.relative_to(LAYERS_DIR.parent).with_suffix("")
        importlib.import_module("xnn." + ".".join(rel.parts))
