// The probe suite's workbench (private to sim/probe/src): exact values, the
// split of a product into two operands, a probe's layout in units of 2^B,
// realizing and running it on the target (with its mirror image), and the
// text in which outcomes are written. Every phase of the suite
// (probe_phases.hpp) builds on it; it knows nothing of what the phases find
// beyond the two facts that decide which values a case may use (subnormal
// operands read, subnormal results produced).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/format.hpp"
#include "fpsim/mma.hpp"  // kNoClamp
#include "fpsim/probe/mma_target.hpp"
#include "fpsim/probe/probe_suite.hpp"

namespace fpsim::probe::detail {

// FP32 as the model states its parameters: the block sum is rounded to an
// FP32-sized accumulator (kept = 23 + neab, docs/mma.md, "The block-FMA
// model"), and the FP32-arithmetic kinds round every step to FP32.
inline constexpr int kFp32Fraction = formats::fp32.man_bits;            // 23
inline constexpr int kFp32Precision = formats::fp32.man_bits + 1;       // 24
inline constexpr int kFp32Emin = formats::fp32.emin();                  // -126
inline constexpr int kFp32MinSubnormalExp = kFp32Emin - kFp32Fraction;  // -149

// --- exact values ------------------------------------------------------------

inline double p2(int e) { return std::ldexp(1.0, e); }

inline int floor_log2(double x) {
  int e = 0;
  std::frexp(x, &e);
  return e - 1;
}

inline int bit_length(uint64_t v) { return v ? 64 - std::countl_zero(v) : 0; }

inline double max_finite(const Format& f) { return to_double(f.max_code(), f); }

inline double min_subnormal(const Format& f) { return p2(f.emin() - f.man_bits); }

// True when x is a finite value of f: a multiple of f's quantum at x's
// binade (2^(max(e, emin) - man_bits)) no larger than f's largest value.
bool in_format(double x, const Format& f);

// --- text ----------------------------------------------------------------------

// A value as a short sum of signed powers of two (its non-adjacent form:
// "1+2^-23", "1-2^-10+2^-22"), a short decimal, or a hex float when that
// takes more than four terms.
std::string pretty(double v);
std::string value_text(double v);  // "0" for zero, else pretty
std::string units_prefix(int B);   // "units of 2^B: ", empty for B = 0
std::string hex32(float x);        // FP32 bit pattern, 0x%08X
std::string rounding_text(Rounding r);
// Kept bits of the alignment window as the spec writes them (kept = 23 + neab).
std::string kept_text(const char* relation, int kept);

// --- products as operands ------------------------------------------------------

struct Operands {
  float a = 0.0f;
  float b = 0.0f;
};

// Writes an exact product value as a * b with a a value of fa and b of fb:
// the odd part M of the value is split into two odd factors that fit the
// formats' significands, and the exponent is shared as evenly as possible.
// Normal operands are preferred; subnormal ones only when allowed.
class Splitter {
 public:
  Splitter(const Format& fa, const Format& fb) : fa_(fa), fb_(fb) {}
  std::optional<Operands> split(double v, bool allow_subnormal);

 private:
  std::optional<Operands> compute(double x, bool subnormal) const;

  Format fa_, fb_;
  std::map<std::pair<double, bool>, std::optional<Operands>> cache_;
};

// --- probe cases -----------------------------------------------------------------

// A probe in units of 2^B.
struct Layout {
  std::vector<double> p;          // products a_k * b_k
  double c = 0;                   // C
  std::vector<double> outs;       // results that must be exact values of the output
  std::vector<Operands> literal;  // the spec's operands (a scaled by 2^B), used when the formats hold them
  bool subnormal_outs = false;    // outs may be subnormal (when the target produces subnormals)
};

// A layout realized at one scale: operands, C and B.
struct Case {
  std::vector<float> a, b;
  float c = 0.0f;
  int B = 0;
};

struct Res {
  float r = 0.0f;  // the result
  float m = 0.0f;  // the mirrored run (a and c negated)
};

inline double unit(float x, int B) { return std::ldexp(double(x), -B); }

// "<result> | mirrored <result>" in units of 2^B.
std::string observed(const Res& res, int B);
// The layout's C and products in units of 2^B ("c=1, a*b=[1, 2^-24 x3]").
std::string summary(const Layout& L, int B);

// The target and what a probe needs to turn a layout into a case and run it.
// The subnormal facts come from F1 and F3: the bench that runs those probes
// is built without them (both false), the one for every later phase with them.
class Bench {
 public:
  Bench(MmaTarget& target, const ProbeOptions& options, bool subnormal_inputs = false, bool subnormal_outputs = false);

  MmaTarget& target;
  const Format fa, fb, fo;       // input a, input b, output
  const int max_k;               // the target's largest K, 0 for any
  const int scan_limit;          // block-boundary scans go linearly up to this K
  const int emax_out;            // the output's largest normal exponent
  const bool subnormal_inputs;   // cases may use subnormal operands (F1)
  const bool subnormal_outputs;  // the target produces subnormal results (F3)
  Splitter split;

  // x is a value the output holds (a normal one unless `subnormal` and the target produces subnormals).
  bool out_ok(double x, bool subnormal) const;
  // L at scale 2^B, when every operand, C and result of interest is representable.
  std::optional<Case> realize(const Layout& L, int B);
  // The first B in 0, 1, -1, 2, -2, ... (around `centre`) that realizes L.
  std::optional<Case> realize_any(const Layout& L, int centre = 0);
  // The case and its mirror image; nothing when K exceeds the target's max_k.
  std::optional<Res> run(const Case& cs);
  // Realizes and runs L; on success fills cs and res.
  bool attempt(const Layout& L, Case& cs, Res& res, int centre = 0);
};

// The outcomes in the order the phases report them (run_probes puts them in
// the probe table's order).
struct Outcomes {
  std::vector<ProbeOutcome> list;

  void add(std::string id, std::string property, std::string inputs, std::string obs, std::string conclusion) {
    list.push_back({std::move(id), std::move(property), std::move(inputs), std::move(obs), std::move(conclusion)});
  }
  void not_run(const char* id, const char* property, const std::string& why) { add(id, property, "-", "-", why); }
};

}  // namespace fpsim::probe::detail
