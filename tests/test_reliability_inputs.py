"""Bad input to every public layer and model: the documented exception, naming the function.

``ValueError`` for bad values and shapes, ``TypeError`` for bad types, namespaces and caches,
``KeyError`` for a parameter dict without a required key (cs231n reads them with ``[]``). Each
case runs on NumPy and array-api-strict (and CuPy with a GPU) through the ``xp`` fixture.
"""

from __future__ import annotations

import array_api_strict
import numpy as np
import pytest

from xnn import layers as L
from xnn import models

_r = np.random.default_rng(0)
X4 = _r.standard_normal((2, 3, 8, 8))
W4 = _r.standard_normal((4, 3, 3, 3))
B4 = np.zeros(4)
X2 = _r.standard_normal((5, 6))
W2 = _r.standard_normal((6, 3))
B2 = np.zeros(3)
Y = np.array([0, 1, 2, 0, 1])
CP = {"stride": 1, "pad": 1}
PP = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _conv_cache(a):
    return L.conv_forward_fast(a(X4), a(W4), a(B4), CP)[1]


def _pool_cache(a):
    return L.max_pool_forward_fast(a(X4), PP)[1]


def _bn(a, x, n, **param):
    return lambda: L.batchnorm_forward(a(x), a(np.ones(n)), a(np.zeros(n)), {"mode": "train", **param})


# (id, thunk builder taking the array maker `a`, exception, regex the message must match)
CASES = [
    # --- not arrays, wrong dtypes
    ("affine x list", lambda a: lambda: L.affine_forward([[1.0] * 6], a(W2), a(B2)), TypeError,
     r"^affine_forward: x must be an array, got list"),
    ("affine w None", lambda a: lambda: L.affine_forward(a(X2), None, a(B2)), TypeError,
     r"^affine_forward: w must be an array, got NoneType"),
    ("relu None", lambda a: lambda: L.relu_forward(None), TypeError, r"^relu_forward: x must be an array"),
    ("relu bool", lambda a: lambda: L.relu_forward(a(X2 > 0)), TypeError,
     r"^relu_forward: x must hold real numbers .*bool"),
    ("conv complex", lambda a: lambda: L.conv_forward_fast(a(X4 + 0j), a(W4), a(B4), CP), TypeError,
     r"^conv_forward_fast: x must hold real numbers .*complex"),
    ("pool bool", lambda a: lambda: L.max_pool_forward_fast(a(X4 > 0), PP), TypeError,
     r"^max_pool_forward_fast: x must hold real numbers"),
    ("dropout scalar", lambda a: lambda: L.dropout_forward(1.0, {"mode": "train", "p": 0.5}), TypeError,
     r"^dropout_forward: x must be an array, got float"),
    # --- ranks and shapes
    ("affine w rows", lambda a: lambda: L.affine_forward(a(X2), a(W2[:5]), a(B2)), ValueError,
     r"^affine_forward: w must have 6 rows to match x \(5, 6\)"),
    ("affine b shape", lambda a: lambda: L.affine_forward(a(X2), a(W2), a(np.zeros(4))), ValueError,
     r"^affine_forward: b must have shape \(3,\), got \(4,\)"),
    ("conv x rank", lambda a: lambda: L.conv_forward_fast(a(X4[0]), a(W4), a(B4), CP), ValueError,
     r"^conv_forward_fast: x must be 4-D \(N, C, H, W\), got shape \(3, 8, 8\)"),
    ("conv channels", lambda a: lambda: L.conv_forward_naive(a(X4), a(W4[:, :2]), a(B4), CP), ValueError,
     r"^conv_forward_naive: w has 2 channels but x has 3 \(x \(2, 3, 8, 8\), w \(4, 2, 3, 3\)\)"),
    ("conv NHWC", lambda a: lambda: L.conv_forward_fast(a(X4.transpose(0, 2, 3, 1)), a(W4), a(B4), CP), ValueError,
     r"^conv_forward_fast: w has 3 channels but x has 8 .*; x looks like NHWC images \(N, H, W, C\) with its 3 "
     r"channels last, but xnn takes NCHW \(N, C, H, W\): pass x\.transpose\(0, 3, 1, 2\)"),
    ("conv no filters", lambda a: lambda: L.conv_forward_fast(a(X4), a(W4[:0]), a(B4[:0]), CP), ValueError,
     r"^conv_forward_fast: w must hold at least one filter"),
    ("bn gamma", lambda a: lambda: L.batchnorm_forward(a(X2), a(np.ones(3)), a(np.zeros(6)), {"mode": "train"}),
     ValueError, r"^batchnorm_forward: gamma must have shape \(6,\), got \(3,\) \(x \(5, 6\)\)"),
    ("bn running_mean", lambda a: _bn(a, X2, 6, running_mean=a(np.zeros(2))), ValueError,
     r"^batchnorm_forward: bn_param\['running_mean'\] must have shape \(6,\)"),
    ("ln rank", lambda a: lambda: L.layernorm_forward(a(X4), a(np.ones(3)), a(np.zeros(3)), {}), ValueError,
     r"^layernorm_forward: x must be 2-D"),
    ("sbn channels", lambda a: lambda: L.spatial_batchnorm_forward(a(X4), a(np.ones(4)), a(np.zeros(4)),
                                                                   {"mode": "train"}), ValueError,
     r"^spatial_batchnorm_forward: gamma must have shape \(3,\), got \(4,\)"),
    ("gn groups", lambda a: lambda: L.spatial_groupnorm_forward(a(X4), a(np.ones((1, 3, 1, 1))),
                                                                a(np.zeros((1, 3, 1, 1))), 2, {}), ValueError,
     r"^spatial_groupnorm_forward: G=2 groups must divide the 3 channels"),
    ("gn gamma", lambda a: lambda: L.spatial_groupnorm_forward(a(X4), a(np.ones(3)), a(np.zeros(3)), 3, {}),
     ValueError, r"^spatial_groupnorm_forward: gamma must have shape \(1, 3, 1, 1\), got \(3,\)"),
    # --- geometry
    ("conv filter too big", lambda a: lambda: L.conv_forward_fast(a(X4), a(np.ones((4, 3, 11, 11))), a(B4), CP),
     ValueError, r"^conv_forward_fast: filter 11x11 does not fit the padded input 10x10"),
    ("conv stride 0", lambda a: lambda: L.conv_forward_fast(a(X4), a(W4), a(B4), {"stride": 0, "pad": 1}),
     ValueError, r"^conv_forward_fast: conv_param\['stride'\] must be a positive integer, got 0"),
    ("conv stride nan", lambda a: lambda: L.conv_forward_im2col(a(X4), a(W4), a(B4), {"stride": np.nan, "pad": 0}),
     ValueError, r"^conv_forward_im2col: conv_param\['stride'\] must be a positive integer, got nan"),
    ("conv stride inf", lambda a: lambda: L.conv_forward_fast(a(X4), a(W4), a(B4), {"stride": np.inf, "pad": 0}),
     ValueError, r"conv_param\['stride'\] must be a positive integer, got inf"),
    ("conv stride None", lambda a: lambda: L.conv_forward_fast(a(X4), a(W4), a(B4), {"stride": None, "pad": 0}),
     TypeError, r"^conv_forward_fast: conv_param\['stride'\] must be a positive integer, got NoneType"),
    ("conv pad -1", lambda a: lambda: L.conv_forward_strides(a(X4), a(W4), a(B4), {"stride": 1, "pad": -1}),
     ValueError, r"^conv_forward_strides: conv_param\['pad'\] must be a non-negative integer, got -1"),
    ("pool window", lambda a: lambda: L.max_pool_forward_naive(a(X4), dict(PP, pool_height=9)), ValueError,
     r"^max_pool_forward_naive: pool window 9x2 does not fit the input 8x8"),
    ("pool stride 1.5", lambda a: lambda: L.max_pool_forward_fast(a(X4), dict(PP, stride=1.5)), ValueError,
     r"^max_pool_forward_fast: pool_param\['stride'\] must be a positive integer, got 1.5"),
    ("pool reshape", lambda a: lambda: L.max_pool_forward_reshape(a(X4), dict(PP, stride=1)), ValueError,
     r"^max_pool_forward_reshape: needs pool_height == pool_width == stride"),
    # --- labels
    ("softmax labels high", lambda a: lambda: L.softmax_loss(a(X2[:, :3]), a(Y + 1)), ValueError,
     r"^softmax_loss: labels must lie in \[0, 3\) for 3 classes, got min 1, max 3"),
    ("svm labels negative", lambda a: lambda: L.svm_loss(a(X2[:, :3]), a(Y - 1)), ValueError,
     r"^svm_loss: labels must lie in \[0, 3\)"),
    ("softmax float labels", lambda a: lambda: L.softmax_loss(a(X2[:, :3]), a(Y * 1.0)), TypeError,
     r"^softmax_loss: y must hold integer class labels, got dtype .*float64"),
    ("softmax labels 2-D", lambda a: lambda: L.softmax_loss(a(X2[:, :3]), a(Y[:, None])), ValueError,
     r"^softmax_loss: y must have shape \(5,\)"),
    ("softmax empty", lambda a: lambda: L.softmax_loss(a(np.zeros((0, 3))), a(Y[:0])), ValueError,
     r"^softmax_loss: x must hold at least one sample and one class, got shape \(0, 3\)"),
    # --- modes and parameter dicts
    ("bn mode", lambda a: _bn(a, X2, 6, mode="eval"), ValueError,
     r'^batchnorm_forward: Invalid forward batchnorm mode "eval"'),
    ("bn eps", lambda a: _bn(a, X2, 6, eps=-1e-5), ValueError,
     r"^batchnorm_forward: bn_param\['eps'\] must be a finite number in \(0.0, inf\]"),
    ("bn momentum", lambda a: _bn(a, X2, 6, momentum="0.9"), TypeError,
     r"^batchnorm_forward: bn_param\['momentum'\] must be a real number, got str"),
    ("bn param None", lambda a: lambda: L.batchnorm_forward(a(X2), a(np.ones(6)), a(np.zeros(6)), None), TypeError,
     r"^batchnorm_forward: bn_param must be a dict, got NoneType"),
    ("ln eps nan", lambda a: lambda: L.layernorm_forward(a(X2), a(np.ones(6)), a(np.zeros(6)), {"eps": np.nan}),
     ValueError, r"^layernorm_forward: ln_param\['eps'\] must be a finite number"),
    ("dropout mode", lambda a: lambda: L.dropout_forward(a(X2), {"mode": "eval", "p": 0.5}), ValueError,
     r'^dropout_forward: Invalid forward dropout mode "eval"'),
    ("dropout p", lambda a: lambda: L.dropout_forward(a(X2), {"mode": "train", "p": 0.0}), ValueError,
     r"^dropout_forward: the keep probability must lie in \(0, 1\], got p=0.0"),
    ("conv param missing", lambda a: lambda: L.conv_forward_fast(a(X4), a(W4), a(B4), {"stride": 1}), KeyError,
     r"conv_forward_fast: conv_param is missing 'pad'"),
    ("pool param list", lambda a: lambda: L.max_pool_forward_fast(a(X4), [2, 2, 2]), TypeError,
     r"^max_pool_forward_fast: pool_param must be a dict, got list"),
    # --- backward: dout shapes and caches
    ("conv dout", lambda a: lambda: L.conv_backward_fast(a(np.ones((2, 4, 7, 7))), _conv_cache(a)), ValueError,
     r"^conv_backward_fast: dout must have shape \(2, 4, 8, 8\), got \(2, 4, 7, 7\)"),
    ("conv naive gets fast cache", lambda a: lambda: L.conv_backward_naive(a(np.ones((2, 4, 8, 8))),
                                                                           _conv_cache(a)), TypeError,
     r"^conv_backward_naive: cache must be the 4-tuple returned by conv_forward_naive, got a 5-tuple"),
    ("pool cache None", lambda a: lambda: L.max_pool_backward_fast(a(np.ones((2, 3, 4, 4))), None), TypeError,
     r"^max_pool_backward_fast: cache must be the 2-tuple returned by max_pool_forward_fast, got NoneType"),
    ("pool dout", lambda a: lambda: L.max_pool_backward_fast(a(np.ones((2, 3, 3, 3))), _pool_cache(a)), ValueError,
     r"^max_pool_backward_fast: dout must have shape \(2, 3, 4, 4\)"),
    ("bn cache", lambda a: lambda: L.batchnorm_backward(a(X2), (1, 2)), TypeError,
     r"^batchnorm_backward: cache must be the cache returned by batchnorm_forward, got tuple"),
    ("affine_relu cache", lambda a: lambda: L.affine_relu_backward(a(X2), ()), TypeError,
     r"^affine_relu_backward: cache must be the 2-tuple returned by affine_relu_forward, got a 0-tuple"),
    ("relu dout", lambda a: lambda: L.relu_backward(a(X2[:4]), a(X2)), ValueError,
     r"^relu_backward: dout must have shape \(5, 6\), got \(4, 6\)"),
    # --- models (their parameters are NumPy arrays: the inputs are NumPy too)
    ("cnn image size", lambda a: lambda: models.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3,
                                                                  hidden_dim=4).loss(X4[:, :, :6, :6]),
     ValueError, r"^ThreeLayerConvNet.loss: X must have shape \(N, 3, 8, 8\) for this model, got \(2, 3, 6, 6\)"),
    ("fc features", lambda a: lambda: models.FullyConnectedNet([4], input_dim=6, num_classes=3).loss(X4),
     ValueError, r"^FullyConnectedNet.loss: X must have 6 features per sample"),
    ("two-layer labels", lambda a: lambda: models.TwoLayerNet(6, 4, 3).loss(X2, Y * 1.0), TypeError,
     r"^TwoLayerNet.loss: y must hold integer class labels"),
    ("two-layer labels range", lambda a: lambda: models.TwoLayerNet(6, 4, 3).loss(X2, Y + 5), ValueError,
     r"^softmax_loss: labels must lie in \[0, 3\)"),
    ("linear loss features", lambda a: lambda: models.softmax_loss_vectorized(a(W2), a(X2[:, :5]), a(Y), 0.0),
     ValueError, r"^softmax_loss_vectorized: X has 5 features but W expects 6"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_named_error(xp, case):
    _, build, exc, pattern = case

    def a(arr):
        return xp.asarray(arr)

    with pytest.raises(exc, match=pattern):
        build(a)()


MIXED = [
    ("affine_forward", lambda n, s: L.affine_forward(n(X2), s(W2), n(B2))),
    ("affine_backward", lambda n, s: L.affine_backward(s(np.ones((5, 3))), L.affine_forward(n(X2), n(W2), n(B2))[1])),
    ("conv_forward_fast", lambda n, s: L.conv_forward_fast(n(X4), n(W4), s(B4), CP)),
    ("conv_backward_naive", lambda n, s: L.conv_backward_naive(s(np.ones((2, 4, 8, 8))),
                                                               L.conv_forward_naive(n(X4), n(W4), n(B4), CP)[1])),
    ("max_pool_backward_fast", lambda n, s: L.max_pool_backward_fast(s(np.ones((2, 3, 4, 4))), _pool_cache(n))),
    ("batchnorm_forward", lambda n, s: L.batchnorm_forward(n(X2), n(np.ones(6)), n(np.zeros(6)),
                                                           {"mode": "test", "running_var": s(np.ones(6))})),
    ("spatial_groupnorm_forward", lambda n, s: L.spatial_groupnorm_forward(n(X4), s(np.ones((1, 3, 1, 1))),
                                                                           n(np.zeros((1, 3, 1, 1))), 1, {})),
    ("softmax_loss", lambda n, s: L.softmax_loss(n(X2[:, :3]), s(Y))),
    ("dropout_backward", lambda n, s: L.dropout_backward(s(X2), L.dropout_forward(n(X2), {"mode": "train",
                                                                                          "p": .5})[1])),
    ("svm_loss_naive", lambda n, s: models.svm_loss_naive(n(W2), s(X2), n(Y), 0.0)),
]


@pytest.mark.parametrize("fn, call", MIXED, ids=[m[0] for m in MIXED])
def test_mixed_namespaces_name_the_function_and_both_arrays(fn, call):
    with pytest.raises(TypeError, match=rf"^{fn}: mixed array namespaces: \w+ is .* but \w+ is ") as err:
        call(np.asarray, array_api_strict.asarray)
    assert "numpy.ndarray(shape=" in str(err.value) and "array_api_strict" in str(err.value)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"weight_scale": float("nan")}, ValueError, r"weight_scale must be a finite number, got nan"),
    ({"reg": -1.0}, ValueError, r"reg must be a finite number in \[0.0, inf\], got -1.0"),
    ({"reg": "0.1"}, TypeError, r"reg must be a real number, got str"),
    ({"hidden_dim": 0}, ValueError, r"hidden_dim must be a positive integer, got 0"),
])
def test_model_hyperparameters(kwargs, exc, pattern):
    for model in (models.TwoLayerNet, models.ThreeLayerConvNet):
        with pytest.raises(exc, match=rf"^{model.__name__}: {pattern}"):
            model(**kwargs)


def test_valid_edge_cases_still_work(xp):
    """Integer inputs, an empty batch and a 1x1 output are legal and give the right shapes."""
    out, _ = L.conv_forward_fast(xp.asarray(X4[:0]), xp.asarray(W4), xp.asarray(B4), CP)
    assert tuple(out.shape) == (0, 4, 8, 8)
    out, _ = L.max_pool_forward_fast(xp.asarray(X4), dict(PP, pool_height=8, pool_width=8, stride=8))
    assert tuple(out.shape) == (2, 3, 1, 1)
    out, _ = L.affine_forward(xp.asarray(np.arange(12.0).reshape(2, 6)), xp.asarray(W2), xp.asarray(B2))
    assert tuple(out.shape) == (2, 3)
    out, _ = L.max_pool_forward_fast(xp.asarray(np.arange(16).reshape(1, 1, 4, 4)), PP)  # integer images
    assert tuple(out.shape) == (1, 1, 2, 2)
    out, _ = L.conv_forward_fast(xp.asarray(X4), xp.asarray(W4), xp.asarray(B4), {"stride": np.int64(2), "pad": 1})
    assert tuple(out.shape) == (2, 4, 4, 4)
