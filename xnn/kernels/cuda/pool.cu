// Max-pool forward and backward for NCHW inputs (no padding), float and double.
//
// Layouts (the contract of xnn/kernels/__init__.py):
//   x      (N, C, H, W)
//   out    (N, C, Ho, Wo), Ho = 1 + (H - PH) / stride (floor), likewise Wo
//   argmax (N, C, Ho, Wo) int32: index i*PW + j of the FIRST maximum of the window,
//          scanning rows then columns with a strict > (ties keep the earlier element).
//          A NaN counts as larger than everything (the first NaN wins, like numpy.argmax),
//          so a NaN in a window propagates to out.
//
// Launch geometry: XNN_FOR_EACH_IMAGE_ELEMENT (common.cuh), one thread per output element.
//
// The backward pass is a gather: one thread per x element sums dout of every window whose
// argmax points at it, in a fixed order, so results are deterministic (no atomics).

// The geometry arguments of both kernels, in the order xnn/kernels/cuda/__init__.py passes them.
#define XNN_POOL_GEOMETRY int N, int C, int H, int W, int PH, int PW, int Ho, int Wo, int stride

template <typename T>
__device__ inline bool xnn_pool_better(T v, T best)
{
    // v replaces best when it is larger, or when it is the first NaN seen.
    return v > best || (v != v && best == best);
}

template <typename T>
__global__ void maxpool_forward(const T* __restrict__ x, T* __restrict__ out, int* __restrict__ argmax,
                                XNN_POOL_GEOMETRY)
{
    const int per_image = C * Ho * Wo;          // elements of out[n]
    XNN_FOR_EACH_IMAGE_ELEMENT(n, e, N, per_image) {
        int c, ho, wo;
        xnn_unravel_chw(e, Ho, Wo, &c, &ho, &wo);
        const T* window = x + ((long long)n * C + c) * H * W + (long long)ho * stride * W + wo * stride;
        T best = window[0];
        int best_idx = 0;
        for (int i = 0; i < PH; ++i) {
            for (int j = 0; j < PW; ++j) {
                const T v = window[(long long)i * W + j];
                if (xnn_pool_better(v, best)) {
                    best = v;
                    best_idx = i * PW + j;
                }
            }
        }
        const long long q = (long long)n * per_image + e;
        out[q] = best;
        argmax[q] = best_idx;
    }
}

template <typename T>
__global__ void maxpool_backward(const T* __restrict__ dout, const int* __restrict__ argmax, T* __restrict__ dx,
                                 XNN_POOL_GEOMETRY)
{
    const int per_image = C * H * W;            // elements of dx[n]
    XNN_FOR_EACH_IMAGE_ELEMENT(n, e, N, per_image) {
        const XnnGather g = xnn_gather_window(e, H, W, PH, PW, stride, 0, Ho, Wo);
        const long long plane = ((long long)n * C + g.c) * Ho * Wo;
        T acc = T(0);
        for (int ho = g.ho_lo; ho <= g.ho_hi; ++ho) {
            const int i = g.hp - ho * stride;
            for (int wo = g.wo_lo; wo <= g.wo_hi; ++wo) {
                const long long q = plane + ho * Wo + wo;
                if (argmax[q] == i * PW + (g.wp - wo * stride)) {
                    acc += dout[q];
                }
            }
        }
        dx[(long long)n * per_image + e] = acc;
    }
}
