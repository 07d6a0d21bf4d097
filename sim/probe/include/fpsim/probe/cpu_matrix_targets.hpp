// Real CPU matrix units behind the probe interface (issue 5): Intel AMX-BF16
// (`tdpbf16ps`, a tile FMA) and AVX512-BF16 (`vdpbf16ps`, a pair dot product
// per FP32 lane). Both take bf16 × bf16 and accumulate into FP32.
//
// Everything here compiles on any host and is safe to load on any x86-64
// CPU: the instructions are only reached through the factories, which check
// CPUID, the OS-enabled state (XCR0) and, for AMX, the Linux permission
// request first. On other architectures the units report themselves absent.
//
// What Intel documents (SDM pseudo-code of TDPBF16PS and VDPBF16PS, quoted in
// docs/mma.md "CPU matrix units"): each accumulation is an FP32 FMA with
// round-to-nearest-even, denormal inputs read as zero and denormal outputs
// flushed to zero; MXCSR is neither read nor written. Whether the silicon
// matches that pseudo-code is exactly what the probes measure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/probe/mma_target.hpp"

namespace fpsim::probe {

// True when this process can execute the unit. Otherwise false, and
// *why_not (when given) names what is missing: the CPUID feature, the OS
// state in XCR0, or (AMX) the kernel's refusal of the tile-data permission.
// amx_bf16_available makes the Linux permission request
// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) once per process.
bool amx_bf16_available(std::string* why_not = nullptr);
bool avx512_bf16_available(std::string* why_not = nullptr);

// The targets, named "amx-bf16" and "avx512-bf16": bf16 inputs, FP32 output,
// any K. Throw fpsim::Error with the reason when the unit is not available.
// dot() throws OptionError when a and b differ in size or an operand is not
// a bf16 value (naming the operand and index).
//
// amx-bf16: A is one tile row, B one VNNI column, C one FP32 element
// (tile shapes below); K is zero-padded to a multiple of 32 and the chunks
// are chained through the C tile, one tdpbf16ps per chunk (at least one, so
// K = 0 still passes C through the unit). a[k] sits at A.bf16[k mod 32],
// the natural memory order of a BF16 GEMM.
//
// avx512-bf16: one vdpbf16ps per pair of K, lane 0 only, chained through
// the accumulator (K/2 steps, rounded up; at least one). The SDM's first FMA
// of a lane takes the high bf16 of each dword, so a[2j] goes in the high
// half and a[2j+1] in the low half: the documented order of FMAs is then
// k = 0, 1, 2, ... (see pack_avx512_lane_pairs).
std::unique_ptr<MmaTarget> make_amx_bf16_target();
std::unique_ptr<MmaTarget> make_avx512_bf16_target();

// ---- The operand layouts, as pure functions (tested on every host). ----

// Zero padding of K: the pad pair is a = +0, b = −0, whose product −0 is the
// exact additive identity under round-to-nearest (x + (−0) = x for every x,
// −0 included), so a padded lane cannot turn a −0 accumulator into +0.
inline constexpr uint16_t kPadA = 0x0000;
inline constexpr uint16_t kPadB = 0x8000;

// The bf16 encoding of x; throws OptionError "<operand>[<index>] = <x> is not
// a bf16 value" unless x is exactly representable in bf16 (NaN included when
// its payload fits in the upper 16 bits).
uint16_t bf16_bits_of(float x, std::string_view operand, std::size_t index);

// One tile of the AMX palette-1 configuration.
struct TileShape {
  int rows = 0;   // 1..16
  int colsb = 0;  // bytes per row: 4..64, a multiple of 4
};

// The 64-byte LDTILECFG operand: byte 0 palette_id = 1, byte 1 start_row =
// 0, bytes 2-15 reserved (0), bytes 16 + 2t (uint16, little-endian) colsb of
// tile t, byte 48 + t rows of tile t; unused tiles 0 × 0. At most 8 tiles
// (palette 1). Throws OptionError on a shape outside the palette.
std::array<uint8_t, 64> amx_tile_config(std::span<const TileShape> tiles);

// The three tiles of one AMX dot product: tmm0 = C (1 row × 4 bytes),
// tmm1 = A (1 row × 64 bytes = 32 bf16), tmm2 = B (16 rows × 4 bytes, one
// VNNI pair per row). TDPBF16PS requires rows(C) = rows(A), colsb(C) =
// colsb(B) and rows(B) = colsb(A) / 4 (SDM, TDPBF16PS exceptions).
inline constexpr std::array<TileShape, 3> kAmxDotTiles = {{{1, 4}, {1, 64}, {16, 4}}};

// The VNNI layout of a K × N row-major bf16 matrix B: K/2 rows (rounded up)
// of N dwords, row r holding (B[2r][n], B[2r+1][n]) as bf16 elements 2n and
// 2n+1; an odd K is padded with `pad`. This is the B operand layout of
// TDPBF16PS: tsrc2.row[k].bf16[2n+j] multiplies tsrc1.row[m].bf16[2k+j].
std::vector<uint16_t> pack_vnni_bf16(std::span<const uint16_t> b, int K, int N, uint16_t pad);

// The tiles of one AMX dot product of K: `chunks` = max(1, ceil(K/32))
// tdpbf16ps steps; a and b each hold chunks × 32 bf16: chunk i's A row is
// a[32i .. 32i+31], its B tile the VNNI packing (N = 1) of b[32i .. 32i+31],
// padded with kPadA / kPadB.
struct AmxDotOperands {
  int chunks = 0;
  std::vector<uint16_t> a;
  std::vector<uint16_t> b;
};
AmxDotOperands pack_amx_dot(std::span<const float> a, std::span<const float> b);

// The lane-0 dwords of the vdpbf16ps chain for one operand vector x: dword j
// = (bf16(x[2j]) << 16) | bf16(x[2j+1]), the missing x[K] of an odd K (and
// the whole first dword when K = 0) being `pad`. `operand` names x in errors.
std::vector<uint32_t> pack_avx512_lane_pairs(std::span<const float> x, uint16_t pad, std::string_view operand);

}  // namespace fpsim::probe
