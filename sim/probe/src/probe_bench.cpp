// The probe suite's workbench (probe_bench.hpp): exact values and their
// text, the operand splitter, and realizing and running a probe's layout on
// the target.
//
// Every probe is a small set of exact values: products a_k*b_k and C, in
// units of 2^B. The bench turns each product into two operands of the
// target's input formats (Splitter), picks B so that every operand, C and
// every result of interest is representable (Bench::realize), runs the dot
// product and its mirror image (a and c negated), and reads the answer in
// the same units. Under the block-FMA model a product enters only through
// its value and its exponent E = max(floor_log2|a|, emin_a) + ...
// (docs/mma.md, "The block-FMA model"), so any split of a value is
// equivalent for the model; splits prefer normal operands and the spec's
// own operands where the formats hold them.
#include "probe_bench.hpp"

#include <algorithm>
#include <cstdio>

#include "fpsim/format_table.hpp"

namespace fpsim::probe::detail {

bool in_format(double x, const Format& f) {
  if (!std::isfinite(x)) return false;
  if (x == 0) return true;
  const double ax = std::fabs(x);
  const int e = std::max(floor_log2(ax), f.emin());
  const double scaled = std::ldexp(ax, f.man_bits - e);
  return scaled == std::floor(scaled) && ax <= max_finite(f);
}

namespace {

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

}  // namespace

// --- text ----------------------------------------------------------------------

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

std::string rounding_text(Rounding r) {
  RoundingSpec rs;
  rs.rounding = r;
  return rounding_name(rs);
}

std::string kept_text(const char* relation, int kept) {
  std::string s = std::string("kept ").append(relation).append(" ").append(std::to_string(kept));
  s.append(" bits (neab ").append(relation).append(" ").append(std::to_string(kept - kFp32Fraction)).append(")");
  return s;
}

std::string observed(const Res& res, int B) {
  return pretty(unit(res.r, B)).append(" | mirrored ").append(pretty(unit(res.m, B)));
}

std::string summary(const Layout& L, int B) {
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

// --- products as operands ------------------------------------------------------

std::optional<Operands> Splitter::split(double v, bool allow_subnormal) {
  const auto key = std::make_pair(v, allow_subnormal);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  std::optional<Operands> r = compute(std::fabs(v), false);
  if (!r && allow_subnormal) r = compute(std::fabs(v), true);
  if (r && v < 0) r->a = -r->a;
  cache_[key] = r;
  return r;
}

namespace {

bool fits(double x, const Format& f, bool subnormal) {
  return x != 0 && in_format(x, f) && (subnormal || std::fabs(x) >= p2(f.emin()));
}

}  // namespace

std::optional<Operands> Splitter::compute(double x, bool subnormal) const {
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

// --- the bench -------------------------------------------------------------------

Bench::Bench(MmaTarget& t, const ProbeOptions& options, bool sub_in, bool sub_out)
    : target(t),
      fa(t.input_format_a()),
      fb(t.input_format_b()),
      fo(t.output_format()),
      max_k(std::max(0, t.max_k())),
      scan_limit(max_k > 0 ? std::min(std::max(4, options.max_scan_k), max_k) : std::max(4, options.max_scan_k)),
      emax_out(int(fo.exp_field_max()) - 1 - fo.bias),
      subnormal_inputs(sub_in),
      subnormal_outputs(sub_out),
      split(fa, fb) {}

bool Bench::out_ok(double x, bool subnormal) const {
  if (x == 0) return true;
  if (!in_format(x, fo)) return false;
  return std::fabs(x) >= p2(fo.emin()) || (subnormal && subnormal_outputs);
}

std::optional<Case> Bench::realize(const Layout& L, int B) {
  Case cs;
  cs.B = B;
  const double s = p2(B);
  bool done = false;
  if (!L.literal.empty() && L.literal.size() == L.p.size()) {
    bool ok = true;
    for (size_t k = 0; k < L.p.size() && ok; ++k) {
      const double a = double(L.literal[k].a) * s, b = double(L.literal[k].b);
      ok = a * b == L.p[k] * s && in_format(a, fa) && in_format(b, fb) &&
           (subnormal_inputs ||
            ((a == 0 || std::fabs(a) >= p2(fa.emin())) && (b == 0 || std::fabs(b) >= p2(fb.emin()))));
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
      const std::optional<Operands> o = split.split(v * s, subnormal_inputs);
      if (!o) return std::nullopt;
      cs.a.push_back(o->a);
      cs.b.push_back(o->b);
    }
  }
  const double c = L.c * s;
  if (c != 0 && !(in_format(c, fo) && std::fabs(c) >= p2(fo.emin()))) return std::nullopt;
  for (double r : L.outs)
    if (!out_ok(r * s, L.subnormal_outs)) return std::nullopt;
  cs.c = float(c);
  return cs;
}

std::optional<Case> Bench::realize_any(const Layout& L, int centre) {
  for (int off = 0; off <= 600; ++off) {
    const int B = centre + ((off & 1) ? (off + 1) / 2 : -(off / 2));
    if (std::optional<Case> cs = realize(L, B)) return cs;
  }
  return std::nullopt;
}

std::optional<Res> Bench::run(const Case& cs) {
  if (max_k > 0 && int(cs.a.size()) > max_k) return std::nullopt;
  Res res;
  res.r = target.dot(cs.a, cs.b, cs.c);
  std::vector<float> neg(cs.a.size());
  for (size_t k = 0; k < cs.a.size(); ++k) neg[k] = -cs.a[k];
  res.m = target.dot(neg, cs.b, -cs.c);
  return res;
}

bool Bench::attempt(const Layout& L, Case& cs, Res& res, int centre) {
  std::optional<Case> c = realize_any(L, centre);
  if (!c) return false;
  std::optional<Res> r = run(*c);
  if (!r) return false;
  cs = std::move(*c);
  res = *r;
  return true;
}

}  // namespace fpsim::probe::detail
