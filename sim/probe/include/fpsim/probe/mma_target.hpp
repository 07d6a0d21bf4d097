// Anything that computes D = A·B + C for a given K, seen one dot product at a
// time: the MMA model, a real CPU matrix unit (AMX, AVX512-BF16) and, later,
// a GPU kernel. The probe suite (docs/mma.md, "The probe table") is written once against
// this interface (issue 5).
#pragma once

#include <span>
#include <string>

#include "fpsim/format.hpp"
#include "fpsim/mma.hpp"

namespace fpsim::probe {

class MmaTarget {
 public:
  virtual ~MmaTarget() = default;
  virtual std::string name() const = 0;
  // Operands a[k], b[k] are values of these formats (passed as floats).
  virtual Format input_format_a() const = 0;
  virtual Format input_format_b() const = 0;
  // D's format (fp32 or fp16); C is passed as a value of it.
  virtual Format output_format() const = 0;
  // The largest K of one call; 0 means any.
  virtual int max_k() const { return 0; }
  // d = sum_k a[k]*b[k] + c with K = a.size() == b.size(), widened to float.
  virtual float dot(std::span<const float> a, std::span<const float> b, float c) = 0;
};

// The MMA model behind the interface.
class ModelTarget final : public MmaTarget {
 public:
  explicit ModelTarget(MmaModel model) : model_(std::move(model)) {}
  std::string name() const override { return "model:" + model_.name; }
  Format input_format_a() const override { return model_.input_a; }
  Format input_format_b() const override { return model_.input_b; }
  Format output_format() const override { return model_.output; }
  float dot(std::span<const float> a, std::span<const float> b, float c) override {
    return mma_dot(model_, a, b, c);
  }
  const MmaModel& model() const { return model_; }

 private:
  MmaModel model_;
};

}  // namespace fpsim::probe
