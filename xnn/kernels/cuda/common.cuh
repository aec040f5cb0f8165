// Device helpers shared by every kernel source of this package. loader.read_source puts this
// file in front of each .cu file: NVRTC compiles the sources without any include path, and
// nothing here needs CUDA's headers either.

// Integer minimum (no <algorithm> under NVRTC).
__device__ inline int xnn_min(int a, int b)
{
    return a < b ? a : b;
}

// Row-major (c, h, w) of element e of a (C, H, W) image.
__device__ inline void xnn_unravel_chw(int e, int H, int W, int* c, int* h, int* w)
{
    *w = e % W;
    *h = (e / W) % H;
    *c = e / (H * W);
}

// The outputs o in [lo, hi] whose window, rows o*stride .. o*stride + K - 1, covers row p (in
// padded coordinates): o*stride <= p < o*stride + K.
__device__ inline void xnn_covering_outputs(int p, int K, int stride, int n_out, int* lo, int* hi)
{
    *lo = p < K ? 0 : (p - K) / stride + 1;
    *hi = xnn_min(p / stride, n_out - 1);
}

// What a gather kernel (col2im, pool backward) needs for input element e of a (C, H, W) image:
// its channel c, its position (hp, wp) in the padded input, and the ranges of output rows
// [ho_lo, ho_hi] and columns [wo_lo, wo_hi] whose KH x KW windows cover it.
struct XnnGather {
    int c, hp, wp, ho_lo, ho_hi, wo_lo, wo_hi;
};

__device__ inline XnnGather xnn_gather_window(int e, int H, int W, int KH, int KW, int stride, int pad,
                                              int Ho, int Wo)
{
    XnnGather g;
    int h, w;
    xnn_unravel_chw(e, H, W, &g.c, &h, &w);
    g.hp = h + pad;
    g.wp = w + pad;
    xnn_covering_outputs(g.hp, KH, stride, Ho, &g.ho_lo, &g.ho_hi);
    xnn_covering_outputs(g.wp, KW, stride, Wo, &g.wo_lo, &g.wo_hi);
    return g;
}

// The 2-D grid-stride loop of every kernel: images n on the grid's y dimension, the elements e
// of one image on x. Per-image index math stays 32-bit (the host checks that one image has
// fewer than 2^31 elements); only image base offsets are 64-bit. Each (n, e) is visited by
// exactly one thread.
#define XNN_FOR_EACH_IMAGE_ELEMENT(n, e, N, per_image)                                       \
    for (int n = blockIdx.y; n < (N); n += gridDim.y)                                        \
        for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < (per_image);                 \
             e += blockDim.x * gridDim.x)
