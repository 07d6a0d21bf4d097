// Linear layer (docs/training.md, "Linear"): three GEMMs through gemm() and
// one FP32 column sum for the bias gradient.
#include "fpsim/experiments/layers/linear.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "layer_util.hpp"

namespace fpsim::experiments {

namespace {

struct LinearDims {
  size_t rows, in, out;
};

// x [..., in], w [out, in], b [out]: the GEMM dimensions, or ConfigError
// naming the layer.
template <class T>
LinearDims linear_dims(const LinearSites& sites, const BasicTensor<T>& x, const BasicTensor<T>& w,
                       const BasicTensor<T>* b) {
  const std::string& layer = sites.fprop.layer;
  const size_t in = layer_util::last_dim(x, "linear '" + layer + "' input x");
  if (w.shape.size() != 2) {
    throw ConfigError("linear '" + layer + "': weight w must be [out, in], got " + layer_util::shape_text(w.shape));
  }
  const size_t out = w.shape[0];
  layer_util::expect_shape(w, {out, in}, "linear '" + layer + "' weight w (in = x's last dimension)");
  if (b) layer_util::expect_shape(*b, {out}, "linear '" + layer + "' bias b");
  return {x.size() / in, in, out};
}

template <class T>
std::vector<size_t> with_last(std::vector<size_t> shape, size_t last) {
  shape.back() = last;
  return shape;
}

}  // namespace

template <class T>
void linear_forward(GemmRuntime& rt, const LinearSites& sites, const BasicTensor<T>& x, const BasicTensor<T>& w,
                    const BasicTensor<T>* b, BasicTensor<T>& y) {
  const LinearDims d = linear_dims(sites, x, w, b);
  layer_util::reshape(y, with_last<T>(x.shape, d.out), sites.fprop.policy.output);
  // fprop: y[N, out] = x[N, in] · w[out, in]ᵀ (+ b); gemm rounds to output.
  gemm(rt, sites.fprop, MatrixView<T>{x.ptr(), d.rows, d.in, false}, MatrixView<T>{w.ptr(), d.out, d.in, true},
       b ? b->ptr() : nullptr, y.span());
}

template <class T>
void linear_backward(GemmRuntime& rt, const LinearSites& sites, const BasicTensor<T>& x, const BasicTensor<T>& w,
                     const BasicTensor<T>* b, const BasicTensor<T>& dy, BasicTensor<T>* dx, BasicTensor<T>& dw,
                     BasicTensor<T>* db) {
  const LinearDims d = linear_dims(sites, x, w, b);
  layer_util::expect_shape(dy, with_last<T>(x.shape, d.out), "linear '" + sites.fprop.layer + "' gradient dy");
  if (db && !b) throw ConfigError("linear '" + sites.fprop.layer + "': db requested for a layer without bias");

  const MatrixView<T> dy_rows{dy.ptr(), d.rows, d.out, false};
  if (dx) {
    // dgrad: dx[N, in] = dy[N, out] · w[out, in], in dgrad.policy.output,
    // then in x's format: the gradient of autocast's cast is a cast back.
    layer_util::reshape(*dx, x.shape, x.format);
    gemm(rt, sites.dgrad, dy_rows, MatrixView<T>{w.ptr(), d.out, d.in, false}, nullptr, dx->span());
    round_to_format(dx->span(), x.format);
  }
  // wgrad: dw[out, in] = dy[N, out]ᵀ · x[N, in], then in w's format.
  layer_util::reshape(dw, w.shape, w.format);
  gemm(rt, sites.wgrad, MatrixView<T>{dy.ptr(), d.rows, d.out, true}, MatrixView<T>{x.ptr(), d.rows, d.in, false},
       nullptr, dw.span());
  round_to_format(dw.span(), w.format);

  if (db) {
    // PyTorch's addmm backward: db = dy.sum(0), accumulated in FP32 and
    // written in dy's dtype; here rows r = 0..N-1 in order from +0.
    layer_util::reshape(*db, b->shape, b->format);
    std::fill(db->data.begin(), db->data.end(), T(0));
    for (size_t r = 0; r < d.rows; ++r) {
      const T* row = dy.ptr() + r * d.out;
      for (size_t j = 0; j < d.out; ++j) db->data[j] += row[j];
    }
    round_to_format(db->span(), dy.format);
    round_to_format(db->span(), b->format);
  }
}

template void linear_forward<float>(GemmRuntime&, const LinearSites&, const Tensor&, const Tensor&, const Tensor*,
                                    Tensor&);
template void linear_forward<double>(GemmRuntime&, const LinearSites&, const Tensor64&, const Tensor64&,
                                     const Tensor64*, Tensor64&);
template void linear_backward<float>(GemmRuntime&, const LinearSites&, const Tensor&, const Tensor&, const Tensor*,
                                     const Tensor&, Tensor*, Tensor&, Tensor*);
template void linear_backward<double>(GemmRuntime&, const LinearSites&, const Tensor64&, const Tensor64&,
                                      const Tensor64*, const Tensor64&, Tensor64*, Tensor64&, Tensor64*);

}  // namespace fpsim::experiments
