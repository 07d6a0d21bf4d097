// GEMM: the one place where a precision recipe acts on a matmul
// (docs/training.md, "GEMM"; docs/architecture.md experiments/). A GemmPolicy names each
// operand's quantizer, the accumulation and the output format; a layer calls
// gemm() with the policy of its (layer, role) and never looks at a recipe.
//
// For a Linear layer Y = X·Wᵀ (X [B, in], W [out, in]):
//   fprop  Y  = X  · Wᵀ   (reduction over in)
//   dgrad  dX = dY · W    (reduction over out)
//   wgrad  dW = dYᵀ · X   (reduction over the batch)
// Block-scaled operands always have their blocks along the GEMM's reduction
// dimension K, so the same tensor is quantized row-wise for one GEMM and
// column-wise for another, each time from its high-precision values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/quantize.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::experiments {

enum class GemmRole : uint8_t { fprop, dgrad, wgrad };
std::string_view gemm_role_name(GemmRole r);  // "fprop", "dgrad", "wgrad"

// How an operand is brought into its format before the multiply
// (docs/training.md, "Operand quantizers").
enum class OperandScaling : uint8_t {
  none,     // a plain cast to `format` (fp32: used as is)
  current,  // one FP32 multiplier from this tensor's amax (TE Float8CurrentScaling)
  delayed,  // one FP32 multiplier from the amax history of earlier steps (TE DelayedScaling)
  mx,       // E8M0 block scales (OCP MX)
  nvfp4,    // ue4m3 block scales x one FP32 tensor scale
  block,    // FP32 block multipliers (DeepSeek-V3 §3.3, TE Float8BlockScaling)
};
std::string_view operand_scaling_name(OperandScaling s);

struct OperandPolicy {
  Format format = formats::fp32;
  OperandScaling scaling = OperandScaling::none;
  // mx / nvfp4 / block: the block length along K (32, 16, 128); with
  // block_2d the blocks are block x block tiles (fp8-block weights 128x128,
  // nvfp4 weights 16x16), the same for every orientation.
  size_t block = 0;
  bool block_2d = false;
  // Element rounding: mode (rne; sr / sr<R> keyed by run seed, tensor id and
  // step, docs/training.md "Randomness") and overflow (saturate: TE clips).
  RoundingSpec rounding{Rounding::rne, Overflow::saturate};
  E8m0Rule e8m0_rule = E8m0Rule::ceil;  // mx
  bool pow2_scales = false;             // current / delayed / block
  float amax_epsilon = 0.0f;            // current / block
  bool hadamard = false;                // random Hadamard transform along K before scaling (nvfp4)
  ScaleArith arith = ScaleArith::fp32;  // nvfp4 also fp32-te-legacy (docs/quantization.md §3)
  FourOverSix four_over_six = FourOverSix::off;  // nvfp4: 4over6 block scales (mae / mse)
  bool row_scaled = false;                       // nvfp4, 1-D blocks: one encode scale per row
  // delayed:
  size_t amax_history_len = 1024;
  AmaxAlgo amax_algo = AmaxAlgo::max;
  int margin = 0;
};

struct GemmPolicy {
  OperandPolicy a, b;
  // "fp32": operands (dequantized) summed in FP32, each output element one
  // sequential FMA chain over k = 0..K-1 starting from +0 (docs/training.md,
  // "Summation order"). Otherwise an MMA preset name (fpsim::mma_preset,
  // ":promoteN" allowed), whose input formats are taken from the operands.
  std::string accumulate = "fp32";
  // D = round(acc + round(bias, output), output), rne, once.
  Format output = formats::fp32;
};

// A row-major matrix as stored, and whether the GEMM reads it transposed.
template <class T>
struct MatrixView {
  const T* data = nullptr;
  size_t rows = 0;  // as stored
  size_t cols = 0;
  bool transposed = false;  // op(X) = Xᵀ
  size_t op_rows() const { return transposed ? cols : rows; }
  size_t op_cols() const { return transposed ? rows : cols; }
};

// Where a GEMM sits: its layer, its role and the names of the tensors its
// operands are ("x", "w", "dy", "q", "k", ...); the policy it runs under.
struct GemmSite {
  std::string layer;
  GemmRole role = GemmRole::fprop;
  std::string a_tensor;
  std::string b_tensor;
  GemmPolicy policy;
};

// One row of quant_stats.csv (docs/training.md, "Result files").
struct OperandStatsRow {
  uint32_t step = 0;
  std::string layer;
  GemmRole role = GemmRole::fprop;
  char operand = 'a';  // 'a' or 'b'
  std::string tensor;
  QuantStats stats;
  float scale_min = 0.0f;  // over the operand's dequantization scales (scale_inv, 2^k, s_block x tensor scale)
  float scale_max = 0.0f;
  // Σx² and Σ(x − Q(x))² over the finite pairs (x as the quantizer saw it:
  // rotated for a Hadamard operand), from which stats.sqnr_db comes: what
  // lets rows of one operand merge exactly (GemmRuntime::add_stats).
  double signal_energy = 0.0;
  double error_energy = 0.0;
};

// A delayed-scaling state as a checkpoint holds it (docs/training.md,
// "Checkpoints").
struct DelayedStateRecord {
  std::string layer, tensor;
  float multiplier = 1.0f;
  std::vector<float> history;  // amax values, oldest first
};

// The per-run state every GEMM call reads or updates: run seed and step (the
// SR key), delayed-scaling histories per (layer, tensor), and the statistics
// collected on steps where `collect_stats` is set.
class GemmRuntime {
 public:
  explicit GemmRuntime(uint32_t run_seed = 0) : run_seed_(run_seed) {}
  uint32_t run_seed() const { return run_seed_; }
  uint32_t step = 0;
  bool collect_stats = false;
  std::vector<OperandStatsRow> stats;  // appended to while collect_stats, one row per (layer, role, operand, tensor)

  // Appends `row`, or merges it into the row of the same (layer, role,
  // operand, tensor) already collected: a GEMM called once per slice (the
  // attention core, per batch and head) reports one row for the whole
  // tensor. Counts add, amax and the scale range widen, SQNR comes from the
  // summed energies.
  void add_stats(OperandStatsRow row);

  // The delayed-scaling state of one tensor of one layer ("fc1", "x"),
  // created on first use from the policy. One per tensor, shared by the GEMMs
  // that read it (TE: each of x, w, dy per module has its own state).
  DelayedScaling& delayed_state(const std::string& layer, const std::string& tensor, const QuantScheme& scheme,
                                const OperandPolicy& p);
  const std::map<std::pair<std::string, std::string>, DelayedScaling>& delayed_states() const { return delayed_; }

  // Checkpoints: every delayed-scaling state, in (layer, tensor) order,
  // restored ones not yet used again included.
  std::vector<DelayedStateRecord> delayed_state_records() const;
  // Restores what delayed_state_records() gave. Each record applies when its
  // (layer, tensor) is first used, since only the GEMM knows the policy that
  // creates the state; DataError then when it does not fit that policy.
  // (Which state a step already used is not part of a checkpoint: steps are
  // whole when one is written.)
  void restore_delayed_states(const std::vector<DelayedStateRecord>& records);

  // The multiplier every GEMM of this step quantizes (layer, tensor) with
  // under delayed scaling. The first GEMM of a step that reads the tensor
  // gets `record` pointing at the state whose history takes this step's amax
  // (TE keeps one amax history per tensor, updated once per step:
  // transformer_engine/pytorch/fp8.py); the caller records the amax of the
  // quantization it runs with DelayedScaling::record_amax. Later GEMMs of the
  // same step get nullptr and reuse that step's multiplier, so step t always
  // quantizes with the scale of steps < t (docs/training.md, "Operand
  // quantizers"). Throws ConfigError when two GEMMs give one tensor
  // different element formats.
  float delayed_multiplier(const std::string& layer, const std::string& tensor, const QuantScheme& scheme,
                           const OperandPolicy& p, DelayedScaling*& record);

 private:
  struct DelayedStep {
    uint32_t step;
    float multiplier;
    Format element;
  };
  uint32_t run_seed_;
  std::map<std::pair<std::string, std::string>, DelayedScaling> delayed_;
  std::map<std::pair<std::string, std::string>, DelayedStep> delayed_steps_;
  std::map<std::pair<std::string, std::string>, DelayedStateRecord> restored_;  // not yet used
};

// The Philox stream of a tensor: FNV-1a of "layer/tensor/role/operand",
// stable across runs and machines (docs/training.md, "Randomness").
uint32_t tensor_stream_id(std::string_view layer, std::string_view tensor, GemmRole role, char operand);

// out[M×N] = op(a)[M×K] · op(b)[K×N] (+ bias[N], broadcast over rows), under
// site.policy. Throws ConfigError (naming layer, role, operand, tensor and
// the dimension) when a block size does not divide what it must, the shapes
// do not fit or the policy cannot be evaluated. `bias` may be null.
void gemm(GemmRuntime& rt, const GemmSite& site, MatrixView<float> a, MatrixView<float> b, const float* bias,
          std::span<float> out);
// The FP64 reference for gradient checks: the exact-ish plain sum in double,
// the policy ignored.
void gemm(GemmRuntime& rt, const GemmSite& site, MatrixView<double> a, MatrixView<double> b, const double* bias,
          std::span<double> out);

// The plain FP32 GEMM of "Summation order": out[i][j] = fp32(chain +
// bias[j]) (the chain itself when bias is null), the chain d = fma(a[i][k],
// b[k][j], d) over k = 0..K-1 from +0. A NaN result is the default NaN
// 0x7FC00000. Vectorized across j with Highway (dynamic dispatch);
// bit-identical on every target and thread count. Throws ConfigError when
// the shapes do not fit.
void gemm_fp32(MatrixView<float> a, MatrixView<float> b, const float* bias, std::span<float> out);

}  // namespace fpsim::experiments
