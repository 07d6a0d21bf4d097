// The mma.sync runner behind run_dot_batch (device_mma.hpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/gpu/mma_config.hpp"

namespace fpsim::gpu::detail {

std::vector<uint32_t> mma_sync_dot_batch(const MmaConfig& c, int k, std::span<const uint32_t> a,
                                         std::span<const uint32_t> b, std::span<const uint32_t> c_in);
// The unit-vector test plus a full 16×k × k×8 tile of small integers
// against its exact product (every fragment slot of A, B, C and D).
std::string mma_sync_layout_self_test(const MmaConfig& c);

}  // namespace fpsim::gpu::detail
