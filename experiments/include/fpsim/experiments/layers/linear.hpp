// Linear layer y = x·wᵀ + b (docs/training.md, "Layers"), llm.c style: one
// forward and one backward function over flat row-major arrays. All three
// matmuls go through gemm() with the caller's sites, so a recipe acts on this
// layer only through those policies (docs/architecture.md, experiments/).
//
// Formats (PyTorch autocast, docs/training.md "Which format each op writes"):
// y is written by the fprop GEMM in fprop.policy.output; dx and dw are the
// dgrad / wgrad outputs rounded once more to the format of x and w (the
// gradient of autocast's cast goes back to the source dtype); db is summed in
// FP32 and written in dy's format, then in b's.
#pragma once

#include "fpsim/experiments/gemm.hpp"
#include "fpsim/experiments/tensor.hpp"

namespace fpsim::experiments {

// The three GEMMs of one Linear layer. The caller fills in the layer name,
// the policies and the tensor names: fprop a = "x", b = "w"; dgrad a = "dy",
// b = "w"; wgrad a = "dy", b = "x".
struct LinearSites {
  GemmSite fprop, dgrad, wgrad;
};

// x [..., in] (any leading shape, flattened to N rows), w [out, in], b [out]
// or null. Writes y [..., out] (shape set here) tagged fprop.policy.output.
// Throws ConfigError naming the layer when the shapes disagree.
template <class T>
void linear_forward(GemmRuntime& rt, const LinearSites& sites, const BasicTensor<T>& x, const BasicTensor<T>& w,
                    const BasicTensor<T>* b, BasicTensor<T>& y);

// dy [..., out] the gradient of y. Writes (overwrites, shapes set here):
// dx (unless null: the first layer needs none) = dy·w, in x.format;
// dw = dyᵀ·x, in w.format; db (when non-null; b must then be given) =
// column sums of dy, in b.format.
template <class T>
void linear_backward(GemmRuntime& rt, const LinearSites& sites, const BasicTensor<T>& x, const BasicTensor<T>& w,
                     const BasicTensor<T>* b, const BasicTensor<T>& dy, BasicTensor<T>* dx, BasicTensor<T>& dw,
                     BasicTensor<T>* db);

}  // namespace fpsim::experiments
