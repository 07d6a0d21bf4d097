// The MMA presets as data (docs/mma.md, "Per-GPU parameters and their evidence": each unit's block size, extra
// alignment bits, final rounding and clamp, with the evidence for it), the
// names, and the checks every model passes.
#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/quoted_text.hpp"
#include "fpsim/rounding_spec.hpp"
#include "mma_internal.hpp"

namespace fpsim {

using namespace mma_internal;

namespace {

// --- presets (docs/mma.md, "Per-GPU parameters and their evidence") ---------------------------------------------

MmaModel block_model(std::string name, Format in, Format out, int n, int neab, Rounding final_rounding, int min_exp,
                     std::string evidence, bool verified = true) {
  MmaModel m;
  m.name = std::move(name);
  m.kind = MmaKind::block_fma;
  m.input_a = in;
  m.input_b = in;
  m.output = out;
  m.block_size = n;
  m.extra_bits = neab;
  m.final_rounding = final_rounding;
  m.min_exp = min_exp;
  // p_out = 23 (FP32) or 10 (FP16), plus neab if neab < 0 (docs/mma.md, "The block-FMA model").
  m.acc_frac_bits = out.man_bits + (neab < 0 ? neab : 0);
  m.verified = verified;
  m.evidence = std::move(evidence);
  return m;
}

MmaModel fp32_model(std::string name, MmaKind kind, int block, std::string evidence) {
  MmaModel m;
  m.name = std::move(name);
  m.kind = kind;
  m.input_a = formats::fp32;
  m.input_b = formats::fp32;
  m.output = formats::fp32;
  m.block_size = block;
  m.final_rounding = Rounding::rne;
  m.extra_bits = 0;
  m.min_exp = kNoClamp;
  m.acc_frac_bits = 23;
  m.evidence = std::move(evidence);
  return m;
}

// AMD Instinct matrix cores (docs/mma.md, "AMD matrix cores"): the parameters of Khattak & Mikaitis'
// published models, checked against those models' outputs (tests/data/amd-oracle), not against hardware.
void add_amd_presets(std::vector<MmaModel>& p) {
  using formats::bf16, formats::fp16, formats::fp32, formats::tf32, formats::e4m3fnuz, formats::e5m2fnuz;
  const std::string published = "published models only (Khattak & Mikaitis, arXiv 2512.07004), no hardware outputs";
  // CDNA1 (MI100): each block of n products plus C summed exactly, one RNE rounding; n = 4 fp16, 2 bf16.
  for (const auto& [name, in, n] : {std::tuple{"mi100-fp16-fp32", fp16, 4}, std::tuple{"mi100-bf16-fp32", bf16, 2}}) {
    MmaModel m = block_model(name, in, fp32, n, 0, Rounding::rne, kNoClamp, published + "; oracle MI100");
    m.exact_sum = true;
    p.push_back(m);
  }
  // CDNA2 (MI210, MI250): RN32 products summed pairwise per block of 4 (bf16: the _1k instructions), then
  // + C, every step RNE; subnormals flushed on inputs, products and results. A product beyond FP32's
  // range is an RN32 overflow to inf, so the block is inf (NaN with both signs) without a further parameter.
  for (const char* gpu : {"mi210", "mi250"}) {
    for (const auto& [fmt, in] : {std::pair{"fp16", fp16}, std::pair{"bf16", bf16}}) {
      MmaModel m = fp32_model(std::string(gpu) + "-" + fmt + "-fp32", MmaKind::fp32_pairwise_blocked, 4,
                              published + "; oracle MI210" + (std::string(gpu) == "mi250" ? " (MI250 = MI210)" : ""));
      m.input_a = m.input_b = in;
      m.subnormal_inputs = m.subnormal_outputs = false;
      p.push_back(m);
    }
  }
  // CDNA3 (MI300A, MI300X): the products of a block aligned to their largest exponent with one extra
  // bit (truncation), then C added: the smaller side rounded toward -inf, 7 more bits of the products'
  // sum kept when it is the smaller, C's exponent at least FP32's -126; final RNE. FP8 (fnuz): two groups
  // of even and odd k. n = 8 fp16/bf16, 4 tf32, 16 FP8. Provisional: the model was withdrawn.
  const std::string cdna3 = published + "; published model only, CDNA3 model withdrawn 2026-08-09; oracle MI300";
  for (const char* gpu : {"mi300a", "mi300x"}) {
    for (const auto& [fmt, in, n] : {std::tuple{"fp16", fp16, 8}, std::tuple{"bf16", bf16, 8},
                                     std::tuple{"tf32", tf32, 4}, std::tuple{"e4m3fnuz", e4m3fnuz, 16},
                                     std::tuple{"e5m2fnuz", e5m2fnuz, 16}}) {
      MmaModel m = block_model(std::string(gpu) + "-" + fmt + "-fp32", in, fp32, n, 1, Rounding::rne, -126, cdna3,
                               false);
      m.c_after_products = true;
      m.c_stage_rounding = AlignRounding::floor;
      m.c_stage_extra_bits = 7;
      m.c_stage_shift_wraps = true;  // what the oracle rows decided (docs/mma.md, "AMD matrix cores")
      m.odd_even_groups = in.bits == 8;
      m.product_limit = true;
      p.push_back(m);
    }
  }
}

std::vector<MmaModel> build_presets() {
  using formats::bf16, formats::fp16, formats::fp32, formats::tf32, formats::e4m3, formats::e5m2;
  constexpr Rounding rz = Rounding::rtz, rn = Rounding::rne;
  std::vector<MmaModel> p;
  // V100: n = 4, no extra bits, no clamp for FP32 out (KM, FHMP; golden 5000/5000).
  p.push_back(block_model("v100-fp16-fp32", fp16, fp32, 4, 0, rz, kNoClamp, "KM, FHMP; golden V100/fp16"));
  p.push_back(block_model("v100-fp16-fp16", fp16, fp16, 4, 0, rn, -19, "KM, FHMP; golden V100/fp16"));
  // A100 and Ada / L40S: n = 8 (fp16, bf16), 4 (tf32), one extra bit (KM, FHMP, HPEC).
  const struct {
    const char* gpu;
    const char* evidence;
  } ampere_like[] = {
      {"a100", "KM, FHMP, HPEC (A30); golden A100"}, {"ada", "KM data 5000/5000"}, {"l40s", "KM data 5000/5000"}};
  for (const auto& g : ampere_like) {
    const std::string gpu = g.gpu;
    p.push_back(block_model(gpu + "-fp16-fp32", fp16, fp32, 8, 1, rz, -132, g.evidence));
    p.push_back(block_model(gpu + "-fp16-fp16", fp16, fp16, 8, 1, rn, -20, g.evidence));
    p.push_back(block_model(gpu + "-bf16-fp32", bf16, fp32, 8, 1, rz, -132, g.evidence));
    p.push_back(block_model(gpu + "-tf32-fp32", tf32, fp32, 4, 1, rz, -132, g.evidence));
    if (gpu != "a100") {
      // Ada FP8: 16 products, 13 fraction bits kept, RZ (KM data, non-zero C).
      p.push_back(block_model(gpu + "-e4m3-fp32", e4m3, fp32, 16, -10, rz, -132, "KM data, non-zero C"));
      p.push_back(block_model(gpu + "-e5m2-fp32", e5m2, fp32, 16, -10, rz, -132, "KM data, non-zero C"));
    }
  }
  // Hopper: n = 16 (fp16, bf16), 8 (tf32), two extra bits; FP8: 32 products,
  // RZ to 13 fraction bits (KM, EMU, DSI, DS3).
  for (const char* g : {"h100", "h200"}) {
    const std::string gpu = g;
    p.push_back(block_model(gpu + "-fp16-fp32", fp16, fp32, 16, 2, rz, -133, "KM, EMU; golden H100/fp16"));
    p.push_back(block_model(gpu + "-fp16-fp16", fp16, fp16, 16, 2, rn, -21, "KM, EMU; golden H100/fp16"));
    p.push_back(block_model(gpu + "-bf16-fp32", bf16, fp32, 16, 2, rz, -133, "KM, EMU; golden H100/bf16"));
    p.push_back(block_model(gpu + "-tf32-fp32", tf32, fp32, 8, 2, rz, -133, "KM; golden H100/tf32 (K=4 only)"));
    p.push_back(
        block_model(gpu + "-e4m3-fp32", e4m3, fp32, 32, -10, rz, -133, "KM, DSI, DS3, EMU; golden H100/E4M3 (C=0)"));
    p.push_back(
        block_model(gpu + "-e5m2-fp32", e5m2, fp32, 32, -10, rz, -133, "KM, DSI, DS3, EMU; golden H100/E5M2 (C=0)"));
    // FP8 with FP16 output: no public model explains the GPU (docs/mma.md
    // §6 Q2). This is the §2 model with RNE to FP16; docs/mma.md records how
    // many golden rows it matches.
    p.push_back(block_model(gpu + "-e4m3-fp16", e4m3, fp16, 32, 2, rn, -21,
                            "unverified: docs/mma.md, Open questions Q2, few golden rows match", false));
    p.push_back(block_model(gpu + "-e5m2-fp16", e5m2, fp16, 32, 2, rn, -21,
                            "unverified: docs/mma.md, Open questions Q2, few golden rows match", false));
  }
  // B200 (KM data for fp16/bf16/tf32; FP8 is an unverified wide-window fit).
  p.push_back(block_model("b200-fp16-fp32", fp16, fp32, 16, 2, rz, -133, "KM data 5000/5000"));
  p.push_back(block_model("b200-fp16-fp16", fp16, fp16, 16, 2, rn, -21, "KM data 5000/5000"));
  p.push_back(block_model("b200-bf16-fp32", bf16, fp32, 16, 2, rz, -133, "KM data 5000/5000"));
  p.push_back(block_model("b200-tf32-fp32", tf32, fp32, 8, 2, rz, -133, "KM data 5000/5000"));
  p.push_back(block_model("b200-e4m3-fp32", e4m3, fp32, 32, 8, rn, -133,
                          "unverified fit (docs/mma.md, Per-GPU parameters and their evidence, Q8): neab >= 8, RNE", false));
  p.push_back(block_model("b200-e5m2-fp32", e5m2, fp32, 32, 8, rn, -133,
                          "unverified fit (docs/mma.md, Per-GPU parameters and their evidence, Q8): neab >= 8, RNE", false));
  // A30 and A2 are Ampere units like A100, the RTX PRO 6000 a Blackwell unit like B200: the published
  // models give them A100's and B200's parameters (docs/mma.md, "Per-GPU parameters and their evidence").
  {
    std::vector<MmaModel> same;
    for (const auto& [from, to] : {std::pair{"a100-", "a30-"}, std::pair{"a100-", "a2-"},
                                   std::pair{"b200-", "rtxpro6000-"}}) {
      for (const MmaModel& m : p) {
        if (m.name.rfind(from, 0) != 0) continue;
        MmaModel copy = m;
        copy.name = to + m.name.substr(std::string(from).size());
        // Checked only through the unit it copies, not on this unit's own outputs: model-only in --list.
        copy.evidence = std::string("published models only (KM's model of this unit is the ") + from +
                        "* model); " + m.evidence;
        same.push_back(copy);
      }
    }
    p.insert(p.end(), same.begin(), same.end());
  }
  add_amd_presets(p);
  // CPU matrix units (docs/mma.md, "CPU matrix units"): the Intel SDM's
  // pseudo-code for TDPBF16PS and VDPBF16PS (FP32 FMAs, RNE, DAZ and FTZ;
  // AMX: two interleaved chains per 32 elements of K, then C += (even + odd)),
  // measured on a Xeon with both units: 240,000 / 240,000 dot products each
  // (tests/data/cpu-golden).
  {
    MmaModel amx = fp32_model("amx-bf16-fp32", MmaKind::fp32_fma_blocked, 32,
                              "Intel SDM TDPBF16PS; measured on Xeon AMX (tests/data/cpu-golden)");
    amx.input_a = amx.input_b = bf16;
    amx.chains = 2;
    amx.subnormal_inputs = amx.subnormal_outputs = false;
    p.push_back(amx);
    MmaModel avx = fp32_model("avx512-bf16-fp32", MmaKind::fp32_fma_sequential, 1,
                              "Intel SDM VDPBF16PS, one lane in k order; measured on Xeon (tests/data/cpu-golden)");
    avx.input_a = avx.input_b = bf16;
    avx.subnormal_inputs = avx.subnormal_outputs = false;
    p.push_back(avx);
  }
  // CPU-style FP32 accumulation in stated fixed orders (docs/mma.md).
  p.push_back(fp32_model("fp32-sequential", MmaKind::fp32_sequential, 1, "definition: d = RN(d + RN(a*b)) in k order"));
  p.push_back(
      fp32_model("fp32-fma-sequential", MmaKind::fp32_fma_sequential, 1, "definition: d = fma(a, b, d) in k order"));
  p.push_back(
      fp32_model("fp32-pairwise", MmaKind::fp32_pairwise, 1, "definition: RN products, halving tree, then + c"));
  p.push_back(fp32_model("fp32-fma-blocked", MmaKind::fp32_fma_blocked, 16,
                         "definition: fma chains over 16-element blocks, block sums added in order"));
  return p;
}

const std::vector<MmaModel>& presets() {
  static const std::vector<MmaModel> table = build_presets();
  return table;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

std::span<const MmaModel> mma_presets() { return presets(); }

namespace {

// The unit of a preset name: what precedes its first '-' ("h100", "mi300x", "fp32").
std::string_view unit_of(std::string_view name) { return name.substr(0, name.find('-')); }

// An unknown name's message stays one short line (errors are one line each,
// docs/cli.md): with a known unit, that unit's presets (a typo in the input
// or output part); otherwise every unit as "<unit>-*".
std::string unknown_preset_message(std::string_view name, std::string_view key) {
  std::string msg = "unknown MMA preset ";
  msg.append(quoted_text(name)).append("; known: ");
  const std::string_view unit = unit_of(key);
  bool first = true;
  for (const MmaModel& m : presets()) {
    if (unit_of(m.name) != unit) continue;
    msg.append(first ? "" : ", ").append(m.name);
    first = false;
  }
  if (first) {
    std::vector<std::string_view> units;
    for (const MmaModel& m : presets())
      if (std::find(units.begin(), units.end(), unit_of(m.name)) == units.end()) units.push_back(unit_of(m.name));
    for (size_t i = 0; i < units.size(); ++i) msg.append(i == 0 ? "" : ", ").append(units[i]).append("-*");
  }
  return msg.append(" (`fpsim mma --list` names every preset)");
}

}  // namespace

MmaModel mma_preset(std::string_view name) {
  std::string key = lower(name);
  int promote = -1;
  if (const size_t colon = key.find(':'); colon != std::string::npos) {
    std::string suffix = key.substr(colon + 1);
    key.resize(colon);
    const std::string_view prefix = "promote";
    // ":promote" alone is CUTLASS's default interval, 4 k32 instructions = 128 (docs/mma.md, "FP8 accumulation in libraries").
    if (suffix == prefix) suffix.append("128");
    bool ok = suffix.size() > prefix.size() && suffix.compare(0, prefix.size(), prefix) == 0 &&
              suffix.size() - prefix.size() <= 6;
    for (size_t i = prefix.size(); ok && i < suffix.size(); ++i)
      ok = std::isdigit(static_cast<unsigned char>(suffix[i]));
    if (!ok) {
      std::string msg = "bad MMA preset suffix ";
      msg.append(quoted_text(suffix))
          .append(" in ")
          .append(quoted_text(name))
          .append(" (expected :promoteN, e.g. :promote128)");
      throw OptionError(msg);
    }
    promote = std::stoi(suffix.substr(prefix.size()));
  }
  for (const MmaModel& m : presets()) {
    if (m.name != key) continue;
    MmaModel out = m;
    if (promote >= 0) {
      out.promotion_interval = promote;
      out.name.append(":promote").append(std::to_string(promote));
      validate_mma_model(out);
    }
    return out;
  }
  throw OptionError(unknown_preset_message(name, key));
}

void validate_mma_model(const MmaModel& m) {
  auto fail = [&](const std::string& why) {
    std::string msg = "MMA model '";
    msg.append(m.name).append("': ").append(why);
    throw OptionError(msg);
  };
  const bool out_fp32 = is_binary32(m.output);
  const bool out_fp16 = m.output.same_encoding(formats::fp16);
  if (!out_fp32 && !out_fp16) fail("the output format must be fp32 or fp16");
  for (const Format* f : {&m.input_a, &m.input_b})
    if (f->is_integer() || f->is_scale() || f->exp_bits > 8 || f->man_bits > 23)
      fail(std::string("input format ") + f->name + " is not a float format of at most FP32's range and precision");
  if (m.block_size < 1 || m.block_size > kMaxBlockSize)
    fail("block_size must be 1.." + std::to_string(kMaxBlockSize));
  if (m.promotion_interval < 0) fail("promotion_interval must be >= 0");
  if (m.promotion_interval > 0 && (m.kind != MmaKind::block_fma || !out_fp32))
    fail("promotion applies to block-FMA models with FP32 output");
  if (m.chains < 1 || m.chains > kMaxChains || (m.chains > 1 && m.kind != MmaKind::fp32_fma_blocked))
    fail("chains must be 1.." + std::to_string(kMaxChains) + ", and above 1 only for fp32_fma_blocked");
  const bool amd_block = m.exact_sum || m.c_after_products || m.odd_even_groups || m.product_limit ||
                         m.c_stage_extra_bits != 0 || m.c_stage_shift_wraps;
  if (m.kind != MmaKind::block_fma) {
    if (!out_fp32) fail("the fp32-* accumulation models have FP32 output");
    if (amd_block) fail("exact_sum, c_after_products, odd_even_groups, product_limit apply to block_fma models");
    return;
  }
  if (m.exact_sum && m.c_after_products) fail("exact_sum and c_after_products exclude each other");
  if (m.odd_even_groups && !m.c_after_products) fail("odd_even_groups needs c_after_products");
  if (m.c_stage_extra_bits < 0 || m.c_stage_extra_bits > 32) fail("c_stage_extra_bits must be 0..32");
  if ((m.c_stage_extra_bits != 0 || m.c_stage_shift_wraps) && !m.c_after_products)
    fail("c_stage_extra_bits and c_stage_shift_wraps need c_after_products");
  // The staged sums are 128-bit: a product's 26 bits, extra_bits, c_stage_extra_bits and the carries
  // of kMaxBlockSize + 1 terms must fit.
  if (m.c_after_products && (m.extra_bits < 0 || m.extra_bits + m.c_stage_extra_bits > 64))
    fail("with c_after_products, extra_bits must be >= 0 and extra_bits + c_stage_extra_bits at most 64");
  if (m.input_a.man_bits + m.input_b.man_bits > 23)
    fail("block-FMA products must fit 23 fraction bits (inputs of at most tf32/fp16 precision)");
  if (m.extra_bits < -23 || m.extra_bits > 96) fail("extra_bits must be -23..96");
  if (m.acc_frac_bits < 1 || m.acc_frac_bits > m.output.man_bits)
    fail(std::string("acc_frac_bits must be 1..").append(std::to_string(m.output.man_bits)));
  if (m.min_exp < kNoClamp || m.min_exp > -kNoClamp)
    fail("min_exp must be " + std::to_string(kNoClamp) + ".." + std::to_string(-kNoClamp));
  switch (m.final_rounding) {
    case Rounding::rtz:
    case Rounding::rne:
    case Rounding::rup:
    case Rounding::rdn:
      break;
    default:
      fail("final rounding must be rtz, rne, rup or rdn");
  }
}

bool mma_uses_amd_parameters(const MmaModel& m) {
  return m.kind == MmaKind::fp32_pairwise_blocked || m.exact_sum || m.c_after_products || m.odd_even_groups ||
         m.product_limit || m.align_rounding == AlignRounding::floor;
}

// --- names ------------------------------------------------------------------------

std::string_view mma_kind_name(MmaKind k) {
  switch (k) {
    case MmaKind::block_fma:
      return "block_fma";
    case MmaKind::fp32_sequential:
      return "fp32_sequential";
    case MmaKind::fp32_fma_sequential:
      return "fp32_fma_sequential";
    case MmaKind::fp32_pairwise:
      return "fp32_pairwise";
    case MmaKind::fp32_fma_blocked:
      return "fp32_fma_blocked";
    case MmaKind::fp32_pairwise_blocked:
      return "fp32_pairwise_blocked";
  }
  return "?";
}

std::string_view align_rounding_name(AlignRounding r) {
  switch (r) {
    case AlignRounding::truncate:
      return "truncate";
    case AlignRounding::rne:
      return "rne";
    case AlignRounding::floor:
      return "floor";
  }
  return "?";
}

std::string describe_mma_model(const MmaModel& m) {
  std::ostringstream s;
  s << "kind=" << mma_kind_name(m.kind) << " in=" << m.input_a.name << "x" << m.input_b.name
    << " out=" << m.output.name;
  if (m.kind == MmaKind::block_fma) {
    RoundingSpec rs;
    rs.rounding = m.final_rounding;
    s << " n=" << m.block_size << " neab=" << m.extra_bits << " align=" << align_rounding_name(m.align_rounding)
      << " round=" << rounding_name(rs) << " min_exp=";
    if (m.min_exp == kNoClamp)
      s << "none";
    else
      s << m.min_exp;
    s << " acc_frac_bits=" << m.acc_frac_bits << " subnormals=" << (m.subnormal_inputs ? "in" : "daz") << "/"
      << (m.subnormal_outputs ? "out" : "ftz") << " overflow=" << (m.overflow_to_inf ? "inf" : "max");
    if (m.promotion_interval > 0) s << " promote=" << m.promotion_interval;
    // The AMD parameters appear only when set, so the NVIDIA presets' lines stay as they were.
    if (m.exact_sum) s << " sum=exact";
    if (m.c_after_products)
      s << " c=after-products c_align=" << align_rounding_name(m.c_stage_rounding)
        << " c_extra_bits=" << m.c_stage_extra_bits << (m.c_stage_shift_wraps ? " c_shift=mod64" : "");
    if (m.odd_even_groups) s << " groups=odd-even";
    if (m.product_limit) s << " product_limit=inf";
  } else {
    if (m.kind == MmaKind::fp32_fma_blocked || m.kind == MmaKind::fp32_pairwise_blocked)
      s << " block=" << m.block_size;
    if (m.kind == MmaKind::fp32_fma_blocked) s << " chains=" << m.chains;
    if (!m.subnormal_inputs || !m.subnormal_outputs)
      s << " subnormals=" << (m.subnormal_inputs ? "in" : "daz") << "/" << (m.subnormal_outputs ? "out" : "ftz");
  }
  return s.str();
}

}  // namespace fpsim
