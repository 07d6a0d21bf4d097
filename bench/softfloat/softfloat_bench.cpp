// Berkeley SoftFloat 3e's fp16 and fp32 arithmetic beside the native scalar
// FP32 add loop of arith_bench, in one run, so that SoftFloat's rates can be
// quoted as a ratio to the same denominator as fpsim's scalar rows (issue 15:
// SoftFloat is not in Debian, so it cannot be a row of arith_bench itself).
// Built and run by run.sh against a SoftFloat checkout; not part of CMake.
// See README.md here and "Scalar arithmetic" in bench/README.md.
//
// Operands are arith_bench's, code for code: the same generator, seed,
// distribution (N(0, 1) * 2^u, u uniform in [-4, 4], rounded rne to the
// format, non-finite draws redrawn), count (4096 triples) and sqrt of |a|.
// fpsim is not linked: the host's own conversions (double -> _Float16 and
// double -> float, one rne rounding each, as fpsim::from_double with the
// default RoundingSpec) produce the same codes.
//
// Before timing, the output of every timed kernel (all 4096 operands) is
// compared bit for bit with the host's arithmetic; the program aborts on a
// mismatch, so it cannot time garbage (wrong rounding mode, wrong argument
// order, a broken build). A negative control reruns the check with SoftFloat rounding toward
// zero and aborts unless that one finds mismatches.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../same_run_ratios.hpp"

extern "C" {
#include "softfloat.h"
}

namespace {

using fpsim_bench::native_f32_add_scalar;
using fpsim_bench::RatioReporter;

constexpr size_t kCount = 4096;       // triples per format, as arith_bench
constexpr uint64_t kSeed = 20261129;  // arith_bench's seed: the same operands

template <typename Bits>
struct Operands {
  std::vector<Bits> a, b, c, abs_a;
};

// T is _Float16 or float; Bits its code. Each format has its own generator
// seeded with kSeed, as arith_bench's make_operands. The expression
// normal(rng) * std::exp2(spread(rng)) is arith_bench's, verbatim: the order
// in which the two draws happen is the compiler's choice, so it must be the
// same expression for the same codes.
template <typename T, typename Bits>
Operands<Bits> make_operands() {
  static_assert(sizeof(T) == sizeof(Bits));
  Operands<Bits> ops;
  std::mt19937_64 rng(kSeed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> spread(-4.0, 4.0);
  auto draw = [&] {
    for (;;) {
      // One rounding, rne (the default mode), with overflow to infinity:
      // GCC converts double to _Float16 directly (libgcc __truncdfhf2), not
      // through float.
      const T v = T(normal(rng) * std::exp2(spread(rng)));
      if (std::isfinite(float(v))) return std::bit_cast<Bits>(v);
    }
  };
  constexpr Bits sign = Bits(Bits(1) << (8 * sizeof(Bits) - 1));
  for (size_t i = 0; i < kCount; ++i) {
    ops.a.push_back(draw());
    ops.b.push_back(draw());
    ops.c.push_back(draw());
    ops.abs_a.push_back(Bits(ops.a.back() & Bits(~sign)));
  }
  return ops;
}

const Operands<uint16_t>& f16_operands() {
  static const Operands<uint16_t> ops = make_operands<_Float16, uint16_t>();
  return ops;
}

const Operands<uint32_t>& f32_operands() {
  static const Operands<uint32_t> ops = make_operands<float, uint32_t>();
  return ops;
}

// ---- SoftFloat kernels ------------------------------------------------------

enum class Op { add, mul, mulAdd, div, sqrt };
constexpr Op kOps[] = {Op::add, Op::mul, Op::mulAdd, Op::div, Op::sqrt};

const char* op_name(Op op) {
  switch (op) {
    case Op::add:
      return "add";
    case Op::mul:
      return "mul";
    case Op::mulAdd:
      return "mulAdd";
    case Op::div:
      return "div";
    case Op::sqrt:
      return "sqrt";
  }
  return "?";
}

// noinline, one call of the library per element, the result stored: the
// shape of arith_bench's fpsim_kernel. SoftFloat's functions live in
// softfloat.a and are not inlined into the loop either.
template <Op O>
__attribute__((noinline)) void f16_kernel(const Operands<uint16_t>& in, uint16_t* out) {
  for (size_t i = 0; i < kCount; ++i) {
    const float16_t a{in.a[i]}, b{in.b[i]}, c{in.c[i]};
    float16_t r{};
    if constexpr (O == Op::add) r = f16_add(a, b);
    if constexpr (O == Op::mul) r = f16_mul(a, b);
    if constexpr (O == Op::mulAdd) r = f16_mulAdd(a, b, c);
    if constexpr (O == Op::div) r = f16_div(a, b);
    if constexpr (O == Op::sqrt) r = f16_sqrt(float16_t{in.abs_a[i]});
    out[i] = r.v;
  }
}

template <Op O>
__attribute__((noinline)) void f32_kernel(const Operands<uint32_t>& in, uint32_t* out) {
  for (size_t i = 0; i < kCount; ++i) {
    const float32_t a{in.a[i]}, b{in.b[i]}, c{in.c[i]};
    float32_t r{};
    if constexpr (O == Op::add) r = f32_add(a, b);
    if constexpr (O == Op::mul) r = f32_mul(a, b);
    if constexpr (O == Op::mulAdd) r = f32_mulAdd(a, b, c);
    if constexpr (O == Op::div) r = f32_div(a, b);
    if constexpr (O == Op::sqrt) r = f32_sqrt(float32_t{in.abs_a[i]});
    out[i] = r.v;
  }
}

// Flags cleared per batch of 4096 (arith_bench starts each batch with fresh
// Flags); the accumulated flags escape with the results.
template <typename Bits, typename Kernel>
void run_softfloat(benchmark::State& state, Kernel&& kernel) {
  softfloat_roundingMode = softfloat_round_near_even;
  softfloat_detectTininess = softfloat_tininess_afterRounding;  // 8086-SSE's default, x86's rule
  std::vector<Bits> out(kCount);
  for (auto _ : state) {
    softfloat_exceptionFlags = 0;
    kernel(out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(softfloat_exceptionFlags);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kCount));
}

template <Op O>
void BM_SoftFloatF16(benchmark::State& state) {
  const Operands<uint16_t>& in = f16_operands();
  run_softfloat<uint16_t>(state, [&](uint16_t* out) { f16_kernel<O>(in, out); });
}

template <Op O>
void BM_SoftFloatF32(benchmark::State& state) {
  const Operands<uint32_t>& in = f32_operands();
  run_softfloat<uint32_t>(state, [&](uint32_t* out) { f32_kernel<O>(in, out); });
}

// ---- the native scalar FP32 loop (same_run_ratios.hpp, as arith_bench) ------

std::vector<float> as_floats(const std::vector<uint32_t>& codes) {
  std::vector<float> v;
  for (uint32_t c : codes) v.push_back(std::bit_cast<float>(c));
  return v;
}

void BM_NativeF32AddScalar(benchmark::State& state) {
  const Operands<uint32_t>& in = f32_operands();
  const std::vector<float> a = as_floats(in.a), b = as_floats(in.b);
  std::vector<float> out(kCount);
  for (auto _ : state) {
    native_f32_add_scalar(a.data(), b.data(), out.data(), kCount);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kCount));
}

// ---- correctness check against the host ------------------------------------

// fp16 references are computed in float and rounded once more to _Float16.
// For +, -, *, / and sqrt that second rounding is innocuous: float's 24 bits
// are >= 2 * 11 + 2 (Figueroa 1995, "When is double rounding innocuous?"),
// subnormal fp16 results included (fewer bits, same argument). fma is not
// covered: its reference is a*b + c in double, where a*b is exact (22 bits)
// and the sum's rounding error is recovered with TwoSum; only sums that are
// exact in double (so one rounding to fp16 in all) are compared, the rest
// are counted as not checked. fp32 references are the host's own float
// operations and fmaf (correctly rounded in glibc).
float f16_value(uint16_t code) { return float(std::bit_cast<_Float16>(code)); }
uint16_t to_f16(float x) { return std::bit_cast<uint16_t>(_Float16(x)); }

struct CheckResult {
  size_t compared = 0, mismatches = 0, not_exact = 0;
};

// The host's result for operand i: the reference for the timed kernels'
// outputs. Returns false where there is none (f16_mulAdd not exact in
// double).
template <Op O>
bool f16_reference(const Operands<uint16_t>& h, size_t i, uint16_t& want) {
  const float a = f16_value(h.a[i]), b = f16_value(h.b[i]), c = f16_value(h.c[i]);
  if constexpr (O == Op::add) want = to_f16(a + b);
  if constexpr (O == Op::mul) want = to_f16(a * b);
  if constexpr (O == Op::div) want = to_f16(a / b);
  if constexpr (O == Op::sqrt) want = to_f16(std::sqrt(f16_value(h.abs_a[i])));
  if constexpr (O == Op::mulAdd) {
    const double p = double(a) * double(b), sum = p + double(c);
    const double bv = sum - p, err = (p - (sum - bv)) + (double(c) - bv);  // TwoSum: p + c = sum + err
    if (err != 0) return false;
    want = std::bit_cast<uint16_t>(_Float16(sum));
  }
  return true;
}

template <Op O>
uint32_t f32_reference(const Operands<uint32_t>& s, size_t i) {
  const float x = std::bit_cast<float>(s.a[i]), y = std::bit_cast<float>(s.b[i]), z = std::bit_cast<float>(s.c[i]);
  if constexpr (O == Op::add) return std::bit_cast<uint32_t>(x + y);
  if constexpr (O == Op::mul) return std::bit_cast<uint32_t>(x * y);
  if constexpr (O == Op::mulAdd) return std::bit_cast<uint32_t>(std::fma(x, y, z));
  if constexpr (O == Op::div) return std::bit_cast<uint32_t>(x / y);
  return std::bit_cast<uint32_t>(std::sqrt(std::bit_cast<float>(s.abs_a[i])));
}

// Runs the timed kernels themselves (not separate calls of the library) under
// `rounding_mode` and compares every output with the host's; prints the
// first few mismatches when `verbose`.
template <Op O>
void check_op(CheckResult& res, bool verbose) {
  auto compare = [&](const char* fmt, size_t i, uint32_t got, uint32_t want) {
    ++res.compared;
    if (got == want) return;
    if (verbose && res.mismatches < 8)
      std::fprintf(stderr, "mismatch: %s_%s, operand %zu: SoftFloat 0x%x, host 0x%x\n", fmt, op_name(O), i,
                   unsigned(got), unsigned(want));
    ++res.mismatches;
  };
  const Operands<uint16_t>& h = f16_operands();
  std::vector<uint16_t> out16(kCount);
  f16_kernel<O>(h, out16.data());
  for (size_t i = 0; i < kCount; ++i) {
    uint16_t want = 0;
    if (f16_reference<O>(h, i, want))
      compare("f16", i, out16[i], want);
    else
      ++res.not_exact;
  }
  const Operands<uint32_t>& s = f32_operands();
  std::vector<uint32_t> out32(kCount);
  f32_kernel<O>(s, out32.data());
  for (size_t i = 0; i < kCount; ++i) compare("f32", i, out32[i], f32_reference<O>(s, i));
}

CheckResult check(uint_fast8_t rounding_mode, bool verbose) {
  softfloat_roundingMode = rounding_mode;
  CheckResult res;
  check_op<Op::add>(res, verbose);
  check_op<Op::mul>(res, verbose);
  check_op<Op::mulAdd>(res, verbose);
  check_op<Op::div>(res, verbose);
  check_op<Op::sqrt>(res, verbose);
  softfloat_roundingMode = softfloat_round_near_even;
  return res;
}

void check_or_abort() {
  const CheckResult ok = check(softfloat_round_near_even, true);
  if (ok.mismatches != 0) {
    std::fprintf(stderr, "SoftFloat disagrees with the host in %zu of %zu results: not benchmarking it\n",
                 ok.mismatches, ok.compared);
    std::abort();
  }
  // The check must be able to fail: with SoftFloat rounding toward zero it
  // has to find mismatches (most inexact results change).
  const CheckResult control = check(softfloat_round_minMag, false);
  if (control.mismatches == 0) {
    std::fprintf(stderr, "the check found no mismatch with SoftFloat rounding toward zero: it checks nothing\n");
    std::abort();
  }
  std::printf(
      "check: %zu SoftFloat results bit-identical to the host's (%zu f16_mulAdd not exact in double, not compared); "
      "control, SoftFloat rounding toward zero: %zu of %zu differ\n",
      ok.compared, ok.not_exact, control.mismatches, control.compared);
}

// ---- ratios from this run ---------------------------------------------------


void print_ratios(const RatioReporter& rep) {
  const double native_scalar = rep.rate("Native/f32_add_scalar");
  std::printf("\nRatios from this run (items/s over items/s)\n");
  std::printf("native f32 add: %.3g/s (scalar addss loop)\n", native_scalar);
  std::printf("%-22s %12s %12s\n", "SoftFloat 3e", "ops/s", "/native_sc");
  for (const char* fmt : {"f16", "f32"})
    for (Op op : kOps) {
      const std::string name = std::string(fmt) + "_" + op_name(op);
      const double r = rep.rate("SoftFloat/" + name);
      if (r == 0) continue;
      std::printf("%-22s %12.4g %12.4f\n", name.c_str(), r, native_scalar ? r / native_scalar : 0);
    }
}

template <Op O>
void register_op() {
  benchmark::RegisterBenchmark((std::string("SoftFloat/f16_") + op_name(O)).c_str(), BM_SoftFloatF16<O>);
  benchmark::RegisterBenchmark((std::string("SoftFloat/f32_") + op_name(O)).c_str(), BM_SoftFloatF32<O>);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  check_or_abort();

  benchmark::RegisterBenchmark("Native/f32_add_scalar", BM_NativeF32AddScalar);
  register_op<Op::add>();
  register_op<Op::mul>();
  register_op<Op::mulAdd>();
  register_op<Op::div>();
  register_op<Op::sqrt>();

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_ratios(reporter);
  benchmark::Shutdown();
  return 0;
}
