// The feature-detection suite of docs/mma.md, "The probe table", written once against
// MmaTarget: the same probes run on the MMA model (ModelTarget), a real CPU
// matrix unit or a GPU kernel. From the answers it fits an MmaModel
// parameter set and checks the fit against the target on random vectors.
//
// Every probe derives its inputs from the target's formats: values of the
// input formats as exact products a*b (built as products of two operands
// where one operand cannot hold the value), C as a value of the output
// format, everything scaled by a power of two 2^B chosen so that each value
// is representable (docs/mma.md "Probes" lists the adaptations). Each probe
// also runs with all signs mirrored (a and c negated).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/mma.hpp"
#include "fpsim/probe/mma_target.hpp"

namespace fpsim::probe {

struct ProbeOptions {
  int random_vectors = 10000;  // dot products checked against the fitted model
  uint64_t seed = 0;  // of the random vectors (std::mt19937_64, raw outputs only); 0 as every fpsim seed (docs/cli.md)
  int max_scan_k = 256;        // block-boundary scans place their probe term at k < max_scan_k
};

// One probe: an id of probe_ids(), the published probes of docs/mma.md,
// "The probe table" (F, H, T, W, R) and the suite's own fitting probes (N
// and C structure, K and A widths, D and E roundings, M clamp, O overflow, P
// product rounding, S special values, Z zero sign, X the AMD stages: reported
// only where found, docs/mma.md "The fitting probes").
struct ProbeOutcome {
  std::string id;
  std::string property;
  std::string inputs_summary;  // values in units of the stated scale 2^B
  std::string observed;        // "<result> | mirrored <result>", same units
  std::string conclusion;
};

// One MmaModel field as fitted.
struct FittedParameter {
  std::string name;         // the MmaModel member: kind, block_size, extra_bits, ...
  std::string value;        // as fitted
  bool observable = false;  // false: the probes cannot pin it down; `value` is a default, `note` says why
  std::string note;
};

struct ProbeReport {
  std::string target;
  std::vector<ProbeOutcome> outcomes;
  MmaModel fitted;
  std::vector<FittedParameter> parameters;  // kind, block_size, chains, extra_bits, align_rounding, final_rounding,
                                            // min_exp, acc_frac_bits, subnormal_inputs, subnormal_outputs,
                                            // overflow_to_inf, promotion_interval; exact_sum where X1 finds
                                            // one, c_after_products, c_stage_rounding, c_stage_extra_bits,
                                            // c_stage_shift_wraps, odd_even_groups, product_limit where X4 does
  std::vector<int> random_ks;               // the K values of the random vectors (cycled)
  int random_checks = 0;
  int random_mismatches = 0;
  std::vector<std::string> mismatch_examples;  // the first few, with inputs as FP32 bit patterns

  const ProbeOutcome* find(std::string_view id) const;
  const FittedParameter* parameter(std::string_view name) const;
  bool observable(std::string_view name) const;
};

// Every probe id, in the order run_probes reports them (docs/mma.md, "The
// probe table" procedure); generated from the suite's one probe table.
std::vector<std::string_view> probe_ids();

// Runs the suite (docs/mma.md, "The probe table" procedure: F1-F3 and special values ->
// block structure (H3/T3) -> widths (H1/H2/W1) -> roundings (H5/H6/T1) ->
// H7 -> R1 -> random vectors), fits the model and checks it. Throws what the
// target throws (fpsim::Error).
ProbeReport run_probes(MmaTarget& target, const ProbeOptions& options = {});

}  // namespace fpsim::probe
