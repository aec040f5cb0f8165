"""UCLA's ``nndl/layer_tests.py`` for the ece147 flavor: the course's self-tests of the layers it reuses.

UCLA's optimization notebook starts with ``from nndl.layer_tests import *`` and calls the six
functions below. Each runs cs231n's notebook check for one layer (fixed ``linspace`` inputs, or
inputs drawn from NumPy's global RNG and centred-difference numerical gradients) on xnn's layers
and prints the course's lines, wording included (``::`` and the ``relu_forward`` in the backward
test are the course's), so a notebook's output reads as the course's. The random checks draw, in
order, exactly what the course's draw, so a seed gives the course's figures.

The course file star-imports ``nndl.layers`` and imports ``eval_numerical_gradient``,
``eval_numerical_gradient_array``, ``affine_relu_forward``/``backward`` and ``FullyConnectedNet``;
the aliased module exports the same names (see the ``layer_tests`` recipe of the flavor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import layers
from ..gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from .ece147 import FullyConnectedNet

__all__ = ["affine_backward_test", "affine_forward_test", "affine_relu_test", "fc_net_test", "rel_error",
           "relu_backward_test", "relu_forward_test"]

#: cs231n's expected affine_forward output for the linspace inputs (printed to 8 digits there).
AFFINE_EXPECTED = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
#: cs231n's expected relu_forward output for ``linspace(-0.5, 0.5, 12)``.
RELU_EXPECTED = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.04545455, 0.13636364],
                          [0.22727273, 0.31818182, 0.40909091, 0.5]])


def rel_error(x: Any, y: Any) -> Any:
    """The notebooks' relative error: ``max |x - y| / max(1e-8, |x| + |y|)``."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _report(heading: str, figures: Sequence[tuple[str, Any]]) -> None:
    """The course's output: a heading line, then one ``<label>: <figure>`` line per figure."""
    print(heading)
    for label, value in figures:
        print(f"{label}: {value}")


def _gradient_errors(forward: Callable[..., Any], inputs: list[np.ndarray], analytic: Sequence[np.ndarray],
                     dout: np.ndarray, labels: Sequence[str]) -> list[tuple[str, Any]]:
    """``(label, rel_error(numerical, analytic))`` for each input of ``forward(*inputs)[0]``."""
    errors = []
    for k, (label, grad) in enumerate(zip(labels, analytic)):
        def f(value: np.ndarray, k: int = k) -> Any:
            return forward(*inputs[:k], value, *inputs[k + 1:])[0]
        errors.append((label, rel_error(eval_numerical_gradient_array(f, inputs[k], dout), grad)))
    return errors


def affine_forward_test() -> None:
    """``affine_forward`` on linspace inputs ``x (2, 4, 5, 6)``, ``w (120, 3)``, ``b (3,)``; no RNG."""
    x = np.linspace(-0.1, 0.5, num=2 * 120).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=3 * 120).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = layers.affine_forward(x, w, b)
    _report("If affine_forward function is working, difference should be less than 1e-9:",
            [("difference", rel_error(out, AFFINE_EXPECTED))])


def affine_backward_test() -> None:
    """``affine_backward`` against numerical gradients; draws ``x (10, 2, 3)``, ``w (6, 5)``, ``b (5,)``, ``dout``."""
    x, w, b = np.random.randn(10, 2, 3), np.random.randn(6, 5), np.random.randn(5)  # noqa: NPY002 (course draws)
    dout = np.random.randn(10, 5)  # noqa: NPY002
    _, cache = layers.affine_forward(x, w, b)
    grads = layers.affine_backward(dout, cache)
    _report("If affine_backward is working, error should be less than 1e-9::",
            _gradient_errors(layers.affine_forward, [x, w, b], grads, dout, ("dx error", "dw error", "db error")))


def relu_forward_test() -> None:
    """``relu_forward`` on ``linspace(-0.5, 0.5, 12)`` as ``(3, 4)``; no RNG."""
    out, _ = layers.relu_forward(np.linspace(-0.5, 0.5, num=12).reshape(3, 4))
    _report("If relu_forward function is working, difference should be around 1e-8:",
            [("difference", rel_error(out, RELU_EXPECTED))])


def relu_backward_test() -> None:
    """``relu_backward`` against a numerical gradient; draws ``x (10, 10)`` and ``dout``."""
    x = np.random.randn(10, 10)  # noqa: NPY002
    dout = np.random.randn(*x.shape)  # noqa: NPY002
    _, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    _report("If relu_forward function is working, error should be less than 1e-9:",
            _gradient_errors(layers.relu_forward, [x], [dx], dout, ("dx error",)))


def affine_relu_test() -> None:
    """The affine-relu sandwich against numerical gradients; draws ``x (2, 3, 4)``, ``w (12, 10)``, ``b``, ``dout``."""
    x, w, b = np.random.randn(2, 3, 4), np.random.randn(12, 10), np.random.randn(10)  # noqa: NPY002
    dout = np.random.randn(2, 10)  # noqa: NPY002
    _, cache = layers.affine_relu_forward(x, w, b)
    grads = layers.affine_relu_backward(dout, cache)
    _report("If affine_relu_forward and affine_relu_backward are working, error should be less than 1e-9::",
            _gradient_errors(layers.affine_relu_forward, [x, w, b], grads, dout,
                             ("dx error", "dw error", "db error")))


def fc_net_test() -> None:
    """A ``[20, 30]`` FullyConnectedNet on ``X (2, 15)``: the initial loss and every parameter's gradient error.

    Draws ``X``, then ``y`` (``randint(10, size=2)``), then the weights of one model per
    ``reg in (0, 3.14)``.
    """
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)  # noqa: NPY002
    y = np.random.randint(C, size=(N,))  # noqa: NPY002
    for reg in (0, 3.14):
        print(f"Running check with reg = {reg}")
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                                  dtype=np.float64)
        loss, grads = model.loss(X, y)
        print(f"Initial loss: {loss}")
        for name in sorted(grads):
            grad_num = eval_numerical_gradient(lambda _, m=model: m.loss(X, y)[0], model.params[name],
                                               verbose=False, h=1e-5)
            print(f"{name} relative error: {rel_error(grad_num, grads[name])}")
