// The tensor-core configurations of gpu/ as data (mma_config.hpp).
#include "fpsim/gpu/mma_config.hpp"

#include <array>
#include <string>

#include "fpsim/error.hpp"

namespace fpsim::gpu {
namespace {

constexpr std::array<MmaConfig, 16> kConfigs = [] {
  std::array<MmaConfig, 16> a{};
  size_t n = 0;
  for (MmaInstruction i : {MmaInstruction::mma_sync, MmaInstruction::wgmma}) {
    a[n++] = {i, MmaInput::fp16, MmaAccumulator::fp32};
    a[n++] = {i, MmaInput::fp16, MmaAccumulator::fp16};
    a[n++] = {i, MmaInput::bf16, MmaAccumulator::fp32};
    a[n++] = {i, MmaInput::tf32, MmaAccumulator::fp32};
    a[n++] = {i, MmaInput::e4m3, MmaAccumulator::fp32};
    a[n++] = {i, MmaInput::e4m3, MmaAccumulator::fp16};
    a[n++] = {i, MmaInput::e5m2, MmaAccumulator::fp32};
    a[n++] = {i, MmaInput::e5m2, MmaAccumulator::fp16};
  }
  return a;
}();

// The PTX type names of the operands (PTX ISA, mma and wgmma "Syntax").
std::string_view ptx_input(MmaInput in) {
  switch (in) {
    case MmaInput::fp16: return "f16";
    case MmaInput::bf16: return "bf16";
    case MmaInput::tf32: return "tf32";
    case MmaInput::e4m3: return "e4m3";
    case MmaInput::e5m2: return "e5m2";
  }
  return "?";
}

std::string_view ptx_accumulator(MmaAccumulator a) { return a == MmaAccumulator::fp32 ? "f32" : "f16"; }

}  // namespace

std::string_view instruction_name(MmaInstruction i) { return i == MmaInstruction::mma_sync ? "mma.sync" : "wgmma"; }

std::string config_name(const MmaConfig& c) {
  return std::string(instruction_name(c.instruction))
      .append("-")
      .append(input_format(c).name)
      .append("-")
      .append(output_format(c).name);
}

MmaConfig parse_config(std::string_view name) {
  std::string known;
  for (const MmaConfig& c : kConfigs) {
    if (config_name(c) == name) return c;
    known.append(known.empty() ? "" : ", ").append(config_name(c));
  }
  throw OptionError("unknown GPU MMA configuration '" + std::string(name) + "' (known: " + known + ")");
}

int instruction_k(const MmaConfig& c) {
  switch (c.input) {
    case MmaInput::fp16:
    case MmaInput::bf16: return 16;
    case MmaInput::tf32: return 8;
    case MmaInput::e4m3:
    case MmaInput::e5m2: return 32;
  }
  return 0;
}

std::string instruction_shape(const MmaConfig& c) {
  return std::string(c.instruction == MmaInstruction::mma_sync ? "m16n8k" : "m64n8k") +
         std::to_string(instruction_k(c));
}

std::string instruction_text(const MmaConfig& c) {
  const std::string d(ptx_accumulator(c.accumulator)), in(ptx_input(c.input));
  if (c.instruction == MmaInstruction::mma_sync)
    return "mma.sync.aligned." + instruction_shape(c) + ".row.col." + d + "." + in + "." + in + "." + d;
  return "wgmma.mma_async.sync.aligned." + instruction_shape(c) + "." + d + "." + in + "." + in;
}

Format input_format(const MmaConfig& c) {
  switch (c.input) {
    case MmaInput::fp16: return formats::fp16;
    case MmaInput::bf16: return formats::bf16;
    case MmaInput::tf32: return formats::tf32;
    case MmaInput::e4m3: return formats::e4m3;
    case MmaInput::e5m2: return formats::e5m2;
  }
  return formats::fp32;
}

Format output_format(const MmaConfig& c) {
  return c.accumulator == MmaAccumulator::fp32 ? formats::fp32 : formats::fp16;
}

std::string model_preset(const MmaConfig& c) {
  return std::string("h100-").append(input_format(c).name).append("-").append(output_format(c).name);
}

std::span<const MmaConfig> all_configs() { return kConfigs; }

}  // namespace fpsim::gpu
