// add_rounded_to_odd (fpsim/experiments/tensor.hpp) in SIMD: the exact sum
// of two FP32 arrays rounded to FP32 with round-to-odd, for one later
// rounding to a narrower format (the bias add of a GEMM output, the Kahan
// update of low-precision master weights). TwoSum (Knuth, TAOCP vol. 2
// §4.2.2) is exact for finite FP32 operands whose rne sum does not overflow,
// subnormal results included; Highway's operations are never contracted.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/experiments/tensor.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/sum_to_odd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace fpsim::experiments {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// `finite`: the lanes whose rne sum is finite (the others return a).
template <class D, class V>
HWY_INLINE V SumToOdd(D d, V a, V b, hn::Mask<D>& finite) {
  const hn::RebindToSigned<D> di;
  const V s = hn::Add(a, b);
  finite = hn::IsFinite(s);
  const V bb = hn::Sub(s, a);
  const V e = hn::Add(hn::Sub(a, hn::Sub(s, bb)), hn::Sub(b, bb));
  const auto inexact = hn::RebindMask(di, hn::Ne(e, hn::Zero(d)));
  // e and s of opposite signs: the exact sum lies between s and zero.
  const auto toward_zero = hn::Lt(hn::Xor(hn::BitCast(di, e), hn::BitCast(di, s)), hn::Zero(di));
  auto u = hn::BitCast(di, s);
  u = hn::IfThenElse(hn::And(inexact, toward_zero), hn::Sub(u, hn::Set(di, 1)), u);
  u = hn::IfThenElse(inexact, hn::Or(u, hn::Set(di, 1)), u);
  // Not finite: keep a, the caller decides.
  return hn::IfThenElse(finite, hn::BitCast(d, u), a);
}

// Appends to `not_finite` the indices i0 + k (k < count) whose sum is not
// finite: the same rne addition as the vector's, in the rare vector that has one.
void note_not_finite(const float* a, const float* b, float sign, size_t i0, size_t count,
                     std::vector<size_t>& not_finite) {
  for (size_t k = 0; k < count; ++k)
    if (!std::isfinite(a[i0 + k] + sign * b[i0 + k])) not_finite.push_back(i0 + k);
}

void AddToOdd(const float* a, const float* b, float sign, float* out, size_t n, std::vector<size_t>* not_finite) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const auto sg = hn::Set(d, sign);
  hn::Mask<decltype(d)> finite;
  size_t i = 0;
  for (; i + L <= n; i += L) {
    const auto r = SumToOdd(d, hn::LoadU(d, a + i), hn::Mul(sg, hn::LoadU(d, b + i)), finite);
    // Before the store: `out` may be `a`.
    if (HWY_UNLIKELY(!hn::AllTrue(d, finite))) note_not_finite(a, b, sign, i, L, *not_finite);
    hn::StoreU(r, d, out + i);
  }
  if (i < n) {
    const size_t rest = n - i;
    HWY_ALIGN float ta[HWY_MAX_BYTES / sizeof(float)] = {}, tb[HWY_MAX_BYTES / sizeof(float)] = {};
    for (size_t k = 0; k < rest; ++k) {
      ta[k] = a[i + k];
      tb[k] = b[i + k];
    }
    HWY_ALIGN float to[HWY_MAX_BYTES / sizeof(float)];
    hn::Store(SumToOdd(d, hn::Load(d, ta), hn::Mul(sg, hn::Load(d, tb)), finite), d, to);
    if (HWY_UNLIKELY(!hn::AllTrue(d, finite))) note_not_finite(a, b, sign, i, rest, *not_finite);
    for (size_t k = 0; k < rest; ++k) out[i + k] = to[k];
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::experiments
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::experiments {

HWY_EXPORT(AddToOdd);

void add_rounded_to_odd(std::span<const float> a, std::span<const float> b, float sign, std::span<float> out,
                        std::vector<size_t>& not_finite) {
  if (a.size() != b.size() || a.size() != out.size())
    throw OptionError("add_rounded_to_odd: the three arrays differ in length");
  if (sign != 1.0f && sign != -1.0f) throw OptionError("add_rounded_to_odd: sign must be +1 or -1");
  not_finite.clear();
  HWY_DYNAMIC_DISPATCH(AddToOdd)(a.data(), b.data(), sign, out.data(), a.size(), &not_finite);
}

}  // namespace fpsim::experiments
#endif  // HWY_ONCE
