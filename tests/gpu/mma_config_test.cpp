// gpu/'s tensor-core configurations as data (gpu/include/fpsim/gpu/mma_config.hpp).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim/gpu/mma_config.hpp"
#include "fpsim/mma.hpp"

namespace fpsim::gpu {
namespace {

TEST(GpuMmaConfig, EveryConfigNameParsesBackToItself) {
  std::set<std::string> names;
  for (const MmaConfig& c : all_configs()) {
    const std::string n = config_name(c);
    EXPECT_TRUE(names.insert(n).second) << n << " twice";
    const MmaConfig back = parse_config(n);
    EXPECT_EQ(back.instruction, c.instruction);
    EXPECT_EQ(back.input, c.input);
    EXPECT_EQ(back.accumulator, c.accumulator);
  }
  EXPECT_EQ(names.size(), 16u);
  EXPECT_TRUE(names.count("mma.sync-e4m3-fp16"));
  EXPECT_TRUE(names.count("wgmma-tf32-fp32"));
}

TEST(GpuMmaConfig, UnknownNameListsTheKnownOnes) {
  try {
    parse_config("wgmma-bf16-fp16");  // bf16 accumulates in fp32 only (PTX ISA)
    FAIL() << "no error";
  } catch (const OptionError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'wgmma-bf16-fp16'"), std::string::npos) << m;
    EXPECT_NE(m.find("mma.sync-fp16-fp32"), std::string::npos) << m;
  }
}

// The instruction texts, written out by hand from the PTX ISA's syntax of
// mma (m16n8k16 / m16n8k8 / m16n8k32, .row.col) and wgmma (m64nNk*).
TEST(GpuMmaConfig, InstructionTextsFollowThePtxSyntax) {
  EXPECT_EQ(instruction_text(parse_config("mma.sync-fp16-fp32")), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32");
  EXPECT_EQ(instruction_text(parse_config("mma.sync-fp16-fp16")), "mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16");
  EXPECT_EQ(instruction_text(parse_config("mma.sync-tf32-fp32")), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32");
  EXPECT_EQ(instruction_text(parse_config("mma.sync-e5m2-fp16")),
            "mma.sync.aligned.m16n8k32.row.col.f16.e5m2.e5m2.f16");
  EXPECT_EQ(instruction_text(parse_config("wgmma-bf16-fp32")), "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16");
  EXPECT_EQ(instruction_text(parse_config("wgmma-e4m3-fp32")), "wgmma.mma_async.sync.aligned.m64n8k32.f32.e4m3.e4m3");
  EXPECT_EQ(instruction_k(parse_config("wgmma-tf32-fp32")), 8);
  EXPECT_EQ(instruction_shape(parse_config("mma.sync-e4m3-fp32")), "m16n8k32");
}

// Every configuration has an H100 preset of the same formats, so golden rows
// and probe fits are compared with the model that claims to describe it.
TEST(GpuMmaConfig, EveryConfigHasAPresetOfItsFormats) {
  for (const MmaConfig& c : all_configs()) {
    const MmaModel m = mma_preset(model_preset(c));
    EXPECT_STREQ(m.input_a.name, input_format(c).name) << config_name(c);
    EXPECT_STREQ(m.input_b.name, input_format(c).name) << config_name(c);
    EXPECT_STREQ(m.output.name, output_format(c).name) << config_name(c);
  }
}

}  // namespace
}  // namespace fpsim::gpu
