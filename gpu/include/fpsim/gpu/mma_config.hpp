// The tensor-core instructions gpu/ drives on a real Hopper GPU (H100/H200,
// sm_90a), named as data: which instruction (mma.sync or wgmma), which input
// format, which accumulator. Pure C++: compiled in every build, so the
// host-side code (golden files, comparisons, reports) is tested on the CPU.
//
// Shapes (PTX ISA, "Matrix shape" tables of mma and wgmma): mma.sync
// m16n8k16 for fp16/bf16, m16n8k8 for tf32, m16n8k32 for e4m3/e5m2; wgmma
// m64nNk16, m64nNk8 and m64nNk32 for the same inputs (gpu/ uses N = 8).
// bf16 and tf32 accumulate in fp32 only; fp16, e4m3 and e5m2 in fp32 or fp16.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "fpsim/format.hpp"

namespace fpsim::gpu {

enum class MmaInstruction { mma_sync, wgmma };
enum class MmaInput { fp16, bf16, tf32, e4m3, e5m2 };
enum class MmaAccumulator { fp32, fp16 };

struct MmaConfig {
  MmaInstruction instruction = MmaInstruction::mma_sync;
  MmaInput input = MmaInput::fp16;
  MmaAccumulator accumulator = MmaAccumulator::fp32;
};

std::string_view instruction_name(MmaInstruction i);  // "mma.sync", "wgmma"
// "mma.sync-fp16-fp32", "wgmma-e4m3-fp16": instruction, input, accumulator.
std::string config_name(const MmaConfig& c);
// The inverse of config_name; throws OptionError naming the known configs.
MmaConfig parse_config(std::string_view name);

// K of one instruction: 16 (fp16, bf16), 8 (tf32), 32 (e4m3, e5m2).
int instruction_k(const MmaConfig& c);
// The PTX shape, e.g. "m16n8k16", "m64n8k32".
std::string instruction_shape(const MmaConfig& c);
// The PTX instruction as written in gpu/src, e.g.
// "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32".
std::string instruction_text(const MmaConfig& c);

Format input_format(const MmaConfig& c);   // formats::fp16, bf16, tf32, e4m3, e5m2
Format output_format(const MmaConfig& c);  // formats::fp32 or fp16

// The fpsim preset that models this configuration on an H100/H200
// (spec in docs/mma.md), e.g. "h100-e4m3-fp32"; "" where none exists.
std::string model_preset(const MmaConfig& c);

// Every configuration Hopper offers on both instructions: fp16 → fp32/fp16,
// bf16 → fp32, tf32 → fp32, e4m3 → fp32/fp16, e5m2 → fp32/fp16 (16 in all).
std::span<const MmaConfig> all_configs();

}  // namespace fpsim::gpu
