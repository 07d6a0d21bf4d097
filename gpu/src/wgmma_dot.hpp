// The wgmma half of run_dot_batch and layout_self_test (device_mma.hpp),
// implemented in wgmma_dot.cu; the dispatcher in mma_sync_dot.cu calls these
// for MmaInstruction::wgmma. Only in a CUDA-enabled build.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/gpu/mma_config.hpp"

namespace fpsim::gpu::detail {

// run_dot_batch for a wgmma configuration (m64n8k16/k8/k32, A and B from
// shared memory, K-major, no swizzle). The first call for a configuration
// runs wgmma_layout_self_test to choose the descriptor convention and throws
// fpsim::Error when none passes.
std::vector<uint32_t> wgmma_dot_batch(const MmaConfig& c, int k, std::span<const uint32_t> a,
                                      std::span<const uint32_t> b, std::span<const uint32_t> c_in);

// layout_self_test for a wgmma configuration: tries each descriptor
// convention (fpsim/gpu/wgmma_layout.hpp) in order and keeps the first that
// passes every check. Returns "" when one passed, else what failed for each
// candidate. When `convention` is not null it receives the name of the
// convention that passed ("" if none). Throws fpsim::Error on a CUDA error
// or on a non-Hopper device.
std::string wgmma_layout_self_test(const MmaConfig& c, std::string* convention = nullptr);

// The name of the convention chosen for c so far, "" when none yet.
std::string wgmma_convention_name(const MmaConfig& c);

}  // namespace fpsim::gpu::detail
