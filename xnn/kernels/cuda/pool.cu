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
// Launch geometry: as in im2col.cu, a 2-D grid-stride loop with the images on y and one
// image's elements on x (32-bit index math per image, 64-bit image offsets).
//
// The backward pass is a gather: one thread per x element sums dout of every window whose
// argmax points at it, in a fixed order, so results are deterministic (no atomics).

// Integer minimum defined here, so the sources need nothing from CUDA's headers (NVRTC
// compiles them without any include).
__device__ inline int xnn_min(int a, int b)
{
    return a < b ? a : b;
}

template <typename T>
__device__ inline bool xnn_pool_better(T v, T best)
{
    // v replaces best when it is larger, or when it is the first NaN seen.
    return v > best || (v != v && best == best);
}

template <typename T>
__global__ void maxpool_forward(const T* __restrict__ x, T* __restrict__ out,
                                int* __restrict__ argmax,
                                int N, int C, int H, int W, int PH, int PW,
                                int Ho, int Wo, int stride)
{
    const int per_image = C * Ho * Wo;          // elements of out[n]; < 2^31 (host check)
    const long long x_image = (long long)C * H * W;
    for (int n = blockIdx.y; n < N; n += gridDim.y) {
        const T* xn = x + (long long)n * x_image;
        T* on = out + (long long)n * per_image;
        int* an = argmax + (long long)n * per_image;
        for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < per_image;
             e += blockDim.x * gridDim.x) {
            const int wo = e % Wo;
            const int ho = (e / Wo) % Ho;
            const int c = e / (Ho * Wo);
            const T* window = xn + ((long long)c * H + ho * stride) * W + wo * stride;
            T best = window[0];
            int best_idx = 0;
            for (int i = 0; i < PH; ++i) {
                const T* row = window + (long long)i * W;
                for (int j = 0; j < PW; ++j) {
                    const T v = row[j];
                    if (xnn_pool_better(v, best)) {
                        best = v;
                        best_idx = i * PW + j;
                    }
                }
            }
            on[e] = best;
            an[e] = best_idx;
        }
    }
}

template <typename T>
__global__ void maxpool_backward(const T* __restrict__ dout, const int* __restrict__ argmax,
                                 T* __restrict__ dx,
                                 int N, int C, int H, int W, int PH, int PW,
                                 int Ho, int Wo, int stride)
{
    const int per_image = C * H * W;            // elements of dx[n]; < 2^31 (host check)
    const long long out_image = (long long)C * Ho * Wo;
    for (int n = blockIdx.y; n < N; n += gridDim.y) {
        const T* gn = dout + (long long)n * out_image;
        const int* an = argmax + (long long)n * out_image;
        T* dn = dx + (long long)n * per_image;
        for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < per_image;
             e += blockDim.x * gridDim.x) {
            const int w = e % W;
            const int h = (e / W) % H;
            const int c = e / (H * W);
            // Window (ho, wo) covers rows ho*stride .. ho*stride + PH - 1 (no padding),
            // so i = h - ho*stride must lie in [0, PH); likewise j.
            const int ho_lo = h < PH ? 0 : (h - PH) / stride + 1;
            const int ho_hi = xnn_min(h / stride, Ho - 1);
            const int wo_lo = w < PW ? 0 : (w - PW) / stride + 1;
            const int wo_hi = xnn_min(w / stride, Wo - 1);
            const int plane = c * Ho * Wo;
            T acc = T(0);
            for (int ho = ho_lo; ho <= ho_hi; ++ho) {
                const int i = h - ho * stride;
                for (int wo = wo_lo; wo <= wo_hi; ++wo) {
                    const int q = plane + ho * Wo + wo;
                    if (an[q] == i * PW + (w - wo * stride)) {
                        acc += gn[q];
                    }
                }
            }
            dn[e] = acc;
        }
    }
}
