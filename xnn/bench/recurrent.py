"""The recurrent cases of ``xnn bench``: an LSTM layer and a CaptioningRNN step, on xnn and PyTorch.

* ``lstm`` (kind ``"lstm"``): ``lstm_forward`` (``fwd``) and ``lstm_backward`` (``bwd``) on
  x ``(N, T, D)``, h0 ``(N, H)``; PyTorch runs ``torch.nn.LSTM(batch_first=True)`` (one layer,
  zero initial cell state) with the same weights, its gates reordered from xnn's i, f, o, g to
  torch's i, f, g, o. Its backward is ``torch.autograd.grad`` of the output, and the weight
  gradients are put back into xnn's layout inside the timed op (two ``(4H, .)`` copies, well
  under 1% of the op).
* ``caption`` (kind ``"caption"``): one ``CaptioningRNN.loss`` (LSTM cell) with gradients, ``step``;
  PyTorch computes the same graph (projection, embedding, ``nn.LSTM``, vocabulary scores, masked
  cross-entropy summed over time and divided by N) and ``torch.autograd.grad`` of every parameter.

Inputs come from ``np.random.RandomState(231)``; captions are ``<START>``, random words and
``<NULL>`` padding after a random length, so the mask matters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .cases import Case, Prepared
from .torch_side import _tensor
from .xnn_side import _on

__all__ = ["RECURRENT_CASE_NAMES", "recurrent_cases", "recurrent_inputs", "prepare_recurrent_xnn",
           "prepare_recurrent_torch"]

RECURRENT_CASE_NAMES = ("lstm", "caption")
CAPTION_PARAMS = ("W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab", "b_vocab")
LSTM_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def recurrent_cases(quick: bool) -> list[Case]:
    """The ``lstm`` (N=50, T=16, D=H=512) and ``caption`` (N=50, T=16, V=1004, W=256, H=512, D=512) cases."""
    lstm = {"N": 4, "T": 3, "D": 8, "H": 8} if quick else {"N": 50, "T": 16, "D": 512, "H": 512}
    cap = ({"N": 4, "T": 5, "V": 20, "W": 6, "H": 8, "D": 10} if quick else
           {"N": 50, "T": 16, "V": 1004, "W": 256, "H": 512, "D": 512})
    return [Case("lstm", "lstm_forward/backward", "lstm", lstm, {"fwd": ("h",), "bwd": LSTM_GRADS}),
            Case("caption", "CaptioningRNN lstm", "caption", cap, {"step": ("loss",) + tuple("d" + p for p in
                                                                                              CAPTION_PARAMS)})]


def recurrent_inputs(case: Case, dtype: str) -> dict[str, Any]:
    """Host inputs: lstm ``x, h0, Wx, Wh, b, dout``; caption ``features, captions`` and ``params``."""
    rs = np.random.RandomState(231)
    sh = case.shapes
    if case.kind == "lstm":
        N, T, D, H = sh["N"], sh["T"], sh["D"], sh["H"]
        arrays = {"x": rs.randn(N, T, D), "h0": rs.randn(N, H), "Wx": rs.randn(D, 4 * H) / np.sqrt(D),
                  "Wh": rs.randn(H, 4 * H) / np.sqrt(H), "b": rs.randn(4 * H) * 0.1, "dout": rs.randn(N, T, H)}
        return {k: v.astype(dtype) for k, v in arrays.items()}
    N, T, V, W, H, D = (sh[k] for k in ("N", "T", "V", "W", "H", "D"))
    captions = rs.randint(4, V, size=(N, T + 1))
    captions[:, 0] = 1
    for n, length in enumerate(rs.randint(2, T + 1, size=N)):
        captions[n, length:] = 0
    params = {"W_embed": rs.randn(V, W) / 100, "W_proj": rs.randn(D, H) / np.sqrt(D), "b_proj": np.zeros(H),
              "Wx": rs.randn(W, 4 * H) / np.sqrt(W), "Wh": rs.randn(H, 4 * H) / np.sqrt(H), "b": np.zeros(4 * H),
              "W_vocab": rs.randn(H, V) / np.sqrt(H), "b_vocab": np.zeros(V)}
    return {"features": rs.randn(N, D).astype(dtype), "captions": captions.astype(np.int32),
            "params": {k: v.astype(dtype) for k, v in params.items()}}


def prepare_recurrent_xnn(case: Case, inputs: dict[str, Any], device: str) -> Prepared:
    """The xnn path (the kernel path follows ``XNN_KERNELS``)."""
    from ..layers import lstm_backward, lstm_forward
    from ..models import CaptioningRNN
    if case.kind == "lstm":
        x, h0, Wx, Wh, b, dout = (_on(device, inputs[k]) for k in ("x", "h0", "Wx", "Wh", "b", "dout"))
        state: dict[str, Any] = {}

        def fwd() -> tuple:
            h, state["cache"] = lstm_forward(x, h0, Wx, Wh, b)
            return (h,)

        def bwd() -> tuple:
            return tuple(lstm_backward(dout, state["cache"]))

        fwd()
        return Prepared({"fwd": fwd, "bwd": bwd})
    sh = case.shapes
    vocab = {"<NULL>": 0, "<START>": 1, "<END>": 2, **{f"w{i}": i for i in range(3, sh["V"])}}
    dtype = inputs["features"].dtype.type
    model = CaptioningRNN(vocab, input_dim=sh["D"], wordvec_dim=sh["W"], hidden_dim=sh["H"], cell_type="lstm",
                          dtype=dtype, device=device)
    model.params = {k: _on(device, v.copy()) for k, v in inputs["params"].items()}
    features, captions = _on(device, inputs["features"]), _on(device, inputs["captions"])

    def step() -> tuple:
        loss, grads = model.loss(features, captions)
        return (loss,) + tuple(grads[k] for k in CAPTION_PARAMS)

    return Prepared({"step": step})


# --------------------------------------------------------------------------- PyTorch
def _to_torch_gates(a: np.ndarray, H: int) -> np.ndarray:
    """xnn's gate blocks i, f, o, g along the last axis -> torch's i, f, g, o."""
    return np.concatenate([a[..., :2 * H], a[..., 3 * H:], a[..., 2 * H:3 * H]], axis=-1)


def _lstm_module(torch, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, tdev: str):
    D, H = Wx.shape[0], Wh.shape[0]
    dtype = torch.float64 if Wx.dtype == np.float64 else torch.float32
    lstm = torch.nn.LSTM(D, H, batch_first=True).to(device=tdev, dtype=dtype)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(_to_torch_gates(Wx, H).T.copy()))
        lstm.weight_hh_l0.copy_(torch.tensor(_to_torch_gates(Wh, H).T.copy()))
        lstm.bias_ih_l0.copy_(torch.tensor(_to_torch_gates(b, H)))
        lstm.bias_hh_l0.zero_()
    return lstm


def _from_torch_gates(torch, g, H: int):
    """torch's i, f, g, o rows of a ``(4H, ...)`` gradient -> xnn's i, f, o, g along the first axis."""
    return torch.cat([g[:2 * H], g[3 * H:], g[2 * H:3 * H]], dim=0)


def prepare_recurrent_torch(torch, case: Case, inputs: dict[str, Any], tdev: str) -> Prepared:
    """The PyTorch path on torch device ``tdev``; outputs in xnn's layouts."""
    if case.kind == "lstm":
        H = case.shapes["H"]
        lstm = _lstm_module(torch, inputs["Wx"], inputs["Wh"], inputs["b"], tdev)
        x, h0 = _tensor(torch, inputs["x"], tdev, True), _tensor(torch, inputs["h0"], tdev, True)
        dout = _tensor(torch, inputs["dout"], tdev)
        c0 = torch.zeros_like(h0)
        weights = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0)
        state: dict[str, Any] = {}

        def fwd() -> tuple:
            state["h"] = lstm(x, (h0[None], c0[None]))[0]
            return (state["h"],)

        def bwd() -> tuple:
            dx, dh0, dwi, dwh, db = torch.autograd.grad(state["h"], (x, h0, *weights), dout, retain_graph=True)
            return dx, dh0, _from_torch_gates(torch, dwi, H).T, _from_torch_gates(torch, dwh, H).T, \
                _from_torch_gates(torch, db, H)

        fwd()
        return Prepared({"fwd": fwd, "bwd": bwd})
    return _prepare_caption_torch(torch, case, inputs, tdev)


def _prepare_caption_torch(torch, case: Case, inputs: dict[str, Any], tdev: str) -> Prepared:
    F = torch.nn.functional
    H, N = case.shapes["H"], case.shapes["N"]
    p = inputs["params"]
    lstm = _lstm_module(torch, p["Wx"], p["Wh"], p["b"], tdev)
    dense = {k: _tensor(torch, p[k], tdev, True) for k in ("W_embed", "W_proj", "b_proj", "W_vocab", "b_vocab")}
    features = _tensor(torch, inputs["features"], tdev)
    captions = torch.tensor(inputs["captions"].astype(np.int64), device=tdev)
    caps_in, caps_out = captions[:, :-1], captions[:, 1:]
    mask = caps_out != 0
    weights = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0)

    def step() -> tuple:
        h0 = features @ dense["W_proj"] + dense["b_proj"]
        hidden = lstm(F.embedding(caps_in, dense["W_embed"]), (h0[None], torch.zeros_like(h0)[None]))[0]
        scores = hidden @ dense["W_vocab"] + dense["b_vocab"]
        losses = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), caps_out.reshape(-1), reduction="none")
        loss = (losses * mask.reshape(-1)).sum() / N
        g = dict(zip(("W_embed", "W_proj", "b_proj", "W_vocab", "b_vocab", "Wx", "Wh", "b"),
                     torch.autograd.grad(loss, (*dense.values(), *weights))))
        g["Wx"], g["Wh"] = _from_torch_gates(torch, g["Wx"], H).T, _from_torch_gates(torch, g["Wh"], H).T
        g["b"] = _from_torch_gates(torch, g["b"], H)
        return (loss,) + tuple(g[k] for k in CAPTION_PARAMS)

    return Prepared({"step": step})
