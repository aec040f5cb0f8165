"""cs231n's ``CaptioningRNN``: image features -> h0, word embeddings -> RNN/LSTM -> vocabulary scores."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend, layers, validation
from .base import ModelBase

__all__ = ["CaptioningRNN"]

Array = Any
CELL_TYPES = ("rnn", "lstm")


class CaptioningRNN(ModelBase):
    """Image captioning with a vanilla RNN or an LSTM over word vectors.

    The image features ``(N, D)`` go through an affine projection to the initial hidden state
    ``h0 (N, H)``; each caption's words are embedded ``(N, T, W)`` and fed to the recurrent layer,
    whose hidden states are scored over the vocabulary ``(N, T, V)`` by a temporal affine layer.
    No regularisation.

    Parameters (dict insertion order = creation order, cast to ``dtype``):
    ``W_embed (V, W)``, ``W_proj (D, H)``, ``b_proj (H,)``, ``Wx (W, G*H)``, ``Wh (H, G*H)``,
    ``b (G*H,)``, ``W_vocab (H, V)``, ``b_vocab (V,)`` with G = 4 for ``"lstm"``, 1 for ``"rnn"``.
    The four weight matrices are float64 ``randn`` draws from NumPy's global RNG in that order,
    each divided (in float64) by 100, sqrt(D), sqrt(W) and sqrt(H) (W_vocab also by sqrt(H)), so
    ``np.random.seed(...)`` gives the course's weights. Attributes: ``cell_type``, ``dtype``,
    ``word_to_idx``, ``idx_to_word``, ``params``, ``_null``, ``_start``, ``_end``.
    """

    def __init__(self, word_to_idx: dict[str, int], input_dim: int = 512, wordvec_dim: int = 128,
                 hidden_dim: int = 128, cell_type: str = "rnn", dtype: Any = np.float32, *,
                 device: str | None = None) -> None:
        fn = "CaptioningRNN"
        if cell_type not in CELL_TYPES:
            raise ValueError(f'Invalid cell_type "{cell_type}"')
        D = validation.check_positive_int(fn, "input_dim", input_dim)
        W = validation.check_positive_int(fn, "wordvec_dim", wordvec_dim)
        H = validation.check_positive_int(fn, "hidden_dim", hidden_dim)
        self.cell_type = cell_type
        self.dtype = dtype
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)
        V = len(word_to_idx)
        G = 4 if cell_type == "lstm" else 1
        self.params = {"W_embed": backend.host_randn(V, W) / 100}
        self.params["W_proj"] = backend.host_randn(D, H) / math.sqrt(D)
        self.params["b_proj"] = np.zeros(H)
        self.params["Wx"] = backend.host_randn(W, G * H) / math.sqrt(W)
        self.params["Wh"] = backend.host_randn(H, G * H) / math.sqrt(H)
        self.params["b"] = np.zeros(G * H)
        self.params["W_vocab"] = backend.host_randn(H, V) / math.sqrt(H)
        self.params["b_vocab"] = np.zeros(V)
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.to(device)

    # ------------------------------------------------------------------ checks
    def _check_features(self, fn: str, features: Array) -> None:
        validation.checked_namespace(fn, features=features)
        D = self.params["W_proj"].shape[0]
        validation.check_ndim(fn, "features", features, 2, "(N, D) image features")
        if features.shape[1] != D:
            raise ValueError(f"{fn}: features must have shape (N, {D}) for input_dim={D}, got {tuple(features.shape)}")

    def _check_captions(self, fn: str, features: Array, captions: Array) -> None:
        validation.check_ndim(fn, "captions", captions, 2, "(N, T + 1) word indices")
        if captions.shape[0] != features.shape[0] or captions.shape[1] < 2:
            raise ValueError(f"{fn}: captions must have shape ({features.shape[0]}, T + 1) with T >= 1 to match "
                             f"features {tuple(features.shape)}, got {tuple(captions.shape)}")
        validation.check_indices(fn, "captions", captions, None, self.params["W_embed"].shape[0])

    # ------------------------------------------------------------------ training loss
    def loss(self, features: Array, captions: Array) -> tuple[float, dict[str, Array]]:
        """Captioning loss and gradients for a minibatch (teacher forcing).

        Args:
            features: ``(N, D)`` image features.
            captions: ``(N, T + 1)`` integer word indices; the network reads columns ``0..T-1``
                and predicts columns ``1..T``; targets equal to ``<NULL>`` do not count.

        Returns:
            ``(loss, grads)``: the temporal softmax loss (summed over time, divided by N) as a
            Python float, and a gradient for every parameter (same keys and shapes as
            ``params``, read afresh on every call).

        Raises:
            ValueError: wrong shapes or word indices outside the vocabulary; TypeError:
            non-integer captions, mixed namespaces.
        """
        fn = "CaptioningRNN.loss"
        self._check_features(fn, features)
        self._check_captions(fn, features, captions)
        features, captions = self._to_model_device(features), self._to_model_device(captions)
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self._null
        p = self.params
        recurrent_forward, recurrent_backward = self._recurrent_layers()
        h0, proj_cache = layers.affine_forward(features, p["W_proj"], p["b_proj"])
        embedded, embed_cache = layers.word_embedding_forward(captions_in, p["W_embed"])
        hidden, rnn_cache = recurrent_forward(embedded, h0, p["Wx"], p["Wh"], p["b"])
        scores, vocab_cache = layers.temporal_affine_forward(hidden, p["W_vocab"], p["b_vocab"])
        loss, dscores = layers.temporal_softmax_loss(scores, captions_out, mask)

        grads: dict[str, Array] = {}
        dhidden, grads["W_vocab"], grads["b_vocab"] = layers.temporal_affine_backward(dscores, vocab_cache)
        dembedded, dh0, grads["Wx"], grads["Wh"], grads["b"] = recurrent_backward(dhidden, rnn_cache)
        grads["W_embed"] = layers.word_embedding_backward(dembedded, embed_cache)
        _, grads["W_proj"], grads["b_proj"] = layers.affine_backward(dh0, proj_cache)
        return loss, {k: grads[k] for k in p}

    def _recurrent_layers(self):
        if self.cell_type == "lstm":
            return layers.lstm_forward, layers.lstm_backward
        return layers.rnn_forward, layers.rnn_backward

    # ------------------------------------------------------------------ sampling
    def sample(self, features: Array, max_length: int = 30) -> np.ndarray:
        """Greedy captions for a minibatch of images (argmax at every step, no randomness).

        Args:
            features: ``(N, D)`` image features.
            max_length: number of words generated per image.

        Returns:
            ``(N, max_length)`` int32 NumPy array of word indices: column 0 is the first
            generated word (never ``<START>``); every step is generated (``decode_captions`` cuts
            at ``<END>``). Computed on the model's device, copied to the host once.

        Raises:
            ValueError: no ``<START>`` token in the vocabulary, or bad ``features``/``max_length``.
        """
        fn = "CaptioningRNN.sample"
        if self._start is None:
            raise ValueError(f"{fn}: the vocabulary has no '<START>' token to start captions with")
        self._check_features(fn, features)
        max_length = validation.check_nonneg_int(fn, "max_length", max_length)
        features = self._to_model_device(features)
        p = self.params
        xp = backend.namespace(p["W_embed"])
        N = features.shape[0]
        h, _ = layers.affine_forward(features, p["W_proj"], p["b_proj"])
        c = xp.zeros_like(h)
        words = xp.full((N,), self._start, dtype=xp.int64, device=h.device)
        generated = []
        for _ in range(max_length):
            embedded = xp.take(p["W_embed"], words, axis=0)
            if self.cell_type == "lstm":
                h, c, _ = layers.lstm_step_forward(embedded, h, c, p["Wx"], p["Wh"], p["b"])
            else:
                h, _ = layers.rnn_step_forward(embedded, h, p["Wx"], p["Wh"], p["b"])
            scores, _ = layers.affine_forward(h, p["W_vocab"], p["b_vocab"])
            words = xp.argmax(scores, axis=1)
            generated.append(words)
        captions = np.full((N, max_length), self._null, dtype=np.int32)
        if generated:
            captions[...] = backend.to_numpy(xp.stack(generated, axis=1))
        return captions
