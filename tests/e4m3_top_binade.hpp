// The expected OCP E4M3 value of a positive x in [256, 1024) under each
// rounding direction and overflow policy, written out from the tables of
// docs/formats.md §2 and §4 with no code of sim/ or reference/: E4M3's top
// binade is 256, 288, ..., 448 (448 = 0x7E is the largest finite value; the
// code 480 would take is the NaN 0x7F). x is rounded on the unbounded grid
// (step 32 below 512, 64 above), and a result above 448 is an overflow.
// Shared by the pitfall test of sim (tests/sim/pitfalls_test.cpp) and of the
// reference (tests/reference/reference_test.cpp): one independent
// expectation for both.
#pragma once

#include <cmath>
#include <limits>

namespace fpsim_test {

enum class E4m3Mode { rne, rna, rtz, rup, rdn, rto };

inline double expected_e4m3_top_binade(double x, E4m3Mode mode, bool saturate) {
  const double step = x < 512 ? 32 : 64;
  const double lo = std::floor(x / step) * step, hi = lo + step;
  // The mantissa field's last bit of a grid value v: (v / step) is odd for an
  // odd field (256 = 8 steps of 32, 512 = 8 steps of 64: field 0).
  auto odd = [&](double v) { return std::fmod(v / (v < 512 ? 32 : 64), 2) == 1; };
  double r = lo;
  if (x != lo) {
    const double mid = lo + step / 2;
    switch (mode) {
      case E4m3Mode::rne: r = x < mid ? lo : x > mid ? hi : (odd(lo) ? hi : lo); break;
      case E4m3Mode::rna: r = x < mid ? lo : hi; break;
      case E4m3Mode::rtz:
      case E4m3Mode::rdn: r = lo; break;
      case E4m3Mode::rup: r = hi; break;
      case E4m3Mode::rto: r = odd(lo) ? lo : hi; break;
    }
  }
  if (r <= 448) return r;
  // Overflow of a positive value (docs/formats.md §4): rtz, rto and rdn give
  // max; rne, rna and rup give E4M3's NaN (no inf) unless saturating.
  if (saturate || mode == E4m3Mode::rtz || mode == E4m3Mode::rto || mode == E4m3Mode::rdn) return 448;
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace fpsim_test
