// Dot products and the layout self-test on wgmma (device_mma.hpp).
//
// One warpgroup (128 threads, one block) per dot product runs
// wgmma.mma_async.sync.aligned.m64n8k{16,8,32} with A (64×k) and B (k×8)
// both in shared memory, K-major (imm-trans-a/b = 0 where the instruction
// has them), no swizzle: PTX ISA, "Asynchronous Warpgroup Level Matrix
// Multiply-Accumulate", sections "wgmma.mma_async", "Shared Memory Matrix
// Layout", "Matrix Descriptor Format" and "Register Fragments" (the image
// and descriptor arithmetic is fpsim/gpu/wgmma_layout.hpp, tested on the
// CPU). Per instruction of a chain:
//   1. the threads write the k slice of A and B into the image (dot mode:
//      row 0 of A and column 0 of B, everything else stays zero);
//   2. fence.proxy.async.shared::cta, then a CTA barrier: the generic-proxy
//      writes become visible to the async proxy that wgmma reads through
//      (PTX ISA, wgmma.fence: "An async proxy fence must be used ...");
//   3. wgmma.fence (the accumulator registers were written by ordinary
//      instructions: C, or nothing new after the previous wait),
//      wgmma.mma_async with scale-d = 1 (D = A·B + D), commit_group,
//      wait_group 0, all in one asm statement so that the compiler cannot
//      touch the accumulators between issue and completion;
//   4. a barrier before the image is overwritten.
// C enters the accumulator registers before the first instruction (fp16
// accumulator: as fp16 codes, two per .f16x2 register); D leaves them after
// the last (widened to FP32 on the host).
//
// Which descriptor field the hardware reads as the K step is a runtime
// choice among wgmma_layout::conventions: the self-test tries each in
// order and keeps the first that passes (docs/gpu.md, "wgmma descriptors").
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "accumulator_registers.cuh"
#include "device_mma_common.hpp"
#include "fpsim/gpu/wgmma_layout.hpp"
#include "wgmma_dot.hpp"

// wgmma exists only on the arch-specific target sm_90a (PTX ISA,
// wgmma.mma_async "Target ISA notes"); elsewhere the kernels are empty and
// the host refuses to launch them (require_hopper).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FPSIM_WGMMA_DEVICE 1
#else
#define FPSIM_WGMMA_DEVICE 0
#endif

namespace fpsim::gpu::detail {
namespace {

namespace wl = wgmma_layout;

enum class In { f16, bf16, tf32, e4m3, e5m2 };

template <In kIn>
constexpr int kK = kIn == In::tf32                        ? 8
                   : (kIn == In::e4m3 || kIn == In::e5m2) ? 32
                                                          : 16;
template <In kIn>
constexpr int kElementBytes = wl::k_bytes / kK<kIn>;

// Where the operands come from: dot mode takes row 0 of A and column 0 of B
// from one dot product's codes (everything else zero); tile mode reads full
// row-major tiles A (64×K), B (K×8), C (64×8) and writes all of D.
struct Operands {
  const uint32_t* a;  // dot: count × chunks × k codes; tile: 64 × chunks·k codes
  const uint32_t* b;  // dot: same shape as a; tile: chunks·k × 8 codes
  const uint32_t* c;  // dot: count codes; tile: 64 × 8 codes
  uint32_t* d;        // as c
  int chunks;         // instructions chained per dot product
  bool tile;
};

// The descriptor convention under which the image is written and read.
struct Layout {
  wl::OperandLayout a, b;
  bool lbo_is_k;
};

template <In kIn>
__device__ void put(uint8_t* image, uint32_t offset, uint32_t code) {
  if constexpr (kElementBytes<kIn> == 1) {
    image[offset] = static_cast<uint8_t>(code);
  } else if constexpr (kElementBytes<kIn> == 2) {
    *reinterpret_cast<uint16_t*>(image + offset) = static_cast<uint16_t>(code);
  } else {
    *reinterpret_cast<uint32_t*>(image + offset) = code;
  }
}

// The asm of one chained instruction: wgmma.fence, the instruction with
// scale-d = 1 and imm-scale-a/b = 1 (no negation), commit, wait for it.
// TRANS is ", 0, 0" (imm-trans-a/b = 0: K-major) for f16/bf16 and empty for
// the forms without transpose operands (tf32, e4m3, e5m2).
#define FPSIM_WGMMA_F32(INSTR, TRANS)                                                \
  asm volatile(                                                                      \
      "{\n"                                                                          \
      ".reg .pred p;\n"                                                              \
      "setp.ne.b32 p, %6, 0;\n"                                                      \
      "wgmma.fence.sync.aligned;\n" INSTR " {%0, %1, %2, %3}, %4, %5, p, 1, 1" TRANS \
      ";\n"                                                                          \
      "wgmma.commit_group.sync.aligned;\n"                                           \
      "wgmma.wait_group.sync.aligned 0;\n"                                           \
      "}\n"                                                                          \
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])                               \
      : "l"(desc_a), "l"(desc_b), "r"(1)                                             \
      : "memory")

#define FPSIM_WGMMA_F16(INSTR, TRANS)                                        \
  asm volatile(                                                              \
      "{\n"                                                                  \
      ".reg .pred p;\n"                                                      \
      "setp.ne.b32 p, %4, 0;\n"                                              \
      "wgmma.fence.sync.aligned;\n" INSTR " {%0, %1}, %2, %3, p, 1, 1" TRANS \
      ";\n"                                                                  \
      "wgmma.commit_group.sync.aligned;\n"                                   \
      "wgmma.wait_group.sync.aligned 0;\n"                                   \
      "}\n"                                                                  \
      : "+r"(d[0]), "+r"(d[1])                                               \
      : "l"(desc_a), "l"(desc_b), "r"(1)                                     \
      : "memory")

// D = A·B + D with an FP32 accumulator (four .f32 registers per thread).
template <In kIn>
__device__ void wgmma_f32(float (&d)[4], uint64_t desc_a, uint64_t desc_b) {
#if FPSIM_WGMMA_DEVICE
  if constexpr (kIn == In::f16) {
    FPSIM_WGMMA_F32("wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16", ", 0, 0");
  } else if constexpr (kIn == In::bf16) {
    FPSIM_WGMMA_F32("wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16", ", 0, 0");
  } else if constexpr (kIn == In::tf32) {
    FPSIM_WGMMA_F32("wgmma.mma_async.sync.aligned.m64n8k8.f32.tf32.tf32", "");
  } else if constexpr (kIn == In::e4m3) {
    FPSIM_WGMMA_F32("wgmma.mma_async.sync.aligned.m64n8k32.f32.e4m3.e4m3", "");
  } else {
    FPSIM_WGMMA_F32("wgmma.mma_async.sync.aligned.m64n8k32.f32.e5m2.e5m2", "");
  }
#else
  (void)d, (void)desc_a, (void)desc_b;
#endif
}

// D = A·B + D with an fp16 accumulator (two .f16x2 registers per thread).
template <In kIn>
__device__ void wgmma_f16(uint32_t (&d)[2], uint64_t desc_a, uint64_t desc_b) {
#if FPSIM_WGMMA_DEVICE
  if constexpr (kIn == In::f16) {
    FPSIM_WGMMA_F16("wgmma.mma_async.sync.aligned.m64n8k16.f16.f16.f16", ", 0, 0");
  } else if constexpr (kIn == In::e4m3) {
    FPSIM_WGMMA_F16("wgmma.mma_async.sync.aligned.m64n8k32.f16.e4m3.e4m3", "");
  } else if constexpr (kIn == In::e5m2) {
    FPSIM_WGMMA_F16("wgmma.mma_async.sync.aligned.m64n8k32.f16.e5m2.e5m2", "");
  }
#else
  (void)d, (void)desc_a, (void)desc_b;
#endif
}

#undef FPSIM_WGMMA_F32
#undef FPSIM_WGMMA_F16

// One warpgroup per block; block i computes dot product i (dot mode) or the
// one tile (tile mode, one block).
template <In kIn, bool kF32>
__global__ void __launch_bounds__(wl::warpgroup_threads) wgmma_kernel(Operands o, Layout l) {
#if FPSIM_WGMMA_DEVICE
  // A's image in the first region, B's in the second (wgmma_layout.hpp:
  // every candidate convention reads inside its own region).
  __shared__ alignas(128) uint8_t smem[2 * wl::region_bytes];
  uint8_t* const image_a = smem;
  uint8_t* const image_b = smem + wl::region_bytes;
  constexpr int k = kK<kIn>;
  const int t = static_cast<int>(threadIdx.x);
  const size_t dot = blockIdx.x;

  for (int i = t; i < static_cast<int>(2 * wl::region_bytes / 16); i += wl::warpgroup_threads)
    reinterpret_cast<uint4*>(smem)[i] = make_uint4(0u, 0u, 0u, 0u);

  const uint32_t base = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const uint64_t desc_a = wl::make_descriptor(base, l.a, l.lbo_is_k);
  const uint64_t desc_b = wl::make_descriptor(base + wl::region_bytes, l.b, l.lbo_is_k);

  // Accumulator element i of this thread sits at (row, col) of D.
  uint32_t c_codes[wl::accumulators_per_thread];
  for (int i = 0; i < wl::accumulators_per_thread; ++i) {
    const int row = wl::accumulator_row(t, i), col = wl::accumulator_col(t, i);
    c_codes[i] = o.tile ? o.c[row * wl::n + col] : (row == 0 && col == 0 ? o.c[dot] : 0u);
  }
  AccumulatorRegisters acc = accumulator_from_codes<kF32>(c_codes);

  const int width = o.chunks * k;  // tile mode: K of A's rows and B's columns
  for (int chunk = 0; chunk < o.chunks; ++chunk) {
    __syncthreads();  // the zeroing, or the previous instruction, is done in every warp
    if (o.tile) {
      for (int e = t; e < wl::m * k; e += wl::warpgroup_threads) {
        const int row = e / k, j = e % k;
        put<kIn>(image_a, wl::element_offset(l.a, row, j, kElementBytes<kIn>), o.a[row * width + chunk * k + j]);
      }
      for (int e = t; e < wl::n * k; e += wl::warpgroup_threads) {
        const int col = e / k, j = e % k;  // B is K-major: its rows in the image are B's columns
        put<kIn>(image_b, wl::element_offset(l.b, col, j, kElementBytes<kIn>), o.b[(chunk * k + j) * wl::n + col]);
      }
    } else {
      const size_t at = (dot * o.chunks + chunk) * k;
      if (t < k)
        put<kIn>(image_a, wl::element_offset(l.a, 0, t, kElementBytes<kIn>), o.a[at + t]);
      else if (t < 2 * k)
        put<kIn>(image_b, wl::element_offset(l.b, 0, t - k, kElementBytes<kIn>), o.b[at + t - k]);
    }
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    if constexpr (kF32) {
      wgmma_f32<kIn>(acc.f32, desc_a, desc_b);
    } else {
      wgmma_f16<kIn>(acc.f16x2, desc_a, desc_b);
    }
  }

  uint32_t d_codes[4];
  accumulator_to_codes<kF32>(acc, d_codes);
  for (int i = 0; i < wl::accumulators_per_thread; ++i) {
    const int row = wl::accumulator_row(t, i), col = wl::accumulator_col(t, i);
    if (o.tile)
      o.d[row * wl::n + col] = d_codes[i];
    else if (row == 0 && col == 0)
      o.d[dot] = d_codes[i];  // D(0, 0): thread 0, element 0
  }
#else
  (void)o, (void)l;
#endif
}

using Kernel = void (*)(Operands, Layout);

Kernel kernel_for(const MmaConfig& c) {
  const bool f32 = c.accumulator == MmaAccumulator::fp32;
  switch (c.input) {
    case MmaInput::fp16:
      return f32 ? wgmma_kernel<In::f16, true> : wgmma_kernel<In::f16, false>;
    case MmaInput::bf16:
      if (f32) return wgmma_kernel<In::bf16, true>;
      break;
    case MmaInput::tf32:
      if (f32) return wgmma_kernel<In::tf32, true>;
      break;
    case MmaInput::e4m3:
      return f32 ? wgmma_kernel<In::e4m3, true> : wgmma_kernel<In::e4m3, false>;
    case MmaInput::e5m2:
      return f32 ? wgmma_kernel<In::e5m2, true> : wgmma_kernel<In::e5m2, false>;
  }
  throw OptionError("wgmma has no " + config_name(c) + " form");
}

// wgmma needs sm_90a; the fatbinary holds only sm_90a code, so another GPU
// would fail at launch with a less helpful message.
void require_hopper() {
  static bool checked = false;
  if (checked) return;
  int device = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  if (prop.major != 9 || prop.minor != 0)
    throw Error("wgmma needs a Hopper GPU (sm_90a: H100, H200); device " + std::to_string(device) + " is " + prop.name +
                " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")");
  checked = true;
}

std::vector<uint32_t> launch(const MmaConfig& c, int convention, const std::vector<uint32_t>& a,
                             const std::vector<uint32_t>& b, const std::vector<uint32_t>& c_codes, size_t d_size,
                             int blocks, int chunks, bool tile) {
  const Kernel kernel = kernel_for(c);
  require_hopper();
  const wl::Convention& cv = wl::conventions[static_cast<size_t>(convention)];
  DeviceBuffer &da = device_buffer(0), &db = device_buffer(1), &dc = device_buffer(2), &dd = device_buffer(3);
  dd.reserve(std::max<size_t>(d_size, 1));
  da.upload(a);
  db.upload(b);
  dc.upload(c_codes);
  const Operands o{da.p, db.p, dc.p, dd.p, chunks, tile};
  if (blocks > 0) {
    kernel<<<blocks, wl::warpgroup_threads>>>(o, Layout{cv.a, cv.b, cv.lbo_is_k});
    check_cuda(cudaGetLastError(), "wgmma kernel launch");
    check_cuda(cudaDeviceSynchronize(), "wgmma kernel");
  }
  return dd.download(d_size);
}

// The convention chosen per configuration (index input·2 + accumulator),
// -1 until a self-test passes; and the candidate under trial while the
// self-test runs (the dot runner it hands to unit_vector_self_test has no
// room for one).
std::array<int, 10> chosen = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
int trial = -1;

size_t config_index(const MmaConfig& c) {
  return static_cast<size_t>(c.input) * 2 + static_cast<size_t>(c.accumulator);
}

// A full 64×2k A, 2k×8 B and 64×8 C (integer_tile_self_test): every
// accumulator row and column, every core matrix of both images, two chained
// instructions.
std::string tile_test(const MmaConfig& c, int convention) {
  const int chunks = 2, k = chunks * instruction_k(c);
  return integer_tile_self_test(c, wl::m, k, 20261207, [&](const auto& a, const auto& b, const auto& cc) {
    return launch(c, convention, a, b, cc, wl::m * wl::n, 1, chunks, true);
  });
}

}  // namespace

std::vector<uint32_t> wgmma_dot_batch(const MmaConfig& c, int k, std::span<const uint32_t> a,
                                      std::span<const uint32_t> b, std::span<const uint32_t> c_in) {
  kernel_for(c);  // a configuration wgmma lacks is a usage error before anything runs
  int convention = trial;
  if (convention < 0) {
    convention = chosen[config_index(c)];
    if (convention < 0) {
      const std::string failed = wgmma_layout_self_test(c);
      if (!failed.empty()) throw Error("wgmma layout self-test failed, no dot products run: " + failed);
      convention = chosen[config_index(c)];
    }
  }
  const EncodedBatch e = encode_batch(c, k, a, b, c_in);
  std::vector<uint32_t> d = launch(c, convention, e.a, e.b, e.c, e.c.size(), e.count, e.chunks, false);
  for (uint32_t& v : d) v = accumulator_value(v, c);
  return d;
}

std::string wgmma_layout_self_test(const MmaConfig& c, std::string* convention) {
  kernel_for(c);
  require_hopper();
  if (convention) convention->clear();
  std::string report;
  for (int i = 0; i < wl::convention_count; ++i) {
    trial = i;
    std::string failed;
    try {
      const int ki = instruction_k(c);
      failed = unit_vector_self_test(c, wgmma_dot_batch, ki);
      if (failed.empty()) failed = unit_vector_self_test(c, wgmma_dot_batch, 3 * ki - 1);
      if (failed.empty()) failed = tile_test(c, i);
    } catch (...) {
      trial = -1;
      throw;
    }
    trial = -1;
    if (failed.empty()) {
      chosen[config_index(c)] = i;
      if (convention) *convention = wl::conventions[static_cast<size_t>(i)].name;
      return "";
    }
    if (failed.size() > 300) failed = failed.substr(0, 300) + "...";
    report.append(report.empty() ? "" : " | ").append(wl::conventions[static_cast<size_t>(i)].name).append(": ");
    report.append(failed);
  }
  chosen[config_index(c)] = -1;
  return "no wgmma descriptor convention passed (" + report + ")";
}

std::string wgmma_convention_name(const MmaConfig& c) {
  const int i = chosen[config_index(c)];
  return i < 0 ? "" : wl::conventions[static_cast<size_t>(i)].name;
}

}  // namespace fpsim::gpu::detail
