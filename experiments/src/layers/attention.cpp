// Causal multi-head self-attention core (docs/training.md, "Attention"),
// after llm.c's attention_forward / attention_backward but with every matmul
// a gemm() call per (batch, head), so the recipe's attention policy acts on
// Q·Kᵀ, P·V and their four gradient GEMMs.
#include "fpsim/experiments/layers/attention.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "layer_util.hpp"

namespace fpsim::experiments {

namespace {

GemmSite make_site(const std::string& layer, GemmRole role, const char* a, const char* b, const GemmPolicy& p) {
  return GemmSite{layer, role, a, b, p};
}

struct Dims {
  size_t batch, seq, channels, heads, hs;
};

template <class T>
Dims qkv_dims(const AttentionSites& sites, const BasicTensor<T>& qkv, size_t n_head) {
  const std::string what = "attention '" + sites.qk.layer + "'";
  layer_util::last_dim(qkv, what + " input qkv");
  if (qkv.shape.size() != 3 || qkv.shape[2] % 3 != 0) {
    throw ConfigError(what + ": qkv must be [B, T, 3C], got " + layer_util::shape_text(qkv.shape));
  }
  const size_t c = qkv.shape[2] / 3;
  if (n_head == 0 || c % n_head != 0) {
    throw ConfigError(what + ": the number of heads " + std::to_string(n_head) +
                      " must divide C = " + std::to_string(c));
  }
  return {qkv.shape[0], qkv.shape[1], c, n_head, c / n_head};
}

// Copies the [T, hs] slice of head h of one of q, k, v (which = 0, 1, 2)
// of batch b out of qkv [B, T, 3C] into dst.
template <class T>
void gather_head(const BasicTensor<T>& qkv, const Dims& d, size_t b, size_t h, size_t which, std::vector<T>& dst) {
  dst.resize(d.seq * d.hs);
  for (size_t t = 0; t < d.seq; ++t) {
    const T* src = qkv.ptr() + (b * d.seq + t) * 3 * d.channels + which * d.channels + h * d.hs;
    std::copy(src, src + d.hs, dst.data() + t * d.hs);
  }
}

// The reverse for a [B, T, width] tensor whose head slices start at `offset`.
template <class T>
void scatter_head(const std::vector<T>& src, const Dims& d, size_t b, size_t h, size_t width, size_t offset, T* dst) {
  for (size_t t = 0; t < d.seq; ++t) {
    std::copy(src.data() + t * d.hs, src.data() + (t + 1) * d.hs, dst + (b * d.seq + t) * width + offset + h * d.hs);
  }
}

template <class T>
MatrixView<T> view(const std::vector<T>& m, size_t rows, size_t cols, bool transposed = false) {
  return MatrixView<T>{m.data(), rows, cols, transposed};
}

}  // namespace

AttentionSites attention_sites(const std::string& layer, const GemmPolicy& policy) {
  return AttentionSites{
      .qk = make_site(layer, GemmRole::fprop, "q", "k", policy),
      .pv = make_site(layer, GemmRole::fprop, "p", "v", policy),
      .dp = make_site(layer, GemmRole::dgrad, "dy", "v", policy),
      .dv = make_site(layer, GemmRole::wgrad, "p", "dy", policy),
      .dq = make_site(layer, GemmRole::dgrad, "ds", "k", policy),
      .dk = make_site(layer, GemmRole::wgrad, "ds", "q", policy),
  };
}

template <class T>
void attention_forward(GemmRuntime& rt, const AttentionSites& sites, const BasicTensor<T>& qkv, size_t n_head,
                       const Format& softmax_format, BasicTensor<T>& out, AttentionCache<T>& cache) {
  const Dims d = qkv_dims(sites, qkv, n_head);
  const size_t n = d.seq;
  const T scale = T(1) / std::sqrt(T(d.hs));
  cache.batch = d.batch;
  cache.seq = d.seq;
  cache.channels = d.channels;
  cache.heads = d.heads;
  cache.softmax_format = softmax_format;
  cache.p.resize(d.batch * d.heads * n * n);
  cache.s.resize(n * n);
  cache.o.resize(n * d.hs);
  layer_util::reshape(out, {d.batch, n, d.channels}, sites.pv.policy.output);

  for (size_t b = 0; b < d.batch; ++b) {
    for (size_t h = 0; h < d.heads; ++h) {
      gather_head(qkv, d, b, h, 0, cache.q);
      gather_head(qkv, d, b, h, 1, cache.k);
      gather_head(qkv, d, b, h, 2, cache.v);
      // S[T, T] = Q[T, hs] · K[T, hs]ᵀ, written by the GEMM in its output
      // format; the masked entries (j > i) are computed and never read.
      gemm(rt, sites.qk, view(cache.q, n, d.hs), view(cache.k, n, d.hs, true), nullptr, std::span<T>(cache.s));
      T* p = cache.p.data() + (b * d.heads + h) * n * n;
      for (size_t i = 0; i < n; ++i) {
        const T* srow = cache.s.data() + i * n;
        T* prow = p + i * n;
        // Row softmax over j = 0..i of s = fp32(S·scale): the max, then
        // e = exp(s - max), their sum in order from +0, then e / sum.
        T row_max = srow[0] * scale;
        for (size_t j = 1; j <= i; ++j) {
          const T sj = srow[j] * scale;
          if (sj > row_max) row_max = sj;
        }
        T sum = 0;
        for (size_t j = 0; j <= i; ++j) {
          prow[j] = std::exp(srow[j] * scale - row_max);
          sum += prow[j];
        }
        for (size_t j = 0; j <= i; ++j) prow[j] = prow[j] / sum;
        for (size_t j = i + 1; j < n; ++j) prow[j] = T(0);
      }
      round_to_format(std::span<T>(p, n * n), softmax_format);
      // O[T, hs] = P[T, T] · V[T, hs].
      gemm(rt, sites.pv, MatrixView<T>{p, n, n, false}, view(cache.v, n, d.hs), nullptr, std::span<T>(cache.o));
      scatter_head(cache.o, d, b, h, d.channels, 0, out.ptr());
    }
  }
}

template <class T>
void attention_backward(GemmRuntime& rt, const AttentionSites& sites, const BasicTensor<T>& qkv,
                        const BasicTensor<T>& dout, AttentionCache<T>& cache, BasicTensor<T>& dqkv) {
  const Dims d = qkv_dims(sites, qkv, cache.heads);
  const std::string what = "attention '" + sites.qk.layer + "'";
  if (d.batch != cache.batch || d.seq != cache.seq || d.channels != cache.channels) {
    throw ConfigError(what + " backward: qkv " + layer_util::shape_text(qkv.shape) +
                      " is not the input of the cached forward (run attention_forward on it first)");
  }
  layer_util::expect_shape(dout, {d.batch, d.seq, d.channels}, what + " gradient dout");
  const size_t n = d.seq;
  const T scale = T(1) / std::sqrt(T(d.hs));
  // S was written in the score GEMM's output format: its gradient goes back
  // to that format, as P's goes back to softmax_format.
  const Format& s_format = sites.qk.policy.output;
  cache.dP.resize(n * n);
  cache.dS.resize(n * n);
  cache.dq.resize(n * d.hs);
  cache.dk.resize(n * d.hs);
  cache.dv.resize(n * d.hs);
  layer_util::reshape(dqkv, qkv.shape, qkv.format);

  for (size_t b = 0; b < d.batch; ++b) {
    for (size_t h = 0; h < d.heads; ++h) {
      gather_head(qkv, d, b, h, 0, cache.q);
      gather_head(qkv, d, b, h, 1, cache.k);
      gather_head(qkv, d, b, h, 2, cache.v);
      cache.dO.resize(n * d.hs);
      for (size_t t = 0; t < n; ++t) {
        const T* src = dout.ptr() + (b * n + t) * d.channels + h * d.hs;
        std::copy(src, src + d.hs, cache.dO.data() + t * d.hs);
      }
      const T* p = cache.p.data() + (b * d.heads + h) * n * n;
      // dP[T, T] = dO · Vᵀ;  dV[T, hs] = Pᵀ · dO.
      gemm(rt, sites.dp, view(cache.dO, n, d.hs), view(cache.v, n, d.hs, true), nullptr, std::span<T>(cache.dP));
      round_to_format(std::span<T>(cache.dP), cache.softmax_format);
      gemm(rt, sites.dv, MatrixView<T>{p, n, n, true}, view(cache.dO, n, d.hs), nullptr, std::span<T>(cache.dv));
      // Softmax backward per row i (llm.c): r = Σ_{j<=i} dP·P as an FMA
      // chain from +0, then dS = fp32(fp32(P·fp32(dP − r))·scale) for j <= i
      // and exactly 0 above the diagonal (masked scores have no gradient).
      for (size_t i = 0; i < n; ++i) {
        const T* prow = p + i * n;
        const T* dprow = cache.dP.data() + i * n;
        T* dsrow = cache.dS.data() + i * n;
        T r = 0;
        for (size_t j = 0; j <= i; ++j) r = std::fma(dprow[j], prow[j], r);
        for (size_t j = 0; j <= i; ++j) dsrow[j] = (prow[j] * (dprow[j] - r)) * scale;
        for (size_t j = i + 1; j < n; ++j) dsrow[j] = T(0);
      }
      round_to_format(std::span<T>(cache.dS), s_format);
      // dQ[T, hs] = dS · K;  dK[T, hs] = dSᵀ · Q.
      gemm(rt, sites.dq, view(cache.dS, n, n), view(cache.k, n, d.hs), nullptr, std::span<T>(cache.dq));
      gemm(rt, sites.dk, view(cache.dS, n, n, true), view(cache.q, n, d.hs), nullptr, std::span<T>(cache.dk));
      scatter_head(cache.dq, d, b, h, 3 * d.channels, 0, dqkv.ptr());
      scatter_head(cache.dk, d, b, h, 3 * d.channels, d.channels, dqkv.ptr());
      scatter_head(cache.dv, d, b, h, 3 * d.channels, 2 * d.channels, dqkv.ptr());
    }
  }
  round_to_format(dqkv.span(), qkv.format);
}

template void attention_forward<float>(GemmRuntime&, const AttentionSites&, const Tensor&, size_t, const Format&,
                                       Tensor&, AttentionCache<float>&);
template void attention_forward<double>(GemmRuntime&, const AttentionSites&, const Tensor64&, size_t, const Format&,
                                        Tensor64&, AttentionCache<double>&);
template void attention_backward<float>(GemmRuntime&, const AttentionSites&, const Tensor&, const Tensor&,
                                        AttentionCache<float>&, Tensor&);
template void attention_backward<double>(GemmRuntime&, const AttentionSites&, const Tensor64&, const Tensor64&,
                                         AttentionCache<double>&, Tensor64&);

}  // namespace fpsim::experiments
