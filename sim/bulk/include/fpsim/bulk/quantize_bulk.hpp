// Bulk scaled quantization: the SIMD path (Google Highway, dynamic dispatch)
// of fpsim::quantize, fpsim::quantize_with_multiplier and fpsim::dequantize
// (fpsim/quantize.hpp, docs/quantization.md). Bit-identical to them for every
// scheme, option and input: elements, scales, multipliers, tensor_scale and
// every QuantStats field (tests/sim/quantize_bulk_test.cpp).
//
// What is vectorized: the amax pass (per block, NaN rules of §2), the element
// pass (t = x * s in FP32, NVFP4 with its block encode scale, then the shared rounding kernel of
// convert_bulk, with the statistics counted in the same pass) and
// dequantization. Scales are computed per block by the scalar helpers
// (multiplier_from_amax, e8m0_scale_code). A few configurations run the
// scalar definition fpsim::quantize instead (see quantize_bulk.cpp's header
// comment): exact arithmetic unless the multipliers are powers of two (MX
// always are), MXINT8, nvfp4 with exact arithmetic, daz, integer or
// unsigned elements, user formats the rounding kernel does not cover.
//
// Layering (docs/architecture.md): only sim/bulk includes Highway; this header does not.
#pragma once

#include <span>
#include <vector>

#include "fpsim/quantize.hpp"

namespace fpsim::bulk {

// Same contract, errors and results as fpsim::quantize.
QuantizedTensor quantize(std::span<const float> x, TensorShape shape, const QuantScheme& scheme);

// Whether bulk::quantize runs the scheme on `shape` with its SIMD passes
// (false: it calls fpsim::quantize itself, with the same results); for
// tests, which must know that they compare the SIMD path.
bool quantize_supported(const QuantScheme& scheme, TensorShape shape);

// Same contract, errors and results as fpsim::quantize_with_multiplier.
QuantizedTensor quantize_with_multiplier(std::span<const float> x, TensorShape shape, const QuantScheme& scheme,
                                         float multiplier);

// Same results as fpsim::dequantize (NaN results are the default NaN,
// 0x7FC00000, as there).
std::vector<float> dequantize(const QuantizedTensor& q);

// The same into storage the caller keeps: `out` is overwritten field by field
// and its vectors keep their capacity, so quantizing tensors of one shape
// step after step allocates nothing (what the training runner does). The
// block amaxes, scale values and (with error_stats or hadamard) a rotated or
// dequantized copy live in per-thread scratch that also keeps its capacity:
// a thread holds on to the largest tensor's worth after it is done.
void quantize_into(std::span<const float> x, TensorShape shape, const QuantScheme& scheme, QuantizedTensor& out);
// dequantize into out (out.size() must equal q.elements.size(), else OptionError).
void dequantize_into(const QuantizedTensor& q, std::span<float> out);

// Same contract, errors and results as fpsim::hadamard_transform, bit for bit:
// each output is the same FP32 sum of ±inputs in the same order, 16 outputs
// (or 16 lines, along rows) per SIMD step (sim/bulk/src/hadamard_bulk.cpp).
void hadamard_transform(std::span<float> x, TensorShape shape, Axis axis, uint32_t seed, bool inverse = false);

}  // namespace fpsim::bulk
