// cuBLASLt FP8 GEMMs on the GPU (cublaslt_fp8.hpp; docs/gpu.md, "cuBLASLt
// FP8 GEMM"). libcublasLt is opened at run time with dlopen: cublasLt.h
// gives the types, enums and function types only (nothing is linked), so the
// fpsim binary loads on machines without it and says so when asked to run.
//
// Layout (cuBLASLt docs, cublasLtMatmul "FP8" notes: A transposed, B not:
// "TN"): cuBLASLt is column-major, D (M×N) = op(A) (M×K) · B (K×N) with
// op(A) = Aᵀ, A stored K×M (ld K) and B stored K×N (ld K): both operands are
// K-major. Our row-major A (M×K) is exactly that A; B (K×N row-major) is
// transposed to N×K on the host. D comes back column-major (ld M).
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fpsim/gpu/cublaslt_fp8.hpp"

namespace fpsim::gpu {
namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;

// The functions fpsim uses, resolved from the library (the declarations in
// cublasLt.h give their types; decltype does not odr-use them).
struct LtApi {
  void* lib = nullptr;
  std::string name;
  decltype(&cublasLtGetVersion) get_version = nullptr;
  decltype(&cublasLtGetStatusString) status_string = nullptr;
  decltype(&cublasLtCreate) create = nullptr;
  decltype(&cublasLtDestroy) destroy = nullptr;
  decltype(&cublasLtMatmulDescCreate) desc_create = nullptr;
  decltype(&cublasLtMatmulDescDestroy) desc_destroy = nullptr;
  decltype(&cublasLtMatmulDescSetAttribute) desc_set = nullptr;
  decltype(&cublasLtMatrixLayoutCreate) layout_create = nullptr;
  decltype(&cublasLtMatrixLayoutDestroy) layout_destroy = nullptr;
  decltype(&cublasLtMatmulPreferenceCreate) pref_create = nullptr;
  decltype(&cublasLtMatmulPreferenceDestroy) pref_destroy = nullptr;
  decltype(&cublasLtMatmulPreferenceSetAttribute) pref_set = nullptr;
  decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic = nullptr;
  decltype(&cublasLtMatmulAlgoConfigGetAttribute) algo_get = nullptr;
  decltype(&cublasLtMatmul) matmul = nullptr;
};

template <class F>
void resolve(const LtApi& api, F& f, const char* symbol) {
  f = reinterpret_cast<F>(dlsym(api.lib, symbol));
  if (!f) throw CublasLtUnavailable("cuBLASLt unavailable: " + api.name + " has no " + symbol);
}

// Opened once per process and never closed (unloading cuBLASLt while the
// CUDA context lives is not worth the risk).
const LtApi& lt_api() {
  static const LtApi api = [] {
    LtApi a;
    std::string why;
    for (const char* name : {"libcublasLt.so.13", "libcublasLt.so"}) {
      a.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (a.lib) {
        a.name = name;
        break;
      }
      const char* e = dlerror();
      why += std::string(why.empty() ? "" : "; ") + (e ? e : name);
    }
    if (!a.lib) throw CublasLtUnavailable("cuBLASLt unavailable: " + why);
    resolve(a, a.get_version, "cublasLtGetVersion");
    resolve(a, a.status_string, "cublasLtGetStatusString");
    resolve(a, a.create, "cublasLtCreate");
    resolve(a, a.destroy, "cublasLtDestroy");
    resolve(a, a.desc_create, "cublasLtMatmulDescCreate");
    resolve(a, a.desc_destroy, "cublasLtMatmulDescDestroy");
    resolve(a, a.desc_set, "cublasLtMatmulDescSetAttribute");
    resolve(a, a.layout_create, "cublasLtMatrixLayoutCreate");
    resolve(a, a.layout_destroy, "cublasLtMatrixLayoutDestroy");
    resolve(a, a.pref_create, "cublasLtMatmulPreferenceCreate");
    resolve(a, a.pref_destroy, "cublasLtMatmulPreferenceDestroy");
    resolve(a, a.pref_set, "cublasLtMatmulPreferenceSetAttribute");
    resolve(a, a.heuristic, "cublasLtMatmulAlgoGetHeuristic");
    resolve(a, a.algo_get, "cublasLtMatmulAlgoConfigGetAttribute");
    resolve(a, a.matmul, "cublasLtMatmul");
    return a;
  }();
  return api;
}

// A failed call inside one GEMM: caught per run and stored in LtRun::error.
struct RunFailure {
  std::string what;
};

void check(const LtApi& api, cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw RunFailure{std::string(what) + ": " + api.status_string(s) + " (cublasStatus " + std::to_string(int(s)) +
                     ")"};
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw RunFailure{std::string(what) + ": " + cudaGetErrorString(e)};
}

// Device memory freed on every path.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }
  void allocate(size_t bytes) {
    release();
    check(cudaMalloc(&p_, bytes), "cudaMalloc");
    bytes_ = bytes;
  }
  void release() {
    if (p_) cudaFree(p_);
    p_ = nullptr;
    bytes_ = 0;
  }
  void* get() const { return p_; }
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

// cuBLASLt descriptors destroyed on every path.
struct Descriptors {
  const LtApi& api;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  explicit Descriptors(const LtApi& x) : api(x) {}
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
  ~Descriptors() {
    if (pref) api.pref_destroy(pref);
    for (cublasLtMatrixLayout_t l : {a, b, c, d})
      if (l) api.layout_destroy(l);
    if (op) api.desc_destroy(op);
  }
};

template <class T>
int algo_attribute(const LtApi& api, const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  T v{};
  size_t written = 0;
  if (api.algo_get(&algo, attr, &v, sizeof v, &written) != CUBLAS_STATUS_SUCCESS || written != sizeof v) return -1;
  return int(v);
}

LtAlgoInfo describe_algo(const LtApi& api, const cublasLtMatmulHeuristicResult_t& h) {
  LtAlgoInfo info;
  info.algo_id = algo_attribute<int32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_ID);
  info.tile_id = algo_attribute<uint32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_TILE_ID);
  info.stages_id = algo_attribute<uint32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_STAGES_ID);
  info.split_k = algo_attribute<int32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM);
  info.reduction_scheme = algo_attribute<uint32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME);
  info.swizzle = algo_attribute<uint32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING);
  info.custom_option = algo_attribute<uint32_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION);
  info.cluster_shape_id = algo_attribute<uint16_t>(api, h.algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID);
  info.workspace_bytes = h.workspaceSize;
  info.waves = h.wavesCount;
  return info;
}

// One GEMM of inputs already on the device (dA: M×K K-major, dB: N×K K-major),
// filling `run` as it goes (a failure after the heuristic keeps the algorithm).
void run_one(const LtApi& api, cublasLtHandle_t handle, const LtInputs& in, const LtConfig& cfg, const void* dA,
             const void* dB, DeviceBuffer& dD, DeviceBuffer& workspace, LtRun& run) {
  run.fast_accum = cfg.fast_accum;
  run.output = cfg.output;
  Descriptors ds(api);
  const bool bf16 = cfg.output == LtOutput::bf16;
  // FP8 inputs with an fp32 D take an fp32 C; with a bf16 D a bf16 C
  // (cuBLASLt docs, cublasLtMatmul FP8 type table).
  const cudaDataType_t out_type = bf16 ? CUDA_R_16BF : CUDA_R_32F;
  const size_t out_bytes = bf16 ? 2 : 4;
  const auto M = uint64_t(in.M), N = uint64_t(in.N), K = uint64_t(in.K);

  check(api, api.desc_create(&ds.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
  check(api, api.desc_set(ds.op, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa), "set TRANSA");
  check(api, api.desc_set(ds.op, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb), "set TRANSB");
  const int8_t fast = cfg.fast_accum ? 1 : 0;  // int8_t (cublasLt.h, CUBLASLT_MATMUL_DESC_FAST_ACCUM)
  check(api, api.desc_set(ds.op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof fast), "set FAST_ACCUM");

  check(api, api.layout_create(&ds.a, CUDA_R_8F_E4M3, K, M, int64_t(K)), "layout A");
  check(api, api.layout_create(&ds.b, CUDA_R_8F_E4M3, K, N, int64_t(K)), "layout B");
  check(api, api.layout_create(&ds.c, out_type, M, N, int64_t(M)), "layout C");
  check(api, api.layout_create(&ds.d, out_type, M, N, int64_t(M)), "layout D");

  check(api, api.pref_create(&ds.pref), "cublasLtMatmulPreferenceCreate");
  const uint64_t ws = workspace.bytes();
  check(api, api.pref_set(ds.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws), "set workspace");

  cublasLtMatmulHeuristicResult_t h{};
  int returned = 0;
  check(api, api.heuristic(handle, ds.op, ds.a, ds.b, ds.c, ds.d, ds.pref, 1, &h, &returned),
        "cublasLtMatmulAlgoGetHeuristic");
  if (returned < 1 || h.state != CUBLAS_STATUS_SUCCESS) throw RunFailure{"cuBLASLt found no algorithm"};
  run.algo = describe_algo(api, h);

  // D starts as zeros: beta = 0, so C (= D) is not read (cublasLtMatmul).
  check(cudaMemset(dD.get(), 0, M * N * out_bytes), "cudaMemset D");
  const float alpha = 1.0f, beta = 0.0f;  // host pointers (the default pointer mode)
  check(api,
        api.matmul(handle, ds.op, &alpha, dA, ds.a, dB, ds.b, &beta, dD.get(), ds.c, dD.get(), ds.d, &h.algo,
                   workspace.get(), workspace.bytes(), cudaStream_t(0)),
        "cublasLtMatmul");
  check(cudaGetLastError(), "after cublasLtMatmul");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

  std::vector<uint8_t> raw(M * N * out_bytes);
  check(cudaMemcpy(raw.data(), dD.get(), raw.size(), cudaMemcpyDeviceToHost), "cudaMemcpy D");
  run.D.resize(M * N);
  for (uint64_t j = 0; j < N; ++j)
    for (uint64_t i = 0; i < M; ++i) {
      const uint64_t src = j * M + i;  // column-major, ld M
      uint32_t bits = 0;
      if (bf16) {
        uint16_t b16 = 0;
        std::memcpy(&b16, raw.data() + 2 * src, 2);
        bits = uint32_t(b16) << 16;  // bf16 is fp32's top half
      } else {
        std::memcpy(&bits, raw.data() + 4 * src, 4);
      }
      run.D[i * N + j] = std::bit_cast<float>(bits);
    }
}

}  // namespace

std::vector<LtRun> run_cublaslt_gemms(std::span<const LtInputs> inputs, std::span<const LtConfig> configs,
                                      LtLibraryInfo* info) {
  const LtApi& api = lt_api();
  if (info) {
    info->library = api.name;
    info->version = uint64_t(api.get_version());
  }
  cublasLtHandle_t handle = nullptr;
  const cublasStatus_t s = api.create(&handle);
  if (s != CUBLAS_STATUS_SUCCESS)
    throw CublasLtUnavailable(std::string("cuBLASLt unavailable: cublasLtCreate: ") + api.status_string(s));
  struct HandleGuard {
    const LtApi& api;
    cublasLtHandle_t h;
    ~HandleGuard() { api.destroy(h); }
  } guard{api, handle};

  std::vector<LtRun> runs;
  DeviceBuffer dA, dB, dD, workspace;
  std::string setup_error;
  try {
    size_t max_a = 1, max_b = 1, max_d = 1;
    for (const LtInputs& in : inputs) {
      max_a = std::max(max_a, size_t(in.M) * size_t(in.K));
      max_b = std::max(max_b, size_t(in.K) * size_t(in.N));
      max_d = std::max(max_d, size_t(in.M) * size_t(in.N) * 4);
    }
    dA.allocate(max_a);
    dB.allocate(max_b);
    dD.allocate(max_d);
    workspace.allocate(kWorkspaceBytes);
  } catch (const RunFailure& f) {
    setup_error = f.what;
  }

  for (size_t i = 0; i < inputs.size(); ++i) {
    const LtInputs& in = inputs[i];
    std::string input_error = setup_error;
    if (input_error.empty()) {
      try {
        // A row-major M×K is already K-major; B K×N row-major becomes N×K.
        const std::vector<uint8_t> a = e4m3_codes(in.A), b_rows = e4m3_codes(in.B);
        std::vector<uint8_t> b(b_rows.size());
        for (size_t k = 0; k < size_t(in.K); ++k)
          for (size_t n = 0; n < size_t(in.N); ++n) b[n * size_t(in.K) + k] = b_rows[k * size_t(in.N) + n];
        check(cudaMemcpy(dA.get(), a.data(), a.size(), cudaMemcpyHostToDevice), "cudaMemcpy A");
        check(cudaMemcpy(dB.get(), b.data(), b.size(), cudaMemcpyHostToDevice), "cudaMemcpy B");
      } catch (const RunFailure& f) {
        input_error = f.what;
      }
    }
    for (const LtConfig& cfg : configs) {
      LtRun run;
      if (input_error.empty()) {
        try {
          run_one(api, handle, in, cfg, dA.get(), dB.get(), dD, workspace, run);
        } catch (const RunFailure& f) {
          run.D.clear();
          run.error = f.what;
        }
      } else {
        run.error = input_error;
      }
      run.input_index = int(i);
      run.fast_accum = cfg.fast_accum;
      run.output = cfg.output;
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

}  // namespace fpsim::gpu
