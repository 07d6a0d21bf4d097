// cuBLASLt FP8 GEMM against the MMA model: inputs, candidates, comparison
// and the raw file (cublaslt_fp8.hpp; docs/gpu.md, "cuBLASLt FP8 GEMM").
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format.hpp"
#include "fpsim/gpu/cublaslt_fp8.hpp"
#include "fpsim/mma.hpp"

namespace fpsim::gpu {
namespace {

constexpr std::array<std::string_view, 2> kDistributions = {"sym", "mixed"};
constexpr std::array<int, 6> kPromotions = {0, 32, 64, 128, 256, 512};
constexpr int kMaxDim = 65536;
constexpr char kMagic[8] = {'F', 'P', 'S', 'I', 'M', 'L', 'T', '1'};

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, int(std::thread::hardware_concurrency()));
}

// Runs body(i) for i in [0, count) on up to `threads` threads.
template <class Body>
void parallel_for(size_t count, int threads, const Body& body) {
  const size_t workers = std::min<size_t>(count, size_t(resolve_threads(threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < count; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      try {
        for (size_t i = next++; i < count && !failed; i = next++) body(i);
      } catch (...) {
        if (!failed.exchange(true)) failure = std::current_exception();
      }
      (void)w;
    });
  }
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// The FP32 ulp at x: 2^(e − 23) with e = max(exponent(x), −126).
double ulp32(float x) {
  if (!std::isfinite(x)) return std::numeric_limits<double>::infinity();
  if (x == 0) return std::ldexp(1.0, -149);
  return std::ldexp(1.0, std::max(std::ilogb(x), -126) - 23);
}

double ulp_out(float x, LtOutput o) { return o == LtOutput::bf16 ? ulp32(x) * 65536.0 : ulp32(x); }

// Little-endian writer and bounds-checked reader of the raw file.
class RawWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(char(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(uint8_t(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(uint8_t(v >> (8 * i)));
  }
  void text(const std::string& s) {
    u32(uint32_t(s.size()));
    bytes_.append(s);
  }
  void raw(const void* p, size_t n) { bytes_.append(static_cast<const char*>(p), n); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class RawReader {
 public:
  RawReader(std::string path, std::string bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError(path_ + ": not a valid fpsim cuBLASLt raw file: " + what + " (at byte " + std::to_string(pos_) +
                     ")");
  }
  void need(uint64_t n, const char* what) const {
    if (n > bytes_.size() - pos_)
      fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(bytes_.size() - pos_) + " left");
  }
  uint8_t u8(const char* what) {
    need(1, what);
    return uint8_t(bytes_[pos_++]);
  }
  uint32_t u32(const char* what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(bytes_[pos_++])) << (8 * i);
    return v;
  }
  uint64_t u64(const char* what) {
    need(8, what);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(bytes_[pos_++])) << (8 * i);
    return v;
  }
  std::string text(const char* what, uint32_t max_len) {
    const uint32_t n = u32(what);
    if (n > max_len) fail(std::string(what) + " length " + std::to_string(n) + " exceeds " + std::to_string(max_len));
    need(n, what);
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  const char* take(uint64_t n, const char* what) {
    need(n, what);
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool at_end() const { return pos_ == bytes_.size(); }
  size_t pos() const { return pos_; }

 private:
  std::string path_;
  std::string bytes_;
  size_t pos_ = 0;
};

int checked_dim(RawReader& r, const char* what) {
  const uint32_t v = r.u32(what);
  if (v < 1 || v > uint32_t(kMaxDim)) r.fail(std::string(what) + " = " + std::to_string(v) + " outside 1..65536");
  return int(v);
}

}  // namespace

std::string_view lt_output_name(LtOutput o) { return o == LtOutput::bf16 ? "bf16" : "fp32"; }

std::span<const std::string_view> lt_distributions() { return kDistributions; }

std::span<const int> lt_promotions() { return kPromotions; }

float e4m3_value(uint8_t code) { return float(to_double(code, formats::e4m3)); }

std::vector<uint8_t> e4m3_codes(std::span<const float> values) {
  std::vector<uint8_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    Flags fl;
    const auto code = uint8_t(from_float(values[i], formats::e4m3, RoundingSpec{}, fl));
    const float back = e4m3_value(code);
    if (std::bit_cast<uint32_t>(back) != std::bit_cast<uint32_t>(values[i]) &&
        !(std::isnan(back) && std::isnan(values[i])))
      throw OptionError("element " + std::to_string(i) + " (" + std::to_string(values[i]) + ") is not an e4m3 value");
    out[i] = code;
  }
  return out;
}

LtInputs make_lt_inputs(std::string_view distribution, int M, int N, int K, uint64_t seed) {
  if (std::find(kDistributions.begin(), kDistributions.end(), distribution) == kDistributions.end())
    throw OptionError("unknown input distribution '" + std::string(distribution) + "' (known: sym, mixed)");
  for (int d : {M, N, K})
    if (d < 1 || d > kMaxDim) throw OptionError("cuBLASLt inputs: M, N and K must lie in 1..65536");
  LtInputs in;
  in.distribution = std::string(distribution);
  in.M = M;
  in.N = N;
  in.K = K;
  in.seed = seed;
  // One engine per input pair, seeded from (seed, distribution, shape), raw
  // 64-bit draws only: std::mt19937_64's sequence is fixed by the standard,
  // its distributions are not.
  std::mt19937_64 rng(seed ^ (uint64_t(distribution == "mixed") << 63) ^ (uint64_t(K) << 32) ^ (uint64_t(M) << 16) ^
                      uint64_t(N));
  const bool sym = distribution == "sym";
  auto draw = [&] {
    const uint64_t r = rng();
    uint8_t code;
    if (sym) {
      const int e = int(r % 7) - 3;           // exponent −3..3
      const int mant = int((r >> 8) & 7);     // 3 random mantissa bits
      code = uint8_t(((e + 7) << 3) | mant);  // e4m3 bias 7
      if ((r >> 16) & 1) code |= 0x80;
    } else {
      code = uint8_t(1 + (r % 0x6F));          // magnitude codes 0x01..0x6F: subnormals … 120
      if (((r >> 16) & 3) == 0) code |= 0x80;  // negative with probability 1/4
    }
    return e4m3_value(code);
  };
  in.A.resize(size_t(M) * size_t(K));
  in.B.resize(size_t(K) * size_t(N));
  for (float& x : in.A) x = draw();
  for (float& x : in.B) x = draw();
  return in;
}

std::string LtAlgoInfo::text() const {
  std::ostringstream s;
  s << "algo " << algo_id << " tile " << tile_id << " stages " << stages_id << " splitK " << split_k << " reduction "
    << reduction_scheme << " swizzle " << swizzle << " custom " << custom_option << " cluster " << cluster_shape_id
    << " workspace " << workspace_bytes << " waves " << waves;
  return s.str();
}

std::string lt_candidate_name(const LtCandidate& c, LtOutput o) {
  std::string s = "h100-e4m3-fp32";
  if (c.promotion > 0) s += ":promote" + std::to_string(c.promotion);
  if (c.split_k > 1) s += " splitK=" + std::to_string(c.split_k);
  if (o == LtOutput::bf16) s += " -> bf16 rne";
  return s;
}

float lt_round_output(float x, LtOutput o) {
  if (o == LtOutput::fp32) return x;
  Flags fl;
  return quantize(x, formats::bf16, RoundingSpec{}, fl);
}

double lt_ulp_distance(float gpu, float model) {
  if (std::bit_cast<uint32_t>(gpu) == std::bit_cast<uint32_t>(model)) return 0;
  if (!std::isfinite(gpu) || !std::isfinite(model)) return std::numeric_limits<double>::infinity();
  return std::fabs(double(gpu) - double(model)) / ulp32(gpu);
}

std::vector<float> lt_model_gemm(const LtInputs& in, const LtCandidate& c, int threads) {
  if (in.A.size() != size_t(in.M) * size_t(in.K) || in.B.size() != size_t(in.K) * size_t(in.N))
    throw OptionError("lt_model_gemm: A or B does not have M·K or K·N elements");
  if (c.split_k < 1 || c.promotion < 0) throw OptionError("lt_model_gemm: split_k >= 1 and promotion >= 0 needed");
  MmaModel m = mma_preset("h100-e4m3-fp32");
  m.promotion_interval = c.promotion;
  const int M = in.M, N = in.N, K = in.K;
  // Split-K parts: ceil(K / S) rounded up to the instruction's k = 32
  // (PTX ISA, wgmma "Matrix shape": k32 for e4m3), the last part shorter.
  int part = (K + c.split_k - 1) / c.split_k;
  part = (part + 31) / 32 * 32;
  std::vector<std::pair<int, int>> parts;  // [k0, len)
  for (int k0 = 0; k0 < K; k0 += part) parts.emplace_back(k0, std::min(part, K - k0));

  constexpr int kRows = 4;  // rows per work item
  const int chunks = (M + kRows - 1) / kRows;
  std::vector<float> D(size_t(M) * size_t(N), 0.0f);
  parallel_for(size_t(chunks), threads, [&](size_t chunk) {
    const int r0 = int(chunk) * kRows;
    const int rows = std::min(kRows, M - r0);
    if (parts.size() == 1) {
      mma_gemm(m, rows, N, K, std::span<const float>(in.A).subspan(size_t(r0) * K, size_t(rows) * K), in.B, {},
               std::span<float>(D).subspan(size_t(r0) * N, size_t(rows) * N));
      return;
    }
    // The parts' FP32 results summed in split order from +0 (RN32).
    std::vector<float> sum(size_t(rows) * N, 0.0f), partial(size_t(rows) * N), a;
    for (auto [k0, len] : parts) {
      a.resize(size_t(rows) * len);
      for (int r = 0; r < rows; ++r)
        std::copy_n(in.A.begin() + ptrdiff_t(size_t(r0 + r) * K + k0), len, a.begin() + ptrdiff_t(size_t(r) * len));
      mma_gemm(m, rows, N, len, a, std::span<const float>(in.B).subspan(size_t(k0) * N, size_t(len) * N), {}, partial);
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += partial[i];
    }
    std::copy(sum.begin(), sum.end(), D.begin() + ptrdiff_t(size_t(r0) * N));
  });
  return D;
}

std::vector<LtCaseResult> compare_lt_runs(std::span<const LtInputs> inputs, std::span<const LtRun> runs, int threads) {
  // The candidates of every run, and the model results they need.
  auto candidates_of = [](const LtRun& run) {
    std::vector<LtCandidate> cs;
    for (int p : kPromotions) cs.push_back({p, 1});
    if (run.algo.split_k > 1)
      for (int p : kPromotions) cs.push_back({p, run.algo.split_k});
    return cs;
  };
  using Key = std::tuple<int, int, int>;  // input, promotion, split
  std::map<Key, std::vector<float>> models;
  for (const LtRun& run : runs) {
    if (!run.error.empty()) continue;
    if (run.input_index < 0 || size_t(run.input_index) >= inputs.size())
      throw OptionError("cuBLASLt run names input " + std::to_string(run.input_index) + ", which does not exist");
    const LtInputs& in = inputs[size_t(run.input_index)];
    if (run.D.size() != size_t(in.M) * size_t(in.N))
      throw OptionError("cuBLASLt run of input " + std::to_string(run.input_index) + " has " +
                        std::to_string(run.D.size()) + " D elements, not M·N");
    for (const LtCandidate& c : candidates_of(run)) models[{run.input_index, c.promotion, c.split_k}];
  }
  // Each model result on one thread (rows in parallel inside when there are
  // fewer results than threads).
  std::vector<std::pair<const Key, std::vector<float>>*> todo;
  for (auto& kv : models) todo.push_back(&kv);
  // Largest K first, so the long ones do not finish last alone.
  std::sort(todo.begin(), todo.end(), [&](auto* x, auto* y) {
    return inputs[size_t(std::get<0>(x->first))].K > inputs[size_t(std::get<0>(y->first))].K;
  });
  const int total = resolve_threads(threads);
  const int inner = std::max(1, total / std::max<int>(1, int(todo.size())));
  parallel_for(todo.size(), total, [&](size_t i) {
    auto& [key, d] = *todo[i];
    d = lt_model_gemm(inputs[size_t(std::get<0>(key))], {std::get<1>(key), std::get<2>(key)}, inner);
  });

  std::vector<LtCaseResult> results;
  results.reserve(runs.size());
  for (const LtRun& run : runs) {
    LtCaseResult res;
    res.error = run.error;
    if (!run.error.empty()) {
      res.answer = "not run: " + run.error;
      results.push_back(std::move(res));
      continue;
    }
    const LtInputs& in = inputs[size_t(run.input_index)];
    const auto total_elems = int64_t(run.D.size());
    std::vector<std::vector<float>> rounded;
    for (const LtCandidate& c : candidates_of(run)) {
      const std::vector<float>& model = models.at({run.input_index, c.promotion, c.split_k});
      LtCandidateResult cr;
      cr.candidate = c;
      cr.name = lt_candidate_name(c, run.output);
      std::vector<float> d(model.size());
      double sum = 0;
      for (size_t i = 0; i < model.size(); ++i) {
        d[i] = lt_round_output(model[i], run.output);
        if (std::bit_cast<uint32_t>(d[i]) == std::bit_cast<uint32_t>(run.D[i])) {
          ++cr.exact;
          continue;
        }
        const double u = lt_ulp_distance(run.D[i], d[i]);
        cr.max_ulp = std::max(cr.max_ulp, u);
        cr.max_ulp_out = std::max(cr.max_ulp_out, u * ulp32(run.D[i]) / ulp_out(run.D[i], run.output));
        sum += u;
      }
      cr.mean_ulp = total_elems > 0 ? sum / double(total_elems) : 0;
      if (cr.exact == total_elems) res.matching.push_back(cr.name);
      res.candidates.push_back(cr);
      rounded.push_back(std::move(d));
    }
    for (size_t i = 0; i < res.candidates.size(); ++i) {
      if (res.best < 0) {
        res.best = int(i);
        continue;
      }
      const auto& b = res.candidates[size_t(res.best)];
      const auto& c = res.candidates[i];
      // Better: more exact elements, then a smaller max, then a smaller mean.
      if (std::tie(c.exact, b.max_ulp, b.mean_ulp) > std::tie(b.exact, c.max_ulp, c.mean_ulp)) res.best = int(i);
    }
    if (res.best >= 0) {
      const std::vector<float>& d = rounded[size_t(res.best)];
      for (size_t i = 0; i < d.size() && res.examples.size() < 5; ++i)
        if (std::bit_cast<uint32_t>(d[i]) != std::bit_cast<uint32_t>(run.D[i]))
          res.examples.push_back(
              {int(i / size_t(in.N)), int(i % size_t(in.N)), run.D[i], d[i], lt_ulp_distance(run.D[i], d[i])});
    }
    std::ostringstream a;
    if (!res.matching.empty()) {
      a << "match: ";
      for (size_t i = 0; i < res.matching.size(); ++i) a << (i ? ", " : "") << res.matching[i];
    } else if (res.best >= 0) {
      const auto& b = res.candidates[size_t(res.best)];
      a << "none, best = " << b.name << " with " << b.exact << "/" << total_elems << " exact, max ulp " << b.max_ulp;
    }
    res.answer = a.str();
    results.push_back(std::move(res));
  }
  return results;
}

// ---- the raw file ----
//
// "FPSIMLT1", meta (u32 length + bytes), u32 input count, u32 run count;
// each input: distribution (text), u32 M, N, K, u64 seed, M·K then K·N e4m3
// codes (row-major A, B); each run: u32 input index, u8 fast_accum, u8
// output (0 fp32, 1 bf16), 8 × i32 algo fields (algo, tile, stages, splitK,
// reduction, swizzle, custom, cluster), u64 workspace, f32 waves, error
// (text); when the error is empty, M·N FP32 bit patterns of D (row-major).

uint64_t lt_raw_size(const LtRawData& data) {
  uint64_t n = 8 + 4 + data.meta.size() + 8;
  for (const LtInputs& in : data.inputs) n += 4 + in.distribution.size() + 12 + 8 + in.A.size() + in.B.size();
  for (const LtRun& r : data.runs)
    n += 4 + 2 + 32 + 8 + 4 + 4 + r.error.size() + (r.error.empty() ? 4 * r.D.size() : 0);
  return n;
}

void write_lt_raw(const std::string& path, const LtRawData& data) {
  RawWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.text(data.meta);
  w.u32(uint32_t(data.inputs.size()));
  w.u32(uint32_t(data.runs.size()));
  for (const LtInputs& in : data.inputs) {
    if (in.A.size() != size_t(in.M) * size_t(in.K) || in.B.size() != size_t(in.K) * size_t(in.N))
      throw OptionError("write_lt_raw: inputs with A or B of the wrong size");
    w.text(in.distribution);
    w.u32(uint32_t(in.M));
    w.u32(uint32_t(in.N));
    w.u32(uint32_t(in.K));
    w.u64(in.seed);
    const auto a = e4m3_codes(in.A), b = e4m3_codes(in.B);
    w.raw(a.data(), a.size());
    w.raw(b.data(), b.size());
  }
  for (const LtRun& r : data.runs) {
    w.u32(uint32_t(r.input_index));
    w.u8(r.fast_accum ? 1 : 0);
    w.u8(r.output == LtOutput::bf16 ? 1 : 0);
    for (int v : {r.algo.algo_id, r.algo.tile_id, r.algo.stages_id, r.algo.split_k, r.algo.reduction_scheme,
                  r.algo.swizzle, r.algo.custom_option, r.algo.cluster_shape_id})
      w.u32(uint32_t(v));
    w.u64(r.algo.workspace_bytes);
    w.u32(std::bit_cast<uint32_t>(r.algo.waves));
    w.text(r.error);
    if (r.error.empty())
      for (float x : r.D) w.u32(std::bit_cast<uint32_t>(x));
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError("cannot write " + path + ": " + std::strerror(errno));
  out.write(w.bytes().data(), std::streamsize(w.bytes().size()));
  out.close();
  if (!out) throw IoError("cannot write " + path + ": " + std::strerror(errno));
}

LtRawData read_lt_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot read " + path + ": " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw IoError("cannot read " + path + ": " + std::strerror(errno));
  RawReader r(path, std::move(bytes));
  const char* magic = r.take(sizeof kMagic, "magic");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) r.fail("wrong magic (expected FPSIMLT1)");
  LtRawData data;
  data.meta = r.text("meta", 1u << 20);
  const uint32_t n_inputs = r.u32("input count"), n_runs = r.u32("run count");
  if (n_inputs > 4096 || n_runs > 65536) r.fail("implausible input or run count");
  for (uint32_t i = 0; i < n_inputs; ++i) {
    LtInputs in;
    in.distribution = r.text("distribution", 256);
    in.M = checked_dim(r, "M");
    in.N = checked_dim(r, "N");
    in.K = checked_dim(r, "K");
    in.seed = r.u64("seed");
    const uint64_t na = uint64_t(in.M) * uint64_t(in.K), nb = uint64_t(in.K) * uint64_t(in.N);
    const char* a = r.take(na, "A codes");
    const char* b = r.take(nb, "B codes");
    in.A.resize(na);
    in.B.resize(nb);
    for (uint64_t j = 0; j < na; ++j) in.A[j] = e4m3_value(uint8_t(a[j]));
    for (uint64_t j = 0; j < nb; ++j) in.B[j] = e4m3_value(uint8_t(b[j]));
    data.inputs.push_back(std::move(in));
  }
  for (uint32_t i = 0; i < n_runs; ++i) {
    LtRun run;
    const uint32_t idx = r.u32("input index");
    if (idx >= n_inputs) r.fail("run " + std::to_string(i) + " names input " + std::to_string(idx));
    run.input_index = int(idx);
    const uint8_t fast = r.u8("fast_accum"), out = r.u8("output");
    if (fast > 1 || out > 1) r.fail("run " + std::to_string(i) + ": fast_accum or output byte not 0/1");
    run.fast_accum = fast == 1;
    run.output = out == 1 ? LtOutput::bf16 : LtOutput::fp32;
    for (int* v : {&run.algo.algo_id, &run.algo.tile_id, &run.algo.stages_id, &run.algo.split_k,
                   &run.algo.reduction_scheme, &run.algo.swizzle, &run.algo.custom_option, &run.algo.cluster_shape_id})
      *v = int(r.u32("algo field"));
    run.algo.workspace_bytes = r.u64("workspace");
    run.algo.waves = std::bit_cast<float>(r.u32("waves"));
    run.error = r.text("error", 1u << 16);
    if (run.error.empty()) {
      const LtInputs& in = data.inputs[idx];
      const uint64_t n = uint64_t(in.M) * uint64_t(in.N);
      const char* p = r.take(4 * n, "D");
      run.D.resize(n);
      for (uint64_t j = 0; j < n; ++j) {
        uint32_t bits = 0;
        for (int k = 0; k < 4; ++k) bits |= uint32_t(uint8_t(p[4 * j + uint64_t(k)])) << (8 * k);
        run.D[j] = std::bit_cast<float>(bits);
      }
    }
    data.runs.push_back(std::move(run));
  }
  if (!r.at_end()) r.fail("trailing bytes after the last run");
  return data;
}

}  // namespace fpsim::gpu
