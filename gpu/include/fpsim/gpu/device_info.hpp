// Which CUDA device this process sees (CUDA-enabled builds only).
#pragma once

#include <string>

namespace fpsim::gpu {

// True when a CUDA device of compute capability 9.0 (Hopper) is usable;
// otherwise false and *why_not says why (no driver, no device, other arch).
bool hopper_device_available(std::string* why_not = nullptr);
// "NVIDIA H200, sm_90, 132 SMs, driver 13.0 (580.xx), runtime 13.0".
std::string device_description();

}  // namespace fpsim::gpu
