// The probe suite of docs/mma.md, "The probe table" and the fit of an MmaModel from its
// answers (docs/mma.md "Probes").
//
// Every probe is a small set of exact values: products a_k*b_k and C, in
// units of 2^B. The suite turns each product into two operands of the
// target's input formats (Splitter), picks B so that every operand, C and
// every result of interest is representable (Suite::realize), runs the dot
// product and its mirror image (a and c negated), and reads the answer in
// the same units. Under the block-FMA model a product enters only through
// its value and its exponent E = max(floor_log2|a|, emin_a) + ... (spec
// §2), so any split of a value is equivalent for the model; splits prefer
// normal operands and the spec's own operands where the formats hold them.
//
// The fitting probes (N1, N2, N3, C1, K1, A1, D1, E1, M1, O1, P1) are designed
// so that the answer does not depend on parameters not yet known: e.g. K1
// measures the alignment window by exact cancellation (1 - 1 + 2^-j is 2^-j
// or 0 whatever the rounding), D1 reads the final rounding at a position
// the window is known to hold. The spec's own probes run afterwards with
// the measured precision (p = acc_frac_bits + 1) and are reported with the
// spec's decision rules.
#include "fpsim/probe/probe_suite.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <utility>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"

namespace fpsim::probe {

const ProbeOutcome* ProbeReport::find(std::string_view id) const {
  for (const ProbeOutcome& o : outcomes)
    if (o.id == id) return &o;
  return nullptr;
}

const FittedParameter* ProbeReport::parameter(std::string_view name) const {
  for (const FittedParameter& p : parameters)
    if (p.name == name) return &p;
  return nullptr;
}

bool ProbeReport::observable(std::string_view name) const {
  const FittedParameter* p = parameter(name);
  return p != nullptr && p->observable;
}

namespace {

constexpr int kNoClamp = -1024;

// --- exact values ------------------------------------------------------------

double p2(int e) { return std::ldexp(1.0, e); }

int floor_log2(double x) {
  int e = 0;
  std::frexp(x, &e);
  return e - 1;
}

int bit_length(uint64_t v) { return v ? 64 - std::countl_zero(v) : 0; }

double max_finite(const Format& f) { return to_double(f.max_code(), f); }

// True when x is a finite value of f: a multiple of f's quantum at x's
// binade (2^(max(e, emin) - man_bits)) no larger than f's largest value.
bool in_format(double x, const Format& f) {
  if (!std::isfinite(x)) return false;
  if (x == 0) return true;
  const double ax = std::fabs(x);
  const int e = std::max(floor_log2(ax), f.emin());
  const double scaled = std::ldexp(ax, f.man_bits - e);
  return scaled == std::floor(scaled) && ax <= max_finite(f);
}
double min_subnormal(const Format& f) { return p2(f.emin() - f.man_bits); }
bool is_fp32(const Format& f) { return f.exp_bits == 8 && f.man_bits == 23 && f.bits == 32; }

// x = M * 2^low with M odd (x > 0, finite).
void odd_decompose(double x, uint64_t& M, int& low) {
  int e = 0;
  const double m = std::frexp(x, &e);
  M = uint64_t(std::ldexp(m, 53));
  low = e - 53;
  const int tz = std::countr_zero(M);
  M >>= tz;
  low += tz;
}

std::string pow_text(int e) {
  switch (e) {
    case 0:
      return "1";
    case 1:
      return "2";
    case 2:
      return "4";
    case 3:
      return "8";
    default:
      break;
  }
  return std::string("2^").append(std::to_string(e));
}

// A value as a short sum of signed powers of two (its non-adjacent form:
// "1+2^-23", "1-2^-10+2^-22"), or a hex float when that takes more than
// four terms.
std::string pretty(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0" : "+0";
  uint64_t M = 0;
  int low = 0;
  odd_decompose(std::fabs(v), M, low);
  std::vector<std::pair<int, int>> digits;  // (exponent, +-1), lowest first
  uint64_t x = M;
  int pos = low;
  while (x != 0) {
    if (x & 1) {
      const int d = (x & 3) == 1 ? 1 : -1;
      digits.emplace_back(pos, d);
      x = d == 1 ? x - 1 : x + 1;
    }
    x >>= 1;
    ++pos;
  }
  if (std::popcount(M) <= int(digits.size())) {  // plain binary is as short: no minus signs
    digits.clear();
    for (int i = 0; i < 64; ++i)
      if ((M >> i) & 1) digits.emplace_back(low + i, 1);
  }
  std::string body;
  const double mag = std::fabs(v);
  if (digits.size() >= 2 && mag >= 0.0625 && mag < 16 && low >= -4) {  // a short decimal: 1.5, 1.875, 0.3125
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", mag);
    body = buf;
    while (body.back() == '0') body.pop_back();
    return v > 0 ? body : std::string("-").append(body);
  }
  if (digits.size() <= 4) {
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
      if (it != digits.rbegin()) body.append(it->second > 0 ? "+" : "-");
      body.append(pow_text(it->first));
    }
  } else {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%a", std::fabs(v));
    body = buf;
  }
  if (v > 0) return body;
  if (digits.size() == 1 || digits.size() > 4) return std::string("-").append(body);
  return std::string("-(").append(body).append(")");
}

std::string units_prefix(int B) {
  if (B == 0) return {};
  return std::string("units of 2^").append(std::to_string(B)).append(": ");
}

std::string value_text(double v) { return v == 0 ? std::string("0") : pretty(v); }

std::string hex32(float x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", unsigned(std::bit_cast<uint32_t>(x)));
  return buf;
}

bool same_result(float x, float y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
}

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

  std::optional<Operands> split(double v, bool allow_subnormal) {
    const auto key = std::make_pair(v, allow_subnormal);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::optional<Operands> r = compute(std::fabs(v), false);
    if (!r && allow_subnormal) r = compute(std::fabs(v), true);
    if (r && v < 0) r->a = -r->a;
    cache_[key] = r;
    return r;
  }

 private:
  static bool fits(double x, const Format& f, bool subnormal) {
    return x != 0 && in_format(x, f) && (subnormal || std::fabs(x) >= p2(f.emin()));
  }

  std::optional<Operands> compute(double x, bool subnormal) const {
    if (x == 0) return Operands{};
    if (!std::isfinite(x)) return std::nullopt;
    uint64_t M = 0;
    int low = 0;
    odd_decompose(x, M, low);
    const int pa = fa_.man_bits + 1, pb = fb_.man_bits + 1;
    if (bit_length(M) > pa + pb) return std::nullopt;
    std::vector<std::pair<uint64_t, uint64_t>> candidates;
    auto consider = [&](uint64_t da, uint64_t qb) {
      if (bit_length(da) <= pa && bit_length(qb) <= pb) candidates.emplace_back(da, qb);
    };
    consider(1, M);
    consider(M, 1);
    for (uint64_t d = 3; d * d <= M && d < (uint64_t{1} << 14); d += 2) {  // small odd factors
      if (M % d != 0) continue;
      consider(d, M / d);
      if (d != M / d) consider(M / d, d);
    }
    const int top_a = floor_log2(max_finite(fa_)), top_b = floor_log2(max_finite(fb_));
    for (const auto& [da, qb] : candidates) {
      const int la0 = bit_length(da) - 1, lb0 = bit_length(qb) - 1;
      const int sum = la0 + lb0 + low;  // floor_log2(a) + floor_log2(b)
      // floor_log2(a) = la must keep a and b within their formats' binades.
      const int lo_a = subnormal ? fa_.emin() - fa_.man_bits + la0 : fa_.emin();
      const int lo_b = subnormal ? fb_.emin() - fb_.man_bits + lb0 : fb_.emin();
      const int first = std::max(lo_a, sum - top_b), last = std::min(top_a, sum - lo_b);
      if (first > last) continue;
      const int centre = std::clamp(sum >= 0 ? sum / 2 : -((-sum + 1) / 2), first, last);
      for (int off = 0; off <= 2 * (last - first) + 1; ++off) {
        const int la = centre + ((off & 1) ? (off + 1) / 2 : -(off / 2));
        if (la < first || la > last) continue;
        const int i = la - la0;
        const double a = std::ldexp(double(da), i), b = std::ldexp(double(qb), low - i);
        if (fits(a, fa_, subnormal) && fits(b, fb_, subnormal)) return Operands{float(a), float(b)};
      }
    }
    return std::nullopt;
  }

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

struct Case {
  std::vector<float> a, b;
  float c = 0.0f;
  int B = 0;
};

struct Res {
  float r = 0.0f;  // the result
  float m = 0.0f;  // the mirrored run (a and c negated)
};

enum class Shape : uint8_t { block, sequential, pairwise, fma_blocked };

std::string rounding_text(Rounding r) {
  RoundingSpec rs;
  rs.rounding = r;
  return rounding_name(rs);
}

// Kept bits of the alignment window as the spec writes them (kept = 23 + neab).
std::string kept_text(const char* relation, int kept) {
  std::string s = std::string("kept ").append(relation).append(" ").append(std::to_string(kept));
  s.append(" bits (neab ").append(relation).append(" ").append(std::to_string(kept - 23)).append(")");
  return s;
}

// The order in which probe ids are reported (docs/mma.md, "The probe table" procedure).
const char* const kOrder[] = {"F1", "F2", "F3", "S1", "S2", "S3", "S4", "S5",  "Z1", "N1",  "N2",  "N3", "C1", "H3",
                              "T3", "K1", "H1", "H2", "W1", "A1", "F5", "F6",  "F9", "F10", "F12", "T2", "D1", "H5",
                              "F7", "T1", "F8", "E1", "H6", "H4", "F4", "F11", "P1", "H7",  "M1",  "O1", "R1"};

class Suite {
 public:
  Suite(MmaTarget& target, const ProbeOptions& options)
      : t_(target),
        opt_(options),
        fa_(target.input_format_a()),
        fb_(target.input_format_b()),
        fo_(target.output_format()),
        split_(fa_, fb_) {
    max_k_ = std::max(0, target.max_k());
    out_man_ = fo_.man_bits;
    emin_out_ = fo_.emin();
    emax_out_ = int(fo_.exp_field_max()) - 1 - fo_.bias;
    F_ = out_man_;
    scan_limit_ = std::max(4, opt_.max_scan_k);
    if (max_k_ > 0) scan_limit_ = std::min(scan_limit_, max_k_);
  }

  ProbeReport run() {
    rep_.target = t_.name();
    probe_subnormal_inputs();
    probe_subnormal_outputs();
    probe_specials();
    probe_structure();
    probe_widths();
    probe_roundings();
    probe_clamp();
    probe_overflow();
    spec_probes();
    fit();
    probe_tree();
    random_check();
    order_outcomes();
    return std::move(rep_);
  }

 private:
  // --- running ---------------------------------------------------------------

  bool out_ok(double x, bool subnormal) const {
    if (x == 0) return true;
    if (!in_format(x, fo_)) return false;
    return std::fabs(x) >= p2(emin_out_) || (subnormal && sub_out_);
  }

  std::optional<Case> realize(const Layout& L, int B) {
    Case cs;
    cs.B = B;
    const double s = p2(B);
    bool done = false;
    if (!L.literal.empty() && L.literal.size() == L.p.size()) {
      bool ok = true;
      for (size_t k = 0; k < L.p.size() && ok; ++k) {
        const double a = double(L.literal[k].a) * s, b = double(L.literal[k].b);
        ok = a * b == L.p[k] * s && in_format(a, fa_) && in_format(b, fb_) &&
             (sub_in_ || ((a == 0 || std::fabs(a) >= p2(fa_.emin())) && (b == 0 || std::fabs(b) >= p2(fb_.emin()))));
        if (ok) {
          cs.a.push_back(float(a));
          cs.b.push_back(float(b));
        }
      }
      done = ok;
      if (!ok) {
        cs.a.clear();
        cs.b.clear();
      }
    }
    if (!done) {
      for (double v : L.p) {
        const std::optional<Operands> o = split_.split(v * s, sub_in_);
        if (!o) return std::nullopt;
        cs.a.push_back(o->a);
        cs.b.push_back(o->b);
      }
    }
    const double c = L.c * s;
    if (c != 0 && !(in_format(c, fo_) && std::fabs(c) >= p2(emin_out_))) return std::nullopt;
    for (double r : L.outs)
      if (!out_ok(r * s, L.subnormal_outs)) return std::nullopt;
    cs.c = float(c);
    return cs;
  }

  // The first B in 0, 1, -1, 2, -2, ... (around `centre`) that realizes L.
  std::optional<Case> realize_any(const Layout& L, int centre = 0) {
    for (int off = 0; off <= 600; ++off) {
      const int B = centre + ((off & 1) ? (off + 1) / 2 : -(off / 2));
      if (std::optional<Case> cs = realize(L, B)) return cs;
    }
    return std::nullopt;
  }

  std::optional<Res> run(const Case& cs) {
    if (max_k_ > 0 && int(cs.a.size()) > max_k_) return std::nullopt;
    Res res;
    res.r = t_.dot(cs.a, cs.b, cs.c);
    std::vector<float> neg(cs.a.size());
    for (size_t k = 0; k < cs.a.size(); ++k) neg[k] = -cs.a[k];
    res.m = t_.dot(neg, cs.b, -cs.c);
    return res;
  }

  static double unit(float x, int B) { return std::ldexp(double(x), -B); }

  static std::string observed(const Res& res, int B) {
    return pretty(unit(res.r, B)).append(" | mirrored ").append(pretty(unit(res.m, B)));
  }

  static std::string summary(const Layout& L, int B) {
    std::string s;
    if (B != 0) s.append("units of 2^").append(std::to_string(B)).append(": ");
    s.append("c=").append(value_text(L.c)).append(", a*b=[");
    for (size_t k = 0; k < L.p.size();) {
      size_t e = k;
      while (e + 1 < L.p.size() && L.p[e + 1] == L.p[k]) ++e;
      s.append(k ? ", " : "").append(value_text(L.p[k]));
      if (e - k >= 2)
        s.append(" x").append(std::to_string(e - k + 1));
      else if (e == k + 1)
        s.append(", ").append(value_text(L.p[k]));
      k = e + 1;
    }
    return s.append("]");
  }

  void add(std::string id, std::string property, std::string inputs, std::string obs, std::string conclusion) {
    rep_.outcomes.push_back(
        {std::move(id), std::move(property), std::move(inputs), std::move(obs), std::move(conclusion)});
  }

  void not_run(const char* id, const char* property, const std::string& why) { add(id, property, "-", "-", why); }

  // Realizes and runs L; on success fills cs and res.
  bool attempt(const Layout& L, Case& cs, Res& res, int centre = 0) {
    std::optional<Case> c = realize_any(L, centre);
    if (!c) return false;
    std::optional<Res> r = run(*c);
    if (!r) return false;
    cs = std::move(*c);
    res = *r;
    return true;
  }

  bool block_kind() const { return shape_ == Shape::block || (shape_ == Shape::sequential && !cpu_); }

  // --- F1-F3: subnormals ---------------------------------------------------------

  void probe_subnormal_inputs() {
    // F1 (FHMP): a0 = the smallest subnormal of the input format, b0 = 2^k
    // with k >= 2 the smallest that makes the product a normal output
    // (k = 2 for fp16 -> fp32, the spec's b0 = 4). Both operand sides.
    std::string inputs, obs;
    int supported = 0, flushed = 0, sides = 0;
    for (int side = 0; side < 2; ++side) {
      const Format& f = side == 0 ? fa_ : fb_;
      const Format& g = side == 0 ? fb_ : fa_;
      if (!f.has_subnormals()) continue;
      const double s = min_subnormal(f);
      for (int k = 2; k <= 400; ++k) {
        const double o = p2(k);
        if (!in_format(o, g)) break;
        if (s * o < p2(emin_out_ + 1)) continue;
        Case cs;
        cs.a = {float(side == 0 ? s : o)};
        cs.b = {float(side == 0 ? o : s)};
        const std::optional<Res> r = run(cs);
        if (!r) break;
        ++sides;
        inputs.append(inputs.empty() ? "" : "; ").append(side == 0 ? "a0=" : "b0=").append(pretty(s));
        inputs.append(side == 0 ? ", b0=" : ", a0=").append(pretty(o));
        obs.append(obs.empty() ? "" : "; ").append(observed(*r, 0));
        if (double(r->r) == s * o && double(r->m) == -s * o) ++supported;
        if (r->r == 0.0f && r->m == 0.0f) ++flushed;
        break;
      }
    }
    if (sides == 0) {
      not_run("F1", "subnormal inputs", "not observable: no subnormal input reaches a normal output");
      return;
    }
    sub_in_obs_ = supported == sides || flushed == sides;
    sub_in_ = supported == sides;
    add("F1", "subnormal inputs", inputs, obs,
        supported == sides ? "supported"
        : flushed == sides ? "read as zero (DAZ)"
                           : "inconsistent between operand sides");
  }

  void probe_subnormal_outputs() {
    // F2 (FHMP): C = the smallest subnormal of the output, no products.
    const double cmin = min_subnormal(fo_);
    Case c2;
    c2.a = {0.0f};
    c2.b = {0.0f};
    c2.c = float(cmin);
    if (const std::optional<Res> r = run(c2)) {
      const bool passes = double(r->r) == cmin;
      add("F2", "subnormal C passes", std::string("c=").append(pretty(cmin)), observed(*r, 0),
          passes         ? "passes"
          : r->r == 0.0f ? "lost (flushed, or below the accumulator's grid)"
                         : "changed");
    }
    // F3 (FHMP): a subnormal result 2^(emin_out - 1) made (i) by one product
    // of normal operands, else (ii) by a product 2^q cancelled by
    // C = -(2^q - 2^(emin_out-1)), else (iii) by a subnormal C alone (the
    // only way for fp16 or FP8 inputs with FP32 output, whose products are
    // never that small).
    const double target = p2(emin_out_ - 1);
    Case cs;
    std::string inputs;
    bool ready = false;
    if (const std::optional<Operands> o = split_.split(target, false)) {
      cs.a = {o->a};
      cs.b = {o->b};
      inputs = std::string("a*b=").append(pretty(target));
      ready = true;
    }
    for (int q = emin_out_ + 1; !ready && q <= emin_out_ + out_man_; ++q) {
      const double c = -(p2(q) - target);
      const std::optional<Operands> o = split_.split(p2(q), false);
      if (!o || !in_format(c, fo_)) continue;
      cs.a = {o->a};
      cs.b = {o->b};
      cs.c = float(c);
      inputs = std::string("a*b=").append(pretty(p2(q))).append(", c=").append(pretty(c));
      ready = true;
    }
    if (!ready) {
      cs.a = {0.0f};
      cs.b = {0.0f};
      cs.c = float(target);
      inputs = std::string("c=").append(pretty(target)).append(" alone (no product reaches the subnormal range)");
    }
    const std::optional<Res> r = run(cs);
    if (!r) return;
    const bool produced = double(r->r) == target && double(r->m) == -target;
    const bool flushed = r->r == 0.0f && r->m == 0.0f;
    sub_out_obs_ = produced || flushed;
    sub_out_ = produced;
    add("F3", "subnormal outputs", inputs, observed(*r, 0),
        produced  ? "produced"
        : flushed ? "flushed to zero (FTZ)"
                  : "unexpected value");
  }

  // --- special values (docs/mma.md, "The block-FMA model") ---------------------------------------------

  void probe_specials() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    auto describe = [](float x) { return pretty(double(x)); };
    auto one = [&](const char* id, const char* property, std::vector<float> a, std::vector<float> b, float c,
                   const std::string& inputs, float expected, float expected_mirrored) {
      Case cs;
      cs.a = std::move(a);
      cs.b = std::move(b);
      cs.c = c;
      const std::optional<Res> r = run(cs);
      if (!r) return;
      const bool ok = same_kind(r->r, expected) && same_kind(r->m, expected_mirrored);
      add(id, property, inputs, observed(*r, 0),
          ok ? std::string("as docs/mma.md, The block-FMA model (").append(describe(expected)).append(")")
             : std::string("differs from docs/mma.md, The block-FMA model (expected ").append(describe(expected)).append(")"));
    };
    one("S1", "NaN operand", {nan}, {1.0f}, 0.0f, "a0=NaN, b0=1", nan, nan);
    const bool inf_a = fa_.has_inf(), inf_b = fb_.has_inf();
    if (inf_a || inf_b) {
      std::vector<float> a = {inf_a ? inf : 1.0f}, b = {inf_a ? 1.0f : inf};
      one("S2", "inf operand", a, b, 1.0f, inf_a ? "a0=+inf, b0=1, c=1" : "a0=1, b0=+inf, c=1", inf, -inf);
      std::vector<float> a3 = {a[0], inf_a ? -inf : 1.0f}, b3 = {b[0], inf_a ? 1.0f : -inf};
      one("S3", "+inf and -inf", a3, b3, 0.0f, "products +inf and -inf", nan, nan);
      std::vector<float> a4 = {inf_a ? inf : 0.0f}, b4 = {inf_a ? 0.0f : inf};
      one("S4", "0 * inf", a4, b4, 0.0f, inf_a ? "a0=+inf, b0=0" : "a0=0, b0=+inf", nan, nan);
    } else {
      one("S2", "inf operand", {1.0f}, {1.0f}, inf, "c=+inf (the input formats have no inf)", inf, -inf);
      not_run("S3", "+inf and -inf", "not applicable: the input formats have no inf");
      not_run("S4", "0 * inf", "not applicable: the input formats have no inf");
    }
    one("S5", "NaN C", {1.0f}, {1.0f}, nan, "a0=b0=1, c=NaN", nan, nan);
    // Z1 (docs/mma.md, "Open questions" Q6): the sign of an exact zero sum.
    Case z;
    z.a = {-1.0f};
    z.b = {1.0f};
    z.c = 1.0f;
    if (const std::optional<Res> r = run(z)) {
      const bool plus = r->r == 0.0f && !std::signbit(r->r) && r->m == 0.0f && !std::signbit(r->m);
      add("Z1", "sign of an exact zero", "c=1, a*b=[-1]", observed(*r, 0),
          plus ? "+0 for both signs (the model's choice; Q6 unverified)" : "not +0 for both signs");
    }
  }

  static bool same_kind(float x, float expected) {
    if (std::isnan(expected)) return std::isnan(x);
    return x == expected;
  }

  // --- block structure: N1, N2, C1 ----------------------------------------------------

  // A block-boundary scan: where the probe term first survives.
  struct Scan {
    int boundary = 0;  // first position where the term survives; 0: none found
    int limit = 0;     // last position tried
    std::string anomaly;
  };

  // Scans positions i = first.. with make(i) building the case; the probe
  // term x survives (result x) or is absorbed (result 0). Linear up to the
  // scan limit, then doubling up to 4096 with a binary search.
  template <class Make>
  Scan scan(int first, Make make, double x) {
    Scan s;
    // One position: 1 the probe term survived, 0 absorbed, -1 something
    // else, -2 not run (K beyond max_k).
    auto at = [&](int i) -> int {
      Case cs = make(i);
      if (max_k_ > 0 && int(cs.a.size()) > max_k_) return -2;
      const float r = t_.dot(cs.a, cs.b, cs.c);
      if (double(r) == x) return 1;
      if (r == 0.0f) return 0;
      if (s.anomaly.empty())
        s.anomaly = std::string("position ").append(std::to_string(i)).append(" gave ").append(pretty(r));
      return -1;
    };
    int last_absorbed = first - 1;
    for (int i = first; i < scan_limit_; ++i) {
      const int v = at(i);
      if (v == -2) break;
      s.limit = i;
      if (v == 1) {
        s.boundary = i;
        return s;
      }
      last_absorbed = i;
    }
    if (max_k_ > 0) return s;
    for (int hi = 2 * scan_limit_; hi <= 4096; hi *= 2) {
      s.limit = hi;
      if (at(hi) != 1) {
        last_absorbed = hi;
        continue;
      }
      int lo = last_absorbed;  // absorbed at lo, survives at hi
      while (hi - lo > 1) {
        const int mid = lo + (hi - lo) / 2;
        (at(mid) == 1 ? hi : lo) = mid;
      }
      s.boundary = hi;
      return s;
    }
    return s;
  }

  void probe_structure() {
    // The probe term x = 2^-g (relative to the big terms 1) is below every
    // alignment window the suite can meet (g as large as the formats allow,
    // up to 40), so x vanishes when it shares a block with a 1 and survives
    // exactly when the 1s have already cancelled in an earlier step.
    int g = 0;
    std::optional<Case> big;
    for (g = 40; g >= 8; --g) {
      Layout L;
      L.p = {1, p2(-g)};
      L.c = -1;
      L.outs = {p2(-g)};
      L.subnormal_outs = true;
      if ((big = realize_any(L, 8))) break;
    }
    if (!big) {
      not_run("N1", "block boundary (C in first block)", "not observable: the formats cannot hold the probe");
      shape_ = Shape::block;
      return;
    }
    const int B = big->B;
    const float c_one = float(-p2(B)), one_a = big->a[0], one_b = big->b[0], x_a = big->a[1], x_b = big->b[1];
    const double x = p2(B - g);
    auto blank = [](int K) {
      Case cs;
      cs.a.assign(size_t(K), 0.0f);
      cs.b.assign(size_t(K), 0.0f);
      return cs;
    };
    const std::string units = units_prefix(B);
    // N1: C = -1, a0*b0 = 1, x at position i.
    const Scan n1 = scan(
        1,
        [&](int i) {
          Case cs = blank(i + 1);
          cs.a[0] = one_a;
          cs.b[0] = one_b;
          cs.a[size_t(i)] = x_a;
          cs.b[size_t(i)] = x_b;
          cs.c = c_one;
          return cs;
        },
        x);
    // N2: no C, a0*b0 = 1, a1*b1 = -1, x at position i >= 2.
    Scan n2 = scan(
        2,
        [&](int i) {
          Case cs = blank(i + 1);
          cs.a[0] = one_a;
          cs.b[0] = one_b;
          cs.a[1] = -one_a;
          cs.b[1] = one_b;
          cs.a[size_t(i)] = x_a;
          cs.b[size_t(i)] = x_b;
          return cs;
        },
        x);
    int b2 = n2.boundary;
    if (b2 == 2) {  // n = 1 or 2: products [0, 1, -1, x] share blocks {0,1},{2,3} only when n = 2
      Case cs = blank(4);
      cs.a[1] = one_a;
      cs.b[1] = one_b;
      cs.a[2] = -one_a;
      cs.b[2] = one_b;
      cs.a[3] = x_a;
      cs.b[3] = x_b;
      if (const std::optional<Res> r = run(cs)) b2 = double(r->r) == x ? 1 : 2;
    }
    // C1: C = x, products 1 and -1: x survives only when C is added after
    // the products have cancelled (C last: FP32 kinds, promotion).
    bool c_first = true;
    std::string c1_obs;
    {
      Layout L;
      L.p = {1, -1};
      L.c = p2(-g);
      L.outs = {p2(-g)};
      std::optional<Case> cs = realize(L, B);
      for (int gg = g; !cs && gg >= 8; --gg) {
        L.c = p2(-gg);
        L.outs = {p2(-gg)};
        cs = realize_any(L, 8);
      }
      if (cs) {
        if (const std::optional<Res> r = run(*cs)) {
          c_first = !(double(r->r) == double(cs->c));
          add("C1", "where C enters", summary(L, cs->B), observed(*r, cs->B),
              c_first ? "C is aligned with the first block's products (absorbed)"
                      : "C is added after the products (survives)");
        }
      }
    }
    auto scan_text = [&](const Scan& s, int first) {
      std::string t;
      if (s.boundary)
        t.append("absorbed for i < ")
            .append(std::to_string(s.boundary))
            .append(", kept at i = ")
            .append(std::to_string(s.boundary));
      else
        t.append("absorbed for i = ").append(std::to_string(first)).append("..").append(std::to_string(s.limit));
      if (!s.anomaly.empty()) t.append(" (").append(s.anomaly).append(")");
      return t;
    };
    std::string gap_text = std::string("x=2^-").append(std::to_string(g));
    add("N1", "block boundary with C", units + std::string("c=-1, a0*b0=1, ").append(gap_text).append(" at position i"),
        scan_text(n1, 1),
        n1.boundary ? std::string("x leaves the first group at i = ").append(std::to_string(n1.boundary))
                    : std::string("no boundary up to K = ").append(std::to_string(n1.limit + 1)));
    add("N2", "block boundary without C",
        units + std::string("a0*b0=1, a1*b1=-1, ").append(gap_text).append(" at position i"), scan_text(n2, 2),
        b2 ? std::string("products form blocks of ").append(std::to_string(b2))
           : std::string("no boundary up to K = ").append(std::to_string(n2.limit + 1)));
    if (!n1.anomaly.empty() || !n2.anomaly.empty()) structure_note_ = "a structure scan gave unexpected values";
    // Classification (docs/mma.md "Probes": N1/N2/C1 table).
    c_first_ = c_first;
    if (c_first) {
      if (n1.boundary == 0) {
        shape_ = Shape::block;
        n_ = std::min(128, n1.limit + 1);
        n_exact_ = false;
        structure_note_ = std::string("no block boundary up to K = ").append(std::to_string(n1.limit + 1));
      } else if (n1.boundary == 1) {
        shape_ = Shape::sequential;
        n_ = 1;
      } else {
        shape_ = Shape::block;
        n_ = n1.boundary;
        if (b2 != n1.boundary) structure_note_ = "N1 and N2 disagree on the block size";
      }
    } else if (n1.boundary == 0) {
      shape_ = Shape::pairwise;
      cpu_ = true;
    } else if (b2 <= 1) {
      shape_ = Shape::fma_blocked;
      cpu_ = true;
      n_ = n1.boundary;
    } else if (const int chains = probe_chains(n1.boundary, one_a, one_b, x_a, x_b, x, units, gap_text)) {
      shape_ = Shape::fma_blocked;
      cpu_ = true;
      n_ = n1.boundary;
      chains_ = chains;
    } else {
      shape_ = Shape::block;
      n_ = b2;
      promo_ = n1.boundary;
    }
    if (shape_ == Shape::sequential && fa_.man_bits + fb_.man_bits > 23)
      cpu_ = true;  // no block FMA holds such products
  }

  // N3: interleaved FMA chains inside a block of m (C added after the
  // block): 1 at position 0, -1 at j, x at j+1. The 1s cancel exactly, and
  // x then survives, only when 0 and j feed the same chain (j = the number
  // of chains); in one block FMA x is always absorbed. Returns the number of
  // chains, 0 when x never survives.
  int probe_chains(int m, float one_a, float one_b, float x_a, float x_b, double x, const std::string& units,
                   const std::string& gap_text) {
    int found = 0, last = 0;
    for (int j = 1; j + 1 < m && j <= 16; ++j) {
      Case cs;
      cs.a.assign(size_t(j) + 2, 0.0f);
      cs.b.assign(size_t(j) + 2, 0.0f);
      cs.a[0] = one_a;
      cs.b[0] = one_b;
      cs.a[size_t(j)] = -one_a;
      cs.b[size_t(j)] = one_b;
      cs.a[size_t(j) + 1] = x_a;
      cs.b[size_t(j) + 1] = x_b;
      const std::optional<Res> r = run(cs);
      if (!r) break;
      last = j;
      if (double(r->r) == x) {
        found = j;
        break;
      }
    }
    add("N3", "interleaved chains in a block",
        units + std::string("a0*b0=1, aj*bj=-1, ").append(gap_text).append(" at j+1, j = 1, 2, ..."),
        found ? std::string("x kept first at j = ").append(std::to_string(found))
              : std::string("x absorbed for j = 1..").append(std::to_string(last)),
        found ? std::string(std::to_string(found))
                    .append(found == 1 ? " FMA chain per block" : " interleaved FMA chains per block")
              : std::string("one block FMA (no chain cancels first)"));
    return found;
  }

  // --- widths: K1 (alignment window), A1 (accumulator fraction bits) ----------------

  // Survival of 2^-j next to 1 - 1 (exact: the result is 2^-j or 0).
  void probe_widths() {
    if (cpu_) {
      not_run("K1", "alignment window", "not applicable: an FP32-arithmetic kind (each step rounds to FP32)");
      not_run("A1", "accumulator fraction bits", "not applicable: an FP32-arithmetic kind");
      return;
    }
    const bool products_only = n_ >= 3;
    if (n_ >= 2) {
      // The largest B whose big terms fit: the window test reaches furthest.
      Layout base;
      base.p = products_only ? std::vector<double>{1, -1} : std::vector<double>{1};
      base.c = products_only ? 0 : -1;
      base.outs = {1};
      int B = 0;
      bool found = false;
      for (B = 400; B >= -400; --B)
        if (realize(base, B)) {
          found = true;
          break;
        }
      if (!found) {
        not_run("K1", "alignment window", "not observable: the formats cannot hold the probe");
      } else {
        int last = 0;
        bool stopped_by_range = true;
        std::string anomaly;
        for (int j = 1; j <= 200; ++j) {
          Layout L = base;
          L.p.push_back(p2(-j));
          L.outs = {p2(-j)};
          L.subnormal_outs = true;
          const std::optional<Case> cs = realize(L, B);
          if (!cs) break;
          const std::optional<Res> r = run(*cs);
          if (!r) break;
          if (unit(r->r, B) == p2(-j)) {
            last = j;
            continue;
          }
          if (r->r != 0.0f)
            anomaly = std::string(" (j = ")
                          .append(std::to_string(j))
                          .append(" gave ")
                          .append(pretty(unit(r->r, B)))
                          .append(")");
          stopped_by_range = false;
          break;
        }
        kb_ = last;
        kb_known_ = last > 0;
        kb_exact_ = kb_known_ && !stopped_by_range;
        std::string inputs = units_prefix(B);
        inputs.append(products_only ? "a*b=[1, -1, 2^-j]" : "c=-1, a*b=[1, 2^-j]").append(", j = 1, 2, ...");
        add("K1", "alignment window (kept bits)", inputs,
            std::string("2^-j kept for j <= ").append(std::to_string(last)).append(anomaly),
            kb_exact_ ? kept_text("=", kb_) : kept_text(">=", kb_).append(" (the formats reach no further)"));
      }
    } else {
      probe_window_single();
    }
    probe_acc_bits();
  }

  // K1 for n = 1: C = -(1 - 2^-j) with one product 1. The result is 2^-j
  // while C's last bit is kept; 2^(1-j) when truncated, 0 when rounded to
  // nearest even (which also tells the alignment rounding).
  void probe_window_single() {
    int last = 0;
    std::optional<AlignRounding> mode;
    int B = 0;
    for (int j = 1; j <= out_man_ + 1; ++j) {
      Layout L;
      L.p = {1};
      L.c = -(1 - p2(-j));
      L.outs = {p2(-j), p2(1 - j)};
      L.subnormal_outs = true;
      Case cs;
      Res r;
      if (!attempt(L, cs, r, 8)) break;
      B = cs.B;
      const double v = unit(r.r, cs.B);
      if (v == p2(-j)) {
        last = j;
        continue;
      }
      if (v == p2(1 - j)) mode = AlignRounding::truncate;
      if (v == 0) mode = AlignRounding::rne;
      break;
    }
    kb_ = last;
    kb_known_ = last > 0;
    kb_exact_ = kb_known_ && mode.has_value();
    if (mode) {
      single_align_ = mode;
    }
    add("K1", "alignment window (kept bits), one product per block",
        units_prefix(B).append("c=-(1-2^-j), a*b=[1], j = 1, 2, ..."),
        std::string("C's last bit kept for j <= ").append(std::to_string(last)),
        kb_exact_ ? kept_text("=", kb_) : kept_text(">=", kb_).append(" (C holds no more bits; D1 decides the rest)"));
  }

  void probe_acc_bits() {
    // A1: 2^k * (1 + 2^-f): 2^k ones (C among them unless C is added after
    // the products) and one 2^(k-f). The small term is kept while
    // f - k <= kept bits; the sum is exact while f <= acc_frac_bits. k carry
    // bits let the probe see acc_frac_bits up to kept + k.
    const bool products_only = promo_ > 0;
    int k = 0;
    if (products_only) {
      while ((2 << k) + 1 <= n_) ++k;
    } else {
      while ((2 << k) - 1 <= n_) ++k;
    }
    int last = 0;
    int B = 0;
    for (int f = 1; f <= out_man_; ++f) {
      Layout L;
      const double top = p2(k);
      if (products_only) {
        L.p.assign(size_t(1) << k, 1.0);
        L.p.push_back(p2(k - f));
      } else {
        L.p.assign((size_t(1) << k) - 1, 1.0);
        L.c = 1 + p2(k - f);
      }
      L.outs = {top * (1 + p2(-f)), top};
      Case cs;
      Res r;
      if (!attempt(L, cs, r, 0)) break;
      B = cs.B;
      if (unit(r.r, cs.B) != top * (1 + p2(-f))) break;
      last = f;
    }
    const bool limited = last < out_man_ && kb_known_ && last >= kb_ + k;
    F_obs_ = last > 0 && !limited;
    F_ = last == out_man_ ? out_man_ : (F_obs_ ? last : out_man_);
    std::string inputs = units_prefix(B);
    inputs.append(std::to_string(1 << k))
        .append(products_only ? " products 1 and 2^(" : " terms 1 (C = 1+2^(")
        .append(std::to_string(k))
        .append(products_only ? "-f)" : "-f) among them)")
        .append(", f = 1, 2, ...");
    add("A1", "accumulator fraction bits", inputs,
        std::string("2^").append(std::to_string(k)).append("*(1+2^-f) exact for f <= ").append(std::to_string(last)),
        F_obs_ ? std::string("acc_frac_bits = ").append(std::to_string(F_))
               : std::string("acc_frac_bits >= ").append(std::to_string(last)).append(" (hidden by the window)"));
  }

  // --- roundings: D1 (final), E1 (alignment), P1 (products) -----------------------------

  void probe_roundings() {
    probe_final_rounding();
    if (shape_ == Shape::sequential && !cpu_ && !kb_exact_) probe_window_single_boundary();
    probe_align_rounding();
    probe_product_rounding();
    // The sequential family: a block FMA of one product, or FP32 arithmetic
    // (docs/mma.md "Probes", kind decision).
    if (shape_ == Shape::sequential && !cpu_ && !kb_exact_ && fr_obs_ && fr_ == Rounding::rne) cpu_ = true;
  }

  void probe_final_rounding() {
    // D1: 2^k * (1 + 1.5 * 2^-F) (2^k ones, the fraction in C or, when C
    // is added after the products, in one more product) puts 1.5 units of
    // the last place at the rounding position: RZ 1 unit, RNE 2 (tie to even), RUP 2 / -1,
    // RDN 1 / -2. k = F + 1 - kept carry bits when the window is narrower
    // than F + 1 (FP8: kept 13 = F).
    const int kept = cpu_ ? 64 : kb_;
    const int k = std::max(0, F_ + 1 - kept);
    const bool products_only = promo_ > 0;
    const int needed = products_only ? (1 << k) + 1 : std::max(1, (1 << k) - 1);
    if (!cpu_ && !kb_known_) {
      not_run("D1", "final rounding", "not observable: alignment window unknown");
      return;
    }
    if (!cpu_ && needed > n_) {
      not_run("D1", "final rounding", "not observable: the block is too small for the carry the probe needs");
      return;
    }
    Layout L;
    const double top = p2(k);
    if (products_only) {
      L.p.assign(size_t(1) << k, 1.0);
      L.p.push_back(1.5 * p2(k - F_));
    } else if (k == 0) {
      L.p = {1.5 * p2(-F_)};
      L.c = 1;
    } else {  // C = 1 + 1.5 * 2^(k-F) carries the fraction (one product per block is enough)
      L.p.assign((size_t(1) << k) - 1, 1.0);
      L.c = 1 + 1.5 * p2(k - F_);
    }
    const double lo = top * (1 + p2(-F_)), hi = top * (1 + p2(1 - F_));
    L.outs = {lo, hi};
    Case cs;
    Res r;
    if (!attempt(L, cs, r, 0)) {
      not_run("D1", "final rounding", "not observable: the formats cannot hold the probe");
      return;
    }
    const double pos = unit(r.r, cs.B), neg = unit(r.m, cs.B);
    std::optional<Rounding> mode;
    if (pos == lo && neg == -lo) mode = Rounding::rtz;
    if (pos == hi && neg == -hi) mode = Rounding::rne;
    if (pos == hi && neg == -lo) mode = Rounding::rup;
    if (pos == lo && neg == -hi) mode = Rounding::rdn;
    if (mode) {
      fr_ = *mode;
      fr_obs_ = true;
    }
    add("D1", "final rounding", summary(L, cs.B), observed(r, cs.B),
        mode ? std::string("round ").append(rounding_text(*mode)) : std::string("not one of rtz, rne, rup, rdn"));
  }

  // K1 beyond C's precision for n = 1: C = 1 and one product -+2^-j whose
  // survival moves a directed rounding off 1 (RZ/RDN: -2^-j, RUP: +2^-j).
  void probe_window_single_boundary() {
    if (!fr_obs_ || fr_ == Rounding::rne) return;
    const double sign = fr_ == Rounding::rup ? 1.0 : -1.0;
    int last = kb_;
    bool exact = false;
    int B = 0;
    for (int j = kb_ + 1; j <= 200; ++j) {
      Layout L;
      L.p = {sign * p2(-j)};
      L.c = 1;
      L.outs = {1};
      Case cs;
      Res r;
      if (!attempt(L, cs, r, 0)) break;
      B = cs.B;
      if (unit(r.r, cs.B) == 1) {
        exact = true;
        break;
      }
      last = j;
    }
    kb_ = last;
    kb_known_ = true;
    kb_exact_ = exact;
    add("K1", "alignment window, beyond C's precision (one product per block)",
        units_prefix(B)
            .append("c=1, a*b=[")
            .append(sign > 0 ? "+" : "-")
            .append("2^-j], j > ")
            .append(std::to_string(out_man_ + 1)),
        std::string("2^-j moves the result for j <= ").append(std::to_string(last)),
        exact ? kept_text("=", kb_) : kept_text(">=", kb_).append(" (the formats reach no further)"));
  }

  void probe_align_rounding() {
    // E1 (the spec's H6, adapted so that FP32 output shows it): 1 - 1 plus
    // 0.75 units of the window's last place: truncation drops it (0), RNE
    // rounds it up to one unit (2^-kept). Exact either way.
    if (cpu_) {
      not_run("E1", "alignment rounding", "not applicable: an FP32-arithmetic kind");
      return;
    }
    if (single_align_) {
      ar_ = *single_align_;
      ar_obs_ = true;
      add("E1", "alignment rounding", "from K1 (one product per block)",
          std::string("C's last bit ").append(ar_ == AlignRounding::truncate ? "dropped" : "rounded up"),
          std::string("alignment ").append(align_rounding_name(ar_)));
      return;
    }
    if (!kb_exact_) {
      not_run("E1", "alignment rounding", "not observable: the alignment window has no measured end");
      return;
    }
    const double tiny = 1.5 * p2(-kb_ - 1);
    Layout L;
    if (n_ >= 3) {
      L.p = {1, -1, tiny};
    } else if (n_ == 2) {
      L.p = {1, tiny};
      L.c = -1;
    } else {
      if (fr_ == Rounding::rne || !fr_obs_) {
        not_run("E1", "alignment rounding", "not observable with one product per block and RNE final rounding");
        return;
      }
      const double sign = fr_ == Rounding::rup ? 1.0 : -1.0;
      L.p = {sign * tiny};
      L.c = 1;
      L.outs = {1};
      Case cs;
      Res r;
      if (!attempt(L, cs, r, 0)) return;
      ar_ = unit(r.r, cs.B) == 1 ? AlignRounding::truncate : AlignRounding::rne;
      ar_obs_ = true;
      add("E1", "alignment rounding", summary(L, cs.B), observed(r, cs.B),
          std::string("alignment ").append(align_rounding_name(ar_)));
      return;
    }
    L.outs = {p2(-kb_)};
    L.subnormal_outs = true;
    Case cs;
    Res r;
    if (!attempt(L, cs, r, 8)) {
      not_run("E1", "alignment rounding", "not observable: the formats cannot hold the probe");
      return;
    }
    const double v = unit(r.r, cs.B);
    std::string conclusion = "neither truncation nor RNE";
    if (v == 0) {
      ar_ = AlignRounding::truncate;
      ar_obs_ = true;
      conclusion = "alignment truncate";
    } else if (v == p2(-kb_)) {
      ar_ = AlignRounding::rne;
      ar_obs_ = true;
      conclusion = "alignment rne";
    }
    add("E1", "alignment rounding", summary(L, cs.B), observed(r, cs.B), conclusion);
  }

  void probe_product_rounding() {
    // P1: are products rounded to FP32 before they are added (FP32
    // arithmetic without FMA)? Inputs of more than 12 bits each:
    // (1+2^-ma)(1+2^-mb) - (1+2^-ma+2^-mb) = 2^-(ma+mb) exactly, 0 when the
    // product was rounded. bf16/tf32 with RNE: a product of exactly
    // 2^-150 next to C = 2^-126+2^-149 (odd) gives C+2^-149 when exact
    // (one tie to even) and C when the product was rounded first (to 0).
    // fp16 (and narrower) products are always exact FP32 numbers: then
    // unobservable.
    const int ma = fa_.man_bits, mb = fb_.man_bits;
    if (ma + mb + 1 > 24 && ma >= 1 && mb >= 1 && is_fp32(fo_)) {
      Layout L;
      L.p = {(1 + p2(-ma)) * (1 + p2(-mb))};
      L.literal = {Operands{float(1 + p2(-ma)), float(1 + p2(-mb))}};
      L.c = -(1 + p2(-ma) + p2(-mb));
      L.outs = {p2(-ma - mb)};
      Case cs;
      Res r;
      if (attempt(L, cs, r, 0)) {
        const bool exact = unit(r.r, cs.B) == p2(-ma - mb);
        products_exact_ = exact ? 1 : 0;
        add("P1", "product rounding", summary(L, cs.B), observed(r, cs.B),
            exact ? "products exact (fused)" : "products rounded to FP32 before the sum");
        return;
      }
    }
    if (is_fp32(fo_) && fr_obs_ && fr_ == Rounding::rne && c_first_) {  // C must meet the product in one step
      const std::optional<Operands> o = split_.split(p2(-150), sub_in_);
      const double c = p2(-126) + p2(-149);
      if (o) {
        Case cs;
        cs.a = {o->a};
        cs.b = {o->b};
        cs.c = float(c);
        if (const std::optional<Res> r = run(cs)) {
          const double v = double(r->r);
          const bool exact = v == c + p2(-149), rounded = v == c;
          if (exact || rounded) products_exact_ = exact ? 1 : 0;
          add("P1", "product rounding", "c=2^-126+2^-149, a*b=[2^-150]", observed(*r, 0),
              exact     ? "products exact (one rounding of c + a*b)"
              : rounded ? "products rounded to FP32 first (2^-150 -> 0)"
                        : "unexpected value");
          return;
        }
      }
    }
    not_run("P1", "product rounding", "not observable: every product of these formats is an exact FP32 number");
  }

  // --- M1: the alignment-exponent clamp -------------------------------------------------

  void probe_clamp() {
    if (!block_kind()) {
      not_run("M1", "min_exp clamp", "not applicable: an FP32-arithmetic kind");
      min_note_ = "not a parameter of this kind";
      return;
    }
    // Any min_exp at or below every exponent a term can have never raises
    // Emax = max(max E_t, min_exp) (docs/mma.md, "The block-FMA model"): products have
    // E >= emin_a + emin_b, C (through its FP32 encoding) E >= -126, an fp16
    // C E >= -24.
    const int Lp = fa_.emin() + fb_.emin();
    const int Lc = is_fp32(fo_) ? -126 : floor_log2(min_subnormal(fo_));
    lmin_ = std::min(Lp, Lc);
    if (!kb_exact_ || !fr_obs_) {
      not_run("M1", "min_exp clamp", "not observable: needs a measured window and final rounding");
      min_note_ = "needs a measured window and final rounding";
      return;
    }
    std::optional<int> exact;
    int bound = std::numeric_limits<int>::max();  // "no clamp observed above bound"
    std::string inputs, obs;
    clamp_products(exact, bound, inputs, obs);
    if (!exact && promo_ == 0) clamp_c_alone(exact, bound, inputs, obs);
    if (exact) {
      min_exp_ = *exact;
      min_obs_ = true;
      add("M1", "min_exp clamp", inputs, obs, std::string("min_exp = ").append(std::to_string(*exact)));
      return;
    }
    min_exp_ = kNoClamp;
    if (bound == std::numeric_limits<int>::max()) {
      min_note_ = "no probe configuration of these formats reaches below the clamp";
    } else {
      min_note_ = std::string("no clamp observed above ").append(std::to_string(bound));
    }
    min_note_.append("; any min_exp <= ")
        .append(std::to_string(lmin_))
        .append(" is equivalent to none (no term has a smaller exponent)");
    add("M1", "min_exp clamp", inputs.empty() ? "-" : inputs, obs.empty() ? "-" : obs,
        std::string("unobservable: ").append(min_note_));
  }

  // Config A: X = 2^E (one product of normal operands, on the output's
  // grid g) and a tiny product t that crosses a rounding boundary when it
  // survives the alignment: RZ/RDN X - t, RUP X + t, RNE X + g/2 + t (a tie
  // broken by t). t = 2^Et survives iff Et >= Emax - kept with
  // Emax = max(E, min_exp): the lowest surviving Et gives Emax.
  void clamp_products(std::optional<int>& exact, int& bound, std::string& inputs, std::string& obs) {
    const bool rne = fr_ == Rounding::rne;
    if (n_ < (rne ? 3 : 2)) return;
    const int lowest_out = sub_out_ ? emin_out_ - F_ : emin_out_;
    int E = std::max(fa_.emin() + fb_.emin(), lowest_out + (rne ? 1 : 0));
    std::optional<Operands> X, H;
    int g = 0;
    for (; E <= emax_out_ - 2; ++E) {
      g = std::max(E, emin_out_) - F_;
      if (E < g + (rne ? 1 : 0)) continue;
      X = split_.split(p2(E), false);
      if (!X) continue;
      if (rne) {
        H = split_.split(p2(g - 1), false);
        if (!H) continue;
      }
      break;
    }
    if (!X || (rne && !H)) return;
    for (int attempt_no = 0; attempt_no < 8; ++attempt_no) {
      const int next = clamp_products_at(E, g, *X, H, exact, bound, inputs, obs);
      if (next == 0) return;
      // Nothing survived: min_exp lies above E + kept. Start again from X
      // = 2^next (next = the lowest exponent the clamp can be at).
      E = next;
      g = std::max(E, emin_out_) - F_;
      X = split_.split(p2(E), false);
      if (rne) H = split_.split(p2(g - 1), false);
      if (!X || (rne && !H)) return;
    }
  }

  // One configuration of clamp_products; returns 0, or the exponent to try
  // next when even the largest t was absorbed.
  int clamp_products_at(int E, int g, const Operands& Xo, const std::optional<Operands>& H, std::optional<int>& exact,
                        int& bound, std::string& inputs, std::string& obs) {
    const bool rne = fr_ == Rounding::rne;
    const Operands& X = Xo;
    const double x = p2(E);
    auto make = [&](std::optional<Operands> t) {
      Case cs;
      cs.a = {X.a};
      cs.b = {X.b};
      if (rne) {
        cs.a.push_back(H->a);
        cs.b.push_back(H->b);
      }
      if (t) {
        cs.a.push_back(t->a);
        cs.b.push_back(t->b);
      }
      return cs;
    };
    // The configuration itself: X (plus the tie) alone must give X.
    const std::optional<Res> base = run(make(std::nullopt));
    if (!base || double(base->r) != x) return 0;
    const double sign = fr_ == Rounding::rtz || fr_ == Rounding::rdn ? -1.0 : 1.0;
    const int hi = rne ? g - 2 : E - 1;
    const int lo = E - kb_ - 2;
    int lowest = 0;
    bool any = false, stopped = false, range_end = false;
    int tested_low = hi;
    for (int et = hi; et >= lo; --et) {
      const std::optional<Operands> t = split_.split(sign * p2(et), sub_in_);
      if (!t) {
        range_end = true;
        break;
      }
      const std::optional<Res> r = run(make(t));
      if (!r) return 0;
      tested_low = et;
      if (double(r->r) != x) {
        lowest = et;
        any = true;
        continue;
      }
      stopped = true;
      break;
    }
    inputs = std::string("a*b=[2^").append(std::to_string(E));
    if (rne) inputs.append(", 2^").append(std::to_string(g - 1));
    inputs.append(sign < 0 ? ", -2^Et]" : ", +2^Et]").append(", Et = ").append(std::to_string(hi)).append(" down");
    if (!any) {
      obs = std::string("2^Et absorbed already at Et = ").append(std::to_string(hi));
      return range_end ? 0 : hi + kb_ + 1;
    }
    obs = std::string("2^Et moves the result for Et >= ").append(std::to_string(lowest));
    if (stopped) {
      const int emax = lowest + kb_;
      if (emax > E) {
        exact = emax;
      } else {
        bound = std::min(bound, E);
      }
    } else if (range_end || tested_low == lo) {
      bound = std::min(bound, std::max(E, tested_low + kb_));
    }
    return 0;
  }

  // Config B: C = 2^Ec (1 + 2^-f) alone, Ec the lowest normal exponent of
  // the output; C's last bit survives iff Ec - f >= Emax - kept.
  void clamp_c_alone(std::optional<int>& exact, int& bound, std::string& inputs, std::string& obs) {
    const int Ec = emin_out_;
    const int fmax = std::min(F_, out_man_);
    int last = 0;
    for (int f = 1; f <= fmax; ++f) {
      const double c = p2(Ec) * (1 + p2(-f));
      Case cs;
      cs.a = {0.0f};
      cs.b = {0.0f};
      cs.c = float(c);
      const std::optional<Res> r = run(cs);
      if (!r) return;
      if (double(r->r) != c) break;
      last = f;
    }
    if (!inputs.empty()) inputs.append("; ");
    inputs.append("c=2^").append(std::to_string(Ec)).append("*(1+2^-f) alone");
    if (!obs.empty()) obs.append("; ");
    obs.append("C exact for f <= ").append(std::to_string(last));
    const int emax_bound = Ec - last + kb_;  // Emax <= this (== when 0 < last < fmax)
    if (last == 0) return;                   // only a lower bound: Emax > Ec - 1 + kept
    if (last < fmax && emax_bound > Ec) {
      exact = emax_bound;
    } else {
      bound = std::min(bound, std::max(Ec, emax_bound));
    }
  }

  // --- O1: overflow under directed rounding -------------------------------------------

  void probe_overflow() {
    if (!block_kind()) {
      not_run("O1", "overflow", "not applicable: an FP32-arithmetic kind (IEEE overflow)");
      ovf_note_ = "not a parameter of this kind";
      return;
    }
    // A sum of exactly 2^(emax+1): inf under RNE anyway; under RZ (and RDN
    // for a positive, RUP for a negative sum) IEEE rounding gives the
    // largest finite number, the model's overflow_to_inf gives inf (Q5).
    if (!fr_obs_ || fr_ == Rounding::rne) {
      not_run("O1", "overflow", "not observable: RNE overflows to inf either way");
      ovf_note_ = "RNE final rounding overflows to inf either way";
      return;
    }
    const double sign = fr_ == Rounding::rup ? -1.0 : 1.0;
    Case cs;
    std::string inputs;
    const double half = p2(emax_out_);
    const std::optional<Operands> big = split_.split(sign * half, sub_in_);
    const std::optional<Operands> quarter = split_.split(sign * half / 2, sub_in_);
    if (big && n_ >= 2) {
      cs.a = {big->a, big->a};
      cs.b = {big->b, big->b};
      inputs = std::string("a*b=[2^")
                   .append(std::to_string(emax_out_))
                   .append(", 2^")
                   .append(std::to_string(emax_out_))
                   .append("]");
    } else if (quarter && promo_ == 0) {
      cs.a = {quarter->a};
      cs.b = {quarter->b};
      cs.c = float(sign * 1.5 * half);
      inputs = std::string("c=1.5*2^")
                   .append(std::to_string(emax_out_))
                   .append(", a*b=[2^")
                   .append(std::to_string(emax_out_ - 1))
                   .append("]");
    } else {
      not_run("O1", "overflow", "not observable: no product of these formats reaches the output's overflow");
      ovf_note_ = "no product of these formats reaches the output's overflow";
      return;
    }
    if (sign < 0) inputs.append(" (negative: RUP)");
    const std::optional<Res> r = run(cs);
    if (!r) return;
    const float v = r->r;
    if (std::isinf(v)) {
      ovf_ = true;
      ovf_obs_ = true;
    } else if (std::isfinite(v) && std::fabs(double(v)) < p2(emax_out_ + 1) && std::fabs(double(v)) >= half) {
      ovf_ = false;
      ovf_obs_ = true;
    }
    add("O1", "overflow under directed rounding", inputs, observed(*r, 0),
        ovf_obs_ ? (ovf_ ? "inf (overflow_to_inf)" : "largest finite (IEEE directed rounding)") : "unexpected");
  }

  // --- the spec's probes (docs/mma.md, "The probe table"), in the measured precision -------------------

  int p() const { return F_ + 1; }

  // Runs L and adds the outcome with conclusion decide(r, m) in units.
  template <class Decide>
  void spec(const char* id, const char* property, const Layout& L, Decide decide, int centre = 0) {
    Case cs;
    Res r;
    if (!attempt(L, cs, r, centre)) {
      not_run(id, property, "not observable: the formats cannot hold the probe's values");
      return;
    }
    add(id, property, summary(L, cs.B), observed(r, cs.B), decide(unit(r.r, cs.B), unit(r.m, cs.B)));
  }

  // (lo, hi) outcomes with the mirrored run: the four directed modes.
  static std::string direction(double pos, double neg, double lo, double hi) {
    if (pos == lo && neg == -lo) return "RZ";
    if (pos == hi && neg == -hi) return "RN";
    if (pos == hi && neg == -lo) return "RU";
    if (pos == lo && neg == -hi) return "RD";
    return "none of RZ/RN/RU/RD";
  }

  std::vector<Operands> lit(std::initializer_list<std::pair<double, double>> ops) const {
    if (p() != 24) return {};
    std::vector<Operands> v;
    for (const auto& [a, b] : ops) v.push_back({float(a), float(b)});
    return v;
  }

  void spec_probes() {
    const int P = p();
    const double u = p2(-P);  // half an ulp of 1 in the output's precision (2^-24 for FP32)
    const std::string kept_lo = std::string("kept <= ").append(std::to_string(P));
    {  // F4: exact products.
      const int ma = fa_.man_bits, mb = fb_.man_bits;
      const double a = 1 - p2(-ma - 1), b = 1 - p2(-mb - 1), prod = a * b;
      Layout L;
      L.p = {prod};
      L.literal = {Operands{float(a), float(b)}};
      double expect = prod;
      if (!out_ok(prod, false) || !in_format(prod, fo_)) {
        L.c = -(1 - p2(-ma - 1) - p2(-mb - 1));
        expect = p2(-ma - mb - 2);
      }
      L.outs = {expect};
      L.subnormal_outs = true;
      spec("F4", "exact products", L, [&](double r, double) {
        return r == expect ? std::string("exact (").append(pretty(expect)).append(")")
                           : std::string("not exact (exact: ").append(pretty(expect)).append(")");
      });
    }
    {  // F5: FP32-level sum.
      Layout L;
      L.p.assign(4, u / 2);
      L.literal = lit({{0.5, u}, {0.5, u}, {0.5, u}, {0.5, u}});
      L.c = 1;
      L.outs = {1, 1 + 2 * u};
      spec("F5", "FP32-level sum (K = 4)", L, [&](double r, double) {
        if (r == 1 + 2 * u) return kept_text(">=", P + 1);
        if (r == 1) return std::string("terms 2^-").append(std::to_string(P + 1)).append(" lost: ").append(kept_lo);
        return std::string("other");
      });
    }
    {  // F6: alignment to the largest exponent, wherever it sits.
      std::string obs, inputs;
      std::vector<double> rs;
      int B = 0;
      for (int j = 0; j < 4; ++j) {
        Layout L;
        L.p.assign(4, u / 2);
        L.p[size_t(j)] = 1;
        L.c = u;
        L.outs = {1, 1 + 2 * u};
        if (P == 24) {
          L.literal.assign(4, Operands{0.5f, float(u)});
          L.literal[size_t(j)] = Operands{1.0f, 1.0f};
        }
        Case cs;
        Res r;
        if (!attempt(L, cs, r)) break;
        B = cs.B;
        rs.push_back(unit(r.r, cs.B));
        obs.append(j ? "; " : "").append(pretty(rs.back()));
      }
      if (rs.size() == 4) {
        const bool same = std::all_of(rs.begin(), rs.end(), [&](double v) { return v == rs[0]; });
        std::string conclusion = same ? "same for every position: " : "depends on the position: ";
        if (rs[0] == 1 + 2 * u)
          conclusion.append(kept_text(">=", P + 1));
        else if (rs[0] == 1)
          conclusion.append(kept_lo);
        add("F6", "alignment to the largest exponent",
            units_prefix(B)
                .append("a*b = 1 at j = 0..3, others 2^-")
                .append(std::to_string(P + 1))
                .append(", c=2^-")
                .append(std::to_string(P)),
            obs, conclusion);
      }
    }
    {  // F7: RZ vs RD/RU.
      Layout L;
      L.p = {2, 1.5 * p2(1 - P)};
      L.literal = lit({{1, 2}, {1, p2(-23) + p2(-24)}});
      L.outs = {2, 2 + 4 * u};
      spec("F7", "RZ vs RD/RU", L, [&](double r, double m) {
        std::string d = direction(r, m, 2, 2 + 4 * u);
        if (kb_known_ && kb_ < P + 1 && !cpu_)
          d.append(" (the small product lies partly below the window: RZ and RN look alike)");
        return d;
      });
    }
    {  // F8: rounding at the output's smallest subnormal.
      const double grid = p2(emin_out_ - F_);
      Layout L;
      L.p = {grid / 2, grid / 4};
      if (fo_.man_bits == 10) L.literal = {Operands{float(p2(-24)), 0.5f}, Operands{float(p2(-24)), 0.25f}};
      L.outs = {grid};
      L.subnormal_outs = true;
      std::optional<Case> c = sub_out_ ? realize(L, 0) : std::nullopt;
      std::optional<Res> r = c ? run(*c) : std::nullopt;
      if (r) {
        const double v = double(r->r);
        add("F8", "rounding at the smallest subnormal", summary(L, 0), observed(*r, 0),
            v == grid ? "rounds to nearest (or up)"
            : v == 0  ? "RZ/RD"
                      : "other");
      } else {
        not_run("F8", "rounding at the smallest subnormal",
                sub_out_ ? "not observable: no product this small" : "not applicable: subnormal outputs are flushed");
      }
    }
    {  // F9: guard bit.
      Layout L;
      L.p = {1};
      L.literal = lit({{1, 1}});
      L.c = -(1 - u);
      L.outs = {u, 2 * u};
      spec("F9", "guard bit", L, [&](double r, double) {
        if (r == u) return std::string("guard bit: ").append(kept_text(">=", P));
        if (r == 2 * u) return std::string("no guard bit: ").append(kept_text("=", P - 1));
        return std::string("other");
      });
    }
    {  // F10: late normalisation.
      Layout L;
      L.p.assign(4, u);
      L.literal = lit({{1, u}, {1, u}, {1, u}, {1, u}});
      L.c = 1 - u;
      L.outs = {1 + 2 * u};
      spec("F10", "late normalisation", L, [&](double r, double) {
        return r == 1 + 2 * u ? std::string("normalise once (late)") : std::string("other");
      });
    }
    {  // F11: carry-out.
      Layout L;
      L.p = {1, 1.5, 1.75, 1.875};
      L.literal = {Operands{1.0f, 1.0f}, Operands{1.0f, 1.5f}, Operands{1.0f, 1.75f}, Operands{1.0f, 1.875f}};
      L.c = 1.875;
      L.outs = {8};
      spec("F11", "carry-out", L, [&](double r, double) {
        return r == 8 ? std::string("exactly 8: carries kept") : std::string("not 8: carries lost");
      });
    }
    {  // F12: non-monotonic accumulation.
      double rs[2] = {0, 0};
      std::string obs;
      int B = 0;
      bool ok = true;
      for (int v = 0; v < 2 && ok; ++v) {
        Layout L;
        L.p = {u / 2, u / 2, u / 2, 1.5 * u};
        L.literal = lit({{0.5, u}, {0.5, u}, {0.5, u}, {0.5, 3 * u}});
        L.c = v == 0 ? 1 - u : 1;
        L.outs = {1, 1 + 2 * u};
        Case cs;
        Res r;
        ok = attempt(L, cs, r);
        if (!ok) break;
        B = cs.B;
        rs[v] = unit(r.r, cs.B);
        obs.append(v ? std::string("; c=1: ") : std::string("c=1-2^-").append(std::to_string(P)).append(": "))
            .append(pretty(rs[v]));
      }
      if (ok)
        add("F12", "non-monotonic accumulation",
            units_prefix(B)
                .append("a*b=[3x 2^-")
                .append(std::to_string(P + 1))
                .append(", 3*2^-")
                .append(std::to_string(P + 1))
                .append("], c = 1-2^-")
                .append(std::to_string(P))
                .append(" vs 1"),
            obs,
            rs[0] > rs[1]    ? "non-monotonic: larger C, smaller result"
            : rs[0] == rs[1] ? "equal (monotonic here)"
                             : "monotonic");
    }
    {  // H1: neab >= 1.
      Layout L;
      L.p = {u, u};
      L.literal = lit({{u, 1}, {u, 1}});
      L.c = 1;
      L.outs = {1, 1 + 2 * u};
      spec("H1", "one extra alignment bit", L, [&](double r, double) {
        return r == 1 + 2 * u ? kept_text(">=", P) : r == 1 ? kept_text("<=", P - 1) : std::string("other");
      });
    }
    {  // H2: more extra bits: 2^-P, 2^-(P+1), ..., 2^-(P+L-1) twice.
      int best = 0;
      std::string obs;
      int B = 0;
      for (int levels = 2; levels + 1 <= std::max(n_, 3) && levels <= 12; ++levels) {
        Layout L;
        for (int i = 0; i < levels; ++i) L.p.push_back(p2(-P - i));
        L.p.push_back(p2(-P - levels + 1));
        if (levels == 2) L.literal = lit({{u, 1}, {u, 0.5}, {u, 0.5}});
        L.c = 1;
        L.outs = {1, 1 + 2 * u};
        Case cs;
        Res r;
        if (!attempt(L, cs, r)) break;
        B = cs.B;
        const double v = unit(r.r, cs.B);
        if (levels == 2) obs = std::string("L=2: ").append(pretty(v));
        if (v != 1 + 2 * u) break;
        best = levels;
      }
      add("H2", "more extra alignment bits",
          units_prefix(B)
              .append("c=1, a*b=[2^-")
              .append(std::to_string(P))
              .append(", ..., 2^-(")
              .append(std::to_string(P))
              .append("+L-1) twice], L = 2, 3, ..."),
          obs.append(best ? std::string("; exact up to L=").append(std::to_string(best)) : std::string()),
          best ? kept_text(">=", P + best - 1).append(" (the spec's reading; assumes RZ)") : kept_text("<=", P));
    }
    spec_h3();
    {  // H4: normalisation (t = 3).
      Layout L;
      const double t = p2(3 - P);
      L.p = {t + u, t + u};
      L.literal = lit({{p2(-21) + p2(-24), 1}, {p2(-21) + p2(-24), 1}});
      L.c = 1 - t;
      L.outs = {1 + t, 1 + t + 2 * u, 1 + t + 4 * u};
      spec("H4", "normalisation", L, [&](double r, double) {
        if (r == 1 + t + 2 * u) return std::string("late normalisation");
        if (r == 1 + t) return std::string("immediate normalisation (RZ/RD/RN)");
        if (r == 1 + t + 4 * u) return std::string("immediate normalisation (RU)");
        return std::string("other");
      });
    }
    {  // H5: final rounding.
      Layout L;
      L.p = {1, 1, 1};
      L.literal = lit({{1, 1}, {1, 1}, {1, 1}});
      L.c = 1 + 2 * u + 4 * u;
      L.outs = {4, 4 + 8 * u};
      spec("H5", "final rounding", L, [&](double r, double m) {
        const std::string d = direction(r, m, 4, 4 + 8 * u);
        if (d == "RZ") return std::string("RZ");
        if (d == "RN") return std::string("RNE");
        return d;
      });
    }
    {  // H6: alignment rounding, the spec's inputs.
      if (kb_exact_ && !cpu_ && kb_ >= 23) {
        const int neab = kb_ - 23;
        Layout L;
        const double t = u * 1.5 * p2(-neab);
        L.p = {t, t};
        L.c = 1;
        const double rne_signal = 1 + p2(2 - P - neab);
        L.outs = {1};
        const bool visible = 2 - P - neab >= 1 - P;
        spec("H6", "alignment rounding (spec inputs)", L, [&](double r, double) {
          if (r == rne_signal && visible) return std::string("RNE");
          if (r == 1)
            return visible ? std::string("truncation")
                           : std::string("inconclusive: the RNE signal 1+2^")
                                 .append(std::to_string(2 - P - neab))
                                 .append(" lies below the output's last bit (see E1)");
          return std::string("other");
        });
      } else {
        not_run("H6", "alignment rounding (spec inputs)",
                "not applicable: the spec's inputs need a measured window of at least 23 bits (neab >= 0); see E1");
      }
    }
    {  // H7: rounding between blocks.
      if (block_kind() && n_exact_ && n_ + 1 <= 4096) {
        Layout L;
        L.p.assign(size_t(n_) + 1, 0.0);
        L.p[size_t(n_)] = 1.5 * u;
        L.c = 1 + 2 * u;
        L.outs = {1 + 2 * u, 1 + 4 * u};
        spec("H7", "rounding between blocks", L, [&](double r, double) {
          if (r == 1 + 2 * u) return std::string("RZ between blocks");
          if (r == 1 + 4 * u) return std::string("RN between blocks");
          return std::string("other");
        });
      } else {
        not_run("H7", "rounding between blocks", "not applicable: no measured block size");
      }
    }
    {  // T1: product rounding (FTTN).
      Layout L;
      L.p = {1.5 * p2(1 - P), 2};
      L.literal = lit({{p2(-14), p2(-9) + p2(-10)}, {1, 2}});
      L.outs = {2, 2 + 4 * u};
      spec("T1", "product rounding (FTTN)", L, [&](double r, double) {
        if (r == 2) return std::string("2: RZ/RD");
        if (r == 2 + 4 * u) return std::string("2+2^") + std::to_string(2 - P) + ": RU/RN";
        return std::string("other");
      });
    }
    {  // T2: extra bits (FTTN).
      Layout L;
      L.p = {1.25};
      L.literal = {Operands{1.0f, 1.25f}};
      L.c = -(0.125 + u / 2);
      L.outs = {1.125, 1.125 - 2 * u};
      spec("T2", "extra bits (FTTN)", L, [&](double r, double) {
        std::string s = is_fp32(fo_) ? hex32(float(r)) + ": " : "";
        if (r == 1.125 - 2 * u) return s.append("2-3 extra bits: ").append(kept_text(">=", P + 1));
        if (r == 1.125) return s.append("1 extra bit at most: ").append(kept_lo);
        return s.append("other");
      });
    }
    spec_t3();
    spec_w1();
  }

  void spec_h3() {
    // H3 (HPEC): c = 1+2^(1-P), a0 b0 = 1, a_{k-1} b_{k-1} = 2^(1-P):
    // 2+2^(2-P) while both products share C's block.
    const int P = p();
    Layout L;
    L.p = {1, p2(1 - P)};
    L.literal = lit({{1, 1}, {p2(-23), 1}});
    L.c = 1 + p2(1 - P);
    L.outs = {2 + p2(2 - P), 2};
    std::optional<Case> base = realize_any(L);
    if (!base) {
      not_run("H3", "block size (HPEC)", "not observable: the formats cannot hold the probe");
      return;
    }
    const double expect = p2(base->B) * (2 + p2(2 - P));
    int first_diff = 0, last = 0;
    for (int k = 2; k <= scan_limit_ && k <= 256; ++k) {
      Case cs;
      cs.a.assign(size_t(k), 0.0f);
      cs.b.assign(size_t(k), 0.0f);
      cs.a[0] = base->a[0];
      cs.b[0] = base->b[0];
      cs.a[size_t(k) - 1] = base->a[1];
      cs.b[size_t(k) - 1] = base->b[1];
      cs.c = base->c;
      if (max_k_ > 0 && k > max_k_) break;
      last = k;
      if (double(t_.dot(cs.a, cs.b, cs.c)) != expect) {
        first_diff = k;
        break;
      }
    }
    add("H3", "block size (HPEC)", summary(L, base->B).append(" with a*b = 2^(1-p) moved to position k-1"),
        first_diff
            ? std::string("2+2^").append(std::to_string(2 - P)).append(" for k < ").append(std::to_string(first_diff))
            : std::string("2+2^").append(std::to_string(2 - P)).append(" up to k = ").append(std::to_string(last)),
        first_diff ? std::string("n = ").append(std::to_string(first_diff - 1))
                   : std::string("n >= ").append(std::to_string(last)));
  }

  void spec_t3() {
    // T3 (FTTN): c = 1, products 2^-P at 0 and at i: 1+2^(1-P) in one
    // block, 1 once i is in the next (needs kept >= P).
    const int P = p();
    Layout L;
    L.p = {p2(-P), p2(-P)};
    L.literal = lit({{p2(-10), p2(-14)}, {p2(-10), p2(-14)}});
    L.c = 1;
    L.outs = {1, 1 + p2(1 - P)};
    std::optional<Case> base = realize_any(L);
    if (!base) {
      not_run("T3", "block width (FTTN)", "not observable: the formats cannot hold the probe");
      return;
    }
    const double together = p2(base->B) * (1 + p2(1 - P)), apart = p2(base->B);
    int width = 0, last = 0;
    bool never = false;
    for (int i = 1; i < scan_limit_ && i <= 256; ++i) {
      if (max_k_ > 0 && i + 1 > max_k_) break;
      Case cs;
      cs.a.assign(size_t(i) + 1, 0.0f);
      cs.b.assign(size_t(i) + 1, 0.0f);
      cs.a[0] = base->a[0];
      cs.b[0] = base->b[0];
      cs.a[size_t(i)] = base->a[1];
      cs.b[size_t(i)] = base->b[1];
      cs.c = base->c;
      const double v = double(t_.dot(cs.a, cs.b, cs.c));
      last = i;
      if (i == 1 && v == apart) {
        never = true;
        break;
      }
      if (v != together) {
        width = i;
        break;
      }
    }
    add("T3", "block width (FTTN)", summary(L, base->B).append(" with the second product moved to position i"),
        never   ? std::string("1 already at i = 1")
        : width ? std::string("1+2^").append(std::to_string(1 - P)).append(" for i < ").append(std::to_string(width))
                : std::string("1+2^").append(std::to_string(1 - P)).append(" up to i = ").append(std::to_string(last)),
        never   ? std::string("not observable: terms 2^-").append(std::to_string(P)).append(" are lost (kept < p)")
        : width ? std::string("width = ").append(std::to_string(width))
                : std::string("width > ").append(std::to_string(last)));
  }

  void spec_w1() {
    // W1 (EMU): C = 2^s, A row {1 - 2^-(w-s), 2^-(w-s)}, B = 1: the largest
    // w still giving 2^s + 1 is the number of bits kept (s = 11, or F when
    // the output holds fewer bits).
    const int s = std::min(11, F_);
    int best = 0;
    bool range_end = false;
    int B = 0;
    for (int w = s + 1; w <= s + 60; ++w) {
      Layout L;
      const double small = p2(-(w - s));
      L.p = {1 - small, small};
      L.literal = {Operands{float(1 - small), 1.0f}, Operands{float(small), 1.0f}};
      L.c = p2(s);
      L.outs = {p2(s) + 1};
      Case cs;
      Res r;
      if (!attempt(L, cs, r)) {
        range_end = true;
        break;
      }
      B = cs.B;
      if (unit(r.r, cs.B) != p2(s) + 1) break;
      best = w;
    }
    add("W1", "accumulator width (EMU)",
        units_prefix(B)
            .append("c=2^")
            .append(std::to_string(s))
            .append(", a*b=[1-2^-(w-")
            .append(std::to_string(s))
            .append("), 2^-(w-")
            .append(std::to_string(s))
            .append(")], w = ")
            .append(std::to_string(s + 1))
            .append(", ..."),
        std::string("2^").append(std::to_string(s)).append("+1 up to w = ").append(std::to_string(best)),
        range_end ? std::string("kept >= ").append(std::to_string(best)).append(" (the input formats reach no further)")
                  : std::string("kept bits = ").append(std::to_string(best)));
  }

  // --- the fit --------------------------------------------------------------------

  void fit() {
    MmaModel& m = rep_.fitted;
    m.name = std::string("fitted:").append(t_.name());
    m.input_a = fa_;
    m.input_b = fb_;
    m.output = fo_;
    m.evidence = "fitted by the probe suite (docs/mma.md, The probe table)";
    m.subnormal_inputs = sub_in_;
    m.subnormal_outputs = sub_out_;
    auto param = [&](const char* name, std::string value, bool obs, std::string note) {
      rep_.parameters.push_back({name, std::move(value), obs, std::move(note)});
    };
    const std::string na = "not a parameter of this kind";
    if (cpu_) {
      bool kind_obs = true;
      std::string kind_note;
      switch (shape_) {
        case Shape::pairwise:
          m.kind = MmaKind::fp32_pairwise;
          kind_note = "C added after all products (C1), no block boundary (N1)";
          break;
        case Shape::fma_blocked:
          m.kind = MmaKind::fp32_fma_blocked;
          kind_note = "C added after each block's FMA chain (C1, N1, N2)";
          break;
        default:
          if (products_exact_ == 0) {
            m.kind = MmaKind::fp32_sequential;
            kind_note = "one product per step, products rounded (P1)";
          } else {
            m.kind = MmaKind::fp32_fma_sequential;
            kind_note = products_exact_ == 1 ? "one product per step, products exact (P1)"
                                             : "fp32_sequential and fp32_fma_sequential agree on these formats (P1)";
            kind_obs = products_exact_ == 1;
          }
          break;
      }
      m.block_size = m.kind == MmaKind::fp32_fma_blocked ? n_ : 1;
      m.chains = m.kind == MmaKind::fp32_fma_blocked ? chains_ : 1;
      m.extra_bits = 0;
      m.final_rounding = Rounding::rne;
      m.min_exp = kNoClamp;
      m.acc_frac_bits = 23;
      param("kind", std::string(mma_kind_name(m.kind)), kind_obs, kind_note);
      param("block_size", std::to_string(m.block_size), m.kind == MmaKind::fp32_fma_blocked,
            m.kind == MmaKind::fp32_fma_blocked ? "N1" : na);
      param("chains", std::to_string(m.chains), m.kind == MmaKind::fp32_fma_blocked,
            m.kind == MmaKind::fp32_fma_blocked ? (chains_ > 1 ? "N3" : "N2 (one chain: 1 - 1 cancels before x)") : na);
      param("extra_bits", "0", false, na);
      param("align_rounding", "truncate", false, na);
      param("final_rounding", "rne", false, std::string(na).append(fr_obs_ ? "; D1 saw " + rounding_text(fr_) : ""));
      param("min_exp", "none", false, na);
      param("acc_frac_bits", "23", false, na);
    } else {
      m.kind = MmaKind::block_fma;
      m.block_size = std::clamp(n_, 1, 128);
      m.extra_bits = std::clamp(kb_ - 23, -23, 96);
      m.align_rounding = ar_;
      m.final_rounding = fr_;
      m.min_exp = min_exp_;
      m.acc_frac_bits = std::clamp(F_, 1, out_man_);
      m.overflow_to_inf = ovf_;
      m.promotion_interval = promo_;
      param("kind", "block_fma", structure_note_.empty(), structure_note_.empty() ? "N1, N2, C1" : structure_note_);
      param("block_size", std::to_string(m.block_size), n_exact_ && structure_note_.empty(),
            n_exact_ ? (promo_ ? "N2" : "N1") : structure_note_);
      param("chains", "1", false, "a parameter of fp32_fma_blocked only");
      param("extra_bits", std::to_string(m.extra_bits), kb_exact_,
            kb_exact_ ? "K1 (kept = 23 + neab)" : std::string("kept >= ").append(std::to_string(kb_)));
      param("align_rounding", std::string(align_rounding_name(m.align_rounding)), ar_obs_,
            ar_obs_ ? "E1" : "not observable (see E1)");
      param("final_rounding", rounding_text(m.final_rounding), fr_obs_, fr_obs_ ? "D1" : "not observable (see D1)");
      param("min_exp", m.min_exp == kNoClamp ? std::string("none") : std::to_string(m.min_exp), min_obs_,
            min_obs_ ? "M1" : min_note_);
      param("acc_frac_bits", std::to_string(m.acc_frac_bits), F_obs_, F_obs_ ? "A1" : "hidden by the window (A1)");
    }
    param("subnormal_inputs", sub_in_ ? "true" : "false", sub_in_obs_, "F1");
    param("subnormal_outputs", sub_out_ ? "true" : "false", sub_out_obs_, "F3");
    if (cpu_) {
      m.overflow_to_inf = true;
      param("overflow_to_inf", "true", false, na);
      param("promotion_interval", "0", false, na);
    } else {
      param("overflow_to_inf", ovf_ ? "true" : "false", ovf_obs_, ovf_obs_ ? "O1" : ovf_note_);
      param("promotion_interval", std::to_string(promo_), structure_note_.empty(),
            promo_ ? "C1, N1 (C enters an FP32 accumulator every N1 products)" : "C1 (C in the first block)");
    }
  }

  // --- R1: the summation tree (FPRev, arXiv 2411.00442) ------------------------------

  // L(i, j): how many background terms are absorbed when +M sits at i and
  // -M at j (the size of the smallest subtree holding both).
  std::optional<std::vector<std::vector<int>>> absorbed_counts(MmaTarget& target, const Case& base, int K, double bg) {
    std::vector<std::vector<int>> L(size_t(K), std::vector<int>(size_t(K), 0));
    for (int i = 0; i < K; ++i) {
      for (int j = i + 1; j < K; ++j) {
        Case cs;
        cs.a.assign(size_t(K), base.a[0]);
        cs.b.assign(size_t(K), base.b[0]);
        cs.a[size_t(i)] = base.a[1];
        cs.b[size_t(i)] = base.b[1];
        cs.a[size_t(j)] = -base.a[1];
        cs.b[size_t(j)] = base.b[1];
        const double r = double(target.dot(cs.a, cs.b, 0.0f)) / bg;
        if (!(r >= 0 && r <= K - 2 && r == std::floor(r))) return std::nullopt;
        L[size_t(i)][size_t(j)] = L[size_t(j)][size_t(i)] = K - int(r);
      }
    }
    return L;
  }

  // FPRev's reconstruction: the root's children are the groups of leaves
  // joined by pairs absorbed in fewer terms than the whole set.
  static std::string tree_text(const std::vector<std::vector<int>>& L, std::vector<int> leaves) {
    if (leaves.size() == 1) return std::string("p").append(std::to_string(leaves[0]));
    int top = 0;
    for (int i : leaves)
      for (int j : leaves)
        if (i != j) top = std::max(top, L[size_t(i)][size_t(j)]);
    std::vector<int> group(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) group[i] = int(i);
    std::function<int(int)> root = [&](int x) {
      return group[size_t(x)] == x ? x : group[size_t(x)] = root(group[size_t(x)]);
    };
    for (size_t i = 0; i < leaves.size(); ++i)
      for (size_t j = i + 1; j < leaves.size(); ++j)
        if (L[size_t(leaves[i])][size_t(leaves[j])] < top) group[size_t(root(int(i)))] = root(int(j));
    std::map<int, std::vector<int>> parts;
    for (size_t i = 0; i < leaves.size(); ++i) parts[root(int(i))].push_back(leaves[i]);
    std::vector<std::vector<int>> children;
    for (auto& [r, v] : parts) children.push_back(std::move(v));
    std::sort(children.begin(), children.end(), [](const auto& x, const auto& y) { return x[0] < y[0]; });
    if (children.size() == 1) {  // not a tree: list the leaves
      std::string s = "(";
      for (size_t i = 0; i < leaves.size(); ++i) s.append(i ? " " : "").append("p").append(std::to_string(leaves[i]));
      return s.append(")");
    }
    std::string s = "(";
    for (size_t c = 0; c < children.size();) {
      if (children[c].size() == 1) {  // a run of single leaves: pA..pB
        size_t e = c;
        while (e + 1 < children.size() && children[e + 1].size() == 1 && children[e + 1][0] == children[e][0] + 1) ++e;
        if (c) s.append(" ");
        if (e - c >= 2)
          s.append("p").append(std::to_string(children[c][0])).append("..p").append(std::to_string(children[e][0]));
        else
          for (size_t k = c; k <= e; ++k) s.append(k > c ? " " : "").append("p").append(std::to_string(children[k][0]));
        c = e + 1;
        continue;
      }
      if (c) s.append(" ");
      s.append(tree_text(L, children[c]));
      ++c;
    }
    return s.append(")");
  }

  void probe_tree() {
    // Enough leaves to show the first block boundary.
    int K = cpu_ && shape_ != Shape::fma_blocked ? 16 : std::clamp(n_ + std::max(4, n_ / 2), 8, 48);
    if (promo_ > 0) K = std::min(48, std::max(K, promo_ + 8));
    if (max_k_ > 0) K = std::min(K, max_k_);
    const int width = (cpu_ ? 24 : std::max(kb_, F_)) + std::bit_width(unsigned(K)) + 3;
    std::optional<Case> base;
    int g = 0;
    for (g = std::max(width, 30); g >= width; --g) {
      Layout L;
      L.p = {p2(-g), 1};
      L.outs = {p2(-g), p2(-g) * K};
      L.subnormal_outs = true;
      if ((base = realize_any(L, 8))) break;
    }
    if (!base || K < 3) {
      not_run("R1", "summation tree (FPRev)",
              "not observable: the formats cannot hold background and +-M far enough apart");
      return;
    }
    const double bg = p2(base->B - g);
    const auto L = absorbed_counts(t_, *base, K, bg);
    if (!L) {
      add("R1", "summation tree (FPRev)", "-", "absorbed counts are not whole numbers of background terms",
          "not a summation tree");
      return;
    }
    std::vector<int> leaves(static_cast<size_t>(K));
    for (int i = 0; i < K; ++i) leaves[size_t(i)] = i;
    const std::string tree = tree_text(*L, leaves);
    std::string conclusion = "order as shown";
    try {
      ModelTarget model(rep_.fitted);
      const auto M = absorbed_counts(model, *base, K, bg);
      conclusion = M && *M == *L ? "matches the fitted model's order" : "differs from the fitted model's order";
    } catch (const Error& e) {
      conclusion = std::string("fitted model not evaluable: ").append(e.what());
    }
    add("R1", "summation tree (FPRev)",
        std::string("K=")
            .append(std::to_string(K))
            .append(", background 2^")
            .append(std::to_string(base->B - g))
            .append(", +-2^")
            .append(std::to_string(base->B))
            .append(" at i < j"),
        tree, conclusion);
  }

  // --- random vectors against the fit -------------------------------------------------

  static float random_value(const Format& f, std::mt19937_64& rng, int mode) {
    const uint64_t r = rng();
    if ((r & 15) == 0) return 0.0f;
    const bool neg = (r >> 4) & 1;
    int lo = -6, hi = 6;
    if (mode == 1) {
      lo = f.emin() - f.man_bits;
      hi = floor_log2(max_finite(f));
    }
    lo = std::max(lo, f.emin() - f.man_bits);
    hi = std::min(hi, floor_log2(max_finite(f)));
    const int e = lo + int((r >> 8) % uint64_t(hi - lo + 1));
    const double m = 1 + std::ldexp(double(rng() >> 11), -53);
    RoundingSpec rs;
    rs.rounding = Rounding::rtz;
    rs.overflow = Overflow::saturate;
    Flags ignored;
    const double x = to_double(from_double(std::ldexp(m, e), f, rs, ignored), f);
    return float(neg ? -x : x);
  }

  void random_check() {
    std::vector<int> ks = {1,      2,          3,          n_ - 1,     n_, n_ + 1, 2 * n_ - 1,
                           2 * n_, 2 * n_ + 1, 3 * n_ + 2, 4 * n_ + 3, 33, 64,     100};
    if (promo_ > 0) {
      ks.push_back(promo_ + 1);
      ks.push_back(2 * promo_ + 3);
    }
    std::vector<int> use;
    for (int k : ks) {
      if (k < 1 || k > 600 || (max_k_ > 0 && k > max_k_)) continue;
      if (std::find(use.begin(), use.end(), k) == use.end()) use.push_back(k);
    }
    std::sort(use.begin(), use.end());
    rep_.random_ks = use;
    try {
      validate_mma_model(rep_.fitted);
    } catch (const Error& e) {
      rep_.mismatch_examples.push_back(std::string("the fitted model is not valid: ").append(e.what()));
      return;
    }
    ModelTarget model(rep_.fitted);
    std::mt19937_64 rng(opt_.seed);
    for (int v = 0; v < opt_.random_vectors; ++v) {
      const int K = use[size_t(v) % use.size()];
      const int mode = int(rng() % 8);  // 0-5 narrow, 6 wide, 7 cancelling C
      const int value_mode = mode == 6 ? 1 : 0;
      std::vector<float> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
      double sum = 0;
      for (int k = 0; k < K; ++k) {
        a[size_t(k)] = random_value(fa_, rng, value_mode);
        b[size_t(k)] = random_value(fb_, rng, value_mode);
        sum += double(a[size_t(k)]) * double(b[size_t(k)]);
      }
      float c = 0.0f;
      if (mode == 7) {
        Flags ignored;
        c = float(to_double(from_double(-sum, fo_, RoundingSpec{}, ignored), fo_));
        if (!std::isfinite(c)) c = 0.0f;
      } else if (rng() % 8 != 0) {
        c = random_value(fo_, rng, value_mode);
      }
      const float x = t_.dot(a, b, c), y = model.dot(a, b, c);
      ++rep_.random_checks;
      if (same_result(x, y)) continue;
      ++rep_.random_mismatches;
      if (rep_.mismatch_examples.size() < 5) {
        std::ostringstream s;
        s << "K=" << K << " a=[";
        for (int k = 0; k < K; ++k) s << (k ? " " : "") << hex32(a[size_t(k)]);
        s << "] b=[";
        for (int k = 0; k < K; ++k) s << (k ? " " : "") << hex32(b[size_t(k)]);
        s << "] c=" << hex32(c) << ": target " << hex32(x) << ", fitted " << hex32(y);
        rep_.mismatch_examples.push_back(s.str());
      }
    }
  }

  void order_outcomes() {
    auto rank = [](const std::string& id) {
      for (size_t i = 0; i < std::size(kOrder); ++i)
        if (id == kOrder[i]) return int(i);
      return int(std::size(kOrder));
    };
    std::stable_sort(rep_.outcomes.begin(), rep_.outcomes.end(),
                     [&](const ProbeOutcome& x, const ProbeOutcome& y) { return rank(x.id) < rank(y.id); });
  }

  MmaTarget& t_;
  ProbeOptions opt_;
  Format fa_, fb_, fo_;
  Splitter split_;
  ProbeReport rep_;
  int max_k_ = 0;
  int out_man_ = 23, emin_out_ = -126, emax_out_ = 127;
  int scan_limit_ = 256;
  // What the probes found.
  bool sub_in_ = false, sub_in_obs_ = false;
  bool sub_out_ = false, sub_out_obs_ = false;
  Shape shape_ = Shape::block;
  bool cpu_ = false;  // an FP32-arithmetic kind
  int n_ = 1;
  bool n_exact_ = true;
  int promo_ = 0;
  int chains_ = 1;
  bool c_first_ = true;
  std::string structure_note_;
  int kb_ = 0;
  bool kb_known_ = false, kb_exact_ = false;
  int F_ = 23;
  bool F_obs_ = false;
  Rounding fr_ = Rounding::rtz;
  bool fr_obs_ = false;
  AlignRounding ar_ = AlignRounding::truncate;
  bool ar_obs_ = false;
  std::optional<AlignRounding> single_align_;
  int min_exp_ = kNoClamp;
  bool min_obs_ = false;
  int lmin_ = kNoClamp;
  std::string min_note_;
  bool ovf_ = true, ovf_obs_ = false;
  std::string ovf_note_;
  int products_exact_ = -1;  // 1 exact, 0 rounded, -1 unobservable
};

}  // namespace

ProbeReport run_probes(MmaTarget& target, const ProbeOptions& options) {
  if (options.random_vectors < 0) throw OptionError("probe: the number of random vectors must be >= 0");
  Suite suite(target, options);
  return suite.run();
}

}  // namespace fpsim::probe
