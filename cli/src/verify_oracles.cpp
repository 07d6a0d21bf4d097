#include "verify_oracles.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fpsim/error.hpp"
#include "fpsim/flags.hpp"
#include "fpsim_ref/fast_oracle.hpp"
#include "fpsim_ref/hw_oracle.hpp"

namespace fpsim::cli::verify {

namespace {

// sim's enums and the reference's list the same things in the same order.
template <class A, class B>
constexpr bool same_index(A a, B b) {
  return int(a) == int(b);
}
static_assert(same_index(Rounding::rne, fpsim_ref::RefMode::rne) && same_index(Rounding::rna, fpsim_ref::RefMode::rna) &&
              same_index(Rounding::rtz, fpsim_ref::RefMode::rtz) && same_index(Rounding::rup, fpsim_ref::RefMode::rup) &&
              same_index(Rounding::rdn, fpsim_ref::RefMode::rdn) && same_index(Rounding::rto, fpsim_ref::RefMode::rto));
static_assert(same_index(ArithOp::add, fpsim_ref::RefOp::add) && same_index(ArithOp::sub, fpsim_ref::RefOp::sub) &&
              same_index(ArithOp::mul, fpsim_ref::RefOp::mul) && same_index(ArithOp::div, fpsim_ref::RefOp::div) &&
              same_index(ArithOp::fma, fpsim_ref::RefOp::fma) && same_index(ArithOp::sqrt, fpsim_ref::RefOp::sqrt));
static_assert(same_index(Comparison::eq, fpsim_ref::RefPredicate::eq) &&
              same_index(Comparison::lt, fpsim_ref::RefPredicate::lt) &&
              same_index(Comparison::le, fpsim_ref::RefPredicate::le) &&
              same_index(Comparison::unordered, fpsim_ref::RefPredicate::unordered));
static_assert(same_index(MinMax::minimum, fpsim_ref::RefMinMax::minimum) &&
              same_index(MinMax::maximum, fpsim_ref::RefMinMax::maximum) &&
              same_index(MinMax::minimum_number, fpsim_ref::RefMinMax::minimum_number) &&
              same_index(MinMax::maximum_number, fpsim_ref::RefMinMax::maximum_number));

fpsim_ref::RefOp ref_op(ArithOp op) { return fpsim_ref::RefOp(int(op)); }
fpsim_ref::RefPredicate ref_predicate(Comparison c) { return fpsim_ref::RefPredicate(int(c)); }
fpsim_ref::RefMinMax ref_min_max_op(MinMax m) { return fpsim_ref::RefMinMax(int(m)); }

Expected from_result(const fpsim_ref::RefResult& r) { return {r.code, r.flags, false, 0, 0}; }

Expected from_pair(const fpsim_ref::RefResult& a, const fpsim_ref::RefResult& b) {
  return {a.code, a.flags, true, b.code, b.flags};
}

// The MPFR reference: every operation, format and mode.
class MpfrOracle final : public Oracle {
 public:
  explicit MpfrOracle(const Setting& s) : s_(s) {
    if (s.spec.rounding == Rounding::sr && s.op.kind == OpKind::min_max &&
        std::string_view(s.from.name) != s.to.name)
      throw OptionError("the mpfr oracle checks sr for min/max only within one format");
  }
  Expected expect(const uint64_t* v) const override {
    const fpsim_ref::RefOperand a{v[0], s_.ref_from}, b{v[1], s_.ref_from}, c{v[2], s_.ref_from};
    switch (s_.op.kind) {
      case OpKind::arith: {
        const fpsim_ref::RefOperand ops[3] = {a, b, c};
        const std::span<const fpsim_ref::RefOperand> span(ops, size_t(s_.op.arity()));
        if (s_.spec.rounding == Rounding::sr) {
          const auto r = fpsim_ref::ref_arith_stochastic(ref_op(s_.op.arith), span, *s_.ref_to, s_.ref_spec,
                                                         s_.spec.sr_bits);
          return from_pair(r.toward_zero, r.away);
        }
        return from_result(fpsim_ref::ref_arith(ref_op(s_.op.arith), span, *s_.ref_to, s_.ref_spec));
      }
      case OpKind::compare: {
        const auto r = fpsim_ref::ref_compare(ref_predicate(s_.op.comparison), s_.op.signaling, a, b, s_.ref_spec);
        return {r.value ? 1u : 0u, r.flags, false, 0, 0};
      }
      case OpKind::min_max:
        return from_result(fpsim_ref::ref_min_max(ref_min_max_op(s_.op.min_max), a, b, *s_.ref_to, s_.ref_spec));
    }
    return {};
  }

 private:
  Setting s_;
};

// Exact double arithmetic + an independent rounding (reference/src/fast_oracle.cpp).
class FastOracleAdapter final : public Oracle {
 public:
  explicit FastOracleAdapter(const Setting& s) : sr_(s.spec.rounding == Rounding::sr) {
    if (s.op.kind != OpKind::arith)
      throw OptionError("the fast oracle checks add sub mul div fma sqrt only; use --oracle mpfr for '" +
                        s.op.name() + "'");
    if (sr_ && s.spec.sr_bits != 0)
      throw OptionError("the fast oracle checks exact sr only (both candidates); use --oracle mpfr for sr" +
                        std::to_string(s.spec.sr_bits));
    std::string why;
    if (!fpsim_ref::FastOracle::supports(ref_op(s.op.arith), *s.ref_from, *s.ref_to, s.ref_spec, &why))
      throw OptionError("the fast oracle cannot check this: " + why);
    oracle_.emplace(ref_op(s.op.arith), *s.ref_from, *s.ref_to, s.ref_spec);
  }
  Expected expect(const uint64_t* v) const override {
    if (sr_) {
      const auto [toward, away] = oracle_->sr_candidates(v[0], v[1], v[2]);
      return from_pair(toward, away);
    }
    return from_result((*oracle_)(v[0], v[1], v[2]));
  }

 private:
  bool sr_;
  std::optional<fpsim_ref::FastOracle> oracle_;
};

// The CPU's own arithmetic (host FPU for fp32, AVX512-FP16 for fp16).
class HwOracleAdapter final : public Oracle {
 public:
  explicit HwOracleAdapter(const Setting& s) : s_(s) {
    std::string why;
    bool ok = false;
    if (s.op.kind == OpKind::min_max) {
      why = "the hardware oracle has no min/max; use --oracle mpfr";
    } else if (s.op.kind == OpKind::compare) {
      ok = fpsim_ref::HwOracle::compare_available(*s.ref_from, s.ref_spec, &why);
    } else {
      ok = fpsim_ref::HwOracle::available(ref_op(s.op.arith), *s.ref_from, s.ref_spec, &why);
    }
    if (!ok) throw OptionError("--oracle hw cannot check this on this machine: " + why);
    if (s.op.kind == OpKind::arith) {
      if (std::string(s.to.name) != s.from.name)
        throw OptionError("--oracle hw checks results in the operands' own format only");
      if (s.spec.rounding == Rounding::sr)
        throw OptionError("--oracle hw: the hardware has no stochastic rounding; use --oracle mpfr or fast");
      arith_.emplace(ref_op(s.op.arith), *s.ref_from, s.ref_spec);
    }
  }
  Expected expect(const uint64_t* v) const override {
    if (s_.op.kind == OpKind::compare) {
      const auto r = fpsim_ref::HwOracle::compare(ref_predicate(s_.op.comparison), s_.op.signaling, v[0], v[1],
                                                  *s_.ref_from);
      return {r.value ? 1u : 0u, r.flags, false, 0, 0};
    }
    Expected e = from_result((*arith_)(v[0], v[1], v[2]));
    // fma(0, inf, quiet NaN): IEEE 754-2019 §7.2(c) leaves the invalid flag
    // to the implementation. fpsim raises it, as SoftFloat (and so TestFloat)
    // does; x86 FMA3 does not (seen on AMD Zen 3). Either is correct here.
    if (s_.op.arith == ArithOp::fma && zero_times_inf(v[0], v[1]) && s_.from.is_nan_code(v[2]) &&
        !s_.from.is_signaling_nan_code(v[2])) {
      e.has_second = true;
      e.code2 = e.code;
      e.flags2 = e.flags | Flags::invalid;
    }
    return e;
  }
  bool ieee_view_only() const override { return true; }

 private:
  bool zero_times_inf(uint64_t a, uint64_t b) const {
    const auto zero = [&](uint64_t c) { return (c & s_.from.magnitude_mask()) == 0; };
    return (zero(a) && s_.from.is_inf_code(b)) || (s_.from.is_inf_code(a) && zero(b));
  }

  Setting s_;
  std::optional<fpsim_ref::HwOracle> arith_;
};

}  // namespace

fpsim_ref::RefMode ref_mode(Rounding r) {
  return r == Rounding::sr ? fpsim_ref::RefMode::rne : fpsim_ref::RefMode(int(r));
}

std::unique_ptr<Oracle> make_oracle(OracleKind kind, const Setting& s) {
  if (kind == OracleKind::mpfr) return std::make_unique<MpfrOracle>(s);
  if (kind == OracleKind::fast) return std::make_unique<FastOracleAdapter>(s);
  return std::make_unique<HwOracleAdapter>(s);
}

}  // namespace fpsim::cli::verify
