// The exhaustive conversion checks on the device (docs/gpu.md, "Conversions
// on the device"): for every input of every conversion in
// conversion_semantics.hpp, the hardware's `cvt` (inline PTX) against sim
// compiled as device code. Nothing goes back to the host but counters and the
// first few differences: each thread counts in registers and adds once at the
// end; a difference takes a slot from an atomic counter.
//
// Enumeration: a conversion's inputs are x = i * stride for i < count (all
// 2^32 or 2^16 inputs with stride 1, or --limit of them evenly strided). For
// large spaces i runs in 64 rounds, round r taking i = 64 j + bitrev6(r):
// each round is an even sample of the whole space (so a run stopped by the
// time budget has checked every region alike), and neighbouring threads get
// neighbouring inputs (same exponent, same path through sim: little
// divergence).
//
// A conversion and its .relu twin run in one kernel: sim is evaluated once
// (conversion_semantics.hpp: the twin is apply_relu of the same word) and
// both instructions are issued.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fpsim/gpu/conversion_checks.hpp"
#include "fpsim/gpu/device_info.hpp"

namespace fpsim::gpu {
namespace {

constexpr int kNanExamples = 4;
constexpr uint64_t kRounds = 64;
constexpr uint64_t kRoundedSpace = uint64_t{1} << 20;  // below this, one round

struct DeviceTally {
  unsigned long long checked;
  unsigned long long matches;
  unsigned long long ignored_bits_differ;
  unsigned long long nan_pattern_differs;
  unsigned long long hardware_nan_noncanonical;
  unsigned long long mismatches;
  unsigned int mismatch_slots;
  unsigned int nan_slots;
  ConversionExample mismatch_examples[kMaxKeptExamples];
  ConversionExample nan_examples[kNanExamples];
};

struct LocalTally {
  unsigned long long checked = 0, matches = 0, ignored = 0, nan = 0, noncanonical = 0, mismatches = 0;
};

// The instruction itself. The f32 operand travels as bits into a .f32
// register declared inside the asm, so no compiler-generated float move can
// touch a NaN payload on the way.
#define FPSIM_F32_TO_B16(ID, INSTR)                                               \
  if constexpr (C == ConversionId::ID) {                                          \
    unsigned short d;                                                             \
    asm volatile("{ .reg .f32 a; mov.b32 a, %1; " INSTR " }" : "=h"(d) : "r"(x)); \
    return d;                                                                     \
  } else
#define FPSIM_F32_TO_B32(ID, INSTR)                                               \
  if constexpr (C == ConversionId::ID) {                                          \
    unsigned int d;                                                               \
    asm volatile("{ .reg .f32 a; mov.b32 a, %1; " INSTR " }" : "=r"(d) : "r"(x)); \
    return d;                                                                     \
  } else
#define FPSIM_B32_TO_B16(ID, INSTR)         \
  if constexpr (C == ConversionId::ID) {    \
    unsigned short d;                       \
    asm volatile(INSTR : "=h"(d) : "r"(x)); \
    return d;                               \
  } else
#define FPSIM_B16_TO_B32(ID, INSTR)                          \
  if constexpr (C == ConversionId::ID) {                     \
    unsigned int d;                                          \
    const unsigned short a = static_cast<unsigned short>(x); \
    asm volatile(INSTR : "=r"(d) : "h"(a));                  \
    return d;                                                \
  } else

template <ConversionId C>
__device__ __forceinline__ uint32_t hardware_result(uint32_t x) {
  // f32 -> fp8x2, x in both halves (PTX ISA, cvt: d[15:8] = cvt(a), d[7:0] = cvt(b)).
  FPSIM_F32_TO_B16(f32_e4m3x2_rn_satfinite, "cvt.rn.satfinite.e4m3x2.f32 %0, a, a;")
  FPSIM_F32_TO_B16(f32_e4m3x2_rn_satfinite_relu, "cvt.rn.satfinite.relu.e4m3x2.f32 %0, a, a;")
  FPSIM_F32_TO_B16(f32_e5m2x2_rn_satfinite, "cvt.rn.satfinite.e5m2x2.f32 %0, a, a;")
  FPSIM_F32_TO_B16(f32_e5m2x2_rn_satfinite_relu, "cvt.rn.satfinite.relu.e5m2x2.f32 %0, a, a;")
  // f16x2 -> fp8x2: the input word is the pair.
  FPSIM_B32_TO_B16(f16x2_e4m3x2_rn_satfinite, "cvt.rn.satfinite.e4m3x2.f16x2 %0, %1;")
  FPSIM_B32_TO_B16(f16x2_e4m3x2_rn_satfinite_relu, "cvt.rn.satfinite.relu.e4m3x2.f16x2 %0, %1;")
  FPSIM_B32_TO_B16(f16x2_e5m2x2_rn_satfinite, "cvt.rn.satfinite.e5m2x2.f16x2 %0, %1;")
  FPSIM_B32_TO_B16(f16x2_e5m2x2_rn_satfinite_relu, "cvt.rn.satfinite.relu.e5m2x2.f16x2 %0, %1;")
  // fp8x2 -> f16x2: the 16-bit input is the pair.
  FPSIM_B16_TO_B32(e4m3x2_f16x2_rn, "cvt.rn.f16x2.e4m3x2 %0, %1;")
  FPSIM_B16_TO_B32(e4m3x2_f16x2_rn_relu, "cvt.rn.relu.f16x2.e4m3x2 %0, %1;")
  FPSIM_B16_TO_B32(e5m2x2_f16x2_rn, "cvt.rn.f16x2.e5m2x2 %0, %1;")
  FPSIM_B16_TO_B32(e5m2x2_f16x2_rn_relu, "cvt.rn.relu.f16x2.e5m2x2 %0, %1;")
  // f32 -> f16.
  FPSIM_F32_TO_B16(f32_f16_rn, "cvt.rn.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rn_relu, "cvt.rn.relu.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rz, "cvt.rz.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rz_relu, "cvt.rz.relu.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rn_satfinite, "cvt.rn.satfinite.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rn_relu_satfinite, "cvt.rn.relu.satfinite.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rz_satfinite, "cvt.rz.satfinite.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rz_relu_satfinite, "cvt.rz.relu.satfinite.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rm, "cvt.rm.f16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_f16_rp, "cvt.rp.f16.f32 %0, a;")
  // f32 -> bf16.
  FPSIM_F32_TO_B16(f32_bf16_rn, "cvt.rn.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rn_relu, "cvt.rn.relu.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rz, "cvt.rz.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rz_relu, "cvt.rz.relu.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rn_satfinite, "cvt.rn.satfinite.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rn_relu_satfinite, "cvt.rn.relu.satfinite.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rz_satfinite, "cvt.rz.satfinite.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rz_relu_satfinite, "cvt.rz.relu.satfinite.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rm, "cvt.rm.bf16.f32 %0, a;")
  FPSIM_F32_TO_B16(f32_bf16_rp, "cvt.rp.bf16.f32 %0, a;")
  // f32 -> tf32, in a .b32 register.
  FPSIM_F32_TO_B32(f32_tf32_rna, "cvt.rna.tf32.f32 %0, a;")
  FPSIM_F32_TO_B32(f32_tf32_rna_satfinite, "cvt.rna.satfinite.tf32.f32 %0, a;")
  FPSIM_F32_TO_B32(f32_tf32_rn, "cvt.rn.tf32.f32 %0, a;")
  FPSIM_F32_TO_B32(f32_tf32_rn_relu, "cvt.rn.relu.tf32.f32 %0, a;")
  FPSIM_F32_TO_B32(f32_tf32_rz, "cvt.rz.tf32.f32 %0, a;")
  FPSIM_F32_TO_B32(f32_tf32_rz_relu, "cvt.rz.relu.tf32.f32 %0, a;")
  // Widenings (exact).
  FPSIM_B16_TO_B32(f16_f32, "{ .reg .f32 r; cvt.f32.f16 r, %1; mov.b32 %0, r; }")
  FPSIM_B16_TO_B32(bf16_f32, "{ .reg .f32 r; cvt.f32.bf16 r, %1; mov.b32 %0, r; }") {
    static_assert(C == ConversionId::count_, "every conversion has its instruction above");
    return 0;
  }
}

#undef FPSIM_F32_TO_B16
#undef FPSIM_F32_TO_B32
#undef FPSIM_B32_TO_B16
#undef FPSIM_B16_TO_B32

__device__ __forceinline__ void take_slot(unsigned int* slots, ConversionExample* examples, int capacity,
                                          const ConversionExample& e) {
  // Read first: once full, no more atomics on the one hot address.
  if (*static_cast<volatile unsigned int*>(slots) >= unsigned(capacity)) return;
  const unsigned int slot = atomicAdd(slots, 1u);
  if (slot < unsigned(capacity)) examples[slot] = e;
}

__device__ __forceinline__ void tally(const ConversionSpec& c, uint32_t x, uint32_t hw, uint32_t sim, LocalTally& local,
                                      DeviceTally* t, int keep) {
  ++local.checked;
  const Judgement j = judge(c, hw, sim);
  if (j.hardware_nan_noncanonical) ++local.noncanonical;
  switch (j.verdict) {
    case Verdict::match:
      ++local.matches;
      break;
    case Verdict::ignored_bits_differ:
      ++local.ignored;
      break;
    case Verdict::nan_pattern_differs:
      ++local.nan;
      take_slot(&t->nan_slots, t->nan_examples, kNanExamples, ConversionExample{x, hw, sim});
      break;
    case Verdict::mismatch:
      ++local.mismatches;
      take_slot(&t->mismatch_slots, t->mismatch_examples, keep, ConversionExample{x, hw, sim});
      break;
  }
}

__device__ __forceinline__ void flush(const LocalTally& l, DeviceTally* t) {
  atomicAdd(&t->checked, l.checked);
  if (l.matches) atomicAdd(&t->matches, l.matches);
  if (l.ignored) atomicAdd(&t->ignored_bits_differ, l.ignored);
  if (l.nan) atomicAdd(&t->nan_pattern_differs, l.nan);
  if (l.noncanonical) atomicAdd(&t->hardware_nan_noncanonical, l.noncanonical);
  if (l.mismatches) atomicAdd(&t->mismatches, l.mismatches);
}

// Inputs x = (j * rounds + residue) * stride for j * rounds + residue < count.
// A is a conversion without .relu; B its .relu twin, or A again (then one
// conversion only).
template <ConversionId A, ConversionId B>
__global__ void check_conversions(uint64_t stride, uint64_t rounds, uint64_t residue, uint64_t count, DeviceTally* ta,
                                  DeviceTally* tb, int keep) {
  constexpr ConversionSpec ca = conversion_spec(A);
  constexpr ConversionSpec cb = conversion_spec(B);
  static_assert(!ca.relu && cb.base == A, "B is A's .relu twin or A itself");
  constexpr bool twin = A != B;
  LocalTally la, lb;
  const uint64_t threads = uint64_t(gridDim.x) * blockDim.x;
  for (uint64_t j = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;; j += threads) {
    const uint64_t i = j * rounds + residue;
    if (i >= count) break;
    const uint32_t x = uint32_t(i * stride);
    const uint32_t base = sim_result_without_relu(ca, x);
    tally(ca, x, hardware_result<A>(x), base, la, ta, keep);
    if constexpr (twin) tally(cb, x, hardware_result<B>(x), apply_relu(cb, base), lb, tb, keep);
  }
  flush(la, ta);
  if constexpr (twin) flush(lb, tb);
}

using Launcher = void (*)(int grid, uint64_t stride, uint64_t rounds, uint64_t residue, uint64_t count, DeviceTally* ta,
                          DeviceTally* tb, int keep);

constexpr int kBlock = 256;

template <ConversionId A, ConversionId B>
void launch(int grid, uint64_t stride, uint64_t rounds, uint64_t residue, uint64_t count, DeviceTally* ta,
            DeviceTally* tb, int keep) {
  check_conversions<A, B><<<grid, kBlock>>>(stride, rounds, residue, count, ta, tb, keep);
}

struct Group {
  ConversionId a, b;
  Launcher launcher;
};

#define FPSIM_GROUP(A, B) \
  Group { ConversionId::A, ConversionId::B, &launch<ConversionId::A, ConversionId::B> }
const Group kGroups[] = {
    FPSIM_GROUP(f32_e4m3x2_rn_satfinite, f32_e4m3x2_rn_satfinite_relu),
    FPSIM_GROUP(f32_e5m2x2_rn_satfinite, f32_e5m2x2_rn_satfinite_relu),
    FPSIM_GROUP(f16x2_e4m3x2_rn_satfinite, f16x2_e4m3x2_rn_satfinite_relu),
    FPSIM_GROUP(f16x2_e5m2x2_rn_satfinite, f16x2_e5m2x2_rn_satfinite_relu),
    FPSIM_GROUP(e4m3x2_f16x2_rn, e4m3x2_f16x2_rn_relu),
    FPSIM_GROUP(e5m2x2_f16x2_rn, e5m2x2_f16x2_rn_relu),
    FPSIM_GROUP(f32_f16_rn, f32_f16_rn_relu),
    FPSIM_GROUP(f32_f16_rz, f32_f16_rz_relu),
    FPSIM_GROUP(f32_f16_rn_satfinite, f32_f16_rn_relu_satfinite),
    FPSIM_GROUP(f32_f16_rz_satfinite, f32_f16_rz_relu_satfinite),
    FPSIM_GROUP(f32_f16_rm, f32_f16_rm),
    FPSIM_GROUP(f32_f16_rp, f32_f16_rp),
    FPSIM_GROUP(f32_bf16_rn, f32_bf16_rn_relu),
    FPSIM_GROUP(f32_bf16_rz, f32_bf16_rz_relu),
    FPSIM_GROUP(f32_bf16_rn_satfinite, f32_bf16_rn_relu_satfinite),
    FPSIM_GROUP(f32_bf16_rz_satfinite, f32_bf16_rz_relu_satfinite),
    FPSIM_GROUP(f32_bf16_rm, f32_bf16_rm),
    FPSIM_GROUP(f32_bf16_rp, f32_bf16_rp),
    FPSIM_GROUP(f32_tf32_rna, f32_tf32_rna),
    FPSIM_GROUP(f32_tf32_rna_satfinite, f32_tf32_rna_satfinite),
    FPSIM_GROUP(f32_tf32_rn, f32_tf32_rn_relu),
    FPSIM_GROUP(f32_tf32_rz, f32_tf32_rz_relu),
    FPSIM_GROUP(f16_f32, f16_f32),
    FPSIM_GROUP(bf16_f32, bf16_f32),
};
#undef FPSIM_GROUP

uint32_t bit_reverse6(uint32_t r) {
  uint32_t out = 0;
  for (int k = 0; k < 6; ++k) out |= ((r >> k) & 1u) << (5 - k);
  return out;
}

bool failed(cudaError_t e, const char* what, std::string* error) {
  if (e == cudaSuccess) return false;
  *error = std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  return true;
}

}  // namespace

ConversionRun run_conversion_checks(const ConversionRunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  ConversionRun run;
  run.limit = options.limit;
  std::string why;
  if (!hopper_device_available(&why)) {
    run.error = why;
    return run;
  }
  run.device = device_description();
  const int keep = options.keep < 0 ? 0 : (options.keep > kMaxKeptExamples ? kMaxKeptExamples : options.keep);

  bool selected[kConversionCount] = {};
  for (const ConversionId id : options.only.empty() ? all_conversions() : options.only) selected[int(id)] = true;

  int sms = 0;
  if (failed(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), "cudaDeviceGetAttribute", &run.error))
    return run;
  const int grid = sms * 8;

  DeviceTally* tallies = nullptr;
  const size_t bytes = sizeof(DeviceTally) * kConversionCount;
  if (failed(cudaMalloc(&tallies, bytes), "cudaMalloc", &run.error)) return run;
  if (failed(cudaMemset(tallies, 0, bytes), "cudaMemset", &run.error)) {
    cudaFree(tallies);
    return run;
  }

  double slowest_round = 0;
  bool error = false;
  for (uint64_t r = 0; r < kRounds && !error; ++r) {
    // Stop before a round that would not fit the budget (judged by the
    // slowest so far; round 0 also carries the small spaces).
    if (r > 0 && elapsed() + slowest_round > options.time_budget_s) {
      run.stopped_by_time_budget = true;
      break;
    }
    const double round_start = elapsed();
    bool launched = false;
    for (const Group& g : kGroups) {
      if (!selected[int(g.a)] && !selected[int(g.b)]) continue;
      const uint64_t count = conversion_input_count(g.a, options.limit);
      const uint64_t rounds = count >= kRoundedSpace ? kRounds : 1;
      if (r >= rounds) continue;
      const uint64_t residue = rounds == 1 ? 0 : bit_reverse6(uint32_t(r));
      g.launcher(grid, conversion_input_stride(g.a, options.limit), rounds, residue, count, tallies + int(g.a),
                 tallies + int(g.b), keep);
      launched = true;
      if (failed(cudaGetLastError(), "kernel launch", &run.error)) {
        error = true;
        break;
      }
    }
    if (!launched) break;
    if (!error && failed(cudaDeviceSynchronize(), "kernel run", &run.error)) error = true;
    const double t = elapsed() - round_start;
    if (t > slowest_round) slowest_round = t;
  }

  std::vector<DeviceTally> host(kConversionCount);
  if (!error && !failed(cudaMemcpy(host.data(), tallies, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy", &run.error)) {
    for (int i = 0; i < kConversionCount; ++i) {
      if (!selected[i]) continue;
      const DeviceTally& t = host[size_t(i)];
      ConversionResult res;
      res.id = ConversionId(i);
      res.inputs_total = conversion_input_count(res.id, options.limit);
      res.inputs_checked = t.checked;
      res.matches = t.matches;
      res.ignored_bits_differ = t.ignored_bits_differ;
      res.nan_pattern_differs = t.nan_pattern_differs;
      res.hardware_nan_noncanonical = t.hardware_nan_noncanonical;
      res.mismatches = t.mismatches;
      const unsigned kept = t.mismatch_slots < unsigned(keep) ? t.mismatch_slots : unsigned(keep);
      res.first_mismatches.assign(t.mismatch_examples, t.mismatch_examples + kept);
      const unsigned nans = t.nan_slots < unsigned(kNanExamples) ? t.nan_slots : unsigned(kNanExamples);
      res.first_nan_differences.assign(t.nan_examples, t.nan_examples + nans);
      run.results.push_back(std::move(res));
    }
  }
  cudaFree(tallies);
  run.seconds = elapsed();
  return run;
}

}  // namespace fpsim::gpu
