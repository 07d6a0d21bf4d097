// Tensor helpers (docs/training.md, "Tensors", "Randomness"): format
// comparison, autocast's binary-op result format, rounding a whole tensor to
// its format, and the small naming helpers of gemm.hpp.
#include "fpsim/experiments/tensor.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/gemm.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {

bool same_format(const Format& a, const Format& b) {
  return std::strncmp(a.name, b.name, sizeof a.name) == 0 && a.bits == b.bits && a.exp_bits == b.exp_bits &&
         a.man_bits == b.man_bits && a.bias == b.bias && a.specials == b.specials && a.has_sign == b.has_sign &&
         a.container_shift == b.container_shift;
}

Format binary_result_format(const Format& a, const Format& b) { return same_format(a, b) ? a : formats::fp32; }

namespace {

// Formats of up to 16 bits go through the bulk SIMD conversions (bit-identical
// to the scalar core) in chunks, so the scratch codes stay small and the
// element index (the SR counter) is first_index + i whatever the chunking.
constexpr size_t kChunk = 4096;

template <class Code>
void round_bulk(std::span<float> x, const Format& f, const RoundingSpec& spec, uint64_t first_index) {
  thread_local std::vector<Code> codes;
  codes.resize(std::min(x.size(), kChunk));
  for (size_t at = 0; at < x.size(); at += kChunk) {
    const size_t n = std::min(kChunk, x.size() - at);
    const std::span<float> part = x.subspan(at, n);
    const std::span<Code> c(codes.data(), n);
    bulk::convert_from_f32(part, f, spec, c, first_index + at);
    bulk::convert_to_f32(std::span<const Code>(c), f, part);
  }
}

// A format with FP32's exponent field, bias and IEEE specials (tf32, bf16;
// a fact of the format's row, not of its name) keeps every FP32 exponent,
// subnormals included: rounding to it is rounding the FP32 bit pattern to
// its top 1 + 8 + M bits. rne, rtz and rna with IEEE overflow (a carry out
// of the largest binade gives the inf pattern) and without flush/daz; the
// scalar core decides everything else, NaNs included.
bool shares_fp32_exponent_range(const Format& f, const RoundingSpec& rs) {
  return f.exp_bits == 8 && f.bias == 127 && f.specials == Specials::ieee && f.has_sign && f.man_bits < 23 &&
         (rs.rounding == Rounding::rne || rs.rounding == Rounding::rtz || rs.rounding == Rounding::rna) &&
         rs.overflow == Overflow::ieee && !rs.ftz && !rs.daz;
}

template <Rounding mode>
void round_significand_bits_in(std::span<float> x, int drop) {
  const uint32_t low = (uint32_t{1} << drop) - 1;
  const uint32_t half = uint32_t{1} << (drop - 1);
  for (float& v : x) {  // branch-free: the compiler vectorizes it
    uint32_t u = std::bit_cast<uint32_t>(v);
    if constexpr (mode == Rounding::rne) {
      u += (half - 1) + ((u >> drop) & 1);
    } else if constexpr (mode == Rounding::rna) {
      u += half;
    }
    v = std::bit_cast<float>(u & ~low);  // inf stays inf: no carry out of a zero significand
  }
}

void round_significand_bits(std::span<float> x, const Format& f, const RoundingSpec& rs) {
  const int drop = 23 - f.man_bits;
  // NaNs are written as the scalar core writes them: keep the inputs' bits
  // aside only when there is one (rare), then redo those elements.
  thread_local std::vector<uint32_t> nan_inputs;
  nan_inputs.clear();
  uint32_t nan_seen = 0;  // an integer test, so the scan vectorizes
  for (const float v : x) nan_seen |= uint32_t((std::bit_cast<uint32_t>(v) & 0x7FFFFFFFu) > 0x7F800000u);
  const bool any_nan = nan_seen != 0;
  if (any_nan) {
    for (const float v : x) nan_inputs.push_back(std::bit_cast<uint32_t>(v));
  }
  switch (rs.rounding) {
    case Rounding::rne:
      round_significand_bits_in<Rounding::rne>(x, drop);
      break;
    case Rounding::rna:
      round_significand_bits_in<Rounding::rna>(x, drop);
      break;
    default:
      round_significand_bits_in<Rounding::rtz>(x, drop);
      break;
  }
  if (!any_nan) return;
  for (size_t i = 0; i < x.size(); ++i) {
    const float in = std::bit_cast<float>(nan_inputs[i]);
    if (std::isnan(in)) {
      Flags fl;
      x[i] = float(to_double(from_float(in, f, rs, fl), f));
    }
  }
}

}  // namespace

void round_to_format(std::span<float> x, const Format& f, const RoundingSpec& spec, uint64_t first_index) {
  if (same_format(f, formats::fp32)) return;
  RoundingSpec rs = spec;
  // A format without inf (e4m3, FP6, FP4) clips as Transformer Engine's casts
  // do (docs/training.md, "Operand quantizers"; TE casts use satfinite):
  // overflow to its NaN would be no GPU's behaviour.
  if (!f.has_inf()) rs.overflow = Overflow::saturate;
  if (shares_fp32_exponent_range(f, rs)) {
    round_significand_bits(x, f, rs);
  } else if (f.bits <= 8) {
    round_bulk<uint8_t>(x, f, rs, first_index);
  } else if (f.bits <= 16) {
    round_bulk<uint16_t>(x, f, rs, first_index);
  } else {
    // Other wide formats: the scalar core, value by value.
    for (size_t i = 0; i < x.size(); ++i) {
      Flags fl;
      x[i] = float(to_double(from_float(x[i], f, rs, fl, first_index + i), f));
    }
  }
}

void GemmRuntime::add_stats(OperandStatsRow row) {
  for (OperandStatsRow& r : stats) {
    if (r.layer != row.layer || r.role != row.role || r.operand != row.operand || r.tensor != row.tensor) continue;
    QuantStats& a = r.stats;
    const QuantStats& b = row.stats;
    a.amax = std::max(a.amax, b.amax);
    a.elements += b.elements;
    a.nan_inputs += b.nan_inputs;
    a.inf_inputs += b.inf_inputs;
    a.underflows += b.underflows;
    a.saturated += b.saturated;
    a.nan_scale_blocks += b.nan_scale_blocks;
    r.signal_energy += row.signal_energy;
    r.error_energy += row.error_energy;
    a.sqnr_db = r.error_energy == 0.0 ? std::numeric_limits<double>::infinity()
                                      : 10.0 * std::log10(r.signal_energy / r.error_energy);
    a.mse = std::numeric_limits<double>::quiet_NaN();  // not additive without the pair counts; not reported
    // fmin/fmax: a NaN range (every scale NaN) gives way to a number.
    r.scale_min = std::fmin(r.scale_min, row.scale_min);
    r.scale_max = std::fmax(r.scale_max, row.scale_max);
    return;
  }
  stats.push_back(std::move(row));
}

std::string_view gemm_role_name(GemmRole r) {
  switch (r) {
    case GemmRole::fprop:
      return "fprop";
    case GemmRole::dgrad:
      return "dgrad";
    case GemmRole::wgrad:
      return "wgrad";
  }
  return "?";
}

std::string_view operand_scaling_name(OperandScaling s) {
  switch (s) {
    case OperandScaling::none:
      return "none";
    case OperandScaling::current:
      return "current";
    case OperandScaling::delayed:
      return "delayed";
    case OperandScaling::mx:
      return "mx";
    case OperandScaling::nvfp4:
      return "nvfp4";
    case OperandScaling::block:
      return "block";
  }
  return "?";
}

uint32_t fnv1a_32(std::string_view text) {
  uint32_t h = 2166136261u;
  for (const char c : text) {
    h ^= uint8_t(c);
    h *= 16777619u;
  }
  return h;
}

uint32_t tensor_stream_id(std::string_view layer, std::string_view tensor, GemmRole role, char operand) {
  std::string key(layer);
  for (const std::string_view part : {std::string_view("/"), tensor, std::string_view("/"), gemm_role_name(role),
                                      std::string_view("/"), std::string_view(&operand, 1)})
    key += part;
  return fnv1a_32(key);
}

DelayedScaling& GemmRuntime::delayed_state(const std::string& layer, const std::string& tensor,
                                           const QuantScheme& scheme, const OperandPolicy& p) {
  const auto key = std::make_pair(layer, tensor);
  auto it = delayed_.find(key);
  if (it == delayed_.end()) {
    it = delayed_.emplace(key, DelayedScaling(scheme, p.amax_history_len, p.amax_algo, p.margin)).first;
    const auto saved = restored_.find(key);
    if (saved != restored_.end()) {
      try {
        it->second.restore_state(saved->second.multiplier, saved->second.history);
      } catch (const OptionError& e) {
        throw DataError("checkpoint: delayed scaling state of layer " + quoted_text(layer) + " tensor " +
                        quoted_text(tensor) + ": " + e.what());
      }
      restored_.erase(saved);
    }
  }
  return it->second;
}

std::vector<DelayedStateRecord> GemmRuntime::delayed_state_records() const {
  std::map<std::pair<std::string, std::string>, DelayedStateRecord> all = restored_;
  for (const auto& [key, state] : delayed_)
    all[key] = DelayedStateRecord{key.first, key.second, state.multiplier(),
                                  std::vector<float>(state.history().begin(), state.history().end())};
  std::vector<DelayedStateRecord> out;
  for (auto& [key, record] : all) out.push_back(std::move(record));
  return out;
}

void GemmRuntime::restore_delayed_states(const std::vector<DelayedStateRecord>& records) {
  delayed_.clear();
  delayed_steps_.clear();
  restored_.clear();
  for (const DelayedStateRecord& r : records) restored_[{r.layer, r.tensor}] = r;
}

float GemmRuntime::delayed_multiplier(const std::string& layer, const std::string& tensor, const QuantScheme& scheme,
                                      const OperandPolicy& p, DelayedScaling*& record) {
  record = nullptr;
  QuantScheme recorded = scheme;
  recorded.error_stats = false;  // the history only needs the amax
  DelayedScaling& state = delayed_state(layer, tensor, recorded, p);
  const auto [it, fresh] =
      delayed_steps_.try_emplace(std::make_pair(layer, tensor), DelayedStep{step, 1.0f, scheme.element});
  if (!same_format(it->second.element, scheme.element))
    throw ConfigError("delayed scaling of layer " + quoted_text(layer) + " tensor " + quoted_text(tensor) +
                      ": one tensor has one scaling state, but its GEMMs ask for element formats '" +
                      it->second.element.name + "' and '" + scheme.element.name + "'");
  if (fresh || it->second.step != step) {
    it->second.step = step;
    it->second.multiplier = state.multiplier();
    record = &state;  // this step's amax; the GEMMs quantize with the step's multiplier
  }
  return it->second.multiplier;
}

}  // namespace fpsim::experiments
