// Word-embedding backward (scatter-add of gradient rows), float and double, deterministic.
//
// Inputs (prepared on the device by xnn/kernels/cuda/__init__.py):
//   dout    (M, D)   gradient rows, C-contiguous
//   order   (M,)     int32 positions sorted by (word, position): the rows of word v are
//                    order[offsets[v]] .. order[offsets[v + 1] - 1], in increasing position
//   offsets (V + 1,) int32 segment boundaries of the sorted words (offsets[V] == M)
// Output:
//   dW      (V, D)   dW[v, d] = sum of dout[m, d] over the positions m of word v (0 if none)
//
// One thread per dW element gathers its word's rows in a fixed order, so every run adds the
// same numbers in the same order: no atomics, bitwise reproducible. Launch geometry:
// XNN_FOR_EACH_IMAGE_ELEMENT (common.cuh) with the words as "images" and their D columns as
// elements, so consecutive threads read consecutive columns of a dout row (coalesced).

template <typename T>
__global__ void embedding_backward(const T* __restrict__ dout, const int* __restrict__ order,
                                   const int* __restrict__ offsets, T* __restrict__ dW, int V, int D)
{
    XNN_FOR_EACH_IMAGE_ELEMENT(v, d, V, D) {
        T acc = T(0);
        for (int k = offsets[v]; k < offsets[v + 1]; ++k) {
            acc += dout[(long long)order[k] * D + d];
        }
        dW[(long long)v * D + d] = acc;
    }
}
