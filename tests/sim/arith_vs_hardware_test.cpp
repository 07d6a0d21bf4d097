// sim against this CPU's own arithmetic: fp16 add/sub/mul/div/fma/sqrt
// against AVX512-FP16 (vaddsh ... vfmadd231sh) and fp32 against SSE/FMA3, on
// two million random operand tuples per operation and mode (rne rtz rup rdn:
// the modes MXCSR has). Results bit for bit (any NaN matches any NaN: the
// hardware's NaN payloads are its own) and the five IEEE flags. Skipped, with
// the reason, where the CPU lacks the instructions.
#include <gtest/gtest.h>

#include <string>

#include "fpsim/arith.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/hw_oracle.hpp"
#include "test_random.hpp"

namespace fpsim {
namespace {

using test::mix64;

struct HwCase {
  const char* format;
  ArithOp op;
};

std::string name_of(const testing::TestParamInfo<HwCase>& info) {
  const char* ops[] = {"add", "sub", "mul", "div", "fma", "sqrt"};
  return std::string(info.param.format) + "_" + ops[int(info.param.op)];
}

class ArithVsHardware : public testing::TestWithParam<HwCase> {};

TEST_P(ArithVsHardware, AgreesOnRandomOperandsInEveryHardwareMode) {
  const Format f = parse_format(GetParam().format);
  const auto& rf = fpsim_ref::ref_format(GetParam().format);
  const ArithOp op = GetParam().op;
  const fpsim_ref::RefOp rop = fpsim_ref::RefOp(int(op));
  std::string why;
  if (!fpsim_ref::HwOracle::available(rop, rf, {}, &why)) GTEST_SKIP() << why;
  const uint64_t mask = f.code_count() - 1;
  const uint64_t one = uint64_t(f.bias) << f.man_bits;
  const auto is_zero = [&](uint64_t c) { return (c & f.magnitude_mask()) == 0; };
  uint64_t checked = 0, failed = 0;
  std::string first;
  const Rounding modes[] = {Rounding::rne, Rounding::rtz, Rounding::rup, Rounding::rdn};
  const fpsim_ref::RefMode ref_modes[] = {fpsim_ref::RefMode::rne, fpsim_ref::RefMode::rtz, fpsim_ref::RefMode::rup,
                                          fpsim_ref::RefMode::rdn};
  for (int m = 0; m < 4; ++m) {
    fpsim_ref::RefSpec spec;
    spec.mode = ref_modes[m];
    const fpsim_ref::HwOracle hw(rop, rf, spec);
    RoundingSpec rs;
    rs.rounding = modes[m];
    for (uint64_t i = 0; i < 2000000; ++i) {
      const uint64_t r = mix64(i * 8 + uint64_t(m));
      uint64_t v[3];
      for (int j = 0; j < 3; ++j) {
        const uint64_t h = mix64(r + uint64_t(j));
        // Half uniform codes; half near one (so sums cancel and products stay in range).
        v[j] = (h & 1) ? (h >> 8) & mask : ((one + ((h >> 8) & 0x3FF) - 0x200) ^ ((h & 2) ? f.sign_mask() : 0)) & mask;
      }
      Flags fl;
      const uint64_t got = arith(op, v[0], v[1], v[2], f, f, rs, fl);
      const fpsim_ref::RefResult want = hw(v[0], v[1], v[2]);
      const uint32_t got_flags = fl.bits & Flags::ieee_mask;
      bool ok = (got == want.code || (f.is_nan_code(got) && f.is_nan_code(want.code))) && got_flags == want.flags;
      // fma(0, inf, quiet NaN): IEEE 754-2019 §7.2(c) leaves invalid to the
      // implementation; x86 does not raise it, fpsim (as SoftFloat) does.
      if (!ok && op == ArithOp::fma && f.is_nan_code(v[2]) && !f.is_signaling_nan_code(v[2]) &&
          ((is_zero(v[0]) && f.is_inf_code(v[1])) || (f.is_inf_code(v[0]) && is_zero(v[1]))))
        ok = got_flags == (want.flags | Flags::invalid);
      ++checked;
      if (!ok && failed++ < 5)
        first += "mode " + std::to_string(m) + " operands " + std::to_string(v[0]) + " " + std::to_string(v[1]) +
                 " " + std::to_string(v[2]) + ": sim " + std::to_string(got) + "/" + std::to_string(got_flags) +
                 " hw " + std::to_string(want.code) + "/" + std::to_string(want.flags) + "\n";
    }
  }
  EXPECT_EQ(failed, 0u) << failed << " of " << checked << " differ:\n" << first;
}

INSTANTIATE_TEST_SUITE_P(
    HostCpu, ArithVsHardware,
    testing::Values(HwCase{"fp16", ArithOp::add}, HwCase{"fp16", ArithOp::sub}, HwCase{"fp16", ArithOp::mul},
                    HwCase{"fp16", ArithOp::div}, HwCase{"fp16", ArithOp::fma}, HwCase{"fp16", ArithOp::sqrt},
                    HwCase{"fp32", ArithOp::add}, HwCase{"fp32", ArithOp::sub}, HwCase{"fp32", ArithOp::mul},
                    HwCase{"fp32", ArithOp::div}, HwCase{"fp32", ArithOp::fma}, HwCase{"fp32", ArithOp::sqrt}),
    name_of);

static_assert(int(ArithOp::sqrt) == int(fpsim_ref::RefOp::sqrt) && int(ArithOp::fma) == int(fpsim_ref::RefOp::fma));

}  // namespace
}  // namespace fpsim
