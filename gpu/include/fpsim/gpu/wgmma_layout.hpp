// The shared-memory image and matrix descriptors of one wgmma tile
// (gpu/src/wgmma_dot.cu), as plain constexpr functions: the same code builds
// the image on the device and is unit-tested on the CPU
// (tests/gpu/wgmma_layout_test.cpp). No CUDA here.
//
// Facts from the PTX ISA, section "Asynchronous Warpgroup Level Matrix
// Multiply-Accumulate" (9.7.15 in PTX ISA 8.x/9.0):
//  - "Shared Memory Matrix Layout": with imm-trans-a/b = 0 (and always for
//    tf32, e4m3, e5m2) A (M×K) and B (K×N) are K-major. Without swizzling
//    the matrix is made of core matrices of 8 rows × 16 bytes, each row 16
//    contiguous bytes along K, the 8 rows 16 bytes apart (one 128-byte
//    block); canonical K-major layout ((8,m),(T,2k)):((1T,SBO),(1,LBO)) in
//    units of elements, T = 16 bytes / element size.
//  - "Leading Dimension Byte Offset" (K-major, no swizzle): the offset from
//    the first to the second column of the 8×2 tile of core matrices, i.e.
//    between core matrices adjacent along K. "Stride Dimension Byte Offset"
//    (K-major): from the first 8 rows to the next 8 rows, i.e. between core
//    matrices adjacent along M or N.
//  - "Matrix Descriptor Format": bits 0-13 encode(start address), 16-29
//    encode(LBO), 32-45 encode(SBO), 49-51 base offset (0: unused without
//    swizzle), 62-63 swizzle mode (0: none), encode(x) = (x & 0x3FFFF) >> 4;
//    matrices in shared memory start on a 16-byte boundary.
//  - "Register Fragments", accumulator D of m64nNk{8,16,32}: warp w of the
//    warpgroup holds rows 16w..16w+15; lane = 4·groupID + threadID_in_group;
//    d_i sits at row 16w + groupID + 8·((i / 2) % 2), column
//    2·threadID_in_group + (i % 2) + 8·(i / 4). An f16 accumulator packs
//    d_{2j} (low half) and d_{2j+1} (high half) in one .f16x2 register.
//
// Which descriptor field the hardware reads as the K step and which as the
// M/N step is easy to get backwards (the wording of the ISA changed between
// versions), and nothing runs here. So the convention is data: the layout
// self-test tries each candidate in order on the GPU and keeps the first
// that reproduces known products (docs/gpu.md, "wgmma descriptors").
#pragma once

#include <array>
#include <cstdint>

#include "fpsim/config.hpp"

namespace fpsim::gpu::wgmma_layout {

// Every wgmma shape gpu/ uses spans 32 bytes of K: k16 × 2 bytes (fp16,
// bf16), k8 × 4 bytes (tf32), k32 × 1 byte (e4m3, e5m2), i.e. two core
// matrices along K.
inline constexpr int k_bytes = 32;
inline constexpr int core_rows = 8;                            // rows of a core matrix
inline constexpr int core_row_bytes = 16;                      // bytes of one core-matrix row
inline constexpr int core_bytes = core_rows * core_row_bytes;  // 128
inline constexpr int m = 64;                                   // rows of A (m64)
inline constexpr int n = 8;                                    // columns of B (n8)
inline constexpr int warpgroup_threads = 128;
inline constexpr int accumulators_per_thread = m * n / warpgroup_threads;  // 4

// The shared-memory region of one operand. Every candidate reads within it
// whichever way the hardware interprets the two offsets: the largest
// address is 7·1024 + 1024 + 127 < 16384 for A (8 row groups, 2 K steps),
// so a wrong candidate gives wrong numbers, never an out-of-range access.
inline constexpr uint32_t region_bytes = 16384;

// Where the core matrices of one operand tile lie: the byte distance between
// core matrices adjacent along K and along M (A) or N (B).
struct OperandLayout {
  uint32_t k_step;
  uint32_t mn_step;
};

// One candidate: the image of A and B, and which descriptor field carries
// which distance.
struct Convention {
  const char* name;
  OperandLayout a;
  OperandLayout b;
  bool lbo_is_k;  // true: LBO = K step, SBO = M/N step (the ISA's text)
};

// In the order the self-test tries them. 0 is the ISA's K-major no-swizzle
// definition (and CUTLASS's INTERLEAVE K-major descriptor); 1 swaps the
// fields on the same image; 2 and 3 use an image with the K step the larger
// (core matrices adjacent along M/N contiguous), so that a hardware reading
// that only coincides with one image for one field order is still found.
inline constexpr std::array<Convention, 4> conventions = {{
    {"lbo=K-step,sbo=MN-step,K-inner", {128, 256}, {128, 256}, true},
    {"lbo=MN-step,sbo=K-step,K-inner", {128, 256}, {128, 256}, false},
    {"lbo=K-step,sbo=MN-step,MN-inner", {1024, 128}, {256, 128}, true},
    {"lbo=MN-step,sbo=K-step,MN-inner", {1024, 128}, {256, 128}, false},
}};
inline constexpr int convention_count = static_cast<int>(conventions.size());

// Byte offset of the 16-byte chunk `chunk` (0 or 1 along K) of row `row`.
FPSIM_HD constexpr uint32_t chunk_offset(const OperandLayout& l, int row, int chunk) {
  return static_cast<uint32_t>(row / core_rows) * l.mn_step + static_cast<uint32_t>(chunk) * l.k_step +
         static_cast<uint32_t>(row % core_rows) * core_row_bytes;
}

// Byte offset of element (row, k) of a tile whose elements are
// element_bytes wide (1, 2 or 4); k < k_bytes / element_bytes.
FPSIM_HD constexpr uint32_t element_offset(const OperandLayout& l, int row, int k, int element_bytes) {
  const int byte = k * element_bytes;
  return chunk_offset(l, row, byte / core_row_bytes) + static_cast<uint32_t>(byte % core_row_bytes);
}

// One past the last byte the image of a tile of `rows` rows occupies.
FPSIM_HD constexpr uint32_t image_extent(const OperandLayout& l, int rows) {
  uint32_t end = 0;
  for (int r = 0; r < rows; r += core_rows)
    for (int c = 0; c < 2; ++c) {
      const uint32_t e = chunk_offset(l, r, c) + core_bytes;
      end = e > end ? e : end;
    }
  return end;
}

FPSIM_HD constexpr uint64_t descriptor_encode(uint32_t x) { return (x & 0x3FFFFu) >> 4; }

// The matrix descriptor of an operand whose image starts at shared-memory
// address `address` (16-byte aligned), no swizzle, base offset 0.
FPSIM_HD constexpr uint64_t make_descriptor(uint32_t address, const OperandLayout& l, bool lbo_is_k) {
  const uint32_t lbo = lbo_is_k ? l.k_step : l.mn_step;
  const uint32_t sbo = lbo_is_k ? l.mn_step : l.k_step;
  return descriptor_encode(address) | (descriptor_encode(lbo) << 16) | (descriptor_encode(sbo) << 32);
}

// The fields of a descriptor, in bytes (for tests and reports).
struct DecodedDescriptor {
  uint32_t address;
  uint32_t lbo;
  uint32_t sbo;
  uint32_t base_offset;
  uint32_t swizzle;
};
FPSIM_HD constexpr DecodedDescriptor decode_descriptor(uint64_t d) {
  return {static_cast<uint32_t>(d & 0x3FFF) << 4, static_cast<uint32_t>((d >> 16) & 0x3FFF) << 4,
          static_cast<uint32_t>((d >> 32) & 0x3FFF) << 4, static_cast<uint32_t>((d >> 49) & 0x7),
          static_cast<uint32_t>((d >> 62) & 0x3)};
}

// The accumulator element d_i (i < 4) of warpgroup thread t: its row and
// column in the 64×8 tile of D.
FPSIM_HD constexpr int accumulator_row(int thread, int i) {
  const int warp = thread / 32, lane = thread % 32;
  return 16 * warp + lane / 4 + 8 * ((i / 2) % 2);
}
FPSIM_HD constexpr int accumulator_col(int thread, int i) { return 2 * (thread % 4) + (i % 2) + 8 * (i / 4); }

}  // namespace fpsim::gpu::wgmma_layout
