// A real tensor-core instruction behind the probe suite's MmaTarget
// interface (fpsim/probe/mma_target.hpp): `fpsim probe --target
// gpu:mma.sync-e4m3-fp32` runs the same probes as on the model and the CPU
// matrix units. CUDA-enabled builds only.
#pragma once

#include <memory>

#include "fpsim/gpu/mma_config.hpp"
#include "fpsim/probe/mma_target.hpp"

namespace fpsim::gpu {

// Named "gpu:<config name>"; any K (zero-padded and chained through the
// accumulator, device_mma.hpp). Throws fpsim::Error when no Hopper device is
// usable or the configuration's layout self-test fails (a target whose
// operands land in the wrong slots would make every probe answer wrong).
std::unique_ptr<probe::MmaTarget> make_device_mma_target(const MmaConfig& config);

}  // namespace fpsim::gpu
