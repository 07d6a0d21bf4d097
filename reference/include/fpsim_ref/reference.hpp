// fpsim_ref: the independent MPFR oracle for fpsim's conversions.
//
// Everything here is computed from exact values with MPFR/GMP and the
// reference's own transcription of the format table (docs/formats.md §1); it
// never includes sim/. It is slow on purpose only where that keeps it obviously
// right. The contract it implements is docs/conversion-semantics.md.
//
// All functions are thread-safe (per-thread MPFR workspaces; MPFR's exponent
// range is thread-local in the MPFR build, otherwise a mutex guards it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fpsim_ref {

struct RefFormat {
  std::string name;  // canonical lower-case name (user formats: as written, lower-cased)
  int bits = 0;      // width of a code; tf32 = 19, ue4m3 = 8 (top bit always 0), int8 = 8
  int exp_bits = 0;  // int8: 0
  int man_bits = 0;  // int8: 0
  int bias = 0;      // int8: 0
  enum class Specials { ieee, fn, fnuz, finite, e8m0, int8 } specials = Specials::ieee;
  bool has_sign = true;  // false for e8m0 and ue4m3

  // Derived facts (filled in by ref_format; exact).
  bool has_inf = false;
  bool has_nan = false;
  bool has_neg_zero = false;
  bool has_subnormals = false;  // field 0 with M != 0 holds subnormals
  int emin = 0;                 // exponent of the smallest normal: 2^emin (e8m0: -127)
  int emax = 0;                 // exponent of the largest finite value's binade
  uint64_t max_code = 0;        // largest positive finite code
  uint64_t nan_code = 0;        // default (positive) NaN code; 0 when there is no NaN
  double max_finite = 0;        // int8: 127
  double min_normal = 0;        // int8: 1
  double min_subnormal = 0;     // 0 when the format has no subnormals
  uint64_t code_count = 0;      // number of valid codes: 2^bits (ue4m3: 128)
};

// Built-in name or alias (case-insensitive), else a user format
// e<X>m<Y>[fn|fnuz][b<N>] (§1.1). Throws std::invalid_argument otherwise.
const RefFormat& ref_format(std::string_view name);
// Canonical names of the built-in formats, fp64 included, in table order.
std::vector<std::string> ref_builtin_names();

enum class RefMode { rne, rna, rtz, rup, rdn, rto };

struct RefSpec {
  RefMode mode = RefMode::rne;
  bool saturate = false;
  bool ftz = false;
  bool daz = false;
  bool tininess_before = false;
};

namespace flag {
inline constexpr uint32_t inexact = 0x01;
inline constexpr uint32_t underflow = 0x02;
inline constexpr uint32_t overflow = 0x04;
inline constexpr uint32_t infinite = 0x08;
inline constexpr uint32_t invalid = 0x10;
inline constexpr uint32_t saturated = 0x20;
inline constexpr uint32_t flushed = 0x40;
}  // namespace flag

struct RefResult {
  uint64_t code;
  uint32_t flags;
  bool operator==(const RefResult&) const = default;
};

// Converts a code of `from` to `to`. Throws std::invalid_argument when `code`
// is not a valid code of `from` (>= 2^bits, or ue4m3 >= 0x80).
RefResult ref_convert(uint64_t code, const RefFormat& from, const RefFormat& to, const RefSpec& spec);
// Same as ref_convert of the double's fp64 bit pattern.
RefResult ref_from_double(double x, const RefFormat& to, const RefSpec& spec);
// Decimal (or MPFR-syntax hex "0x1.8p3", "inf", "nan") text, rounded once.
// Throws std::invalid_argument when the text is not a number.
RefResult ref_from_decimal(std::string_view text, const RefFormat& to, const RefSpec& spec);
// Exact value of a code (NaN / ±inf as such). Throws like ref_convert.
double ref_decode_to_double(uint64_t code, const RefFormat& f);
// True when `code` is a NaN of `f`.
bool ref_is_nan(uint64_t code, const RefFormat& f);

// Stochastic rounding: the two candidates and the exact probability of
// rounding away from zero. spec.mode is ignored.
struct RefStochastic {
  RefResult toward_zero;
  RefResult away;
  std::string p_away_exact;  // "0", "1/4", "3/4", "5/2^20" (denominators above 2^10 as powers)
  double p_away;             // p_away_exact rounded to double
  RefResult drawn;           // the candidate the stream's draw picks (the *_drawn calls; else toward_zero)
};

// The stochastic-rounding stream (docs/conversion-semantics.md, "sr"): the
// key and counter words of one element's draw.
struct RefSrKey {
  uint32_t seed = 0;
  uint32_t stream = 0;
  uint32_t step = 0;
  uint64_t index = 0;
};
// Whether element key.index's draw rounds away from zero for the discarded
// fraction f = sum_k f_words[k] * 2^(-32 (k + 1)) (most significant word
// first; f = 0 gives false). sr_bits as below.
bool ref_sr_rounds_away(std::span<const uint32_t> f_words, int sr_bits, const RefSrKey& key);
// sr_bits == 0: exact SR (P = f, the exact discarded fraction of an ulp);
// sr_bits = R in 1..64: P = floor(f*2^R)/2^R. Throws std::invalid_argument otherwise.
RefStochastic ref_stochastic(uint64_t code, const RefFormat& from, const RefFormat& to,
                             const RefSpec& spec_without_mode, int sr_bits);
RefStochastic ref_stochastic_double(double x, const RefFormat& to, const RefSpec& spec_without_mode, int sr_bits);
// The same with the stream's draw for `key` (RefStochastic::drawn).
RefStochastic ref_stochastic_drawn(uint64_t code, const RefFormat& from, const RefFormat& to,
                                   const RefSpec& spec_without_mode, int sr_bits, const RefSrKey& key);
RefStochastic ref_stochastic_drawn_double(double x, const RefFormat& to, const RefSpec& spec_without_mode,
                                          int sr_bits, const RefSrKey& key);


// ---- Arithmetic (docs/arithmetic-semantics.md) -------------------------
// Computed from the operands' exact values with MPFR: add, sub, mul and fma
// exactly (precision chosen from the operands' exponent span), div and sqrt
// rounded toward zero at 256 bits with a sticky bit appended (round to odd
// with >= p + 2 bits), then rounded once into `to` by the same code as the
// conversions.

enum class RefOp { add, sub, mul, div, fma, sqrt };
// 2 for add sub mul div, 3 for fma (a * b + c), 1 for sqrt.
int ref_arity(RefOp op);

struct RefOperand {
  uint64_t code = 0;
  const RefFormat* format = nullptr;
};

// Throws std::invalid_argument for a wrong operand count or an invalid code.
RefResult ref_arith(RefOp op, std::span<const RefOperand> operands, const RefFormat& to, const RefSpec& spec);
// Stochastic rounding of the op's exact result: both candidates and P(away).
// For div and sqrt P is that of the 256-bit round-to-odd intermediate (within
// 2^-200 of the true probability; p_away_exact is then that approximation).
RefStochastic ref_arith_stochastic(RefOp op, std::span<const RefOperand> operands, const RefFormat& to,
                                   const RefSpec& spec_without_mode, int sr_bits);
RefStochastic ref_arith_stochastic_drawn(RefOp op, std::span<const RefOperand> operands, const RefFormat& to,
                                         const RefSpec& spec_without_mode, int sr_bits, const RefSrKey& key);

enum class RefPredicate { eq, lt, le, unordered };
struct RefCompareResult {
  bool value = false;
  uint32_t flags = 0;
  bool operator==(const RefCompareResult&) const = default;
};
// IEEE 754-2019 §5.11; `signaling` raises invalid for any NaN operand, quiet
// only for signaling NaNs. spec.daz applies.
RefCompareResult ref_compare(RefPredicate p, bool signaling, RefOperand a, RefOperand b, const RefSpec& spec);

enum class RefMinMax { minimum, maximum, minimum_number, maximum_number };
// IEEE 754-2019 §9.6; the chosen operand is converted into `to` with spec.
RefResult ref_min_max(RefMinMax op, RefOperand a, RefOperand b, const RefFormat& to, const RefSpec& spec);

// How MPFR was built: true when its exponent range and flags are thread-local.
bool ref_mpfr_is_thread_local();

}  // namespace fpsim_ref
