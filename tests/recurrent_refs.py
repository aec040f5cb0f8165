"""float64 loop references for the recurrent layers (plain NumPy, one sample and one step at a time).

They restate the math of the layers' docstrings independently of xnn's vectorized code, so the
notebook checks compare xnn with values computed here.
"""

from __future__ import annotations

import math

import numpy as np


def logistic(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def rnn_step_ref(x, prev_h, Wx, Wh, b) -> np.ndarray:
    N, H = prev_h.shape
    out = np.empty((N, H))
    for n in range(N):
        for j in range(H):
            a = b[j] + sum(x[n, d] * Wx[d, j] for d in range(x.shape[1])) + sum(
                prev_h[n, k] * Wh[k, j] for k in range(H))
            out[n, j] = math.tanh(a)
    return out


def rnn_ref(x, h0, Wx, Wh, b) -> np.ndarray:
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]))
    prev = h0
    for t in range(T):
        prev = rnn_step_ref(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
    return h


def lstm_step_ref(x, prev_h, prev_c, Wx, Wh, b) -> tuple[np.ndarray, np.ndarray]:
    N, H = prev_h.shape
    next_h, next_c = np.empty((N, H)), np.empty((N, H))
    for n in range(N):
        a = [b[j] + sum(x[n, d] * Wx[d, j] for d in range(x.shape[1]))
             + sum(prev_h[n, k] * Wh[k, j] for k in range(H)) for j in range(4 * H)]
        for j in range(H):
            i, f, o = logistic(a[j]), logistic(a[H + j]), logistic(a[2 * H + j])
            g = math.tanh(a[3 * H + j])
            next_c[n, j] = f * prev_c[n, j] + i * g
            next_h[n, j] = o * math.tanh(next_c[n, j])
    return next_h, next_c


def lstm_ref(x, h0, Wx, Wh, b) -> np.ndarray:
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H))
    prev_h, prev_c = h0, np.zeros((N, H))
    for t in range(T):
        prev_h, prev_c = lstm_step_ref(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
    return h


def temporal_softmax_ref(x, y, mask) -> float:
    N, T, V = x.shape
    loss = 0.0
    for n in range(N):
        for t in range(T):
            if mask[n, t]:
                m = max(x[n, t])
                log_z = m + math.log(sum(math.exp(v - m) for v in x[n, t]))
                loss -= x[n, t, y[n, t]] - log_z
    return loss / N


def linspace(a: float, b: float, shape) -> np.ndarray:
    """The notebooks' ``np.linspace(a, b, num=size).reshape(shape)``."""
    return np.linspace(a, b, num=int(np.prod(shape))).reshape(shape)
