// A kernel engineer's own GEMM, regression-tested against a tensor-core
// model (docs/gpu.md, "Your own kernel"; gpu/examples/user_gemm/README.md).
//
// D = A·B + C with fp16 A (M×K) and B (K×N), fp32 C and D, all row-major,
// on the tensor cores through the WMMA API (CUDA C++ Programming Guide,
// "Warp Matrix Functions"): one warp per 16×16 tile of D, a K loop of
// 16×16×16 mma_sync steps. The result is copied back and written with
// fpsim/gpu/golden_dump.hpp as golden-data files, and the program prints the
// `fpsim mma --expect` command that checks them against the H100 model.
//
// Variants (--variant):
//   chained   (default) the accumulator starts as C and every 16-wide k-tile
//             is one mma_sync into it: exactly the model's chaining of
//             16-element blocks along K (docs/mma.md, "The block-FMA model"),
//             so on an H100/H200 every row should pass h100-fp16-fp32.
//   split-k2  the two halves of K are accumulated separately (the first
//             from C, the second from 0) and added in fp32 at the end, as a
//             split-K kernel does: a different summation order, which the
//             preset does not describe; most rows differ by a few ULPs.
//
// Inputs (--seed S, default 1): a splitmix64 stream; u = the top 24 bits of
// a draw / 2^24, uniform on [0, 1). A and B hold fp16 RN(2u - 1), uniform on
// [-1, 1) rounded to nearest fp16 (A row by row, then B row by row); C holds
// the fp32 value 2u - 1 (exact), drawn after B.
//
// Depends on the CUDA runtime and golden_dump.hpp only, not on fpsim's
// libraries. Exit status: 0 done (and the host check passed), 1 the host
// check failed, 2 a usage error, no usable GPU or a CUDA error.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fpsim/gpu/golden_dump.hpp"

namespace {

using namespace nvcuda;

constexpr int kTile = 16;  // the WMMA shape m16n16k16 for fp16 inputs

// Every CUDA call is checked: a failure names the call and exits with 2.
#define CHECK_CUDA(call)                                                                                    \
  do {                                                                                                      \
    const cudaError_t status_ = (call);                                                                     \
    if (status_ != cudaSuccess) {                                                                           \
      std::fprintf(stderr, "user_gemm_example: %s failed: %s (%s)\n", #call, cudaGetErrorName(status_), \
                   cudaGetErrorString(status_));                                                            \
      std::exit(2);                                                                                         \
    }                                                                                                       \
  } while (0)

using FragmentA = wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, __half, wmma::row_major>;
using FragmentB = wmma::fragment<wmma::matrix_b, kTile, kTile, kTile, __half, wmma::row_major>;
using Accumulator = wmma::fragment<wmma::accumulator, kTile, kTile, kTile, float>;

// acc += A[row0 .. row0+15][k_begin .. k_end-1] · B[k_begin .. k_end-1][col0 .. col0+15],
// one mma_sync per 16-wide k-tile, in increasing k: each step's D is the next
// step's C.
__device__ void accumulate_k_tiles(Accumulator& acc, const __half* A, const __half* B, size_t row0, size_t col0,
                                   int N, int K, int k_begin, int k_end) {
  FragmentA a;
  FragmentB b;
  for (int k0 = k_begin; k0 < k_end; k0 += kTile) {
    wmma::load_matrix_sync(a, A + row0 * K + k0, unsigned(K));
    wmma::load_matrix_sync(b, B + size_t(k0) * N + col0, unsigned(N));
    wmma::mma_sync(acc, a, b, acc);
  }
}

// Both kernels: grid (N / 16, M / 16), one warp (32 threads) per block, which
// computes the 16×16 tile of D at (16·blockIdx.y, 16·blockIdx.x). M, N, K
// must be multiples of 16, so that every tile pointer is 32-byte aligned and
// every leading dimension a multiple of 8 halves / 4 floats
// (load_matrix_sync's requirements).

// D = (...((C + A_0·B_0) + A_1·B_1) + ...) over the k-tiles: the accumulator
// starts as the C tile.
__global__ void gemm_wmma_chained(const __half* A, const __half* B, const float* C, float* D, int N, int K) {
  const size_t row0 = size_t(blockIdx.y) * kTile, col0 = size_t(blockIdx.x) * kTile;
  Accumulator acc;
  wmma::load_matrix_sync(acc, C + row0 * N + col0, unsigned(N), wmma::mem_row_major);
  accumulate_k_tiles(acc, A, B, row0, col0, N, K, 0, K);
  wmma::store_matrix_sync(D + row0 * N + col0, acc, unsigned(N), wmma::mem_row_major);
}

// Split-K in two: `lo` chains the k-tiles of [0, K/2) from C, `hi` those of
// [K/2, K) from 0, and D = lo + hi, one fp32 addition (RN) per element. K must
// be a multiple of 32. Both fragments have the same type, so x[e] is the same
// tile element in each (CUDA C++ Programming Guide, "Warp Matrix Functions").
__global__ void gemm_wmma_split_k2(const __half* A, const __half* B, const float* C, float* D, int N, int K) {
  const size_t row0 = size_t(blockIdx.y) * kTile, col0 = size_t(blockIdx.x) * kTile;
  Accumulator lo, hi;
  wmma::load_matrix_sync(lo, C + row0 * N + col0, unsigned(N), wmma::mem_row_major);
  wmma::fill_fragment(hi, 0.0f);
  accumulate_k_tiles(lo, A, B, row0, col0, N, K, 0, K / 2);
  accumulate_k_tiles(hi, A, B, row0, col0, N, K, K / 2, K);
  for (int e = 0; e < lo.num_elements; ++e) lo.x[e] = lo.x[e] + hi.x[e];
  wmma::store_matrix_sync(D + row0 * N + col0, lo, unsigned(N), wmma::mem_row_major);
}

// splitmix64 (Steele, Lea, Flood 2014): the documented input stream.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform on [-1, 1), exact in fp32: 2u - 1 with u = k / 2^24.
  float symmetric() { return float(int64_t(next() >> 40) - (int64_t(1) << 23)) / float(1 << 23); }
};

struct Options {
  int m = 64, n = 64, k = 256;
  uint64_t seed = 1;
  std::string out = "user_gemm_out";
  std::string variant = "chained";
};

const char* const kUsage =
    "usage: fpsim_user_gemm_example [--m M] [--n N] [--k K] [--seed S] [--out DIR] [--variant chained|split-k2]\n"
    "  M, N, K: multiples of 16 (defaults 64, 64, 256; split-k2: K a multiple of 32)\n"
    "  DIR: where a.txt, b.txt, c.txt, d.txt and rows.txt go (created if missing; default user_gemm_out)\n";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "user_gemm_example: %s\n%s", what.c_str(), kUsage);
  return 2;
}

bool parse_count(const char* text, long max, long& value) {
  char* end = nullptr;
  errno = 0;
  value = std::strtol(text, &end, 10);
  return errno == 0 && end != text && *end == '\0' && value >= 1 && value <= max;
}

// Fills `o`; returns 0, or the exit status of a usage error (or of --help).
int parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--help" || name == "-h") {
      std::printf("%s", kUsage);
      return -1;
    }
    if (i + 1 >= argc) return usage_error("unknown option or missing value: " + name);
    const char* value = argv[++i];
    long v = 0;
    if (name == "--m" || name == "--n" || name == "--k") {
      if (!parse_count(value, 1 << 14, v) || v % kTile != 0)
        return usage_error(name + " " + value + ": expected a multiple of 16 from 16 to 16384");
      (name == "--m" ? o.m : name == "--n" ? o.n : o.k) = int(v);
    } else if (name == "--seed") {
      char* end = nullptr;
      errno = 0;
      o.seed = std::strtoull(value, &end, 10);
      if (errno != 0 || end == value || *end != '\0' || value[0] == '-')
        return usage_error(std::string("--seed ") + value + ": expected a whole number");
    } else if (name == "--out") {
      o.out = value;
      if (o.out.empty()) return usage_error("--out: expected a directory");
    } else if (name == "--variant") {
      o.variant = value;
      if (o.variant != "chained" && o.variant != "split-k2")
        return usage_error("--variant " + o.variant + ": expected chained or split-k2");
    } else {
      return usage_error("unknown option " + name);
    }
  }
  if (o.variant == "split-k2" && o.k % (2 * kTile) != 0)
    return usage_error("--variant split-k2 needs K a multiple of 32, got " + std::to_string(o.k));
  return 0;
}

// A sanity check independent of any model: every D within a loose bound of
// the exact result (double), relative to |C| + sum |a·b|. A wrong layout or
// indexing is off by O(1); rounding is below 2^-19 per 16-element k-tile.
bool host_check(const Options& o, const std::vector<float>& A, const std::vector<float>& B,
                const std::vector<float>& C, const std::vector<float>& D) {
  const double bound = (o.k / kTile + 1) * std::ldexp(1.0, -19);
  double worst = 0;
  int worst_i = 0, worst_j = 0;
  for (int i = 0; i < o.m; ++i)
    for (int j = 0; j < o.n; ++j) {
      const size_t ij = size_t(i) * o.n + j;
      double exact = C[ij], scale = std::fabs(C[ij]);
      for (int s = 0; s < o.k; ++s) {
        const double p = double(A[size_t(i) * o.k + s]) * double(B[size_t(s) * o.n + j]);
        exact += p;
        scale += std::fabs(p);
      }
      double err = std::fabs(double(D[ij]) - exact) / (scale > 0 ? scale : 1.0);
      if (std::isnan(err)) err = INFINITY;  // a NaN D (e.g. never written) fails
      if (err > worst) {
        worst = err;
        worst_i = i;
        worst_j = j;
      }
    }
  const bool ok = worst <= bound;
  std::printf("host check: max |D - exact| / (|C| + sum |a*b|) = %.3g at D[%d][%d] (bound %.3g): %s\n", worst, worst_i,
              worst_j, bound, ok ? "ok" : "FAILED (the kernel is wrong, not just rounded differently)");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const int status = parse_options(argc, argv, o)) return status < 0 ? 0 : status;

  int devices = 0;
  CHECK_CUDA(cudaGetDeviceCount(&devices));
  if (devices < 1) {
    std::fprintf(stderr, "user_gemm_example: no CUDA device\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  CHECK_CUDA(cudaSetDevice(0));
  // Built for sm_90a (Hopper) only: the preset below is the H100/H200 model.
  if (prop.major != 9) {
    std::fprintf(stderr, "user_gemm_example: %s is sm_%d%d; this example is built for sm_90a (H100/H200)\n",
                 prop.name, prop.major, prop.minor);
    return 2;
  }
  std::printf("user_gemm_example: variant %s, M=%d N=%d K=%d, seed %llu, on %s (sm_%d%d)\n", o.variant.c_str(), o.m,
              o.n, o.k, static_cast<unsigned long long>(o.seed), prop.name, prop.major, prop.minor);

  // Inputs: fp16 on the device, and the same values widened to float (exact)
  // for the dump.
  const size_t a_count = size_t(o.m) * o.k, b_count = size_t(o.k) * o.n, d_count = size_t(o.m) * o.n;
  SplitMix64 rng{o.seed};
  std::vector<__half> a16(a_count), b16(b_count);
  std::vector<float> a(a_count), b(b_count), c(d_count), d(d_count);
  for (size_t i = 0; i < a_count; ++i) {
    a16[i] = __float2half_rn(rng.symmetric());
    a[i] = __half2float(a16[i]);
  }
  for (size_t i = 0; i < b_count; ++i) {
    b16[i] = __float2half_rn(rng.symmetric());
    b[i] = __half2float(b16[i]);
  }
  for (float& x : c) x = rng.symmetric();

  __half *dev_a = nullptr, *dev_b = nullptr;
  float *dev_c = nullptr, *dev_d = nullptr;
  CHECK_CUDA(cudaMalloc(&dev_a, a_count * sizeof(__half)));
  CHECK_CUDA(cudaMalloc(&dev_b, b_count * sizeof(__half)));
  CHECK_CUDA(cudaMalloc(&dev_c, d_count * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dev_d, d_count * sizeof(float)));
  CHECK_CUDA(cudaMemcpy(dev_a, a16.data(), a_count * sizeof(__half), cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(dev_b, b16.data(), b_count * sizeof(__half), cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(dev_c, c.data(), d_count * sizeof(float), cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemset(dev_d, 0xff, d_count * sizeof(float)));  // NaN: an unwritten D cannot pass

  const dim3 grid(unsigned(o.n / kTile), unsigned(o.m / kTile)), block(32);
  if (o.variant == "chained")
    gemm_wmma_chained<<<grid, block>>>(dev_a, dev_b, dev_c, dev_d, o.n, o.k);
  else
    gemm_wmma_split_k2<<<grid, block>>>(dev_a, dev_b, dev_c, dev_d, o.n, o.k);
  CHECK_CUDA(cudaGetLastError());       // launch errors (e.g. no kernel image for this GPU)
  CHECK_CUDA(cudaDeviceSynchronize());  // errors while it ran
  CHECK_CUDA(cudaMemcpy(d.data(), dev_d, d_count * sizeof(float), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaFree(dev_a));
  CHECK_CUDA(cudaFree(dev_b));
  CHECK_CUDA(cudaFree(dev_c));
  CHECK_CUDA(cudaFree(dev_d));

  const bool check_ok = host_check(o, a, b, c, d);

  // The dump: row r of the files (line r) is D[(r-1) / N][(r-1) % N].
  if (::mkdir(o.out.c_str(), 0777) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "user_gemm_example: cannot create %s: %s\n", o.out.c_str(), std::strerror(errno));
    return 2;
  }
  const fpsim::gpu::GoldenFiles files = fpsim::gpu::golden_files_in(o.out);
  fpsim::gpu::GoldenGemm gemm;
  gemm.m = o.m;
  gemm.n = o.n;
  gemm.k = o.k;
  gemm.a = a.data();
  gemm.b = b.data();
  gemm.c = c.data();
  gemm.d = d.data();
  const fpsim::gpu::GoldenDumpResult dumped = fpsim::gpu::write_golden_files(files, gemm);
  if (!dumped) {
    std::fprintf(stderr, "user_gemm_example: %s\n", dumped.message.c_str());
    return 2;
  }
  std::printf("wrote %zu rows to %s, %s, %s, %s (%s: \"i j\" of each row's D[i][j])\n", dumped.rows,
              files.a.c_str(), files.b.c_str(), files.c.c_str(), files.d.c_str(), files.rows.c_str());
  std::printf("check it against the H100/H200 tensor-core model (%s):\n",
              o.variant == "chained" ? "expected: all rows pass"
                                     : "split-K sums in another order: expect failures");
  std::printf("%s\n", fpsim::gpu::golden_expect_command(files, "h100-fp16-fp32", o.k).c_str());
  return check_ok ? 0 : 1;
}
