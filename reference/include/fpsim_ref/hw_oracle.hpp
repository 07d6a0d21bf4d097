// fpsim_ref::HwOracle: the host CPU's own IEEE arithmetic as an oracle
// (`fpsim verify --oracle hw`). It shares no code with sim/ or with the MPFR
// oracle: every result comes out of one hardware instruction, with the
// rounding mode and the exception flags in the x86 MXCSR register.
//
//   fp32 add sub mul div fma sqrt: SSE addss subss mulss divss sqrtss, FMA3
//     vfmadd231ss (needs a CPU with FMA).
//   fp16 add sub mul div fma sqrt: AVX512-FP16 vaddsh vsubsh vmulsh vdivsh
//     vsqrtsh vfmadd231sh (needs a CPU with AVX512-FP16: Sapphire Rapids and
//     later Intel server cores; no AMD core so far).
//   Results are in the operand format; modes rne rtz rup rdn; the ieee
//   overflow policy; no ftz / daz (the hardware's FTZ / DAZ cannot raise
//   fpsim's `flushed`); tininess after rounding (x86 detects it after
//   rounding). A NaN result is reported as the format's default NaN (fp32
//   0x7FC00000, fp16 0x7E00); the hardware's own NaN payload is dropped.
//   compare: fp32 with comiss (signaling predicates) / ucomiss (quiet); fp16
//     converted exactly to fp32 by F16C vcvtph2ps first (which raises invalid
//     for a signaling NaN, as both kinds of predicate must).
//
// Thread safety: MXCSR is per thread; every call saves it, runs the
// instruction with its own MXCSR, reads the flags and restores it, all inside
// one asm statement, so neither the compiler nor other code can move an
// operation out of the window or see the changed mode.
#pragma once

#include <cstdint>
#include <string>

#include "fpsim_ref/reference.hpp"

namespace fpsim_ref {

class HwOracle {
 public:
  // True when this CPU can compute `op` on `f` (fp32 or fp16, result in the
  // same format) under `spec`; otherwise false with a sentence in *why.
  static bool available(RefOp op, const RefFormat& f, const RefSpec& spec, std::string* why = nullptr);
  // Throws std::invalid_argument with available()'s reason.
  HwOracle(RefOp op, const RefFormat& f, const RefSpec& spec);
  // op(a, b, c) as the hardware computes it: add a+b, sub a-b, mul a*b,
  // div a/b, fma a*b+c, sqrt(a). Codes are masked to the format's width.
  RefResult operator()(uint64_t a, uint64_t b = 0, uint64_t c = 0) const;

  // True when this CPU can compare codes of `f` (fp32; fp16 needs F16C) under
  // `spec` (daz is refused: the hardware cannot raise `flushed`).
  static bool compare_available(const RefFormat& f, const RefSpec& spec, std::string* why = nullptr);
  // IEEE 754-2019 §5.11 predicate as comiss (signaling) / ucomiss (quiet)
  // answer it. Throws std::invalid_argument when !compare_available(f, {}).
  static RefCompareResult compare(RefPredicate p, bool signaling, uint64_t a, uint64_t b, const RefFormat& f);

  // CPU features (false on non-x86 hosts).
  static bool cpu_has_fma();
  static bool cpu_has_f16c();
  static bool cpu_has_avx512fp16();

  RefOp op() const { return op_; }
  const RefFormat& format() const { return f_; }
  const RefSpec& spec() const { return spec_; }

 private:
  RefOp op_;
  RefFormat f_;
  RefSpec spec_;
  bool half_ = false;   // fp16 (else fp32)
  uint32_t mxcsr_ = 0;  // all exceptions masked, flags clear, the rounding control
};

}  // namespace fpsim_ref
