#include "fpsim/experiments/models/gpt.hpp"

#include <cmath>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/layers/activations.hpp"
#include "fpsim/experiments/layers/embedding.hpp"
#include "fpsim/experiments/models/linear_sites.hpp"

namespace fpsim::experiments {

namespace {

// a += b (one FP32 add per element, then a's format): autograd's
// accumulation of the two gradients of a tensor used twice.
template <class T>
void accumulate(BasicTensor<T>& a, const BasicTensor<T>& b) {
  for (size_t i = 0; i < a.size(); ++i) a.data[i] += b.data[i];
  round_to_format(a.span(), a.format);
}

}  // namespace

template <class T>
Gpt<T>::Gpt(const GptConfig& c, const Recipe& recipe)
    : config_(c), fp32_ops_format_(recipe.fp32_ops_format), master_format_(recipe.master_format) {
  if (c.vocab < 2 || c.width == 0 || c.heads == 0 || c.width % c.heads != 0 || c.context == 0 || c.layers == 0) {
    throw ConfigError("gpt: needs vocab >= 2, layers >= 1, context >= 1 and width a positive multiple of heads");
  }
  const size_t C = c.width;
  auto add = [&](const std::string& name, std::vector<size_t> shape, bool decay) {
    Parameter<T> p{name, BasicTensor<T>(std::move(shape), master_format_), {}, decay};
    p.grad = p.value.zeros_like();
    params_.push_back(std::move(p));
    return params_.size() - 1;
  };
  wte_ = add("transformer.wte.weight", {c.vocab, C}, true);
  wpe_ = add("transformer.wpe.weight", {c.context, C}, true);
  blocks_.resize(c.layers);
  for (size_t i = 0; i < c.layers; ++i) {
    Block& b = blocks_[i];
    const std::string h = "transformer.h." + std::to_string(i);
    b.ln1_w = add(h + ".ln_1.weight", {C}, false);
    b.ln1_b = add(h + ".ln_1.bias", {C}, false);
    b.attn_w = add(h + ".attn.c_attn.weight", {3 * C, C}, true);
    b.attn_b = add(h + ".attn.c_attn.bias", {3 * C}, false);
    b.proj_w = add(h + ".attn.c_proj.weight", {C, C}, true);
    b.proj_b = add(h + ".attn.c_proj.bias", {C}, false);
    b.ln2_w = add(h + ".ln_2.weight", {C}, false);
    b.ln2_b = add(h + ".ln_2.bias", {C}, false);
    b.fc_w = add(h + ".mlp.c_fc.weight", {4 * C, C}, true);
    b.fc_b = add(h + ".mlp.c_fc.bias", {4 * C}, false);
    b.mproj_w = add(h + ".mlp.c_proj.weight", {C, 4 * C}, true);
    b.mproj_b = add(h + ".mlp.c_proj.bias", {C}, false);
    b.attn_sites = linear_sites(recipe, h + ".attn.c_attn");
    b.proj_sites = linear_sites(recipe, h + ".attn.c_proj");
    b.fc_sites = linear_sites(recipe, h + ".mlp.c_fc");
    b.mproj_sites = linear_sites(recipe, h + ".mlp.c_proj");
    b.core_sites = attention_sites(h + ".attn", recipe.attention);
  }
  lnf_w_ = add("transformer.ln_f.weight", {C}, false);
  lnf_b_ = add("transformer.ln_f.bias", {C}, false);
  head_sites_ = linear_sites(recipe, "lm_head");
}

template <class T>
void Gpt<T>::init(uint32_t seed) {
  const double residual_std = 0.02 / std::sqrt(2.0 * double(config_.layers));
  for (Parameter<T>& p : params_) {
    const std::string& n = p.name;
    if (n.ends_with(".bias")) {
      std::fill(p.value.data.begin(), p.value.data.end(), T(0));
    } else if (n.find(".ln_") != std::string::npos) {
      std::fill(p.value.data.begin(), p.value.data.end(), T(1));
    } else {
      const bool residual = n.ends_with("c_proj.weight");
      init_normal(p.value.span(), residual ? residual_std : 0.02, seed, parameter_stream_id(n));
    }
    round_to_format(p.value.span(), master_format_);
  }
}

template <class T>
T Gpt<T>::forward(GemmRuntime& rt, std::span<const int32_t> tokens, std::span<const int32_t> targets, size_t batch) {
  const size_t C = config_.width;
  const BasicTensor<T>* no_bias = nullptr;
  if (batch == 0 || tokens.size() % batch != 0 || tokens.size() != targets.size()) {
    throw ConfigError("gpt: tokens and targets must both be [batch, T]");
  }
  const size_t seq = tokens.size() / batch;
  if (seq == 0 || seq > config_.context) {
    throw ConfigError("gpt: sequence length " + std::to_string(seq) + " must be 1.." + std::to_string(config_.context));
  }
  batch_ = batch;
  seq_ = seq;
  tokens_.assign(tokens.begin(), tokens.end());
  targets_.assign(targets.begin(), targets.end());
  positions_.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) positions_[i] = int32_t(i % seq);

  // x = wte[tokens] + wpe[positions]
  embedding_forward(param(wte_).value, tokens_, tok_);
  embedding_forward(param(wpe_).value, positions_, pos_);
  tok_.shape = {batch, seq, C};
  pos_.shape = {batch, seq, C};
  BasicTensor<T>* x = &x_out_;
  residual_forward(tok_, pos_, x_out_);
  for (Block& b : blocks_) {
    b.x_in = *x;
    layernorm_forward(b.x_in, param(b.ln1_w).value, param(b.ln1_b).value, fp32_ops_format_, b.h1, b.ln1);
    linear_forward(rt, b.attn_sites, b.h1, param(b.attn_w).value, &param(b.attn_b).value, b.qkv);
    attention_forward(rt, b.core_sites, b.qkv, config_.heads, fp32_ops_format_, b.a, b.att);
    linear_forward(rt, b.proj_sites, b.a, param(b.proj_w).value, &param(b.proj_b).value, b.o);
    residual_forward(b.x_in, b.o, b.x_mid);
    layernorm_forward(b.x_mid, param(b.ln2_w).value, param(b.ln2_b).value, fp32_ops_format_, b.h2, b.ln2);
    linear_forward(rt, b.fc_sites, b.h2, param(b.fc_w).value, &param(b.fc_b).value, b.f);
    gelu_forward(b.f, b.g);
    linear_forward(rt, b.mproj_sites, b.g, param(b.mproj_w).value, &param(b.mproj_b).value, b.m);
    residual_forward(b.x_mid, b.m, x_out_);
    x = &x_out_;
  }
  layernorm_forward(x_out_, param(lnf_w_).value, param(lnf_b_).value, fp32_ops_format_, xf_, lnf_);
  linear_forward(rt, head_sites_, xf_, param(wte_).value, no_bias, logits_);
  logits_.shape = {batch * seq, config_.vocab};
  return cross_entropy_forward(logits_, targets_, fp32_ops_format_, ce_);
}

template <class T>
void Gpt<T>::backward(GemmRuntime& rt, T dloss) {
  const BasicTensor<T>* no_bias = nullptr;
  BasicTensor<T>* no_bias_grad = nullptr;
  cross_entropy_backward(logits_, targets_, ce_, dloss, dlogits_);
  dlogits_.shape = {batch_, seq_, config_.vocab};
  // The LM head: its weight gradient is the first half of wte's.
  linear_backward(rt, head_sites_, xf_, param(wte_).value, no_bias, dlogits_, &dxf_, param(wte_).grad, no_bias_grad);
  layernorm_backward(x_out_, param(lnf_w_).value, lnf_, dxf_, dx_, param(lnf_w_).grad, param(lnf_b_).grad);
  for (size_t i = blocks_.size(); i-- > 0;) {
    Block& b = blocks_[i];
    // x_out = x_mid + m
    residual_backward(b.x_mid, b.m, dx_, dx_part_, d_branch_);
    linear_backward(rt, b.mproj_sites, b.g, param(b.mproj_w).value, &param(b.mproj_b).value, d_branch_, &d_tmp_,
                    param(b.mproj_w).grad, &param(b.mproj_b).grad);
    gelu_backward(b.f, d_tmp_, d_tmp2_);
    linear_backward(rt, b.fc_sites, b.h2, param(b.fc_w).value, &param(b.fc_b).value, d_tmp2_, &d_tmp_,
                    param(b.fc_w).grad, &param(b.fc_b).grad);
    layernorm_backward(b.x_mid, param(b.ln2_w).value, b.ln2, d_tmp_, d_ln_, param(b.ln2_w).grad,
                       param(b.ln2_b).grad);
    accumulate(dx_part_, d_ln_);  // d x_mid
    // x_mid = x_in + o
    residual_backward(b.x_in, b.o, dx_part_, dx_, d_branch_);
    linear_backward(rt, b.proj_sites, b.a, param(b.proj_w).value, &param(b.proj_b).value, d_branch_, &d_tmp_,
                    param(b.proj_w).grad, &param(b.proj_b).grad);
    attention_backward(rt, b.core_sites, b.qkv, d_tmp_, b.att, d_tmp2_);
    linear_backward(rt, b.attn_sites, b.h1, param(b.attn_w).value, &param(b.attn_b).value, d_tmp2_, &d_tmp_,
                    param(b.attn_w).grad, &param(b.attn_b).grad);
    layernorm_backward(b.x_in, param(b.ln1_w).value, b.ln1, d_tmp_, d_ln_, param(b.ln1_w).grad,
                       param(b.ln1_b).grad);
    accumulate(dx_, d_ln_);  // d x_in
  }
  // x = tok + pos
  residual_backward(tok_, pos_, dx_, dtok_, dpos_);
  dtok_.shape = {batch_ * seq_, config_.width};
  dpos_.shape = {batch_ * seq_, config_.width};
  embedding_backward(param(wte_).value, tokens_, dtok_, dwte_emb_);
  embedding_backward(param(wpe_).value, positions_, dpos_, param(wpe_).grad);
  // wte's gradient: the LM head's plus the embedding's (autograd's sum).
  accumulate(param(wte_).grad, dwte_emb_);
}

template class Gpt<float>;
template class Gpt<double>;

}  // namespace fpsim::experiments
