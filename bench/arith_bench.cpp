// Scalar throughput of the core's arithmetic (fpsim/arith.hpp): add, mul,
// fma, div and sqrt on codes of fp16, bf16, e4m3 and fp32, rne, ieee
// overflow, one element after another, against native host arithmetic in the
// same binary; and the generated 8-bit operation tables (fpsim/op_table.hpp)
// against the core they are generated from. Every rate is items (operations)
// per second of thread CPU time. At the end the program prints the ratios
// computed from the rows of this very run (the machine is noisy: ratios
// across runs mean little). See README.md for the table.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/format.hpp"
#include "fpsim/op_table.hpp"
#include "host_fp16.hpp"
#include "same_run_ratios.hpp"

namespace {

using fpsim_bench::native_f32_add_scalar;
using fpsim_bench::RatioReporter;

using fpsim::ArithOp;
using fpsim::Flags;
using fpsim::Format;
using fpsim::RoundingSpec;

constexpr size_t kCount = 4096;  // triples per format: fits L1/L2, no memory traffic to speak of

// Pre-generated operands: random finite codes of one format. Values are
// N(0, 1) * 2^u, u uniform in [-4, 4] (mixed signs, a spread of scales like
// activations), rounded (rne) to the format; a draw that is not finite there
// is drawn again. sqrt reads |a|, so every sqrt is of a finite x >= 0.
struct Operands {
  std::vector<uint32_t> a, b, c, abs_a;
};

Operands make_operands(const Format& f, uint64_t seed) {
  Operands ops;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> spread(-4.0, 4.0);
  auto draw = [&] {
    for (;;) {
      Flags fl;
      const uint64_t code = fpsim::from_double(normal(rng) * std::exp2(spread(rng)), f, RoundingSpec{}, fl);
      if (!f.is_nan_code(code) && !f.is_inf_code(code)) return uint32_t(code);
    }
  };
  for (size_t i = 0; i < kCount; ++i) {
    ops.a.push_back(draw());
    ops.b.push_back(draw());
    ops.c.push_back(draw());
    ops.abs_a.push_back(uint32_t(ops.a.back() & ~f.sign_mask()));
  }
  return ops;
}

const Operands& operands(const Format& f) {
  static std::map<std::string, Operands> cache;
  auto it = cache.find(f.name);
  if (it == cache.end()) it = cache.emplace(f.name, make_operands(f, 20261129)).first;
  return it->second;
}

// ---- fpsim, format known only at run time (noinline: f is a parameter) ----

template <ArithOp Op>
__attribute__((noinline)) void fpsim_kernel(const Operands& in, uint32_t* out, const Format& f, const RoundingSpec& rs,
                                            Flags& fl) {
  for (size_t i = 0; i < kCount; ++i) {
    uint64_t r = 0;
    if constexpr (Op == ArithOp::add) r = fpsim::add(in.a[i], in.b[i], f, rs, fl);
    if constexpr (Op == ArithOp::mul) r = fpsim::mul(in.a[i], in.b[i], f, rs, fl);
    if constexpr (Op == ArithOp::fma) r = fpsim::fma(in.a[i], in.b[i], in.c[i], f, rs, fl);
    if constexpr (Op == ArithOp::div) r = fpsim::div(in.a[i], in.b[i], f, rs, fl);
    if constexpr (Op == ArithOp::sqrt) r = fpsim::sqrt(in.abs_a[i], f, rs, fl);
    out[i] = uint32_t(r);
  }
}

// ---- the same with the format a compile-time constant ----------------------

template <ArithOp Op, const Format& F>
__attribute__((noinline)) void fpsim_const_kernel(const Operands& in, uint32_t* out, const RoundingSpec& rs,
                                                  Flags& fl) {
  for (size_t i = 0; i < kCount; ++i) {
    uint64_t r = 0;
    if constexpr (Op == ArithOp::add) r = fpsim::add(in.a[i], in.b[i], F, rs, fl);
    if constexpr (Op == ArithOp::mul) r = fpsim::mul(in.a[i], in.b[i], F, rs, fl);
    if constexpr (Op == ArithOp::fma) r = fpsim::fma(in.a[i], in.b[i], in.c[i], F, rs, fl);
    if constexpr (Op == ArithOp::div) r = fpsim::div(in.a[i], in.b[i], F, rs, fl);
    if constexpr (Op == ArithOp::sqrt) r = fpsim::sqrt(in.abs_a[i], F, rs, fl);
    out[i] = uint32_t(r);
  }
}

template <typename Kernel>
void run_items(benchmark::State& state, Kernel&& kernel) {
  std::vector<uint32_t> out(kCount);
  for (auto _ : state) {
    Flags fl;
    kernel(out.data(), fl);
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(fl.bits);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kCount));
}

template <ArithOp Op>
void BM_Fpsim(benchmark::State& state, const Format* fmt) {
  const Format f = *fmt;  // a runtime copy
  const Operands& in = operands(f);
  const RoundingSpec rs;  // rne, ieee
  run_items(state, [&](uint32_t* out, Flags& fl) { fpsim_kernel<Op>(in, out, f, rs, fl); });
}

template <ArithOp Op, const Format& F>
void BM_FpsimConst(benchmark::State& state) {
  const Operands& in = operands(F);
  const RoundingSpec rs;
  run_items(state, [&](uint32_t* out, Flags& fl) { fpsim_const_kernel<Op, F>(in, out, rs, fl); });
}

// ---- native host arithmetic -------------------------------------------------

std::vector<float> as_floats(const std::vector<uint32_t>& codes) {
  std::vector<float> v;
  for (uint32_t c : codes) v.push_back(std::bit_cast<float>(c));
  return v;
}

// As the compiler emits it with the project's flags (-O3, x86-64 baseline:
// vectorized with SSE2, 4 lanes).
__attribute__((noinline)) void native_f32_add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}


template <void (*Kernel)(const float*, const float*, float*, size_t)>
void BM_NativeF32Add(benchmark::State& state) {
  const Operands& in = operands(fpsim::formats::fp32);
  const std::vector<float> a = as_floats(in.a), b = as_floats(in.b);
  std::vector<float> out(kCount);
  for (auto _ : state) {
    Kernel(a.data(), b.data(), out.data(), kCount);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kCount));
}

const fpsim_bench::HostFp16 kHost = fpsim_bench::detect_host_fp16();

// Native fp16 add, one vaddsh per element (AVX512-FP16: Sapphire Rapids and
// later, Zen 5 and later). GCC >= 12 has the intrinsics; other compilers
// build the benchmark without it and the row says so.
#if defined(__x86_64__) && !defined(__clang__) && __GNUC__ >= 12
#define FPSIM_BENCH_AVX512FP16 1
__attribute__((noinline, target("avx512fp16,avx512vl"))) void native_f16_add(const uint16_t* a, const uint16_t* b,
                                                                             uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const __m128h x = _mm_castsi128_ph(_mm_cvtsi32_si128(a[i]));
    const __m128h y = _mm_castsi128_ph(_mm_cvtsi32_si128(b[i]));
    out[i] = uint16_t(_mm_cvtsi128_si32(_mm_castph_si128(_mm_add_sh(x, y))));
  }
}
#else
#define FPSIM_BENCH_AVX512FP16 0
void native_f16_add(const uint16_t*, const uint16_t*, uint16_t*, size_t) {}
#endif

// F16C stand-in: widen both halves to float, add in float, narrow with rne.
// A speed reference, not a replacement: it raises no flags and keeps NaN
// payloads where fpsim delivers the default NaN. Its values are those of a
// correctly rounded fp16 add under rne even though it rounds twice: float's
// 24 bits are >= 2 * 11 + 1, which makes double rounding innocuous for
// addition (Figueroa); f16c_add_check verifies it over every pair.
#if defined(__x86_64__)
__attribute__((noinline, target("f16c"))) void f16c_f16_add(const uint16_t* a, const uint16_t* b, uint16_t* out,
                                                            size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fpsim_bench::f16c_add(a[i], b[i]);
}
#else
void f16c_f16_add(const uint16_t*, const uint16_t*, uint16_t*, size_t) {}
#endif

bool have_avx512fp16() { return FPSIM_BENCH_AVX512FP16 && kHost.avx512fp16; }
bool have_f16c() { return kHost.f16c; }

template <void (*Kernel)(const uint16_t*, const uint16_t*, uint16_t*, size_t), bool (*Have)()>
void BM_HostF16Add(benchmark::State& state, const char* missing) {
  if (!Have()) {
    state.SkipWithError(missing);
    return;
  }
  const Operands& in = operands(fpsim::formats::fp16);
  const std::vector<uint16_t> a(in.a.begin(), in.a.end()), b(in.b.begin(), in.b.end());
  std::vector<uint16_t> out(kCount);
  for (auto _ : state) {
    Kernel(a.data(), b.data(), out.data(), kCount);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kCount));
}

// ---- generated 8-bit operation tables ---------------------------------------

void BM_TableScalar(benchmark::State& state, ArithOp op) {
  const Format& f = fpsim::formats::e4m3;
  const fpsim::BinaryOpTable table(op, f, RoundingSpec{});
  const Operands& in = operands(f);
  run_items(state, [&](uint32_t* out, Flags& fl) {
    for (size_t i = 0; i < kCount; ++i) out[i] = uint32_t(table.apply(in.a[i], in.b[i], fl));
  });
}

// The table's span form on byte arrays (how 8-bit tensors are stored).
void BM_TableBytes(benchmark::State& state, ArithOp op) {
  const Format& f = fpsim::formats::e4m3;
  const fpsim::BinaryOpTable table(op, f, RoundingSpec{});
  const Operands& in = operands(f);
  const std::vector<uint8_t> a(in.a.begin(), in.a.end()), b(in.b.begin(), in.b.end());
  std::vector<uint8_t> out(kCount);
  for (auto _ : state) {
    Flags fl;
    table.apply(a.data(), b.data(), out.data(), kCount, fl);
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(fl.bits);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kCount));
}

// Generating one table: 65536 calls of the core.
void BM_TableBuild(benchmark::State& state, ArithOp op) {
  for (auto _ : state) {
    fpsim::BinaryOpTable table(op, fpsim::formats::e4m3, RoundingSpec{});
    benchmark::DoNotOptimize(&table);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 65536);
}

// ---- ratios from this run ---------------------------------------------------


const char* const kOps[] = {"add", "mul", "fma", "div", "sqrt"};
const Format* const kFormats[] = {&fpsim::formats::fp16, &fpsim::formats::bf16, &fpsim::formats::e4m3,
                                  &fpsim::formats::fp32};

void print_ratios(const RatioReporter& rep) {
  const double native = rep.rate("Native/f32_add");
  const double native_scalar = rep.rate("Native/f32_add_scalar");
  std::printf("\nRatios from this run (items/s over items/s)\n");
  std::printf("native f32 add: %.3g/s (vectorized loop), %.3g/s (scalar addss loop)\n", native, native_scalar);
  std::printf("%-22s %12s %12s %12s %12s\n", "fpsim (runtime format)", "ops/s", "/native", "/native_sc",
              "const/runtime");
  for (const Format* f : kFormats)
    for (const char* op : kOps) {
      const std::string name = std::string(op) + "/" + f->name;
      const double r = rep.rate("Fpsim/" + name), c = rep.rate("FpsimConst/" + name);
      if (r == 0) continue;
      std::printf("%-22s %12.4g %12.4f %12.4f %12.3f\n", name.c_str(), r, native ? r / native : 0,
                  native_scalar ? r / native_scalar : 0, c / r);
    }
  const double f16c = rep.rate("Host/f16c_fp16_add"), fp16 = rep.rate("Fpsim/add/fp16");
  const double avx = rep.rate("Host/avx512fp16_add");
  if (avx != 0 && fp16 != 0) std::printf("fpsim fp16 add / AVX512-FP16 vaddsh add: %.4f\n", fp16 / avx);
  if (f16c != 0 && fp16 != 0) std::printf("fpsim fp16 add / F16C convert-add-convert: %.4f\n", fp16 / f16c);
  for (const char* op : {"add", "mul"}) {
    const double direct = rep.rate(std::string("Fpsim/") + op + "/e4m3");
    const double scalar = rep.rate(std::string("Table/") + op + "/e4m3");
    const double bytes = rep.rate(std::string("TableBytes/") + op + "/e4m3");
    if (direct != 0 && scalar != 0)
      std::printf("e4m3 %s: table lookup / direct core = %.2f (scalar apply), %.2f (byte-span apply)\n", op,
                  scalar / direct, bytes / direct);
  }
}

template <ArithOp Op>
void register_op(const char* op) {
  for (const Format* f : kFormats)
    benchmark::RegisterBenchmark((std::string("Fpsim/") + op + "/" + f->name).c_str(), BM_Fpsim<Op>, f);
  using namespace fpsim::formats;
  const std::string c = std::string("FpsimConst/") + op + "/";
  benchmark::RegisterBenchmark((c + "fp16").c_str(), BM_FpsimConst<Op, fp16>);
  benchmark::RegisterBenchmark((c + "bf16").c_str(), BM_FpsimConst<Op, bf16>);
  benchmark::RegisterBenchmark((c + "e4m3").c_str(), BM_FpsimConst<Op, e4m3>);
  benchmark::RegisterBenchmark((c + "fp32").c_str(), BM_FpsimConst<Op, fp32>);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const Format* f : kFormats) operands(*f);

  benchmark::RegisterBenchmark("Native/f32_add", BM_NativeF32Add<native_f32_add>);
  benchmark::RegisterBenchmark("Native/f32_add_scalar", BM_NativeF32Add<native_f32_add_scalar>);
  benchmark::RegisterBenchmark(
      "Host/avx512fp16_add", BM_HostF16Add<native_f16_add, have_avx512fp16>,
      FPSIM_BENCH_AVX512FP16 ? "no AVX512-FP16 on this CPU" : "AVX512-FP16 kernel not compiled (needs GCC >= 12)");
  benchmark::RegisterBenchmark("Host/f16c_fp16_add", BM_HostF16Add<f16c_f16_add, have_f16c>, "no F16C on this CPU");
  register_op<ArithOp::add>("add");
  register_op<ArithOp::mul>("mul");
  register_op<ArithOp::fma>("fma");
  register_op<ArithOp::div>("div");
  register_op<ArithOp::sqrt>("sqrt");
  benchmark::RegisterBenchmark("Table/add/e4m3", BM_TableScalar, ArithOp::add);
  benchmark::RegisterBenchmark("Table/mul/e4m3", BM_TableScalar, ArithOp::mul);
  benchmark::RegisterBenchmark("TableBytes/add/e4m3", BM_TableBytes, ArithOp::add);
  benchmark::RegisterBenchmark("TableBytes/mul/e4m3", BM_TableBytes, ArithOp::mul);
  benchmark::RegisterBenchmark("TableBuild/add/e4m3", BM_TableBuild, ArithOp::add);
  benchmark::RegisterBenchmark("TableBuild/div/e4m3", BM_TableBuild, ArithOp::div);

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_ratios(reporter);
  benchmark::Shutdown();
  return 0;
}
