// Private to fpsim_reference: the pieces of the conversion oracle
// (convert.cpp) that the arithmetic oracle (arith.cpp) reuses. The one routine
// that matters is produce(): it rounds an exact magnitude of known kind and
// sign into a target format with every flag, overflow, ftz, tininess and
// special-value rule of docs/conversion-semantics.md.
#pragma once

#include <mpfr.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "fpsim_ref/reference.hpp"

namespace fpsim_ref::detail {

using S = RefFormat::Specials;

// Every code's value (at most 53 significant bits) is exact at this precision.
inline constexpr mpfr_prec_t kExactPrec = 64;
// Decimal text is rounded toward zero to this many bits and a sticky bit is
// appended when inexact (round-to-odd with >= p + 2 bits, p <= 53): no target
// grid point or midpoint can lie strictly between the sticky value and the
// true value, so every mode and every flag decision comes out as for the
// true value.
inline constexpr mpfr_prec_t kDecimalPrec = 128;
inline constexpr mpfr_prec_t kWorkPrec = 2 * kDecimalPrec;

// Per-thread MPFR variables, initialised once: no allocation in the hot path.
struct Work {
  mpfr_t x;    // the input's exact magnitude
  mpfr_t res;  // bounded rounding result
  mpfr_t un;   // unbounded-exponent rounding (tininess after rounding)
  mpfr_t lo, hi, mid, tmp;
  Work() { mpfr_inits2(kWorkPrec, x, res, un, lo, hi, mid, tmp, static_cast<mpfr_ptr>(nullptr)); }
  ~Work() { mpfr_clears(x, res, un, lo, hi, mid, tmp, static_cast<mpfr_ptr>(nullptr)); }
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;
};

// This thread's workspace.
Work& work();

// MPFR keeps its exponent range in thread-local storage when built with TLS
// (mpfr_buildopt_tls_p()); otherwise every call into the reference is
// serialised, since a narrowed emin would leak into other threads.
class CallGuard {
 public:
  CallGuard() {
    if (!kTls) lock_ = std::unique_lock<std::recursive_mutex>(mutex());
  }

 private:
  static inline const bool kTls = mpfr_buildopt_tls_p() != 0;
  static std::recursive_mutex& mutex() {
    static std::recursive_mutex m;
    return m;
  }
  std::unique_lock<std::recursive_mutex> lock_;
};

enum class Kind { zero, finite, inf, nan };

struct Decoded {
  Kind kind = Kind::zero;
  bool neg = false;
  bool snan = false;
  bool subnormal = false;
  double mag = 0;  // exact magnitude when finite
};

// Throws std::invalid_argument when `code` is not a valid code of `f`.
Decoded decode(uint64_t code, const RefFormat& f);

// Magnitude rounding directions.
enum class Dir { nearest_even, nearest_away, toward_zero, away, odd };

// How to round: a RefMode, or one stochastic-rounding candidate.
struct How {
  RefMode mode = RefMode::rne;
  bool sr = false;
  bool sr_away = false;

  Dir dir(bool neg) const {
    if (sr) return sr_away ? Dir::away : Dir::toward_zero;
    switch (mode) {
      case RefMode::rne:
        return Dir::nearest_even;
      case RefMode::rna:
        return Dir::nearest_away;
      case RefMode::rtz:
        return Dir::toward_zero;
      case RefMode::rup:
        return neg ? Dir::toward_zero : Dir::away;
      case RefMode::rdn:
        return neg ? Dir::away : Dir::toward_zero;
      case RefMode::rto:
        return Dir::odd;
    }
    return Dir::nearest_even;
  }
  // Overflow table: rtz, rto and the directed mode pointing toward zero give
  // ±max; everything else (sr included, either draw) follows the rne row.
  bool overflow_to_max(bool neg) const {
    if (sr) return false;
    switch (mode) {
      case RefMode::rtz:
      case RefMode::rto:
        return true;
      case RefMode::rup:
        return neg;
      case RefMode::rdn:
        return !neg;
      default:
        return false;
    }
  }
};

// The conversion proper: the input (kind, sign, exact magnitude ax > 0 when
// finite; ax is not read otherwise) to `to`, with the flags `fl` raised so far.
// ax must not be one of w's variables other than w.x.
RefResult produce(Work& w, Decoded d, mpfr_srcptr ax, const RefFormat& to, const RefSpec& spec, const How& how,
                  uint32_t fl);

// "3/4", "5/2^20", "0": a dyadic 0 <= p < 1.
std::string dyadic_string(mpfr_srcptr p);

// Stochastic rounding of the input (d, exact magnitude ax) into `to`: both
// candidates and P(away); with a key, also the candidate the stream's draw
// picks. Throws std::invalid_argument for a bad sr_bits.
RefStochastic stochastic(Work& w, const Decoded& d, mpfr_srcptr ax, const RefFormat& to, const RefSpec& spec,
                         int sr_bits, uint32_t fl, const RefSrKey* key = nullptr);

// The stream's decision (sr_stream.cpp): whether element key.index rounds
// away from zero for the exact discarded fraction 0 <= f < 1.
bool draw_rounds_away(mpfr_srcptr f, int sr_bits, const RefSrKey& key);

}  // namespace fpsim_ref::detail
