// The GEMM a recipe acts on (docs/training.md, "GEMM"): each operand is
// brought into its format by its quantizer, the products are accumulated
// in FP32 (gemm_fp32's fixed order) or by an MMA model, then the bias is
// added and the result rounded to the output format once.
//
// Operands are prepared from the tensor as stored, in the orientation the
// GEMM reads it: blocks lie along the reduction dimension K, so a tensor
// stored [M, K] gets row-wise 1 x b blocks and one stored [K, M] column-wise
// b x 1 blocks (docs/training.md, "Operand quantizers"). The quantizer then sees the stored
// row-major tensor, and its SR element indices and Hadamard axis are its own
// for that orientation; no transposed copy is ever quantized.
#include "fpsim/experiments/gemm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/bulk/mma_gemm_bulk.hpp"
#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/tensor.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {
namespace {

// One operand as the GEMM reads it.
struct Operand {
  char name;  // 'a' or 'b'
  const std::string& tensor;
  const OperandPolicy& policy;
  MatrixView<float> view;
  // K runs along the stored rows (consecutive elements): A stored [M, K], or
  // B stored transposed [N, K].
  bool k_along_cols;

  size_t k() const { return k_along_cols ? view.cols : view.rows; }
  TensorShape shape() const { return {view.rows, view.cols}; }
  bool block_scaled() const {
    return policy.scaling == OperandScaling::mx || policy.scaling == OperandScaling::nvfp4 ||
           policy.scaling == OperandScaling::block;
  }
  // The scale-block length along K (0: one scale for all of K).
  size_t k_block() const { return block_scaled() ? policy.block : 0; }
};

// One operand after its quantizer ran.
struct Prepared {
  bool scaled = false;  // q holds the quantized tensor
  QuantizedTensor q;
  std::vector<float> values;    // stored layout: cast or dequantized values
  const float* data = nullptr;  // what the FP32 GEMM reads (values, or the input itself)
  QuantStats cast_stats;        // plain casts
};

// Per-thread storage that keeps its capacity from step to step.
struct Scratch {
  Prepared a, b;
  std::vector<float> elem_a, elem_b;  // MMA path: element values in op layout
  std::vector<float> slice_a, partial, acc, bias_rounded;
  std::vector<size_t> not_finite;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

std::string site_text(const GemmSite& site) {
  return "layer " + quoted_text(site.layer) + " " + std::string(gemm_role_name(site.role));
}

std::string operand_text(const GemmSite& site, const Operand& op) {
  return site_text(site) + " operand " + op.name + " (tensor " + quoted_text(op.tensor) + ")";
}

std::string dims_text(const MatrixView<float>& v) {
  return std::to_string(v.rows) + " x " + std::to_string(v.cols) + (v.transposed ? " read transposed" : "");
}

[[noreturn]] void fail(const GemmSite& site, const Operand& op, const std::string& why) {
  throw ConfigError(operand_text(site, op) + ": " + why);
}

// Overflow for a rounding to the output or a cast: formats with inf follow
// IEEE (an fp16 overflow is inf, as on a GPU); the others clip
// (round_to_format).
RoundingSpec output_spec() { return RoundingSpec{Rounding::rne, Overflow::ieee}; }

RoundingSpec keyed(const GemmRuntime& rt, const GemmSite& site, const Operand& op) {
  RoundingSpec rs = op.policy.rounding;
  rs.seed = rt.run_seed();
  rs.stream = tensor_stream_id(site.layer, op.tensor, site.role, op.name);
  rs.step = rt.step;
  return rs;
}

QuantScheme scheme_of(const GemmRuntime& rt, const GemmSite& site, const Operand& op) {
  const OperandPolicy& p = op.policy;
  QuantScheme s;
  s.element = p.format;
  s.rounding = keyed(rt, site, op);
  s.e8m0_rule = p.e8m0_rule;
  s.pow2_scales = p.pow2_scales;
  s.amax_epsilon = p.amax_epsilon;
  s.arith = p.arith;
  s.four_over_six = p.four_over_six;
  s.nvfp4_row_scaled = p.row_scaled;
  s.error_stats = rt.collect_stats;
  switch (p.scaling) {
    case OperandScaling::none:
    case OperandScaling::current:
    case OperandScaling::delayed:
      s.kind = ScaleKind::per_tensor;
      break;
    case OperandScaling::mx:
      s.kind = ScaleKind::mx;
      break;
    case OperandScaling::nvfp4:
      s.kind = ScaleKind::nvfp4;
      break;
    case OperandScaling::block:
      s.kind = ScaleKind::fp32_block;
      break;
  }
  if (op.block_scaled()) {
    if (p.block == 0) fail(site, op, std::string(operand_scaling_name(p.scaling)) + " scaling needs a block size");
    // Whole blocks along K for MX (TE: MXFP8 dimensions are multiples of
    // 32) and NVFP4 (its Hadamard transform works on 16-element tiles).
    // FP32 block scales allow a partial last block along K, as TE's
    // Float8BlockScaling pads (DeepSeek's 1x128 on a K that is not a
    // multiple of 128).
    if (p.scaling != OperandScaling::block && op.k() % p.block != 0)
      fail(site, op,
           "block " + std::to_string(p.block) + " does not divide the reduction dimension K = " +
               std::to_string(op.k()) + " (the tensor is " + dims_text(op.view) + "); " +
               std::string(operand_scaling_name(p.scaling)) + " scaling needs whole blocks along K");
    s.block =
        p.block_2d ? BlockShape{p.block, p.block} : (op.k_along_cols ? BlockShape{1, p.block} : BlockShape{p.block, 1});
  }
  if (p.hadamard) {
    if (p.scaling != OperandScaling::nvfp4) fail(site, op, "the Hadamard transform is part of nvfp4 scaling only");
    // The rotation must run along K for the GEMM of two rotated operands to
    // cancel it (docs/quantization.md §6); a square tile has no K axis of
    // its own (NVFP4 weights: 16 x 16, no RHT; TE NVFP4BlockScaling, transformer_engine/common/recipe/__init__.py).
    if (p.block_2d) fail(site, op, "the Hadamard transform runs along K and cannot combine with 2-D blocks");
    s.hadamard = true;
    s.hadamard_seed = rt.run_seed();
  }
  return s;
}

// The statistics of a plain cast (the QuantStats fields of
// docs/quantization.md §4 with a scale of 1).
QuantStats cast_stats(std::span<const float> x, std::span<const float> cast, const Format& f) {
  QuantStats st;
  st.elements = x.size();
  const double max_finite = to_double(f.max_code(), f);
  for (size_t i = 0; i < x.size(); ++i) {
    const float v = x[i];
    if (std::isnan(v)) {
      ++st.nan_inputs;
      continue;
    }
    st.amax = std::max(st.amax, std::fabs(v));
    if (std::isinf(v)) {
      ++st.inf_inputs;
      continue;
    }
    if (v != 0.0f && cast[i] == 0.0f) ++st.underflows;
    if (std::fabs(double(v)) > max_finite) ++st.saturated;
  }
  detail::error_stats(x, cast, st);
  return st;
}

// Runs the operand's quantizer. `dequantized`: also leave the values the
// FP32 GEMM reads in out.values / out.data.
void prepare(GemmRuntime& rt, const GemmSite& site, const Operand& op, bool dequantized, Prepared& out) {
  const OperandPolicy& p = op.policy;
  const std::span<const float> x(op.view.data, op.view.rows * op.view.cols);
  out.scaled = p.scaling != OperandScaling::none;
  if (!out.scaled) {
    if (same_format(p.format, formats::fp32)) {
      out.data = op.view.data;
      return;
    }
    out.values.assign(x.begin(), x.end());
    round_to_format(out.values, p.format, keyed(rt, site, op));
    out.data = out.values.data();
    if (rt.collect_stats) out.cast_stats = cast_stats(x, out.values, p.format);
    return;
  }
  const QuantScheme scheme = scheme_of(rt, site, op);
  try {
    if (p.scaling == OperandScaling::delayed) {
      DelayedScaling* record = nullptr;
      const float m = rt.delayed_multiplier(site.layer, op.tensor, scheme, p, record);
      out.q = bulk::quantize_with_multiplier(x, op.shape(), scheme, m);
      if (record) record->record_amax(out.q.stats.amax);  // amax does not depend on the multiplier
    } else {
      bulk::quantize_into(x, op.shape(), scheme, out.q);
    }
  } catch (const OptionError& e) {
    fail(site, op, e.what());
  }
  if (dequantized) {
    out.values.resize(x.size());
    bulk::dequantize_into(out.q, out.values);
    out.data = out.values.data();
  }
}

// The dequantization factor of one scale code (docs/quantization.md §5).
float scale_value(const QuantizedTensor& q, uint32_t code) {
  if (same_format(q.scale_format, formats::fp32)) return std::bit_cast<float>(code);
  return float(to_double(code, q.scale_format));
}

// The scale of stored element (r, c); 1 for a plain cast.
float scale_at(const Prepared& p, size_t r, size_t c) {
  if (!p.scaled) return 1.0f;
  const QuantizedTensor& q = p.q;
  if (q.scheme.kind == ScaleKind::per_tensor) return scale_value(q, q.scales[0]);
  return scale_value(q, q.scales[(r / q.scheme.block.rows) * q.scale_grid.cols + c / q.scheme.block.cols]);
}

// `dequantized`: prepare() left the dequantized values in p.values (the
// FP32 path); the MMA path did not, and p.values may hold another call's.
void append_stats(GemmRuntime& rt, const GemmSite& site, const Operand& op, const Prepared& p, bool dequantized) {
  if (same_format(op.policy.format, formats::fp32) && !p.scaled) return;
  OperandStatsRow row;
  row.step = rt.step;
  row.layer = site.layer;
  row.role = site.role;
  row.operand = op.name;
  row.tensor = op.tensor;
  if (!p.scaled) {
    row.stats = p.cast_stats;
    row.scale_min = row.scale_max = 1.0f;
  } else {
    row.stats = p.q.stats;
    // Over the non-NaN dequantization scales: scale_inv (per-tensor, FP32
    // blocks), 2^k (MX), fp32(s_block * tensor scale) (NVFP4).
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (size_t b = 0; b < p.q.scales.size(); ++b) {
      float s = scale_value(p.q, p.q.scales[b]);
      // Row-scaled NVFP4: the block's row's tensor scale (its blocks are one row high).
      const float ts = p.q.row_tensor_scales.empty() ? p.q.tensor_scale
                                                     : p.q.row_tensor_scales[b / p.q.scale_grid.cols];
      if (p.q.scheme.kind == ScaleKind::nvfp4) s = float(double(s) * double(ts));
      if (std::isnan(s)) continue;
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    if (lo > hi) lo = hi = std::numeric_limits<float>::quiet_NaN();
    row.scale_min = lo;
    row.scale_max = hi;
  }
  // The energies behind the SQNR, in the quantizer's own terms (docs/
  // quantization.md §4): x as its element pass saw it (rotated for a
  // Hadamard operand) against the dequantized values, same loop as
  // detail::error_stats, so a single row's SQNR is the quantizer's.
  const size_t n = op.view.rows * op.view.cols;
  thread_local std::vector<float> seen, dq;
  seen.assign(op.view.data, op.view.data + n);
  if (p.scaled && p.q.scheme.hadamard)
    bulk::hadamard_transform(seen, op.shape(), hadamard_axis(p.q.scheme), p.q.scheme.hadamard_seed);
  std::span<const float> q(p.values);
  if (p.scaled && !dequantized) {
    dq.resize(n);
    bulk::dequantize_into(p.q, dq);
    q = dq;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(seen[i]) || !std::isfinite(q[i])) continue;
    const double x = seen[i], e = x - double(q[i]);
    row.signal_energy += x * x;
    row.error_energy += e * e;
  }
  rt.add_stats(std::move(row));
}

// out = round(acc + round(bias, f), f), the exact sum rounded once (rne):
// rounded to odd in FP32 first (add_rounded_to_odd), which one rne rounding
// to an output of up to 22 significant bits keeps correct (Boldo and
// Melquiond, IEEE TC 2008); wider outputs, and FP32 sums that overflow,
// take the scalar core's exact add; inf and NaN arithmetic is exact.
void round_output(std::span<float> acc, size_t n, const float* bias, const Format& f, Scratch& s) {
  const RoundingSpec rs = output_spec();
  if (bias) {
    s.bias_rounded.assign(bias, bias + n);
    round_to_format(s.bias_rounded, f, rs);
    const bool odd_ok = f.man_bits + 3 <= 24;
    RoundingSpec exact_rs = rs;
    if (!f.has_inf()) exact_rs.overflow = Overflow::saturate;
    for (size_t r = 0; r < acc.size() / n; ++r) {
      const std::span<float> row = acc.subspan(r * n, n);
      if (odd_ok) {
        add_rounded_to_odd(row, s.bias_rounded, 1.0f, row, s.not_finite);
      } else {
        s.not_finite.resize(n);
        for (size_t j = 0; j < n; ++j) s.not_finite[j] = j;
      }
      for (const size_t j : s.not_finite) {  // row[j] still holds the accumulator
        const float a = row[j], b = s.bias_rounded[j];
        if (std::isfinite(a) && std::isfinite(b)) {
          Flags fl;
          const uint64_t code = fpsim::add(std::bit_cast<uint32_t>(a), formats::fp32, std::bit_cast<uint32_t>(b),
                                           formats::fp32, f, exact_rs, fl);
          row[j] = float(to_double(code, f));  // already in f: the rounding below keeps it
        } else {
          row[j] = a + b;
        }
      }
    }
  }
  round_to_format(acc, f, rs);
}

// op(A) [M, K] or op(B) [K, N] as row-major element values (the unscaled
// codes' values, docs/quantization.md §5 without the scale), from the
// stored tensor.
void element_values(const Operand& op, const Prepared& p, std::vector<float>& out) {
  const MatrixView<float>& v = op.view;
  const size_t rows = v.op_rows(), cols = v.op_cols();
  out.resize(rows * cols);
  float lut[256];
  if (p.scaled)
    for (int c = 0; c < 256; ++c) lut[c] = float(element_value(p.q.scheme, uint8_t(c)));
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      const size_t at = v.transposed ? c * v.cols + r : r * v.cols + c;
      out[r * cols + c] = p.scaled ? lut[p.q.elements[at]] : p.data[at];
    }
}

// The stored (row, col) of op(X)[r][c].
size_t stored_row(const MatrixView<float>& v, size_t r, size_t c) { return v.transposed ? c : r; }
size_t stored_col(const MatrixView<float>& v, size_t r, size_t c) { return v.transposed ? r : c; }

// Accumulation by an MMA model (docs/training.md, "MMA accumulation").
void mma_accumulate(const GemmSite& site, const Operand& oa, const Operand& ob, const Prepared& pa, const Prepared& pb,
                    size_t m, size_t n, size_t k, Scratch& s) {
  for (const Operand* op : {&oa, &ob})
    if (op->policy.scaling == OperandScaling::nvfp4)
      fail(site, *op,
           "nvfp4 with the MMA model '" + site.policy.accumulate +
               "' is not modelled (the ue4m3 x FP32 two-level scale inside the tensor core); use "
               "accumulate = fp32");
  MmaModel model;
  try {
    model = mma_preset(site.policy.accumulate);
    model.input_a = oa.policy.format;
    model.input_b = ob.policy.format;
    validate_mma_model(model);
  } catch (const OptionError& e) {
    throw ConfigError(site_text(site) + ": accumulate " + quoted_text(site.policy.accumulate) + ": " + e.what());
  }
  element_values(oa, pa, s.elem_a);
  element_values(ob, pb, s.elem_b);
  s.acc.assign(m * n, 0.0f);
  const size_t la = oa.k_block(), lb = ob.k_block();
  if (la == 0 && lb == 0) {
    // Per-tensor scales: out = fp32(acc * alpha), alpha = fp32(scale_inv_a * scale_inv_b).
    bulk::mma_gemm(model, int(m), int(n), int(k), s.elem_a, s.elem_b, {}, s.acc);
    const float alpha = scale_at(pa, 0, 0) * scale_at(pb, 0, 0);
    for (float& v : s.acc) v = v * alpha;
    return;
  }
  // Scale blocks along K (DeepSeek-V3 §3.3: promotion with the scales): each
  // K slice's partial product from C = 0, scaled by fp32(sa * sb) and added
  // into an FP32 accumulator in slice order.
  const size_t len = la == 0 ? lb : lb == 0 ? la : std::min(la, lb);
  if (std::max(la, lb) % len != 0)
    throw ConfigError(site_text(site) + ": operand blocks of " + std::to_string(la) + " and " + std::to_string(lb) +
                      " along K do not nest; the MMA path needs one block length to divide the other");
  s.slice_a.resize(m * len);
  s.partial.resize(m * n);
  for (size_t k0 = 0; k0 < k; k0 += len) {
    const size_t cur = std::min(len, k - k0);  // a partial last block (FP32 block scales only)
    for (size_t i = 0; i < m; ++i)
      std::copy_n(s.elem_a.begin() + std::ptrdiff_t(i * k + k0), cur, s.slice_a.begin() + std::ptrdiff_t(i * cur));
    bulk::mma_gemm(model, int(m), int(n), int(cur), std::span<const float>(s.slice_a).first(m * cur),
             std::span<const float>(s.elem_b).subspan(k0 * n, cur * n), {}, s.partial);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        const float sa = scale_at(pa, stored_row(oa.view, i, k0), stored_col(oa.view, i, k0));
        const float sb = scale_at(pb, stored_row(ob.view, k0, j), stored_col(ob.view, k0, j));
        float& acc = s.acc[i * n + j];
        acc = acc + s.partial[i * n + j] * (sa * sb);
      }
  }
}

}  // namespace

void gemm(GemmRuntime& rt, const GemmSite& site, MatrixView<float> a, MatrixView<float> b, const float* bias,
          std::span<float> out) {
  const GemmPolicy& pol = site.policy;
  const size_t m = a.op_rows(), k = a.op_cols(), n = b.op_cols();
  if (b.op_rows() != k)
    throw ConfigError(site_text(site) + ": op(a) of tensor " + quoted_text(site.a_tensor) + " is " + std::to_string(m) +
                      " x " + std::to_string(k) + " but op(b) of tensor " + quoted_text(site.b_tensor) + " is " +
                      std::to_string(b.op_rows()) + " x " + std::to_string(n) +
                      "; the reduction dimensions K must agree");
  if (out.size() != m * n)
    throw ConfigError(site_text(site) + ": the output has " + std::to_string(out.size()) + " elements, expected " +
                      std::to_string(m) + " x " + std::to_string(n));
  const Operand oa{'a', site.a_tensor, pol.a, a, !a.transposed};
  const Operand ob{'b', site.b_tensor, pol.b, b, b.transposed};
  for (const Operand* op : {&oa, &ob})
    if (op->view.rows * op->view.cols != 0 && !op->view.data) fail(site, *op, "has elements but no data");
  Scratch& s = scratch();
  const bool fp32_acc = pol.accumulate == "fp32";
  prepare(rt, site, oa, fp32_acc, s.a);
  prepare(rt, site, ob, fp32_acc, s.b);
  const bool fp32_out = same_format(pol.output, formats::fp32);
  if (fp32_acc) {
    MatrixView<float> va = a, vb = b;
    va.data = s.a.data;
    vb.data = s.b.data;
    gemm_fp32(va, vb, fp32_out ? bias : nullptr, out);
    if (!fp32_out) round_output(out, n, bias, pol.output, s);
  } else {
    mma_accumulate(site, oa, ob, s.a, s.b, m, n, k, s);
    std::copy(s.acc.begin(), s.acc.end(), out.begin());
    if (fp32_out) {
      if (bias)
        for (size_t i = 0; i < out.size(); ++i) out[i] = out[i] + bias[i % n];
    } else {
      round_output(out, n, bias, pol.output, s);
    }
  }
  if (rt.collect_stats) {
    append_stats(rt, site, oa, s.a, fp32_acc);
    append_stats(rt, site, ob, s.b, fp32_acc);
  }
}

void gemm(GemmRuntime&, const GemmSite& site, MatrixView<double> a, MatrixView<double> b, const double* bias,
          std::span<double> out) {
  const size_t m = a.op_rows(), k = a.op_cols(), n = b.op_cols();
  if (b.op_rows() != k || out.size() != m * n)
    throw ConfigError(site_text(site) + " (FP64): op(a) is " + std::to_string(m) + " x " + std::to_string(k) +
                      ", op(b) is " + std::to_string(b.op_rows()) + " x " + std::to_string(n) + ", the output has " +
                      std::to_string(out.size()) + " elements");
  auto at = [](const MatrixView<double>& v, size_t r, size_t c) {
    return v.transposed ? v.data[c * v.cols + r] : v.data[r * v.cols + c];
  };
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double d = 0.0;
      for (size_t kk = 0; kk < k; ++kk) d += at(a, i, kk) * at(b, kk, j);
      out[i * n + j] = bias ? d + bias[j] : d;
    }
}

}  // namespace fpsim::experiments
