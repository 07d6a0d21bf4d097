// What the probe suite finds, part by part, and the phases that find it
// (private to sim/probe/src). run_probes (probe_suite.cpp) calls the phases
// in the order of docs/mma.md, "Probes" ("Procedure"); each reads the
// findings of the phases before it (`const Findings&`), reports its
// outcomes and returns its own part, so what a phase depends on is its
// signature. One file per probe family holds each phase.
//
// The fitting probes (N1, N2, N3, C1, K1, A1, D1, E1, M1, O1, P1) are designed
// so that the answer does not depend on parameters not yet known: e.g. K1
// measures the alignment window by exact cancellation (1 - 1 + 2^-j is 2^-j
// or 0 whatever the rounding), D1 reads the final rounding at a position
// the window is known to hold. The spec's own probes (spec_probes.cpp) run
// afterwards with the measured precision (p = acc_frac_bits + 1) and are
// reported with the spec's decision rules.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fpsim/mma.hpp"
#include "probe_bench.hpp"

namespace fpsim::probe::detail {

// --- the findings ----------------------------------------------------------------

// F1, F3: whether subnormal operands are read and subnormal results produced.
struct Subnormals {
  bool inputs = false, inputs_observed = false;
  bool outputs = false, outputs_observed = false;
};

enum class Shape : uint8_t { block, sequential, pairwise, fma_blocked, pairwise_blocked };

// N1, N2, N3, C1: how products and C are grouped (docs/mma.md "Probes", the
// N1/N2/C1 table).
struct Structure {
  Shape shape = Shape::block;
  // An FP32-arithmetic kind (each step rounds to FP32). The structure probes
  // decide it except for the sequential family, which the roundings settle
  // (sequential_is_fp32_arithmetic).
  bool fp32_arithmetic = false;
  int block_size = 1;
  bool block_size_exact = true;  // false: no boundary found up to the scan's end
  int promotion_interval = 0;
  int chains = 1;
  bool c_first = true;  // C is aligned with the first block's products (C1)
  std::string note;     // why the structure is uncertain; empty when it is not

  // A block FMA (block_fma kind), not FP32 arithmetic.
  bool block_fma() const { return shape == Shape::block || (shape == Shape::sequential && !fp32_arithmetic); }
};

// K1: the alignment window (kept = 23 + neab bits).
struct Window {
  int kept = 0;
  bool known = false;  // kept > 0 was measured
  bool exact = false;  // the window's end was seen (not only a lower bound)
  // With one product per block K1 also shows the alignment rounding.
  std::optional<AlignRounding> single_product_alignment;
};

// A1: the accumulator's fraction bits.
struct Accumulator {
  int frac_bits = 0;
  bool observed = false;
};

// D1: the final rounding.
struct FinalRounding {
  Rounding mode = Rounding::rtz;
  bool observed = false;
};

// E1: the alignment rounding.
struct AlignmentRounding {
  AlignRounding mode = AlignRounding::truncate;
  bool observed = false;
};

// P1: whether products are rounded to FP32 before they are added.
enum class ProductRounding : uint8_t { unobservable, exact, rounded };

// M1: the alignment-exponent clamp.
struct Clamp {
  int min_exp = kNoClamp;
  bool observed = false;
  std::string note;  // why it is not observable
};

// O1: overflow under directed rounding.
struct OverflowFinding {
  bool to_inf = true;
  bool observed = false;
  std::string note;  // why it is not observable
};

// X1-X3: the AMD stages (docs/mma.md, "AMD matrix cores"); the other AMD
// parameters (C after the products, odd/even groups, the product limit) have
// no probes yet (docs/mma.md, "What the probes cannot see").
struct AmdStages {
  bool exact_sum = false;      // X1: the block and C summed exactly (CDNA1)
  int block_size = 0;          // X2: the block of the exact sums (0: no boundary found)
  bool pairwise_tree = false;  // X3: a balanced FP32 tree inside each block (CDNA2)
  // X4-X8, CDNA3 (docs/mma.md, "AMD matrix cores"):
  bool c_after_products = false;     // X4: C joins the products' sum afterwards, rounded toward -inf
  int c_stage_extra_bits = 0;        // X5: the products' sum keeps this many more bits there
  bool c_stage_extra_observed = false;
  bool c_stage_shift_wraps = false;  // X6: the join's shift wraps modulo 64
  bool shift_wraps_observed = false;
  bool odd_even_groups = false;      // X7: even-k and odd-k products summed as two groups
  bool odd_even_observed = false;
  bool product_limit = false;        // X8: a product beyond the output's range makes the block inf/NaN
  bool product_limit_observed = false;
  int c_stage_min_exp = kNoClamp;    // X9: the clamp on the C stage's exponent (M1 reads a block's)
  bool c_stage_min_exp_observed = false;
};

struct Findings {
  Subnormals subnormals;                                     // F1, F3
  Structure structure;                                       // N1-N3, C1 (X1-X3 settle the AMD shapes)
  AmdStages amd;                                             // X1-X3
  Window window;                                             // K1 (for one product per block, refined after D1)
  Accumulator accumulator;                                   // A1
  FinalRounding final_rounding;                              // D1
  AlignmentRounding alignment_rounding;                      // E1
  ProductRounding products = ProductRounding::unobservable;  // P1
  Clamp clamp;                                               // M1
  OverflowFinding overflow;                                  // O1
};

// --- the phases, in the order run_probes calls them ------------------------------

// F1-F3 (probe_subnormals.cpp).
Subnormals probe_subnormals(Bench& bench, Outcomes& out);
// S1-S5, Z1: special values and the sign of zero (probe_specials.cpp).
void probe_special_values(Bench& bench, Outcomes& out);
// N1, N2, N3, C1 (probe_structure.cpp).
Structure probe_structure(Bench& bench, Outcomes& out);
// X1-X3 (probe_amd_stages.cpp); run_probes turns their findings into the
// structure.
AmdStages probe_amd_stages(Bench& bench, const Findings& f, Outcomes& out);
// X4-X8, after D1, K1 and E1, which they read (probe_amd_stages.cpp); f.amd with the CDNA3
// stages added where X4 finds C added after the products.
AmdStages probe_cdna3_stages(Bench& bench, const Findings& f, Outcomes& out);
// K1 (probe_alignment_window.cpp).
Window probe_alignment_window(Bench& bench, const Findings& f, Outcomes& out);
// A1 (probe_accumulator.cpp).
Accumulator probe_accumulator(Bench& bench, const Findings& f, Outcomes& out);
// D1 (probe_rounding.cpp).
FinalRounding probe_final_rounding(Bench& bench, const Findings& f, Outcomes& out);
// K1 beyond C's precision for one product per block, which needs D1's
// directed rounding; f.window unchanged where that does not apply
// (probe_alignment_window.cpp).
Window probe_window_beyond_c(Bench& bench, const Findings& f, Outcomes& out);
// E1 (probe_rounding.cpp).
AlignmentRounding probe_alignment_rounding(Bench& bench, const Findings& f, Outcomes& out);
// P1 (probe_rounding.cpp).
ProductRounding probe_product_rounding(Bench& bench, const Findings& f, Outcomes& out);
// The sequential family: a block FMA of one product, or FP32 arithmetic
// (docs/mma.md "Probes", kind decision; probe_rounding.cpp).
bool sequential_is_fp32_arithmetic(const Findings& f);
// M1 (probe_clamp.cpp).
Clamp probe_clamp(Bench& bench, const Findings& f, Outcomes& out);
// O1 (probe_overflow.cpp).
OverflowFinding probe_overflow(Bench& bench, const Findings& f, Outcomes& out);
// The spec's probes of the probe table, in the measured precision (spec_probes.cpp).
void run_spec_probes(Bench& bench, const Findings& f, Outcomes& out);

// The MmaModel the findings describe, and each field's evidence (probe_fit.cpp).
struct Fit {
  MmaModel model;
  std::vector<FittedParameter> parameters;
};
Fit fit_model(const Bench& bench, const Findings& f);

// R1: the summation tree, compared with the fitted model's (fprev_tree.cpp).
void probe_summation_tree(Bench& bench, const Findings& f, const MmaModel& fitted, Outcomes& out);

// Random vectors, the target against the fitted model (random_check.cpp).
struct RandomCheck {
  std::vector<int> ks;
  int checks = 0;
  int mismatches = 0;
  std::vector<std::string> examples;
};
RandomCheck random_check(Bench& bench, const Findings& f, const MmaModel& fitted, const ProbeOptions& options);

// --- the probe table -----------------------------------------------------------------

// What a spec probe reports besides its id and property; inputs and observed
// are "-" for a probe that did not run.
struct Answer {
  std::string inputs, observed, conclusion;
};

// What a spec probe reads: the bench, the findings and the measured
// precision (spec_probes.cpp).
struct SpecContext;

// One row of the probe table (spec_probes.cpp), in report order. The spec's
// probes carry their property and the function that builds their layout and
// decides (nothing: no outcome at all); a fitting probe's row only places it
// in the order (its phase words its outcome, whose property varies with the
// case).
struct ProbeRow {
  const char* id;
  const char* property = nullptr;
  std::optional<Answer> (*spec)(const SpecContext&) = nullptr;
};
std::span<const ProbeRow> probe_table();

}  // namespace fpsim::probe::detail
