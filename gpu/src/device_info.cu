// Which CUDA device this process sees (device_info.hpp).
#include <cuda_runtime.h>

#include <string>

#include "fpsim/gpu/device_info.hpp"

namespace fpsim::gpu {
namespace {

std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

}  // namespace

bool hopper_device_available(std::string* why_not) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  std::string reason;
  if (e != cudaSuccess) {
    reason = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
  } else if (count == 0) {
    reason = "no CUDA device";
  } else {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) {
      reason = "cudaGetDeviceProperties failed";
    } else if (p.major != 9 || p.minor != 0) {
      // gpu/ is built for sm_90a only: wgmma and the arch-specific code
      // run on compute capability 9.0 exactly (PTX ISA, "sm_90a").
      reason = std::string(p.name) + " is compute capability " + std::to_string(p.major) + "." +
               std::to_string(p.minor) + "; gpu/ is built for 9.0 (sm_90a: H100, H200)";
    }
  }
  if (reason.empty()) return true;
  if (why_not) *why_not = reason;
  return false;
}

std::string device_description() {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return "no CUDA device";
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  return std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs, " + std::to_string(p.totalGlobalMem >> 20) +
         " MiB, CUDA driver API " + version_text(driver) + ", runtime " + version_text(runtime);
}

}  // namespace fpsim::gpu
