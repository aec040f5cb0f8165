// im2col and its adjoint col2im for NCHW inputs, float and double.
//
// Layouts (the contract of xnn/kernels/__init__.py):
//   x     (N, C, H, W)
//   cols  (N, K, P) with K = C*HH*WW, row k = c*HH*WW + i*WW + j,
//                        P = Ho*Wo,    column p = ho*Wo + wo,
//   and cols[n, k, p] = x[n, c, ho*stride - pad + i, wo*stride - pad + j] (0 outside x).
//
// Launch geometry: XNN_FOR_EACH_IMAGE_ELEMENT (common.cuh). Every element is written exactly
// once by exactly one thread.
//
// col2im is a gather: one thread per x element adds every (kernel offset, output position)
// that read it, in a fixed order, so results are deterministic (no atomics).
//
// Kernels are templates found through NVRTC name expressions (im2col<float>, ...): no
// extern "C". The list of names lives in loader.py (KERNELS), and a test checks that it
// matches the template definitions in this file.

// The geometry arguments of both kernels, in the order xnn/kernels/cuda/__init__.py passes them.
#define XNN_CONV_GEOMETRY int N, int C, int H, int W, int HH, int WW, int Ho, int Wo, int stride, int pad

template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols, XNN_CONV_GEOMETRY)
{
    const int P = Ho * Wo;
    const int per_image = C * HH * WW * P;       // elements of cols[n]
    XNN_FOR_EACH_IMAGE_ELEMENT(n, e, N, per_image) {
        // e = ((c*HH + i)*WW + j)*P + ho*Wo + wo: unravel as a (C*HH, WW, P) index, then split.
        int ci, j, p;
        xnn_unravel_chw(e, WW, P, &ci, &j, &p);
        const int c = ci / HH;
        const int h = (p / Wo) * stride - pad + ci % HH;
        const int w = (p % Wo) * stride - pad + j;
        T v = T(0);
        if (h >= 0 && h < H && w >= 0 && w < W) {
            v = x[(long long)n * C * H * W + ((long long)c * H + h) * W + w];
        }
        cols[(long long)n * per_image + e] = v;
    }
}

template <typename T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ dx, XNN_CONV_GEOMETRY)
{
    const int P = Ho * Wo;
    const int per_image = C * H * W;             // elements of dx[n]
    XNN_FOR_EACH_IMAGE_ELEMENT(n, e, N, per_image) {
        const T* cn = cols + (long long)n * C * HH * WW * P;
        const XnnGather g = xnn_gather_window(e, H, W, HH, WW, stride, pad, Ho, Wo);
        T acc = T(0);
        for (int ho = g.ho_lo; ho <= g.ho_hi; ++ho) {
            const int i = g.hp - ho * stride;
            for (int wo = g.wo_lo; wo <= g.wo_hi; ++wo) {
                const int k = (g.c * HH + i) * WW + (g.wp - wo * stride);
                acc += cn[(long long)k * P + ho * Wo + wo];
            }
        }
        dx[(long long)n * per_image + e] = acc;
    }
}
