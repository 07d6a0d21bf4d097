#include "fpsim/experiments/models/mlp.hpp"

#include <cmath>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/layers/activations.hpp"
#include "fpsim/experiments/models/linear_sites.hpp"

namespace fpsim::experiments {

template <class T>
Mlp<T>::Mlp(const MlpConfig& config, const Recipe& recipe)
    : config_(config), fp32_ops_format_(recipe.fp32_ops_format), master_format_(recipe.master_format) {
  if (config.inputs == 0 || config.hidden == 0 || config.classes < 2) {
    throw ConfigError("mlp: inputs and hidden must be >= 1 and classes >= 2");
  }
  const size_t layers = config.hidden_layers + 1;
  for (size_t l = 0; l < layers; ++l) {
    const std::string name = l + 1 == layers ? "head" : "fc" + std::to_string(l + 1);
    const size_t in = l == 0 ? config.inputs : config.hidden;
    const size_t out = l + 1 == layers ? config.classes : config.hidden;
    layer_names_.push_back(name);
    sites_.push_back(linear_sites(recipe, name));
    Parameter<T> w{name + ".weight", BasicTensor<T>({out, in}, master_format_), {}, true};
    Parameter<T> b{name + ".bias", BasicTensor<T>({out}, master_format_), {}, false};
    w.grad = w.value.zeros_like();
    b.grad = b.value.zeros_like();
    params_.push_back(std::move(w));
    params_.push_back(std::move(b));
  }
  inputs_.resize(layers);
  pre_.resize(layers);
}

template <class T>
void Mlp<T>::init(uint32_t seed) {
  for (size_t l = 0; l < sites_.size(); ++l) {
    // Both of nn.Linear's tensors use bound 1/sqrt(fan_in), fan_in = in.
    const double bound = 1.0 / std::sqrt(double(params_[2 * l].value.dim(1)));
    for (Parameter<T>* p : {&params_[2 * l], &params_[2 * l + 1]}) {
      init_uniform(p->value.span(), bound, seed, parameter_stream_id(p->name));
      round_to_format(p->value.span(), master_format_);
    }
  }
}

template <class T>
T Mlp<T>::forward(GemmRuntime& rt, std::span<const T> x, std::span<const int32_t> labels) {
  const size_t batch = labels.size();
  if (x.size() != batch * config_.inputs) {
    throw ConfigError("mlp: a batch of " + std::to_string(batch) + " labels needs " +
                      std::to_string(batch * config_.inputs) + " inputs, got " + std::to_string(x.size()));
  }
  const size_t layers = sites_.size();
  inputs_[0] = BasicTensor<T>({batch, config_.inputs}, formats::fp32);
  std::copy(x.begin(), x.end(), inputs_[0].data.begin());
  for (size_t l = 0; l < layers; ++l) {
    linear_forward(rt, sites_[l], inputs_[l], params_[2 * l].value, &params_[2 * l + 1].value, pre_[l]);
    if (l + 1 < layers) relu_forward(pre_[l], inputs_[l + 1]);
  }
  labels_.assign(labels.begin(), labels.end());
  return cross_entropy_forward(pre_[layers - 1], labels, fp32_ops_format_, ce_);
}

template <class T>
void Mlp<T>::backward(GemmRuntime& rt, T dloss) {
  const size_t layers = sites_.size();
  cross_entropy_backward(pre_[layers - 1], labels_, ce_, dloss, dlogits_);
  BasicTensor<T>* dy = &dlogits_;
  for (size_t l = layers; l-- > 0;) {
    Parameter<T>& w = params_[2 * l];
    Parameter<T>& b = params_[2 * l + 1];
    linear_backward(rt, sites_[l], inputs_[l], w.value, &b.value, *dy, l > 0 ? &dpost_ : nullptr, w.grad, &b.grad);
    if (l > 0) {
      relu_backward(pre_[l - 1], dpost_, dpre_);
      std::swap(dpre_, dlogits_);  // dlogits_ is free once the head's backward ran
      dy = &dlogits_;
    }
  }
}

template <class T>
std::vector<int32_t> Mlp<T>::predictions() const {
  const BasicTensor<T>& logits = pre_.back();
  const size_t rows = logits.dim(0);
  const size_t classes = logits.dim(1);
  std::vector<int32_t> out(rows);
  for (size_t r = 0; r < rows; ++r) {
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c) {
      if (logits.data[r * classes + c] > logits.data[r * classes + best]) best = c;
    }
    out[r] = int32_t(best);
  }
  return out;
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace fpsim::experiments
