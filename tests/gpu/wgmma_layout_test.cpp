// The wgmma shared-memory image and matrix descriptors
// (fpsim/gpu/wgmma_layout.hpp), on the CPU: nothing here needs a GPU. The
// expected values are the PTX ISA's definitions ("Matrix Descriptor
// Format", K-major no-swizzle canonical layout, accumulator "Register
// Fragments") written out independently of the code under test, plus
// literal offsets worked by hand.
#include "fpsim/gpu/wgmma_layout.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace fpsim::gpu::wgmma_layout {
namespace {

// The byte at which the hardware reads element (row, k) of a K-major,
// no-swizzle operand whose descriptor is `desc`, if it reads LBO as the
// step between core matrices adjacent along K (lbo_is_k) or along M/N:
// core matrix (row / 8, k-byte / 16), row (row % 8) of it 16 bytes apart,
// the bytes of a row contiguous.
uint32_t hardware_byte(uint64_t desc, bool lbo_is_k, int row, int k, int element_bytes) {
  const DecodedDescriptor d = decode_descriptor(desc);
  const uint32_t k_step = lbo_is_k ? d.lbo : d.sbo, mn_step = lbo_is_k ? d.sbo : d.lbo;
  const int byte = k * element_bytes;
  return d.address + static_cast<uint32_t>(row / 8) * mn_step + static_cast<uint32_t>(byte / 16) * k_step +
         static_cast<uint32_t>(row % 8) * 16 + static_cast<uint32_t>(byte % 16);
}

TEST(WgmmaLayout, DescriptorBitFieldsFollowTheIsaFormat) {
  // Candidate 0 (the ISA's reading), A at shared address 0x400: start
  // 0x400 >> 4 = 0x40 in bits 0-13, LBO 128 >> 4 = 8 in bits 16-29, SBO
  // 256 >> 4 = 16 in bits 32-45, base offset and swizzle mode 0.
  EXPECT_EQ(make_descriptor(0x400, conventions[0].a, conventions[0].lbo_is_k), 0x0000'0010'0008'0040ull);
  // Candidate 1 swaps the two offsets.
  EXPECT_EQ(make_descriptor(0x400, conventions[1].a, conventions[1].lbo_is_k), 0x0000'0008'0010'0040ull);
  // Candidate 2: K step 1024 (>> 4 = 64) as LBO, M step 128 (8) as SBO.
  EXPECT_EQ(make_descriptor(0x4400, conventions[2].a, conventions[2].lbo_is_k), 0x0000'0008'0040'0440ull);
  // The encoding keeps address bits 4-17 only.
  EXPECT_EQ(descriptor_encode(0x4'0010), 0x1ull);
  for (const Convention& cv : conventions)
    for (uint32_t address : {0u, 0x10u, 0x4000u, 0xbff0u}) {
      const uint64_t d = make_descriptor(address, cv.a, cv.lbo_is_k);
      const DecodedDescriptor f = decode_descriptor(d);
      EXPECT_EQ(f.address, address);
      EXPECT_EQ(f.lbo, cv.lbo_is_k ? cv.a.k_step : cv.a.mn_step) << cv.name;
      EXPECT_EQ(f.sbo, cv.lbo_is_k ? cv.a.mn_step : cv.a.k_step) << cv.name;
      EXPECT_EQ(f.base_offset, 0u);
      EXPECT_EQ(f.swizzle, 0u);  // 0: no swizzle
      // Every bit outside the five fields is zero.
      const uint64_t fields = 0x3FFFull | (0x3FFFull << 16) | (0x3FFFull << 32) | (0x7ull << 49) | (0x3ull << 62);
      EXPECT_EQ(d & ~fields, 0u) << cv.name;
    }
}

TEST(WgmmaLayout, EveryConventionPutsEachElementWhereItsDescriptorSaysTheHardwareReadsIt) {
  const uint32_t base = 0x2000;
  for (const Convention& cv : conventions)
    for (int element_bytes : {1, 2, 4}) {
      const int k = k_bytes / element_bytes;
      for (const auto& [layout, rows] : {std::pair{cv.a, m}, std::pair{cv.b, n}}) {
        const uint64_t desc = make_descriptor(base, layout, cv.lbo_is_k);
        for (int row = 0; row < rows; ++row)
          for (int j = 0; j < k; ++j)
            ASSERT_EQ(base + element_offset(layout, row, j, element_bytes),
                      hardware_byte(desc, cv.lbo_is_k, row, j, element_bytes))
                << cv.name << " row " << row << " k " << j << " element bytes " << element_bytes;
      }
    }
}

TEST(WgmmaLayout, OffsetsWorkedByHand) {
  // Candidate 0: core matrices along K 128 bytes apart, along M 256 apart.
  // fp16 A(9, 10): row group 1 (256) + byte 20 in K chunk 1 (128) + row 1 of
  // the core matrix (16) + byte 4 = 404.
  EXPECT_EQ(element_offset(conventions[0].a, 9, 10, 2), 404u);
  // e4m3 A(63, 31): group 7 (1792) + chunk 1 (128) + row 7 (112) + 15 = 2047.
  EXPECT_EQ(element_offset(conventions[0].a, 63, 31, 1), 2047u);
  // tf32 B(3, 5): byte 20, chunk 1 (128) + row 3 (48) + 4 = 180.
  EXPECT_EQ(element_offset(conventions[0].b, 3, 5, 4), 180u);
  // Candidate 2: K chunk 1 at 1024, row group 1 at 128.
  EXPECT_EQ(element_offset(conventions[2].a, 9, 10, 2), 1024u + 128u + 16u + 4u);
}

TEST(WgmmaLayout, ImagesAreOneToOneAndEveryReadingStaysInsideTheRegion) {
  for (const Convention& cv : conventions)
    for (const auto& [layout, rows] : {std::pair{cv.a, m}, std::pair{cv.b, n}}) {
      std::set<uint32_t> seen;
      for (int row = 0; row < rows; ++row)
        for (int byte = 0; byte < k_bytes; ++byte) {
          const uint32_t off = element_offset(layout, row, byte, 1);
          EXPECT_LT(off, image_extent(layout, rows)) << cv.name;
          EXPECT_TRUE(seen.insert(off).second) << cv.name << " row " << row << " byte " << byte;
        }
      EXPECT_EQ(seen.size(), static_cast<size_t>(rows * k_bytes));
      EXPECT_LE(image_extent(layout, rows), region_bytes) << cv.name;
      // A wrong guess at the hardware's reading (the other field order, on
      // any candidate's descriptor) still reads inside the operand's region.
      for (bool reading : {true, false}) {
        const uint64_t desc = make_descriptor(0, layout, cv.lbo_is_k);
        EXPECT_LT(hardware_byte(desc, reading, rows - 1, k_bytes - 1, 1), region_bytes) << cv.name;
      }
    }
}

TEST(WgmmaLayout, AccumulatorFragmentCoversTheTileOnce) {
  // PTX ISA, wgmma "Register Fragments", accumulator D of m64nNk*: warp w
  // holds rows 16w..16w+15; d0, d1 at row groupID, d2, d3 at groupID + 8;
  // column 2·threadID_in_group + (i mod 2).
  std::set<std::pair<int, int>> seen;
  for (int t = 0; t < warpgroup_threads; ++t)
    for (int i = 0; i < accumulators_per_thread; ++i) {
      const int row = accumulator_row(t, i), col = accumulator_col(t, i);
      const int warp = t / 32, lane = t % 32;
      EXPECT_EQ(row, 16 * warp + lane / 4 + (i >= 2 ? 8 : 0));
      EXPECT_EQ(col, 2 * (lane % 4) + (i & 1));
      EXPECT_TRUE(seen.insert({row, col}).second);
      EXPECT_LT(row, m);
      EXPECT_LT(col, n);
    }
  EXPECT_EQ(seen.size(), static_cast<size_t>(m * n));
  EXPECT_EQ(accumulator_row(0, 0), 0);  // D(0, 0) is thread 0's d0
  EXPECT_EQ(accumulator_col(0, 0), 0);
  EXPECT_EQ(accumulator_row(37, 3), 25);  // warp 1, lane 5: groupID 1, threadID_in_group 1
  EXPECT_EQ(accumulator_col(37, 3), 3);
}

}  // namespace
}  // namespace fpsim::gpu::wgmma_layout
