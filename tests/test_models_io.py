"""Model files and inference: strict load (every difference named), strict=False, predict on every classifier."""

from __future__ import annotations

import re

import numpy as np
import pytest

from xnn import backend
from xnn.models import FullyConnectedNet, LinearSVM, Softmax, ThreeLayerConvNet, TwoLayerNet


def _cnn(filter_size=5, **kw):
    return ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=filter_size, hidden_dim=6, **kw)


def test_load_refuses_another_filter_size(tmp_path, capsys):
    path = tmp_path / "cnn.npz"
    _cnn(filter_size=5).save(path)
    model = _cnn(filter_size=7)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError) as err:
        model.load(path)
    message = str(err.value)
    assert message.startswith(f"ThreeLayerConvNet.load: {str(path)!r} does not fit this model")
    assert "param.W1: saved (4, 3, 5, 5), model needs (4, 3, 7, 7)" in message and "strict=False" in message
    assert "missing" not in message  # the same names, only one shape differs
    assert "loaded." not in capsys.readouterr().out
    for k, v in before.items():  # nothing was half-loaded
        np.testing.assert_array_equal(model.params[k], v)


def test_load_refuses_another_architecture(tmp_path):
    path = tmp_path / "fc.npz"
    FullyConnectedNet([6], input_dim=3 * 8 * 8, num_classes=10).save(path)
    with pytest.raises(ValueError) as err:
        _cnn().load(path)
    message = str(err.value)
    assert re.search(r"missing from the file: param\.W3, param\.b3\n", message)
    assert "param.W1: saved (192, 6), model needs (4, 3, 5, 5)" in message


def test_strict_false_loads_what_fits_and_warns(tmp_path, capsys):
    saved = FullyConnectedNet([6, 5], input_dim=12, num_classes=3)
    path = tmp_path / "fc.npz"
    saved.save(path)
    model = FullyConnectedNet([6], input_dim=12, num_classes=3)
    own_W2 = model.params["W2"].copy()
    with pytest.warns(UserWarning, match=r"only partly fits(.|\n)*in the file but not in the model: param\.W3, "
                                         r"param\.b3(.|\n)*param\.W2: saved \(6, 5\), model needs \(6, 3\)"):
        assert model.load(path, strict=False) is True
    np.testing.assert_array_equal(model.params["W1"], saved.params["W1"])
    np.testing.assert_array_equal(model.params["W2"], own_W2)
    assert capsys.readouterr().out.splitlines()[-1] == f"{path} loaded."


def test_batchnorm_statistics_are_optional_until_the_model_has_them(tmp_path, rng):
    trained = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm")
    trained.loss(rng.standard_normal((6, 4)), rng.integers(0, 3, size=6))
    with_stats, without_stats = tmp_path / "a.npz", tmp_path / "b.npz"
    trained.save(with_stats)
    FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm").save(without_stats)
    fresh = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm")
    assert fresh.load(with_stats)
    np.testing.assert_array_equal(fresh.bn_params[0]["running_mean"], trained.bn_params[0]["running_mean"])
    with pytest.raises(ValueError, match=r"missing from the file: bn_param\.0\.running_mean, bn_param\.0\.running_var"):
        trained.load(without_stats)
    with pytest.raises(ValueError, match=r"in the file but not in the model: bn_param\.0\.running_mean"):
        FullyConnectedNet([5], input_dim=4, num_classes=3).load(with_stats)


def test_linear_classifier_load_checks_W(tmp_path, rng):
    clf = Softmax()
    clf.train(rng.standard_normal((20, 5)), rng.integers(0, 3, size=20), num_iters=2, batch_size=5)
    path = tmp_path / "w.npz"
    clf.save(path)
    assert Softmax().load(path)  # untrained: any W
    other = Softmax()
    other.train(rng.standard_normal((20, 7)), rng.integers(0, 3, size=20), num_iters=1, batch_size=5)
    with pytest.raises(ValueError, match=r"W: saved \(5, 3\), model needs \(7, 3\)"):
        other.load(path)
    TwoLayerNet(input_dim=4, hidden_dim=3, num_classes=2).save(tmp_path / "two.npz")
    with pytest.raises(ValueError, match=r"missing from the file: W\n(.|\n)*not in the model: param\.W1"):
        Softmax().load(tmp_path / "two.npz")


def _classifiers(rng):
    """Every classifier on 4x4x3 images (8 classes) with data; linear ones see flat rows."""
    X = rng.standard_normal((23, 3, 4, 4))
    y = rng.integers(0, 8, size=23)
    flat = X.reshape(23, -1)
    softmax, svm = Softmax(), LinearSVM()
    softmax.train(flat, y, num_iters=2, batch_size=5)
    svm.train(flat, y, num_iters=2, batch_size=5)
    return [
        (TwoLayerNet(input_dim=48, hidden_dim=5, num_classes=8, weight_scale=0.1), X, lambda m: m.loss(X)),
        (FullyConnectedNet([5], input_dim=48, num_classes=8, normalization="batchnorm", dtype=np.float64),
         X, lambda m: m.loss(X)),
        (ThreeLayerConvNet(input_dim=(3, 4, 4), num_filters=2, filter_size=3, hidden_dim=5, num_classes=8,
                           weight_scale=0.1, dtype=np.float64), X, lambda m: m.loss(X)),
        (softmax, flat, lambda m: flat @ m.W),
        (svm, flat, lambda m: flat @ m.W),
    ]


def test_predict_on_every_classifier(rng):
    for model, X, reference in _classifiers(rng):
        name = type(model).__name__
        want = np.argmax(reference(model), axis=1)
        np.testing.assert_array_equal(backend.to_numpy(model.predict(X)), want, err_msg=name)
        np.testing.assert_array_equal(backend.to_numpy(model.predict(X, batch_size=4)), want, err_msg=name)
        np.testing.assert_allclose(backend.to_numpy(model.scores(X, batch_size=5)), reference(model), rtol=1e-12)
        if isinstance(model, LinearSVM):
            with pytest.raises(NotImplementedError, match="margins, not probabilities"):
                model.predict_proba(X)
            continue
        proba = backend.to_numpy(model.predict_proba(X, batch_size=6))
        assert proba.shape == (23, 8) and np.allclose(proba.sum(axis=1), 1.0) and np.all(proba >= 0)
        np.testing.assert_array_equal(np.argmax(proba, axis=1), want)


@pytest.mark.gpu
def test_predict_on_the_gpu_from_host_data(rng):
    import cupy
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=5, weight_scale=0.1,
                              dtype=np.float64)
    X = rng.standard_normal((130, 3, 8, 8))
    want = model.predict(X)
    model.to("gpu")
    got = model.predict(X, batch_size=50)  # host batches go to the GPU one at a time
    assert isinstance(got, cupy.ndarray)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(model.predict(cupy.asarray(X))), want)


def test_predict_checks_its_input():
    model = TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3)
    with pytest.raises(ValueError, match=r"TwoLayerNet.scores: batch_size must be a positive integer, got 0"):
        model.predict(np.zeros((2, 6)), batch_size=0)
    with pytest.raises(ValueError, match=r"TwoLayerNet.loss: X must have 6 features"):
        model.predict(np.zeros((2, 5)))


def test_nhwc_images_get_a_layout_hint():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4)
    with pytest.raises(ValueError, match=r"got \(2, 8, 8, 3\); X looks like NHWC images .* pass "
                                         r"X\.transpose\(0, 3, 1, 2\)"):
        model.predict(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError) as err:
        model.predict(np.zeros((2, 3, 9, 8)))
    assert "NHWC" not in str(err.value)
