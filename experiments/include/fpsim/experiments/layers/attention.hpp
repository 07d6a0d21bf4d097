// Causal multi-head self-attention core (Vaswani et al. 2017; llm.c
// attention_forward / attention_backward), from the fused qkv projection to
// the concatenated heads, before the output projection (a Linear). Every
// matmul goes through gemm() with the one attention policy of the recipe;
// softmax runs in FP32 and writes the recipe's fp32_ops_format
// (docs/training.md, "Attention").
//
// Per batch b and head h, with Q, K, V the [T, hs] slices of qkv:
//   S  = Q·Kᵀ                       gemm, rounded to policy.output
//   s  = fp32(S·scale), scale = 1/sqrt(hs) (one FP32 multiply after the GEMM)
//   P  = softmax over j <= i of s[i][j], in FP32, rounded to softmax_format;
//        P[i][j] = +0 for j > i (the causal mask)
//   O  = P·V                        gemm, rounded to policy.output
#pragma once

#include <string>
#include <vector>

#include "fpsim/experiments/gemm.hpp"
#include "fpsim/experiments/tensor.hpp"
#include "fpsim/format.hpp"

namespace fpsim::experiments {

// The six GEMM sites of one attention layer, all under the same policy:
//   qk fprop ("q","k"): S = Q·Kᵀ       pv fprop ("p","v"): O = P·V
//   dp dgrad ("dy","v"): dP = dO·Vᵀ    dv wgrad ("p","dy"): dV = Pᵀ·dO
//   dq dgrad ("ds","k"): dQ = dS·K     dk wgrad ("ds","q"): dK = dSᵀ·Q
// Built once per layer by attention_sites and reused every call.
struct AttentionSites {
  GemmSite qk, pv, dp, dv, dq, dk;
};
AttentionSites attention_sites(const std::string& layer, const GemmPolicy& policy);

// What backward needs (owned by the caller, (re)sized by forward): the
// dimensions, softmax_format and P of every (b, h), plus scratch.
template <class T>
struct AttentionCache {
  size_t batch = 0, seq = 0, channels = 0, heads = 0;
  Format softmax_format = formats::fp32;
  std::vector<T> p;  // [B, NH, T, T], rounded to softmax_format, zero above the diagonal
  // Per-head scratch: contiguous copies of the strided slices.
  std::vector<T> q, k, v, o, s, dO, dP, dS, dq, dk, dv;
};

// qkv [B, T, 3C]: q = channels [0, C), k = [C, 2C), v = [2C, 3C), head h
// at offset h·hs within each, hs = C / NH. Writes out [B, T, C] tagged
// sites.pv.policy.output. Throws ConfigError when NH does not divide C or
// the shape is not [B, T, 3C].
template <class T>
void attention_forward(GemmRuntime& rt, const AttentionSites& sites, const BasicTensor<T>& qkv, size_t n_head,
                       const Format& softmax_format, BasicTensor<T>& out, AttentionCache<T>& cache);

// dout [B, T, C]. Writes (overwrites) dqkv [B, T, 3C] in qkv.format.
template <class T>
void attention_backward(GemmRuntime& rt, const AttentionSites& sites, const BasicTensor<T>& qkv,
                        const BasicTensor<T>& dout, AttentionCache<T>& cache, BasicTensor<T>& dqkv);

}  // namespace fpsim::experiments
