"""CaptioningRNN: the course's initialisation, notebook losses and gradient checks, sampling,
backends, devices, save/load and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import grad_error, rel_error
from recurrent_refs import lstm_ref, lstm_step_ref, rnn_ref, rnn_step_ref, temporal_softmax_ref

from xnn import backend
from xnn.gradient_check import eval_numerical_gradient
from xnn.models import CaptioningRNN

TOY_VOCAB = {"<NULL>": 0, "cat": 2, "dog": 3}
NAMES = ["W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab", "b_vocab"]
# What the course notebooks print for check 12 (RNN) and LSTM check 5.
COURSE_LOSS = {"rnn": 9.83235591003, "lstm": 9.82445935443}


def _notebook_model(cell: str):
    N, D, W, H, T = 10, 20, 30, 40, 13
    model = CaptioningRNN(TOY_VOCAB, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type=cell, dtype=np.float64)
    for k, v in model.params.items():
        model.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(*v.shape)
    top = 0.3 if cell == "rnn" else 1.7
    low = -1.5 if cell == "rnn" else -0.5
    features = np.linspace(low, top, num=N * D).reshape(N, D)
    captions = (np.arange(N * T) % len(TOY_VOCAB)).reshape(N, T)
    return model, features, captions


def _loss_ref(model, features, captions) -> float:
    """The forward pass with the float64 loop references."""
    p = model.params
    h0 = features @ p["W_proj"] + p["b_proj"]
    x = p["W_embed"][captions[:, :-1]]
    seq = lstm_ref if model.cell_type == "lstm" else rnn_ref
    h = seq(x, h0, p["Wx"], p["Wh"], p["b"])
    scores = h @ p["W_vocab"] + p["b_vocab"]
    return temporal_softmax_ref(scores, captions[:, 1:], captions[:, 1:] != 0)


def test_init_order_and_scaling_match_the_course():
    np.random.seed(231)
    model = CaptioningRNN({"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3}, input_dim=6, wordvec_dim=5,
                          hidden_dim=4, cell_type="lstm")
    np.random.seed(231)
    expected = {"W_embed": np.random.randn(4, 5) / 100, "W_proj": np.random.randn(6, 4) / np.sqrt(6),
                "b_proj": np.zeros(4), "Wx": np.random.randn(5, 16) / np.sqrt(5),
                "Wh": np.random.randn(4, 16) / np.sqrt(4), "b": np.zeros(16),
                "W_vocab": np.random.randn(4, 4) / np.sqrt(4), "b_vocab": np.zeros(4)}
    assert list(model.params) == NAMES
    for k in NAMES:
        assert model.params[k].dtype == np.float32
        np.testing.assert_array_equal(model.params[k], expected[k].astype(np.float32))
    assert (model._null, model._start, model._end) == (0, 1, 2)
    assert model.idx_to_word == {0: "<NULL>", 1: "<START>", 2: "<END>", 3: "a"}
    assert model.cell_type == "lstm" and model.dtype == np.float32


def test_invalid_cell_type_raises_before_any_draw():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    with pytest.raises(ValueError, match='Invalid cell_type "gru"'):
        CaptioningRNN(TOY_VOCAB, cell_type="gru")
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert CaptioningRNN(TOY_VOCAB, input_dim=3, wordvec_dim=2, hidden_dim=2)._start is None
    with pytest.raises(KeyError):
        CaptioningRNN({"cat": 0})


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_notebook_loss(cell):
    model, features, captions = _notebook_model(cell)
    loss, grads = model.loss(features, captions)
    assert isinstance(loss, float)
    assert abs(loss - _loss_ref(model, features, captions)) < 1e-10 * loss
    assert rel_error(loss, COURSE_LOSS[cell]) < 1e-10
    assert list(grads) == NAMES and all(grads[k].shape == model.params[k].shape for k in NAMES)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_notebook_gradient_check(cell):
    """RNN_Captioning's model check (rel_error < 1e-6); the LSTM has tiny dWh entries where the
    element-wise relative error of centered differences is ~1e-5, so it is held to grad_error."""
    np.random.seed(231)
    captions = np.random.randint(len(TOY_VOCAB), size=(2, 3))
    features = np.random.randn(2, 4)
    model = CaptioningRNN(TOY_VOCAB, input_dim=4, wordvec_dim=5, hidden_dim=6, cell_type=cell, dtype=np.float64)
    loss, grads = model.loss(features, captions)
    for name in sorted(grads):
        f = lambda _: model.loss(features, captions)[0]  # noqa: E731  (params perturbed in place)
        num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-6)
        err = rel_error(num, grads[name]) if cell == "rnn" else grad_error(grads[name], num)
        assert err < 1e-6, name


def test_null_targets_do_not_count():
    np.random.seed(1)
    model = CaptioningRNN({"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3}, input_dim=3, wordvec_dim=4,
                          hidden_dim=5, dtype=np.float64)
    features = np.random.randn(2, 3)
    captions = np.array([[1, 3, 2, 0, 0], [1, 2, 0, 0, 0]])
    loss, grads = model.loss(features, captions)
    assert np.all(grads["W_embed"][0] == 0)   # <NULL> is only read where its target is <NULL>
    short = model.loss(features, captions[:, :3])[0]
    assert abs(loss - short) < 1e-12          # the padded columns add nothing


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sample_is_greedy_deterministic_and_int32(cell):
    np.random.seed(5)
    vocab = {"<NULL>": 0, "<START>": 1, "<END>": 2, "x": 3, "y": 4}
    model = CaptioningRNN(vocab, input_dim=6, wordvec_dim=4, hidden_dim=5, cell_type=cell, dtype=np.float64)
    for k in model.params:
        model.params[k] = model.params[k] + 0.5 * np.random.randn(*model.params[k].shape)
    features = np.random.randn(3, 6)
    before = {k: v.copy() for k, v in model.params.items()}
    captions = model.sample(features, max_length=7)
    assert captions.dtype == np.int32 and captions.shape == (3, 7)
    np.testing.assert_array_equal(model.sample(features, max_length=7), captions)
    for k in before:
        np.testing.assert_array_equal(model.params[k], before[k])
    np.testing.assert_array_equal(captions, _greedy_ref(model, features, 7))
    assert model.sample(features, max_length=0).shape == (3, 0)


def _greedy_ref(model, features, max_length):
    p = model.params
    h = features @ p["W_proj"] + p["b_proj"]
    c = np.zeros_like(h)
    words = np.full(features.shape[0], model._start)
    out = np.zeros((features.shape[0], max_length), dtype=np.int32)
    for t in range(max_length):
        x = p["W_embed"][words]
        if model.cell_type == "lstm":
            h, c = lstm_step_ref(x, h, c, p["Wx"], p["Wh"], p["b"])
        else:
            h = rnn_step_ref(x, h, p["Wx"], p["Wh"], p["b"])
        words = np.argmax(h @ p["W_vocab"] + p["b_vocab"], axis=1)
        out[:, t] = words
    return out


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_array_api_strict_parity(cell):
    import array_api_strict as xs
    model, features, captions = _notebook_model(cell)
    loss_np, grads_np = model.loss(features, captions)
    model.params = {k: xs.asarray(v) for k, v in model.params.items()}
    loss_xs, grads_xs = model.loss(xs.asarray(features), xs.asarray(captions))
    assert abs(loss_xs - loss_np) < 1e-12 * loss_np
    for k in NAMES:
        assert isinstance(grads_xs[k], type(xs.asarray(0.0)))
        np.testing.assert_allclose(backend.to_numpy(grads_xs[k]), grads_np[k], rtol=1e-10, atol=1e-12)


def test_save_and_load_roundtrip(tmp_path, capsys):
    np.random.seed(3)
    model = CaptioningRNN(TOY_VOCAB, input_dim=4, wordvec_dim=3, hidden_dim=2, cell_type="lstm")
    path = tmp_path / "captioner.npz"
    model.save(path)
    other = CaptioningRNN(TOY_VOCAB, input_dim=4, wordvec_dim=3, hidden_dim=2, cell_type="lstm")
    assert other.load(path)
    for k in NAMES:
        np.testing.assert_array_equal(other.params[k], model.params[k])
    assert f"{path} saved." in capsys.readouterr().out


@pytest.mark.gpu
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_gpu_matches_cpu(cell):
    model, features, captions = _notebook_model(cell)
    loss_cpu, grads_cpu = model.loss(features, captions)
    sample_cpu = model.sample(features, max_length=5)
    model.to("gpu")
    assert model.device == "gpu"
    loss_gpu, grads_gpu = model.loss(features, captions)   # host inputs are moved to the model
    assert abs(loss_gpu - loss_cpu) < 1e-10 * loss_cpu
    for k in NAMES:
        np.testing.assert_allclose(backend.to_numpy(grads_gpu[k]), grads_cpu[k], rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(model.sample(features, max_length=5), sample_cpu)


def test_bad_input_names_the_method_and_argument():
    model, features, captions = _notebook_model("rnn")
    with pytest.raises(ValueError, match=r"CaptioningRNN.loss: features must have shape \(N, 20\)"):
        model.loss(features[:, :5], captions)
    with pytest.raises(TypeError, match="CaptioningRNN.loss: captions must hold integer word indices"):
        model.loss(features, captions.astype(np.float64))
    with pytest.raises(ValueError, match=r"CaptioningRNN.loss: captions must hold word indices in \[0, 3\)"):
        model.loss(features, captions + 1)
    with pytest.raises(ValueError, match=r"CaptioningRNN.loss: captions must have shape \(10, T \+ 1\)"):
        model.loss(features, captions[:, :1])
    with pytest.raises(ValueError, match="CaptioningRNN.sample: the vocabulary has no '<START>'"):
        model.sample(features)
