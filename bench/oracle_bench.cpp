// Throughput of the oracles `fpsim verify` runs exhaustive checks against
// (docs/verification.md): the fast oracle (reference/src/fast_oracle.cpp)
// as an exhaustive run walks the pairs (a outer, b inner) and with both
// operands scattered, and the hardware oracle's fp32 add, against a plain
// loop of native fp32 adds in the same run. Informational: they set how long
// an exhaustive verification takes (bench/README.md, "oracle_bench").
#include <benchmark/benchmark.h>

#include <bit>
#include <cstdint>

#include "fpsim_ref/fast_oracle.hpp"
#include "fpsim_ref/hw_oracle.hpp"
#include "fpsim_ref/reference.hpp"

namespace {

using fpsim_ref::FastOracle;
using fpsim_ref::HwOracle;
using fpsim_ref::RefOp;
using fpsim_ref::RefSpec;

constexpr uint64_t kOps = 1 << 16;  // per benchmark iteration

// Operand pair i of a walk: sequential (64 values of a spread over the codes,
// consecutive b), or both scattered over the codes.
struct Walk {
  uint64_t mask;
  bool scattered;
  uint64_t a(uint64_t i) const {
    return scattered ? (i * 0x9E3779B97F4A7C15u) >> 20 & mask : ((i >> 10) * 0x9E3779B1u) & mask;
  }
  uint64_t b(uint64_t i) const { return scattered ? (i * 0xC2B2AE3D27D4EB4Fu) >> 20 & mask : (i & 0x3FF) & mask; }
};

void BM_FastOracle(benchmark::State& state, RefOp op, const char* fmt, bool scattered) {
  const fpsim_ref::RefFormat& f = fpsim_ref::ref_format(fmt);
  const FastOracle o(op, f, f, RefSpec{});
  const Walk w{f.code_count - 1, scattered};
  uint64_t acc = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < kOps; ++i) {
      const fpsim_ref::RefResult r = o(w.a(i), w.b(i), w.b(i) ^ 0x55);
      acc += r.code + r.flags;
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * kOps));
}

void BM_HwOracleF32Add(benchmark::State& state) {
  const fpsim_ref::RefFormat& f = fpsim_ref::ref_format("fp32");
  if (!HwOracle::available(RefOp::add, f, RefSpec{})) {
    state.SkipWithError("no hardware fp32 oracle on this host");
    return;
  }
  const HwOracle o(RefOp::add, f, RefSpec{});
  uint64_t acc = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < kOps; ++i) acc += o((i * 0x9E3779B1u) & 0xFFFFFFFF, i << 7 & 0xFFFFFFFF).code;
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * kOps));
}

// The baseline: native fp32 adds on the same operand walk.
void BM_NativeF32Add(benchmark::State& state) {
  uint32_t acc = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < kOps; ++i) {
      const float a = std::bit_cast<float>(uint32_t(i * 0x9E3779B1u)), b = std::bit_cast<float>(uint32_t(i << 7));
      acc += std::bit_cast<uint32_t>(a + b);
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * kOps));
}

BENCHMARK(BM_NativeF32Add)->Name("Native/f32_add");
BENCHMARK(BM_HwOracleF32Add)->Name("HwOracle/add/fp32");
BENCHMARK_CAPTURE(BM_FastOracle, add_fp16_seq, RefOp::add, "fp16", false)->Name("FastOracle/add/fp16/sequential");
BENCHMARK_CAPTURE(BM_FastOracle, add_fp16_sc, RefOp::add, "fp16", true)->Name("FastOracle/add/fp16/scattered");
BENCHMARK_CAPTURE(BM_FastOracle, add_bf16_seq, RefOp::add, "bf16", false)->Name("FastOracle/add/bf16/sequential");
BENCHMARK_CAPTURE(BM_FastOracle, add_fp32_seq, RefOp::add, "fp32", false)->Name("FastOracle/add/fp32/sequential");
BENCHMARK_CAPTURE(BM_FastOracle, div_fp16_seq, RefOp::div, "fp16", false)->Name("FastOracle/div/fp16/sequential");
BENCHMARK_CAPTURE(BM_FastOracle, fma_fp16_seq, RefOp::fma, "fp16", false)->Name("FastOracle/fma/fp16/sequential");
BENCHMARK_CAPTURE(BM_FastOracle, mul_e4m3_sc, RefOp::mul, "e4m3", true)->Name("FastOracle/mul/e4m3/scattered");

}  // namespace

BENCHMARK_MAIN();
