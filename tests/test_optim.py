"""Update rules: notebook numbers, independent float64 formulas, every backend, config contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_namespace, rel_error

from xnn import backend, optim

RULES = ["sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam", "adagrad"]


def _w_dw():
    w = np.linspace(-0.4, 0.6, num=20).reshape(4, 5)
    dw = np.linspace(-0.6, 0.4, num=20).reshape(4, 5)
    return w, dw


def _lin(a, b):
    return np.linspace(a, b, num=20).reshape(4, 5)


# --------------------------------------------------------------------------- notebook checks
def test_sgd_momentum_notebook():
    w, dw = _w_dw()
    next_w, config = optim.sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": _lin(0.6, 0.9)})
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    assert rel_error(next_w, expected_next_w) < 1e-8
    assert rel_error(config["velocity"], expected_velocity) < 1e-8


def test_rmsprop_notebook():
    w, dw = _w_dw()
    cache0 = _lin(0.6, 0.9)
    next_w, config = optim.rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache0.copy()})
    assert abs(next_w[0, 0] - (-0.39223849)) < 1e-8
    assert abs(config["cache"][0, 0] - 0.5976) < 1e-12
    cache = 0.99 * cache0 + 0.01 * dw ** 2
    assert rel_error(config["cache"], cache) < 1e-12
    assert rel_error(next_w, w - 1e-2 * dw / (np.sqrt(cache) + 1e-8)) < 1e-12


def test_adam_notebook():
    w, dw = _w_dw()
    m0, v0 = _lin(0.6, 0.9), _lin(0.7, 0.5)
    next_w, config = optim.adam(w, dw, {"learning_rate": 1e-2, "m": m0.copy(), "v": v0.copy(), "t": 5})
    assert config["t"] == 6
    assert abs(next_w[0, 0] - (-0.40094747)) < 1e-8
    assert abs(config["v"][0, 0] - 0.69966) < 1e-12
    assert abs(config["m"][0, 0] - 0.48) < 1e-12
    m = 0.9 * m0 + 0.1 * dw
    v = 0.999 * v0 + 0.001 * dw ** 2
    # the course's reference form (folds the bias corrections into the step size)
    ref = w - 1e-2 * math.sqrt(1 - 0.999 ** 6) / (1 - 0.9 ** 6) * m / (np.sqrt(v) + 1e-8)
    assert rel_error(next_w, ref) < 1e-7
    assert rel_error(config["m"], m) < 1e-12
    assert rel_error(config["v"], v) < 1e-12


def test_adam_without_increment_would_fail():
    """The notebook's tolerance separates t-increment-first from the skipped increment."""
    w, dw = _w_dw()
    m0, v0 = _lin(0.6, 0.9), _lin(0.7, 0.5)
    next_w, _ = optim.adam(w, dw, {"learning_rate": 1e-2, "m": m0, "v": v0, "t": 5})
    m, v = 0.9 * m0 + 0.1 * dw, 0.999 * v0 + 0.001 * dw ** 2
    skipped = w - 1e-2 * (m / (1 - 0.9 ** 5)) / (np.sqrt(v / (1 - 0.999 ** 5)) + 1e-8)
    assert rel_error(next_w, skipped) > 1e-4


# --------------------------------------------------------------------------- independent formulas
def _reference(rule, w, dw, state):
    """Float64 NumPy formulas written from the math, independent of xnn's helpers."""
    lr = 1e-2
    if rule == "sgd":
        return w - lr * dw, {}
    if rule == "sgd_momentum":
        v = 0.9 * state["velocity"] - lr * dw
        return w + v, {"velocity": v}
    if rule == "sgd_nesterov_momentum":
        v_old = state["velocity"]
        v = 0.9 * v_old - lr * dw
        return w - 0.9 * v_old + 1.9 * v, {"velocity": v}
    if rule == "rmsprop":
        c = 0.99 * state["cache"] + 0.01 * dw * dw
        return w - lr * dw / (np.sqrt(c) + 1e-8), {"cache": c}
    if rule == "adagrad":
        c = state["cache"] + dw * dw
        return w - lr * dw / (np.sqrt(c) + 1e-8), {"cache": c}
    if rule == "adam":
        t = state["t"] + 1
        m = 0.9 * state["m"] + 0.1 * dw
        v = 0.999 * state["v"] + 0.001 * dw * dw
        step = lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        return w - step, {"m": m, "v": v, "t": t}
    raise AssertionError(rule)


def _state0(rule, rng):
    if rule in ("sgd_momentum", "sgd_nesterov_momentum"):
        return {"velocity": rng.standard_normal((3, 4))}
    if rule in ("rmsprop", "adagrad"):
        return {"cache": rng.random((3, 4))}
    if rule == "adam":
        return {"m": rng.standard_normal((3, 4)), "v": rng.random((3, 4)), "t": 3}
    return {}


@pytest.mark.parametrize("rule", RULES)
def test_rule_matches_formula_on_every_backend(rule, xp, rng):
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    state = _state0(rule, rng)
    exp_w, exp_state = _reference(rule, w, dw, state)
    config = {"learning_rate": 1e-2}
    config.update({k: (xp.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in state.items()})
    next_w, out = getattr(optim, rule)(xp.asarray(w.copy()), xp.asarray(dw), config)
    assert out is config
    assert_namespace(next_w, xp)
    assert next_w.dtype == xp.float64
    assert rel_error(next_w, exp_w) < 1e-12
    for key, value in exp_state.items():
        if key == "t":
            assert out["t"] == value
        else:
            assert_namespace(out[key], xp)
            assert rel_error(out[key], value) < 1e-12


@pytest.mark.parametrize("rule", RULES)
def test_backend_parity_two_steps(rule, xp, rng):
    w, dw1, dw2 = (rng.standard_normal((2, 3)) for _ in range(3))
    results = []
    for conv in (np.asarray, xp.asarray):
        cur, config = conv(w.copy()), None
        for dw in (dw1, dw2):
            cur, config = getattr(optim, rule)(cur, conv(dw), config)
        results.append(backend.to_numpy(cur))
    assert rel_error(results[0], results[1]) < 1e-10


# --------------------------------------------------------------------------- config contract
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "sgd_nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
}
STATE_KEYS = {"sgd": [], "sgd_momentum": ["velocity"], "sgd_nesterov_momentum": ["velocity"],
              "rmsprop": ["cache"], "adam": ["m", "v", "t"], "adagrad": ["cache"]}


@pytest.mark.parametrize("rule", RULES)
def test_defaults_and_lazy_state(rule, xp):
    w = xp.asarray(np.ones((2, 3), dtype=np.float32))
    dw = xp.asarray(np.full((2, 3), 0.5, dtype=np.float32))
    next_w, config = getattr(optim, rule)(w, dw)
    for key, value in DEFAULTS[rule].items():
        assert config[key] == value
    assert sorted(set(config) - set(DEFAULTS[rule])) == sorted(STATE_KEYS[rule])
    for key in STATE_KEYS[rule]:
        if key == "t":
            assert config["t"] == 1
        else:
            assert_namespace(config[key], xp)
            assert config[key].shape == (2, 3) and config[key].dtype == xp.float32
    assert_namespace(next_w, xp)
    assert next_w.dtype == xp.float32


@pytest.mark.parametrize("rule", RULES)
def test_user_values_kept_and_config_mutated_in_place(rule):
    config = {"learning_rate": 0.5, "extra": "kept"}
    _, out = getattr(optim, rule)(np.ones(3), np.ones(3), config)
    assert out is config
    assert config["learning_rate"] == 0.5 and config["extra"] == "kept"
    for key in STATE_KEYS[rule]:
        assert key in config


@pytest.mark.parametrize("rule", [r for r in RULES if r != "sgd"])
def test_state_carries_over_between_calls(rule):
    w, dw = np.ones(4), np.linspace(-1, 1, 4)
    config = {}
    w1, config = getattr(optim, rule)(w, dw, config)
    first = {k: np.copy(v) for k, v in config.items() if isinstance(v, np.ndarray)}
    w2, config = getattr(optim, rule)(w1, dw, config)
    assert any(not np.allclose(first[k], config[k]) for k in first)
    assert not np.allclose(w2, w1)


def test_rules_do_not_mutate_caller_state_arrays():
    v = np.ones(3)
    w = np.zeros(3)
    optim.sgd_momentum(w, np.ones(3), {"velocity": v})
    assert np.array_equal(v, np.ones(3)) and np.array_equal(w, np.zeros(3))


def test_sgd_updates_in_place_like_cs231n():
    w = np.ones(3)
    next_w, _ = optim.sgd(w, np.ones(3), {"learning_rate": 0.5})
    assert next_w is w and np.allclose(w, 0.5)


def test_sgd_float32_weights_float64_grad_stay_float32_in_place(xp):
    # cs231n's ``w -= lr * dw`` keeps a float32 model float32 when it meets float64 data
    # (ThreeLayerConvNet does not cast X, so its gradients are float64).
    w = xp.asarray(np.ones(3, dtype=np.float32))
    next_w, _ = optim.sgd(w, xp.asarray(np.ones(3)), {"learning_rate": 0.5})
    assert next_w is w and next_w.dtype == xp.float32
    np.testing.assert_allclose(backend.to_numpy(w), 0.5)


@pytest.mark.parametrize("rule", RULES)
def test_float32_stays_float32(rule, xp):
    w = xp.asarray(np.ones((2, 2), dtype=np.float32))
    next_w, config = getattr(optim, rule)(w, w * 0.1)
    next_w, config = getattr(optim, rule)(next_w, w * 0.1, config)
    assert next_w.dtype == xp.float32


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_decreases_a_convex_quadratic(rule, xp):
    """f(w) = 0.5 * ||w - target||^2 must go down under each rule with its own defaults."""
    target = np.array([1.0, -2.0, 0.5])
    t = xp.asarray(target)
    w = xp.asarray(np.zeros(3))
    start = 0.5 * float(np.sum(target ** 2))
    config = {"learning_rate": 1e-1}
    for _ in range(50):
        w, config = getattr(optim, rule)(w, w - t, config)
    end = 0.5 * float(np.sum((backend.to_numpy(w) - target) ** 2))
    assert end < 0.5 * start


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("rule", RULES)
def test_shape_mismatch_names_rule_and_shapes(rule):
    with pytest.raises(ValueError, match=rf"{rule}: dw must have shape \(2, 3\), got \(3, 2\)"):
        getattr(optim, rule)(np.ones((2, 3)), np.ones((3, 2)))


@pytest.mark.parametrize("rule", RULES)
def test_non_array_and_bad_config(rule):
    with pytest.raises(TypeError, match=rule):
        getattr(optim, rule)([1.0, 2.0], np.ones(2))
    with pytest.raises(TypeError, match="config"):
        getattr(optim, rule)(np.ones(2), np.ones(2), [("learning_rate", 1.0)])


def test_mixed_namespaces_rejected():
    import array_api_strict as xs
    with pytest.raises(TypeError, match="mixed array namespaces"):
        optim.adam(np.ones(2), xs.asarray(np.ones(2)))
    with pytest.raises(TypeError, match="mixed array namespaces"):
        optim.sgd_momentum(xs.asarray(np.ones(2)), xs.asarray(np.ones(2)), {"velocity": np.ones(2)})


def test_state_shape_mismatch():
    with pytest.raises(ValueError, match=r"rmsprop: config\['cache'\]"):
        optim.rmsprop(np.ones(3), np.ones(3), {"cache": np.ones(4)})
