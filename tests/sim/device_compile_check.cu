// The scalar core's headers compile as CUDA device code (docs/architecture.md: the same
// headers serve the CPU and the GPU through FPSIM_HD). Compiled by nvcc in a
// CTest when the toolkit is present; nothing here runs.
#include "fpsim/arith.hpp"
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

// Arithmetic on the device: a tensor-core-shaped step (fp16 factors, fp32
// addend, one rounding) and the other operations.
__global__ void arithmetic_on_the_device(const unsigned short* a, const unsigned short* b, const unsigned* c,
                                         unsigned* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  constexpr fpsim::Format fp16 = fpsim::formats::fp16;
  constexpr fpsim::Format fp32 = fpsim::formats::fp32;
  const fpsim::RoundingSpec spec;
  fpsim::Flags flags;
  uint64_t r = fpsim::fma(a[i], fp16, b[i], fp16, c[i], fp32, fp32, spec, flags, static_cast<uint64_t>(i));
  // fp32 and bf16 add go through the host-double sum (arith_fast.hpp), with
  // the device's bit casts.
  constexpr fpsim::Format bf16 = fpsim::formats::bf16;
  r ^= fpsim::add(c[i], c[i] >> 1, fp32, spec, flags) ^ fpsim::sub(c[i] >> 16, a[i], bf16, spec, flags);
  r ^= fpsim::add(a[i], b[i], fp16, spec, flags) ^ fpsim::div(a[i], b[i], fp16, spec, flags) ^
       fpsim::sqrt(a[i], fp16, spec, flags);
  r ^= fpsim::compare(fpsim::Comparison::lt, true, a[i], fp16, c[i], fp32, spec, flags) ? 1u : 0u;
  r ^= fpsim::min_max(fpsim::MinMax::minimum_number, a[i], fp16, b[i], fp16, fp16, spec, flags);
  out[i] = static_cast<unsigned>(r) ^ flags.bits;
}
