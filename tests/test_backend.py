import numpy as np
import pytest

from xnn import backend


def test_namespace_of_numpy_is_numpy():
    assert backend.namespace_name(backend.namespace(np.ones(3))) == "numpy"


def test_namespace_ignores_scalars_and_none(xp):
    a = xp.asarray(np.ones(3))
    assert backend.namespace_name(backend.namespace(a, None, 2.0)) == backend.namespace_name(xp)


def test_mixed_namespaces_are_a_type_error_naming_both():
    import array_api_strict as s
    with pytest.raises(TypeError, match="mixed array namespaces: x .* w "):
        backend.namespace(x=np.ones(2), w=s.asarray(np.ones(2)))


def test_non_array_is_a_type_error():
    with pytest.raises(TypeError, match="is not an array"):
        backend.namespace([1.0, 2.0])


def test_to_numpy_roundtrip(xp):
    a = np.arange(6.0).reshape(2, 3)
    out = backend.to_numpy(xp.asarray(a))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, a)


def test_from_host_follows_like(xp):
    like = xp.asarray(np.zeros(2))
    moved = backend.from_host(np.ones((2, 2)), like)
    assert backend.namespace_name(backend.namespace(moved)) == backend.namespace_name(xp)


def test_device_precedence(monkeypatch):
    monkeypatch.setenv("XNN_DEVICE", "cpu")
    assert backend.resolve_device() == "cpu"
    assert backend.resolve_device("auto") in ("cpu", "gpu")
    with backend.use_device("cpu") as dev:
        assert dev == "cpu" and backend.current_device() == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        backend.resolve_device("tpu")


def test_gpu_request_without_gpu_says_why(monkeypatch):
    if backend.gpu_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        backend.resolve_device("gpu")
    monkeypatch.setenv("XNN_DEVICE", "auto")
    assert backend.resolve_device() == "cpu"


def test_importing_xnn_does_not_import_cupy():
    import subprocess
    import sys
    code = "import sys, xnn, xnn.layers, xnn.backend; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_seeded_uniform_matches_cs231n_draw():
    a = backend.seeded_uniform((3, 4), 123)
    np.random.seed(123)
    np.testing.assert_array_equal(a, np.random.rand(3, 4))


def test_uniform_uses_global_rng_on_host(xp):
    like = xp.asarray(np.zeros(1))
    np.random.seed(5)
    a = backend.to_numpy(backend.uniform((4,), like))
    np.random.seed(5)
    if backend.namespace_name(xp) != "cupy":
        np.testing.assert_array_equal(a, np.random.rand(4))
    assert a.shape == (4,) and np.all((a >= 0) & (a < 1))


def test_to_device_moves_dicts():
    params = {"W": np.ones((2, 2)), "name": "x"}
    out = backend.to_device(params, "cpu")
    assert out["name"] == "x" and isinstance(out["W"], np.ndarray)


def test_submodules_load_lazily_from_the_package():
    import subprocess
    import sys
    code = ("import sys, xnn; assert 'xnn.solver' not in sys.modules; "
            "print(xnn.layers.affine_forward.__name__, xnn.solver.Solver.__name__, 'cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["affine_forward", "Solver", "False"]


def test_from_host_and_dropout_keep_an_array_api_strict_device():
    strict = pytest.importorskip("array_api_strict")
    device = strict.Device("device1")
    like = strict.asarray(np.zeros((2, 3)), device=device)
    assert backend.from_host(np.ones(2), like).device == device
    assert backend.uniform((2,), like).device == device
    from xnn.layers import dropout_forward
    out, (_, mask) = dropout_forward(like, {"p": 0.5, "mode": "train", "seed": 0})
    assert out.device == device and mask.device == device


def test_mixed_array_api_strict_devices_are_a_type_error_naming_both():
    strict = pytest.importorskip("array_api_strict")
    from xnn.layers import affine_forward
    x = strict.ones((2, 3), dtype=strict.float64)
    w = strict.ones((3, 4), dtype=strict.float64, device=strict.Device("device1"))
    b = strict.ones((4,), dtype=strict.float64)
    with pytest.raises(TypeError, match="mixed devices"):
        backend.namespace(x=x, w=w)
    for _ in range(2):   # the second call must not be answered from a per-type cache
        with pytest.raises(TypeError, match=r"affine_forward: mixed devices: x is on .* but w is on"):
            affine_forward(x, w, b)
