// `fpsim gpu ...`: gpu/'s checks on a real Hopper GPU (docs/gpu.md). Every
// build has the command; one built without CUDA says so and exits 2.
#pragma once

namespace CLI {
class App;
}

namespace fpsim::cli {

// `fpsim gpu` and its subcommands (info, selftest, probe, golden, and the
// two below).
void add_gpu_command(CLI::App& app, int& exit_code);

// `fpsim gpu convert`: the exhaustive conversion checks (gpu_convert_command.cpp).
void add_gpu_convert_command(CLI::App& gpu, int& exit_code);
// `fpsim gpu cublaslt`: cuBLASLt FP8 GEMM against the MMA model (gpu_cublaslt_command.cpp).
void add_gpu_cublaslt_command(CLI::App& gpu, int& exit_code);

}  // namespace fpsim::cli
