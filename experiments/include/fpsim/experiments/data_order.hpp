// The order in which a run sees its data (docs/training.md, "Data order"):
// a function of the data seed alone, never of the model seed, the recipe or
// the thread count, so every recipe of a comparison trains on the same
// batches and the fp32 noise floor can vary the data order by itself.
// The runner stores the result in data_order.safetensors.
//
// Randomness is Philox4x32-10 (fpsim/philox.hpp) keyed by (key0, key1) with
// a counter (c0, c1, purpose, attempt); `purpose` keeps the streams of
// different uses apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fpsim::experiments {

// Counter word 2 of each use of the generator (docs/training.md, "Data order").
enum class PhiloxPurpose : uint32_t {
  shuffle = 0,          // MLP: Fisher-Yates draws of one epoch
  window = 1,           // GPT: one training window's offset
  digit_prototype = 2,  // synthetic_digits: a class prototype's pixel
  digit_label = 3,      // synthetic_digits: a row's label
  digit_noise = 4,      // synthetic_digits: a row's pixel noise
  text_first = 5,       // synthetic_text: the first symbol
  text_keep = 6,        // synthetic_text: follow the rule or not
  text_random = 7,      // synthetic_text: a random symbol
};

// A uniform integer in [0, range), 1 <= range <= 2^32 - 1, unbiased by
// rejection: for attempt = 0, 1, 2, ... take x = word 0 of
// philox4x32_10(counter = {c0, c1, purpose, attempt}, key0, key1) and return
// x mod range for the first x < 2^32 - (2^32 mod range) (the largest multiple
// of range that fits; each attempt is accepted with probability > 1/2).
uint32_t philox_uniform_below(uint32_t range, uint32_t key0, uint32_t key1, uint32_t c0, uint32_t c1,
                              PhiloxPurpose purpose);

// Epoch `epoch`'s permutation of [0, n): start from the identity and, for
// i = n-1 down to 1, swap entries i and j where
// j = philox_uniform_below(i + 1, data_seed, epoch, i, 0, shuffle)
// (Fisher-Yates as in Knuth, TAOCP vol. 2, §3.4.2, Algorithm P).
// Throws ConfigError when n > 2^31 - 1.
std::vector<int32_t> epoch_permutation(uint32_t data_seed, uint32_t epoch, size_t n);

// The MLP's training batches, [steps x batch] row-major: the stream
// epoch_permutation(data_seed, 0, n_train) ++ epoch_permutation(data_seed, 1,
// n_train) ++ ..., cut into consecutive pieces of `batch`; row s (the batch of
// step s + 1) is stream positions [s*batch, (s+1)*batch). A batch may span
// two epochs; no batch is partial. Throws ConfigError when n_train or batch
// is 0, n_train > 2^31 - 1, or more than 2^32 epochs would be needed.
std::vector<int32_t> mlp_batch_order(uint32_t data_seed, size_t n_train, size_t batch, uint64_t steps);

// The GPT's training windows, [steps x batch] row-major: entry (s, b) is the
// offset o of window b of step s + 1, o = philox_uniform_below(n_train -
// context, data_seed, s, b, 0, window), uniform in [0, n_train - context - 1];
// the window is tokens [o, o + context + 1) (inputs [o, o + context), targets
// shifted by one). Throws ConfigError when batch or context is 0, n_train <
// context + 1, n_train - context >= 2^31, or steps > 2^32.
std::vector<int32_t> gpt_window_offsets(uint32_t data_seed, size_t n_train, size_t context, size_t batch,
                                        uint64_t steps);

// The GPT's validation windows: `count` non-overlapping windows from the
// start of the validation tokens, offsets 0, context, 2*context, ...; window
// i is tokens [i*context, i*context + context + 1) (its last token is the
// next window's first input). Throws ConfigError when context or count is 0
// or n_val < count*context + 1.
std::vector<int32_t> gpt_val_offsets(size_t n_val, size_t context, size_t count);

}  // namespace fpsim::experiments
