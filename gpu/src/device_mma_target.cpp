// A tensor-core instruction as a probe target (device_mma_target.hpp).
#include "fpsim/gpu/device_mma_target.hpp"

#include <bit>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/gpu/device_info.hpp"
#include "fpsim/gpu/device_mma.hpp"

namespace fpsim::gpu {
namespace {

class DeviceMmaTarget final : public probe::MmaTarget {
 public:
  explicit DeviceMmaTarget(const MmaConfig& c) : config_(c) {}
  std::string name() const override { return "gpu:" + config_name(config_); }
  Format input_format_a() const override { return input_format(config_); }
  Format input_format_b() const override { return input_format(config_); }
  Format output_format() const override { return gpu::output_format(config_); }
  float dot(std::span<const float> a, std::span<const float> b, float c) override {
    if (a.size() != b.size()) throw OptionError("a and b differ in length");
    std::vector<uint32_t> ab(a.size()), bb(b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ab[i] = std::bit_cast<uint32_t>(a[i]);
      bb[i] = std::bit_cast<uint32_t>(b[i]);
    }
    const uint32_t cb = std::bit_cast<uint32_t>(c);
    return std::bit_cast<float>(
        run_dot_batch(config_, static_cast<int>(a.size()), ab, bb, std::span<const uint32_t>(&cb, 1)).at(0));
  }

 private:
  MmaConfig config_;
};

}  // namespace

std::unique_ptr<probe::MmaTarget> make_device_mma_target(const MmaConfig& config) {
  std::string why;
  if (!hopper_device_available(&why)) throw Error("gpu:" + config_name(config) + ": " + why);
  const std::string failed = layout_self_test(config);
  if (!failed.empty())
    throw Error("gpu:" + config_name(config) + ": the operand layout self-test failed (" + failed + ")");
  return std::make_unique<DeviceMmaTarget>(config);
}

}  // namespace fpsim::gpu
