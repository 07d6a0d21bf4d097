#include "fpsim/experiments/data_order.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/philox.hpp"

namespace fpsim::experiments {

namespace {

constexpr size_t kMaxIndex = size_t(std::numeric_limits<int32_t>::max());

}  // namespace

uint32_t philox_uniform_below(uint32_t range, uint32_t key0, uint32_t key1, uint32_t c0, uint32_t c1,
                              PhiloxPurpose purpose) {
  if (range == 0) throw ConfigError("philox_uniform_below: range 0, expected at least 1");
  // 2^32 mod range, computed in 32 bits as (2^32 - range) mod range.
  const uint32_t excess = (0u - range) % range;
  const uint32_t limit_minus_one = 0xffffffffu - excess;  // 2^32 - excess - 1: the largest accepted x
  for (uint32_t attempt = 0;; ++attempt) {
    const uint32_t counter[4] = {c0, c1, uint32_t(purpose), attempt};
    const uint32_t x = philox4x32_10(counter, key0, key1).w[0];
    if (x <= limit_minus_one) return x % range;
  }
}

std::vector<int32_t> epoch_permutation(uint32_t data_seed, uint32_t epoch, size_t n) {
  if (n > kMaxIndex)
    throw ConfigError("data order: " + std::to_string(n) + " training rows, expected at most 2^31 - 1");
  std::vector<int32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (size_t i = n; i-- > 1;) {
    const uint32_t j = philox_uniform_below(uint32_t(i + 1), data_seed, epoch, uint32_t(i), 0, PhiloxPurpose::shuffle);
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

std::vector<int32_t> mlp_batch_order(uint32_t data_seed, size_t n_train, size_t batch, uint64_t steps) {
  if (n_train == 0) throw ConfigError("data order: the training set is empty");
  if (batch == 0) throw ConfigError("data order: batch 0, expected at least 1");
  if (n_train > kMaxIndex)
    throw ConfigError("data order: " + std::to_string(n_train) + " training rows, expected at most 2^31 - 1");
  const uint64_t positions = steps * batch;
  if (positions / batch != steps) throw ConfigError("data order: steps x batch overflows 64 bits");
  const uint64_t epochs = positions == 0 ? 0 : (positions - 1) / n_train + 1;
  if (epochs > (uint64_t(1) << 32))
    throw ConfigError("data order: " + std::to_string(epochs) + " epochs needed, expected at most 2^32");
  std::vector<int32_t> order;
  order.reserve(positions);
  for (uint64_t epoch = 0; epoch < epochs; ++epoch) {
    const std::vector<int32_t> perm = epoch_permutation(data_seed, uint32_t(epoch), n_train);
    const size_t take = size_t(std::min<uint64_t>(n_train, positions - order.size()));
    order.insert(order.end(), perm.begin(), perm.begin() + take);
  }
  return order;
}

std::vector<int32_t> gpt_window_offsets(uint32_t data_seed, size_t n_train, size_t context, size_t batch,
                                        uint64_t steps) {
  if (batch == 0) throw ConfigError("data order: batch 0, expected at least 1");
  if (context == 0) throw ConfigError("data order: context 0, expected at least 1");
  if (n_train < context + 1)
    throw ConfigError("data order: context " + std::to_string(context) + " needs at least " +
                      std::to_string(context + 1) + " training tokens, the data set has " + std::to_string(n_train));
  if (n_train - context - 1 > kMaxIndex)
    throw ConfigError("data order: " + std::to_string(n_train) +
                      " training tokens: the largest window offset must fit in int32");
  // Step and row are 32-bit Philox key and counter words.
  if (batch > (uint64_t(1) << 32) || steps > (uint64_t(1) << 32))
    throw ConfigError("data order: steps and batch must each be at most 2^32");
  if (steps * batch / batch != steps) throw ConfigError("data order: steps x batch overflows 64 bits");
  const uint32_t range = uint32_t(n_train - context);
  std::vector<int32_t> offsets;
  offsets.reserve(steps * batch);
  for (uint64_t s = 0; s < steps; ++s)
    for (size_t b = 0; b < batch; ++b)
      offsets.push_back(
          int32_t(philox_uniform_below(range, data_seed, uint32_t(s), uint32_t(b), 0, PhiloxPurpose::window)));
  return offsets;
}

std::vector<int32_t> gpt_val_offsets(size_t n_val, size_t context, size_t count) {
  if (context == 0) throw ConfigError("validation windows: context 0, expected at least 1");
  if (count == 0) throw ConfigError("validation windows: count 0, expected at least 1");
  if (n_val == 0 || count > (n_val - 1) / context)
    throw ConfigError("validation windows: " + std::to_string(count) + " windows of context " +
                      std::to_string(context) + " need " + std::to_string(count) + " x " + std::to_string(context) +
                      " + 1 validation tokens, the data set has " + std::to_string(n_val));
  if ((count - 1) * context > kMaxIndex)
    throw ConfigError("validation windows: the last offset " + std::to_string((count - 1) * context) +
                      " does not fit in int32");
  std::vector<int32_t> offsets(count);
  for (size_t i = 0; i < count; ++i) offsets[i] = int32_t(i * context);
  return offsets;
}

}  // namespace fpsim::experiments
