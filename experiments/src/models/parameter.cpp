#include "fpsim/experiments/models/parameter.hpp"

#include <cmath>
#include <numbers>

#include "fpsim/philox.hpp"

namespace fpsim::experiments {

uint32_t parameter_stream_id(std::string_view name) { return fnv1a_32(name); }

namespace {

PhiloxBlock init_block(uint64_t i, uint32_t seed, uint32_t stream) {
  const uint32_t counter[4] = {uint32_t(i), uint32_t(i >> 32), 0, 0};
  return philox4x32_10(counter, seed, stream);
}

double uniform01(uint32_t w) { return double(w >> 8) * 0x1p-24; }

template <class T>
void uniform_into(std::span<T> value, double bound, uint32_t seed, uint32_t stream) {
  for (size_t i = 0; i < value.size(); ++i) {
    const double u = uniform01(init_block(i, seed, stream).w[0]);
    value[i] = T(float(bound * (2.0 * u - 1.0)));
  }
}

template <class T>
void normal_into(std::span<T> value, double std, uint32_t seed, uint32_t stream) {
  for (size_t i = 0; i < value.size(); ++i) {
    const PhiloxBlock b = init_block(i, seed, stream);
    const double u1 = (double(b.w[0] >> 8) + 1.0) * 0x1p-24;
    const double u2 = uniform01(b.w[1]);
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    value[i] = T(float(std * z));
  }
}

}  // namespace

void init_uniform(std::span<float> v, double bound, uint32_t seed, uint32_t stream) {
  uniform_into(v, bound, seed, stream);
}
void init_uniform(std::span<double> v, double bound, uint32_t seed, uint32_t stream) {
  uniform_into(v, bound, seed, stream);
}
void init_normal(std::span<float> v, double std, uint32_t seed, uint32_t stream) { normal_into(v, std, seed, stream); }
void init_normal(std::span<double> v, double std, uint32_t seed, uint32_t stream) { normal_into(v, std, seed, stream); }

}  // namespace fpsim::experiments
