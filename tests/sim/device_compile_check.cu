// The scalar core's headers compile as CUDA device code (design.md: the same
// headers serve the CPU and the GPU through FPSIM_HD). Compiled by nvcc in a
// CTest when the toolkit is present; nothing here runs.
#include "fpsim/convert.hpp"

__global__ void round_to_e4m3_stochastically(const float* in, unsigned char* out, int n, unsigned seed) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  // A local copy: device code may not odr-use host constants.
  constexpr fpsim::Format e4m3 = fpsim::formats::e4m3;
  fpsim::RoundingSpec spec;
  spec.rounding = fpsim::Rounding::sr;
  spec.overflow = fpsim::Overflow::saturate;
  spec.seed = seed;
  fpsim::Flags flags;
  out[i] = static_cast<unsigned char>(fpsim::from_float(in[i], e4m3, spec, flags, static_cast<uint64_t>(i)));
}
