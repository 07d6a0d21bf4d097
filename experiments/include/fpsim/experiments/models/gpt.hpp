// The `gpt` model (docs/training.md, "Models"): a character-level GPT-2-style
// decoder. Pre-LayerNorm blocks (x += attn(ln_1(x)); x += mlp(ln_2(x))),
// learned positions, GELU (tanh) MLP of width 4C, no dropout, final
// LayerNorm, and an LM head tied to the token embedding (no bias). The
// PyTorch module's state_dict keys are nanoGPT's:
//   transformer.wte.weight [V, C], transformer.wpe.weight [context, C],
//   transformer.h.<i>.ln_1.{weight,bias}, .attn.c_attn.{weight [3C, C], bias},
//   .attn.c_proj.{weight [C, C], bias}, .ln_2.{weight,bias},
//   .mlp.c_fc.{weight [4C, C], bias}, .mlp.c_proj.{weight [C, 4C], bias},
//   transformer.ln_f.{weight,bias}; lm_head.weight is transformer.wte.weight.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/experiments/gemm.hpp"
#include "fpsim/experiments/layers/attention.hpp"
#include "fpsim/experiments/layers/cross_entropy.hpp"
#include "fpsim/experiments/layers/layernorm.hpp"
#include "fpsim/experiments/layers/linear.hpp"
#include "fpsim/experiments/models/parameter.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/train_config.hpp"

namespace fpsim::experiments {

template <class T>
class Gpt {
 public:
  Gpt(const GptConfig& config, const Recipe& recipe);

  // GPT-2's initialisation: every weight matrix and both embeddings ~ N(0,
  // 0.02), the residual projections (attn.c_proj, mlp.c_proj) ~ N(0, 0.02 /
  // sqrt(2 * layers)), biases 0, LayerNorm weight 1 and bias 0; then rounded
  // to the master format.
  void init(uint32_t seed);

  std::vector<Parameter<T>>& parameters() { return params_; }
  const std::vector<Parameter<T>>& parameters() const { return params_; }

  // Mean next-token cross-entropy: tokens and targets [B, T] row-major,
  // T <= context. Keeps what backward needs.
  T forward(GemmRuntime& rt, std::span<const int32_t> tokens, std::span<const int32_t> targets, size_t batch);
  void backward(GemmRuntime& rt, T dloss);

 private:
  struct Block {
    size_t ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, mproj_w, mproj_b;  // param indices
    LinearSites attn_sites, proj_sites, fc_sites, mproj_sites;
    AttentionSites core_sites;
    // activations of the last forward
    BasicTensor<T> x_in, h1, qkv, a, o, x_mid, h2, f, g, m;
    LayerNormCache<T> ln1, ln2;
    AttentionCache<T> att;
  };
  Parameter<T>& param(size_t i) { return params_[i]; }

  GptConfig config_;
  Format fp32_ops_format_;
  Format master_format_;
  std::vector<Parameter<T>> params_;
  size_t wte_ = 0, wpe_ = 0, lnf_w_ = 0, lnf_b_ = 0;
  std::vector<Block> blocks_;
  LinearSites head_sites_;
  size_t batch_ = 0, seq_ = 0;
  std::vector<int32_t> tokens_, positions_, targets_;
  BasicTensor<T> tok_, pos_, x_out_, xf_, logits_;
  LayerNormCache<T> lnf_;
  CrossEntropyCache<T> ce_;
  // Gradient buffers reused step to step.
  BasicTensor<T> dlogits_, dxf_, dx_, dx_part_, d_branch_, d_tmp_, d_tmp2_, d_ln_, dtok_, dpos_, dwte_emb_, dummy_;
};

}  // namespace fpsim::experiments
