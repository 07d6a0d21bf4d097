// cuBLASLt FP8 GEMM (e4m3 × e4m3 → fp32 / bf16, fast accumulation on and
// off) against fpsim's MMA model (docs/gpu.md, "cuBLASLt FP8 GEMM").
//
// The host side (inputs, candidate models, comparison, the raw file) is
// plain C++, built and tested everywhere; run_cublaslt_gemms (the GPU side,
// gpu/src/cublaslt_fp8_gemm.cu) exists only in a CUDA build (FPSIM_HAVE_GPU)
// and opens libcublasLt at run time, so the fpsim binary loads without it.
//
// Candidates (docs/mma.md, "FP8 accumulation in libraries"):
// the h100-e4m3-fp32 preset (one 13-bit block-FMA chain over all of K: fast
// accumulation) and the same with promotion every P K-elements (acc32 =
// RN32(acc32 + chain), the chain restarting at 0) for P = 32 … 512; when the
// algorithm cuBLASLt chose reports split-K S > 1, each of those also with K
// cut into S parts whose FP32 results are summed in order. A bf16 D is the
// FP32 result rounded to bf16 with RNE.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/error.hpp"

namespace fpsim::gpu {

enum class LtOutput : uint8_t { fp32, bf16 };
std::string_view lt_output_name(LtOutput o);  // "fp32", "bf16"

// One pair of operands: A (M×K) and B (K×N), row-major, e4m3 values as float.
struct LtInputs {
  std::string distribution;  // "sym" or "mixed" (lt_distributions), or any name for synthetic data
  int M = 0, N = 0, K = 0;
  uint64_t seed = 0;
  std::vector<float> A, B;
};

// The input distributions (docs/gpu.md):
//  "sym":   random sign, exponent uniform in [−3, 3], random 3-bit mantissa
//           (|x| in [0.125, 15]); sums of K ≤ 2^20 terms stay far below overflow.
//  "mixed": every finite e4m3 magnitude code up to 0x6F (subnormals 2^-9 …
//           through 120) with equal probability, positive with probability
//           3/4: magnitudes spanning 2^16 and sums that grow along K, so small
//           products meet a large running sum in the 13-bit accumulator.
std::span<const std::string_view> lt_distributions();
// Deterministic for a given seed on every platform (raw std::mt19937_64 bits).
// Throws OptionError for an unknown distribution or sizes outside 1..65536.
LtInputs make_lt_inputs(std::string_view distribution, int M, int N, int K, uint64_t seed);

// e4m3 codes of values that must be e4m3 values (throws OptionError naming
// the index otherwise), and back.
std::vector<uint8_t> e4m3_codes(std::span<const float> values);
float e4m3_value(uint8_t code);

// What cuBLASLt reports about the algorithm it chose (cublasLtMatmulAlgoConfig
// attributes; −1 where it could not be read).
struct LtAlgoInfo {
  int algo_id = -1, tile_id = -1, stages_id = -1, split_k = -1, reduction_scheme = -1;
  int swizzle = -1, custom_option = -1, cluster_shape_id = -1;
  uint64_t workspace_bytes = 0;
  float waves = 0;
  std::string text() const;  // "algo 66 tile 20 stages 22 splitK 1 reduction 0 ..."
};

// One GEMM on the GPU: D = A·B of inputs[input_index], row-major M×N, the
// GPU's fp32 or bf16 values widened to float. error != "": the GEMM did not
// run (cuBLASLt or CUDA status), D is empty.
struct LtRun {
  int input_index = 0;
  bool fast_accum = false;
  LtOutput output = LtOutput::fp32;
  std::vector<float> D;
  LtAlgoInfo algo;
  std::string error;
};

// One candidate model.
struct LtCandidate {
  int promotion = 0;  // K-elements between promotions; 0 = fast accumulation
  int split_k = 1;    // parts of K summed in FP32 after the chains
};
// "h100-e4m3-fp32", "h100-e4m3-fp32:promote128", "h100-e4m3-fp32:promote128 splitK=2";
// with " -> bf16 rne" for a bf16 D.
std::string lt_candidate_name(const LtCandidate& c, LtOutput o);
// The promotion intervals tried: 0, 32, 64, 128, 256, 512.
std::span<const int> lt_promotions();

// The model's FP32 D (before any bf16 rounding) for one candidate, M×N
// row-major; rows split over `threads` threads (0: all the machine has).
std::vector<float> lt_model_gemm(const LtInputs& in, const LtCandidate& c, int threads = 1);
// x rounded to the output type (bf16: RNE), widened to float.
float lt_round_output(float x, LtOutput o);

struct LtCandidateResult {
  LtCandidate candidate;
  std::string name;
  int64_t exact = 0;       // elements equal bit for bit
  double max_ulp = 0;      // max |gpu − model| in ulps of FP32 at the GPU value (inf: NaN/inf mismatch)
  double mean_ulp = 0;     // mean over all M·N elements (exact ones count 0)
  double max_ulp_out = 0;  // the same in ulps of the output type (bf16: 2^16 FP32 ulps)
};
struct LtMismatch {
  int row = 0, col = 0;
  float gpu = 0, model = 0;
  double ulp = 0;  // FP32 ulps at the GPU value
};
struct LtCaseResult {
  std::vector<LtCandidateResult> candidates;  // every candidate tried, in order
  std::vector<std::string> matching;          // names of the candidates with exact == M·N
  int best = -1;                              // index into candidates: most exact, then smallest max_ulp
  std::vector<LtMismatch> examples;           // up to 5 of the best candidate's mismatches
  std::string answer;                         // "match: …" or "none, best = X with n/M·N exact, max ulp u"
  std::string error;                          // copied from the run
};

// |gpu − model| in FP32 ulps of gpu (ulp(0) = 2^-149, subnormals 2^-149);
// 0 for identical bits; +0 vs −0 is 0 ulps but not exact; inf when either is
// NaN or inf and the bits differ.
double lt_ulp_distance(float gpu, float model);

// Compares every run with every candidate; model results are computed once
// per (inputs, candidate) on `threads` threads (0: all). The candidates of a
// run: every promotion interval, with split_k 1 and, when the run's algorithm
// reports split-K S > 1, with split_k S.
std::vector<LtCaseResult> compare_lt_runs(std::span<const LtInputs> inputs, std::span<const LtRun> runs,
                                          int threads = 0);

// The raw file: every input (as e4m3 codes) and every run's D, so the
// comparison can be rerun on any CPU (`fpsim gpu cublaslt --replay`). Binary,
// little-endian, magic "FPSIMLT1"; `meta` is free text (JSON from the CLI:
// device, cuBLASLt version). Throws IoError when the file cannot be written.
struct LtRawData {
  std::string meta;
  std::vector<LtInputs> inputs;
  std::vector<LtRun> runs;
};
void write_lt_raw(const std::string& path, const LtRawData& data);
// Throws IoError when the file cannot be read and ParseError naming the file
// and the byte offset when it is not a well-formed raw file.
LtRawData read_lt_raw(const std::string& path);
// Bytes write_lt_raw would write (to keep the file under a limit).
uint64_t lt_raw_size(const LtRawData& data);

#ifdef FPSIM_HAVE_GPU
// cuBLASLt could not be loaded (dlopen of libcublasLt.so.13, then
// libcublasLt.so), lacks a function, or cannot create a handle: an
// environment error (the CLI's exit status 2).
class CublasLtUnavailable : public Error {
 public:
  using Error::Error;
};

struct LtLibraryInfo {
  std::string library;   // the name dlopen succeeded with
  uint64_t version = 0;  // cublasLtGetVersion(), e.g. 130100 for 13.1.0
};
struct LtConfig {
  bool fast_accum = false;
  LtOutput output = LtOutput::fp32;
};
// For every input and every config, one cublasLtMatmul: D = A·B with A and B
// e4m3 in the "TN" layout FP8 needs (both K-major), compute CUBLAS_COMPUTE_32F,
// scale type CUDA_R_32F, alpha 1, beta 0, no scale pointers, C of D's type,
// CUBLASLT_MATMUL_DESC_FAST_ACCUM from the config, the heuristic's first
// algorithm with a 32 MiB workspace. A failed GEMM (cuBLASLt status, CUDA
// error) is recorded in its LtRun::error and the others still run. Throws
// CublasLtUnavailable (see above); the caller checks the device first
// (device_info.hpp).
std::vector<LtRun> run_cublaslt_gemms(std::span<const LtInputs> inputs, std::span<const LtConfig> configs,
                                      LtLibraryInfo* info);
#endif

}  // namespace fpsim::gpu
