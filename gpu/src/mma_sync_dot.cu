// Dot products and the layout self-test on mma.sync (device_mma.hpp).
//
// Fragment layouts: PTX ISA, "Matrix Fragments for mma.m16n8k16 with
// floating point type", "... mma.m16n8k8" (.tf32) and "... mma.m16n8k32"
// (.e4m3/.e5m2). With lane = threadIdx % 32, g = lane >> 2 (groupID) and
// t = lane & 3 (threadID_in_group):
//   m16n8k16 A (16×16, row): reg r holds two elements (low half first) at
//     row g (+8 for r = 1, 3), cols 2t, 2t+1 (+8 for r = 2, 3);
//     B (16×8, col): reg r at rows 2t, 2t+1 (+8 for r = 1), col g.
//   m16n8k8 .tf32 A: reg r = (row g (+8 for r = 1, 3), col t (+4 for r = 2, 3));
//     B: reg r = (row t (+4 for r = 1), col g).
//   m16n8k32 .e4m3/.e5m2 A: reg r holds four elements (byte 0 first) at
//     row g (+8 for r = 1, 3), cols 4t..4t+3 (+16 for r = 2, 3);
//     B: reg r at rows 4t..4t+3 (+16 for r = 1), col g.
//   C/D (16×8) f32: c_i at row g (+8 for i = 2, 3), col 2t + (i & 1);
//     f16: the same four elements packed in two registers (low half first).
// layout_self_test checks every one of these slots against an exact product.
#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "accumulator_registers.cuh"
#include "device_mma_common.hpp"
#include "mma_sync_dot.hpp"

namespace fpsim::gpu::detail {
namespace {

enum class In { f16, bf16, tf32, e4m3, e5m2 };

// Where the operands come from: dot mode takes row 0 of A and column 0 of B
// from one dot product's codes (everything else zero); tile mode reads full
// row-major tiles A (16×k), B (k×8), C (16×8) and writes all of D.
struct Operands {
  const uint32_t* a;  // dot: count × chunks × k codes; tile: 16 × k codes
  const uint32_t* b;  // dot: same shape as a; tile: k × 8 codes
  const uint32_t* c;  // dot: count codes; tile: 16 × 8 codes
  uint32_t* d;        // as c
  int count;          // dot products (dot mode)
  int chunks;         // instructions chained per dot product
  bool tile;
};

template <In kIn>
constexpr int kK = kIn == In::tf32 ? 8 : (kIn == In::e4m3 || kIn == In::e5m2) ? 32 : 16;

struct Source {
  const Operands& o;
  int dot;    // which dot product (dot mode)
  int chunk;  // which instruction of the chain
  int k;      // instruction k
  __device__ uint32_t a(int row, int col) const {
    if (o.tile) return o.a[row * k + col];
    return row == 0 ? o.a[(static_cast<size_t>(dot) * o.chunks + chunk) * k + col] : 0u;
  }
  __device__ uint32_t b(int row, int col) const {
    if (o.tile) return o.b[row * 8 + col];
    return col == 0 ? o.b[(static_cast<size_t>(dot) * o.chunks + chunk) * k + row] : 0u;
  }
  __device__ uint32_t c(int row, int col) const {
    if (o.tile) return o.c[row * 8 + col];
    return row == 0 && col == 0 ? o.c[dot] : 0u;
  }
};

__device__ uint32_t pack2(uint32_t lo, uint32_t hi) { return (lo & 0xffffu) | (hi << 16); }
__device__ uint32_t pack4(uint32_t b0, uint32_t b1, uint32_t b2, uint32_t b3) {
  return (b0 & 0xffu) | ((b1 & 0xffu) << 8) | ((b2 & 0xffu) << 16) | (b3 << 24);
}

template <In kIn>
__device__ void load_a(const Source& s, int g, int t, uint32_t (&ra)[4]) {
  for (int r = 0; r < 4; ++r) {
    const int row = g + ((r & 1) ? 8 : 0);
    if constexpr (kIn == In::f16 || kIn == In::bf16) {
      const int col = 2 * t + ((r & 2) ? 8 : 0);
      ra[r] = pack2(s.a(row, col), s.a(row, col + 1));
    } else if constexpr (kIn == In::tf32) {
      ra[r] = s.a(row, t + ((r & 2) ? 4 : 0));
    } else {
      const int col = 4 * t + ((r & 2) ? 16 : 0);
      ra[r] = pack4(s.a(row, col), s.a(row, col + 1), s.a(row, col + 2), s.a(row, col + 3));
    }
  }
}

template <In kIn>
__device__ void load_b(const Source& s, int g, int t, uint32_t (&rb)[2]) {
  for (int r = 0; r < 2; ++r) {
    if constexpr (kIn == In::f16 || kIn == In::bf16) {
      const int row = 2 * t + (r ? 8 : 0);
      rb[r] = pack2(s.b(row, g), s.b(row + 1, g));
    } else if constexpr (kIn == In::tf32) {
      rb[r] = s.b(t + (r ? 4 : 0), g);
    } else {
      const int row = 4 * t + (r ? 16 : 0);
      rb[r] = pack4(s.b(row, g), s.b(row + 1, g), s.b(row + 2, g), s.b(row + 3, g));
    }
  }
}

// One instruction: d = A·B + d.
template <In kIn>
__device__ void mma_f32(const uint32_t (&a)[4], const uint32_t (&b)[2], float (&d)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if constexpr (kIn == In::f16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (kIn == In::bf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (kIn == In::tf32) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (kIn == In::e4m3) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
#else
  (void)a, (void)b, (void)d;
#endif
}

// One instruction with an fp16 accumulator: d (two f16x2 registers) = A·B + d.
template <In kIn>
__device__ void mma_f16(const uint32_t (&a)[4], const uint32_t (&b)[2], uint32_t (&d)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if constexpr (kIn == In::f16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0,%1}, {%2,%3,%4,%5}, {%6,%7}, {%0,%1};\n"
        : "+r"(d[0]), "+r"(d[1])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (kIn == In::e4m3) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f16.e4m3.e4m3.f16 {%0,%1}, {%2,%3,%4,%5}, {%6,%7}, {%0,%1};\n"
        : "+r"(d[0]), "+r"(d[1])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (kIn == In::e5m2) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f16.e5m2.e5m2.f16 {%0,%1}, {%2,%3,%4,%5}, {%6,%7}, {%0,%1};\n"
        : "+r"(d[0]), "+r"(d[1])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
#else
  (void)a, (void)b, (void)d;
#endif
}

constexpr int kWarpsPerBlock = 4;

// One warp per dot product (dot mode) or one warp for the tile.
template <In kIn, bool kF32>
__global__ void mma_sync_kernel(Operands o) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int dot = blockIdx.x * kWarpsPerBlock + static_cast<int>(threadIdx.x >> 5);
  if (!o.tile && dot >= o.count) return;  // whole warps leave together
  if (o.tile && dot != 0) return;
  constexpr int k = kK<kIn>;
  const Source c_src{o, dot, 0, k};
  // C/D element i of this lane: row g (+8 for i >= 2), col 2t + (i & 1).
  uint32_t c_codes[4];
  for (int i = 0; i < 4; ++i) c_codes[i] = c_src.c(g + (i >= 2 ? 8 : 0), 2 * t + (i & 1));
  AccumulatorRegisters acc = accumulator_from_codes<kF32>(c_codes);
  const int chunks = o.tile ? 1 : o.chunks;
  for (int chunk = 0; chunk < chunks; ++chunk) {
    const Source s{o, dot, chunk, k};
    uint32_t ra[4], rb[2];
    load_a<kIn>(s, g, t, ra);
    load_b<kIn>(s, g, t, rb);
    if constexpr (kF32) {
      mma_f32<kIn>(ra, rb, acc.f32);
    } else {
      mma_f16<kIn>(ra, rb, acc.f16x2);
    }
  }
  uint32_t d_codes[4];
  accumulator_to_codes<kF32>(acc, d_codes);
  if (o.tile) {
    for (int i = 0; i < 4; ++i) o.d[(g + (i >= 2 ? 8 : 0)) * 8 + 2 * t + (i & 1)] = d_codes[i];
  } else if (lane == 0) {
    o.d[dot] = d_codes[0];  // D(0, 0): lane 0, element 0
  }
}

using Kernel = void (*)(Operands);

Kernel kernel_for(const MmaConfig& c) {
  const bool f32 = c.accumulator == MmaAccumulator::fp32;
  switch (c.input) {
    case MmaInput::fp16: return f32 ? mma_sync_kernel<In::f16, true> : mma_sync_kernel<In::f16, false>;
    case MmaInput::bf16:
      if (f32) return mma_sync_kernel<In::bf16, true>;
      break;
    case MmaInput::tf32:
      if (f32) return mma_sync_kernel<In::tf32, true>;
      break;
    case MmaInput::e4m3: return f32 ? mma_sync_kernel<In::e4m3, true> : mma_sync_kernel<In::e4m3, false>;
    case MmaInput::e5m2: return f32 ? mma_sync_kernel<In::e5m2, true> : mma_sync_kernel<In::e5m2, false>;
  }
  throw OptionError("mma.sync has no " + config_name(c) + " form");
}

std::vector<uint32_t> launch(const MmaConfig& c, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b,
                             const std::vector<uint32_t>& c_codes, size_t d_size, int count, int chunks, bool tile) {
  const Kernel kernel = kernel_for(c);
  DeviceBuffer &da = device_buffer(0), &db = device_buffer(1), &dc = device_buffer(2), &dd = device_buffer(3);
  dd.reserve(std::max<size_t>(d_size, 1));
  da.upload(a);
  db.upload(b);
  dc.upload(c_codes);
  const Operands o{da.p, db.p, dc.p, dd.p, count, chunks, tile};
  const int blocks = tile ? 1 : (count + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (blocks > 0) {
    kernel<<<blocks, 32 * kWarpsPerBlock>>>(o);
    check_cuda(cudaGetLastError(), "mma.sync kernel launch");
    check_cuda(cudaDeviceSynchronize(), "mma.sync kernel");
  }
  return dd.download(d_size);
}

}  // namespace

std::vector<uint32_t> mma_sync_dot_batch(const MmaConfig& c, int k, std::span<const uint32_t> a,
                                         std::span<const uint32_t> b, std::span<const uint32_t> c_in) {
  const EncodedBatch e = encode_batch(c, k, a, b, c_in);
  std::vector<uint32_t> d = launch(c, e.a, e.b, e.c, e.c.size(), e.count, e.chunks, false);
  for (uint32_t& v : d) v = accumulator_value(v, c);
  return d;
}

std::string mma_sync_layout_self_test(const MmaConfig& c) {
  const int ki = instruction_k(c);
  std::string failed = unit_vector_self_test(c, mma_sync_dot_batch, ki);
  if (failed.empty()) failed = unit_vector_self_test(c, mma_sync_dot_batch, 3 * ki - 1);
  // A full 16×k tile (one instruction): every fragment slot of A, B, C and D.
  if (failed.empty())
    failed = integer_tile_self_test(c, 16, ki, 20261206, [&](const auto& a, const auto& b, const auto& cc) {
      return launch(c, a, b, cc, 16 * 8, 1, 1, true);
    });
  return failed;
}

}  // namespace fpsim::gpu::detail
