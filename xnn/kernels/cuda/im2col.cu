// im2col and its adjoint col2im for NCHW inputs, float and double.
//
// Layouts (the contract of xnn/kernels/__init__.py):
//   x     (N, C, H, W)
//   cols  (N, K, P) with K = C*HH*WW, row k = c*HH*WW + i*WW + j,
//                        P = Ho*Wo,    column p = ho*Wo + wo,
//   and cols[n, k, p] = x[n, c, ho*stride - pad + i, wo*stride - pad + j] (0 outside x).
//
// Launch geometry: a 2-D grid-stride loop. The y dimension walks the images (n), the x
// dimension walks the elements of one image's slice, so all per-image index math is 32-bit
// (the host checks that one image's slice has fewer than 2^31 elements) and only the image
// base offset is 64-bit. Every element is written exactly once by exactly one thread.
//
// col2im is a gather: one thread per x element adds every (kernel offset, output position)
// that read it, in a fixed order, so results are deterministic (no atomics).
//
// Kernels are templates found through NVRTC name expressions (im2col<float>, ...): no
// extern "C". The list of names lives in loader.py (KERNELS), and a test checks that it
// matches the template definitions in this file.

// Integer minimum defined here, so the sources need nothing from CUDA's headers (NVRTC
// compiles them without any include).
__device__ inline int xnn_min(int a, int b)
{
    return a < b ? a : b;
}

template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols,
                       int N, int C, int H, int W, int HH, int WW,
                       int Ho, int Wo, int stride, int pad)
{
    const int P = Ho * Wo;
    const int KK = HH * WW;
    const int per_image = C * KK * P;           // elements of cols[n]; < 2^31 (host check)
    const long long x_image = (long long)C * H * W;
    for (int n = blockIdx.y; n < N; n += gridDim.y) {
        const T* xn = x + (long long)n * x_image;
        T* cn = cols + (long long)n * per_image;
        for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < per_image;
             e += blockDim.x * gridDim.x) {
            const int p = e % P;
            const int k = e / P;
            const int wo = p % Wo;
            const int ho = p / Wo;
            const int j = k % WW;
            const int i = (k / WW) % HH;
            const int c = k / KK;
            const int h = ho * stride - pad + i;
            const int w = wo * stride - pad + j;
            T v = T(0);
            if (h >= 0 && h < H && w >= 0 && w < W) {
                v = xn[((long long)c * H + h) * W + w];
            }
            cn[e] = v;
        }
    }
}

template <typename T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ dx,
                       int N, int C, int H, int W, int HH, int WW,
                       int Ho, int Wo, int stride, int pad)
{
    const int P = Ho * Wo;
    const int KK = HH * WW;
    const int per_image = C * H * W;            // elements of dx[n]; < 2^31 (host check)
    const long long cols_image = (long long)C * KK * P;
    for (int n = blockIdx.y; n < N; n += gridDim.y) {
        const T* cn = cols + (long long)n * cols_image;
        T* dn = dx + (long long)n * per_image;
        for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < per_image;
             e += blockDim.x * gridDim.x) {
            const int w = e % W;
            const int h = (e / W) % H;
            const int c = e / (H * W);
            // Position in the padded input; window (ho, wo) covers padded rows
            // ho*stride .. ho*stride + HH - 1, so i = hp - ho*stride must lie in [0, HH).
            const int hp = h + pad;
            const int wp = w + pad;
            const int ho_lo = hp < HH ? 0 : (hp - HH) / stride + 1;
            const int ho_hi = xnn_min(hp / stride, Ho - 1);
            const int wo_lo = wp < WW ? 0 : (wp - WW) / stride + 1;
            const int wo_hi = xnn_min(wp / stride, Wo - 1);
            T acc = T(0);
            for (int ho = ho_lo; ho <= ho_hi; ++ho) {
                const int i = hp - ho * stride;
                for (int wo = wo_lo; wo <= wo_hi; ++wo) {
                    const int j = wp - wo * stride;
                    const int k = c * KK + i * WW + j;
                    acc += cn[(long long)k * P + ho * Wo + wo];
                }
            }
            dn[e] = acc;
        }
    }
}
