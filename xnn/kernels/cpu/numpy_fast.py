"""NumPy-only fast paths for the CPU kernels (same contract as :mod:`xnn.kernels.generic`).

* ``im2col``, ``conv_forward``, ``conv_backward`` (:mod:`.conv`): one strided window view copied
  into a column matrix; the conv products as large GEMMs over batch chunks.
* ``maxpool_forward``, ``maxpool_backward`` (:mod:`.pool`): branch-free passes over the window's
  strided slices, per batch chunk.
* ``relu_backward``, ``matmul`` (:mod:`.elementwise`): branch-free ``dout * (x > 0)``; products
  split into row or column blocks.
* ``embedding_backward`` (:mod:`.embedding`): a stable ``argsort`` of the indices, then
  ``np.add.reduceat`` over the sorted rows, one segment per distinct index (no scatter with
  repeated indices).
* ``conv_pool_forward``, ``conv_pool_backward`` (:mod:`.conv_pool`): a convolution and the
  max-pool after it in one pass per batch chunk (the conv output never leaves the cache).
* ``adam_step`` (:mod:`.optim_steps`): the whole update per cache-sized chunk of elements.
* ``col2im`` is left to the generic kernel: its adds are bound by reading the column matrix.

Every kernel that splits its batch runs the chunks on xnn's worker threads (:mod:`.threads`,
``XNN_NUM_THREADS``) with BLAS limited to one thread inside; the conv and max-pool kernels take
their arrays of 1 MiB or more from :data:`.buffers.buffer_pool`, which hands a buffer out again
once nothing references it (fresh large arrays are page-faulted on every call).
``benchmarks/README.md`` records what each choice measured and the variants that were dropped.
"""

from __future__ import annotations

from .conv import conv_backward, conv_forward, im2col
from .conv_pool import conv_pool_backward, conv_pool_forward
from .elementwise import matmul, relu_backward
from .embedding import embedding_backward
from .optim_steps import adam_step
from .pool import maxpool_backward, maxpool_forward

OPS = ("im2col", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward", "relu_backward",
       "matmul", "embedding_backward", "adam_step", "conv_pool_forward", "conv_pool_backward")

__all__ = ["OPS", "adam_step", "conv_backward", "conv_forward", "conv_pool_backward", "conv_pool_forward",
           "embedding_backward", "im2col", "matmul", "maxpool_backward", "maxpool_forward", "relu_backward"]
