// Bulk conversions between float arrays and low-precision codes: the SIMD
// fast path (Google Highway, dynamic dispatch) of fpsim::from_float and
// fpsim::to_float. Bit-identical to the scalar core, codes and flags alike
// (tests/sim/convert_bulk_test.cpp, tests/sim/bulk_exhaustive_check.cpp).
//
// Layering (docs/architecture.md): only sim/bulk includes Highway; nothing in the scalar
// core includes this header. This header itself includes no Highway.
#pragma once

#include <cstdint>
#include <span>

#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::bulk {

// out[i] = fpsim::from_float(in[i], to, spec, flags, first_index + i) for every
// i, bit for bit; the element index selects the SR random bits, so the result does
// not depend on how an array is split into calls. Formats of up to 8 bits
// write uint8_t, up to 16 bits uint16_t. If `flags` is non-null it receives
// (is OR-ed with) the OR of all elements' flags.
// Throws fpsim::OptionError when in.size() != out.size() or the format is too
// wide for the output type.
void convert_from_f32(std::span<const float> in, const Format& to, const RoundingSpec& spec,
                      std::span<uint8_t> out, uint64_t first_index = 0, Flags* flags = nullptr);
void convert_from_f32(std::span<const float> in, const Format& to, const RoundingSpec& spec,
                      std::span<uint16_t> out, uint64_t first_index = 0, Flags* flags = nullptr);

// out[i] = fpsim::to_float(in[i], from, RoundingSpec{}) (exact wherever the
// format's values are floats, i.e. every built-in format), for every code
// value the input type can hold. Same errors as above.
void convert_to_f32(std::span<const uint8_t> in, const Format& from, std::span<float> out);
void convert_to_f32(std::span<const uint16_t> in, const Format& from, std::span<float> out);

// The instruction set the dynamic dispatcher picked on this machine (e.g.
// "AVX3"), for benchmark reports.
const char* simd_target_name();

}  // namespace fpsim::bulk
