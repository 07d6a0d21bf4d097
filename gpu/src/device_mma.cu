// run_dot_batch and layout_self_test (device_mma.hpp): operand encoding on
// the host through sim's scalar core, then the instruction's own runner
// (mma_sync_dot.cu, wgmma_dot.cu).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "device_mma_common.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/gpu/device_mma.hpp"
#include "mma_sync_dot.hpp"
#include "wgmma_dot.hpp"

namespace fpsim::gpu {
namespace detail {

void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

uint32_t operand_code(uint32_t bits, const Format& f, const char* operand, size_t index) {
  const float x = std::bit_cast<float>(bits);
  const RoundingSpec rne;
  Flags flags;
  const uint64_t code = from_float(x, f, rne, flags);
  Flags back_flags;
  const float back = to_float(code, f, rne, back_flags);
  const bool same = std::isnan(x) ? std::isnan(back) : std::bit_cast<uint32_t>(back) == bits;
  if (!same)
    throw OptionError(std::string(operand) + "[" + std::to_string(index) + "] is not a value of " + f.name);
  // A format kept in a wider container (tf32: the code shifted into an FP32
  // register) goes to the instruction in its container (format.hpp).
  return static_cast<uint32_t>(code << f.container_shift);
}

uint32_t accumulator_value(uint32_t code, const MmaConfig& c) {
  if (c.accumulator == MmaAccumulator::fp32) return code;
  const RoundingSpec rne;
  Flags flags;
  return std::bit_cast<uint32_t>(to_float(code & 0xffffu, formats::fp16, rne, flags));
}

EncodedBatch encode_batch(const MmaConfig& c, int k, std::span<const uint32_t> a, std::span<const uint32_t> b,
                          std::span<const uint32_t> c_in) {
  if (k < 0) throw OptionError("K must not be negative");
  const size_t count = c_in.size();
  if (a.size() != count * static_cast<size_t>(k) || b.size() != count * static_cast<size_t>(k))
    throw OptionError("a and b must hold count·K values (count = " + std::to_string(count) +
                      ", K = " + std::to_string(k) + ")");
  const int ki = instruction_k(c);
  EncodedBatch e;
  e.count = static_cast<int>(count);
  e.chunks = k == 0 ? 1 : (k + ki - 1) / ki;  // K = 0 still passes C through one instruction
  const size_t width = static_cast<size_t>(e.chunks) * ki;
  e.a.assign(count * width, 0u);
  e.b.assign(count * width, 0u);
  e.c.resize(count);
  const Format in = input_format(c), out = output_format(c);
  for (size_t r = 0; r < count; ++r) {
    for (int j = 0; j < k; ++j) {
      const size_t src = r * k + j;
      e.a[r * width + j] = operand_code(a[src], in, "a", src);
      e.b[r * width + j] = operand_code(b[src], in, "b", src);
    }
    e.c[r] = c.accumulator == MmaAccumulator::fp32 ? c_in[r] : operand_code(c_in[r], out, "c", r);
  }
  return e;
}

float distinct_value(int j) { return std::ldexp(1.0f + static_cast<float>(j % 4) / 4.0f, j / 4); }

std::string unit_vector_self_test(const MmaConfig& c, DotRunner run, int k) {
  const int ki = instruction_k(c);
  const float scale[3] = {1.0f, -1.0f, 0.5f};
  auto value = [&](int j) { return distinct_value(j % ki) * scale[(j / ki) % 3]; };
  // Row r < k: a = e_r, b = v; row k + r: a = v, b = e_r.
  const size_t rows = 2 * static_cast<size_t>(k);
  std::vector<uint32_t> a(rows * k, 0u), b(rows * k, 0u), c0(rows, 0u);
  const uint32_t one = std::bit_cast<uint32_t>(1.0f);
  for (int r = 0; r < k; ++r)
    for (int j = 0; j < k; ++j) {
      const uint32_t v = std::bit_cast<uint32_t>(value(j));
      a[r * k + j] = j == r ? one : 0u;
      b[r * k + j] = v;
      a[(k + r) * k + j] = v;
      b[(k + r) * k + j] = j == r ? one : 0u;
    }
  const std::vector<uint32_t> d = run(c, k, a, b, c0);
  std::string failed;
  int wrong = 0;
  for (size_t r = 0; r < rows; ++r) {
    const int j = static_cast<int>(r % k);
    const float got = std::bit_cast<float>(d[r]), want = value(j);
    if (got != want && wrong++ < 3)
      failed.append(failed.empty() ? "" : "; ")
          .append("K=" + std::to_string(k) + (r < static_cast<size_t>(k) ? " a=e_" : " b=e_") + std::to_string(j))
          .append(": D=" + std::to_string(got) + " want " + std::to_string(want));
  }
  if (wrong > 3) failed.append("; " + std::to_string(wrong) + " unit-vector products wrong in all");
  return failed;
}

std::string integer_tile_self_test(const MmaConfig& c, int rows, int k, uint32_t seed, const TileRunner& run) {
  constexpr int cols = 8;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<int> ia(static_cast<size_t>(rows) * k), ib(static_cast<size_t>(k) * cols),
      ic(static_cast<size_t>(rows) * cols);
  for (int& v : ia) v = small(rng);
  for (int& v : ib) v = small(rng);
  for (int& v : ic) v = small(rng);
  const Format in = input_format(c), out = output_format(c);
  std::vector<uint32_t> a(ia.size()), b(ib.size()), cc(ic.size());
  for (size_t i = 0; i < ia.size(); ++i) a[i] = operand_code(std::bit_cast<uint32_t>(float(ia[i])), in, "a", i);
  for (size_t i = 0; i < ib.size(); ++i) b[i] = operand_code(std::bit_cast<uint32_t>(float(ib[i])), in, "b", i);
  for (size_t i = 0; i < ic.size(); ++i)
    cc[i] = c.accumulator == MmaAccumulator::fp32 ? std::bit_cast<uint32_t>(float(ic[i]))
                                                   : operand_code(std::bit_cast<uint32_t>(float(ic[i])), out, "c", i);
  const std::vector<uint32_t> d = run(a, b, cc);
  std::string failed;
  int wrong = 0;
  for (int row = 0; row < rows; ++row)
    for (int col = 0; col < cols; ++col) {
      int want = ic[row * cols + col];
      for (int j = 0; j < k; ++j) want += ia[row * k + j] * ib[j * cols + col];
      const float got = std::bit_cast<float>(accumulator_value(d[row * cols + col], c));
      if (got != static_cast<float>(want) && wrong++ < 3)
        failed.append(failed.empty() ? "" : "; ")
            .append("tile D(" + std::to_string(row) + "," + std::to_string(col) + ") = " + std::to_string(got) +
                    " want " + std::to_string(want));
    }
  if (wrong > 3) failed.append("; " + std::to_string(wrong) + " of " + std::to_string(rows * cols) + " tile elements wrong");
  return failed;
}

void DeviceBuffer::reserve(size_t n) {
  if (n <= capacity) return;
  if (p) cudaFree(p);
  p = nullptr;
  capacity = 0;
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(uint32_t)), "cudaMalloc");
  capacity = n;
}

void DeviceBuffer::upload(const std::vector<uint32_t>& v) {
  reserve(std::max<size_t>(v.size(), 1));
  if (!v.empty())
    check_cuda(cudaMemcpy(p, v.data(), v.size() * sizeof(uint32_t), cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

std::vector<uint32_t> DeviceBuffer::download(size_t n) const {
  std::vector<uint32_t> v(n);
  if (n) check_cuda(cudaMemcpy(v.data(), p, n * sizeof(uint32_t), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  return v;
}

DeviceBuffer& device_buffer(int i) {
  static DeviceBuffer buffers[4];
  return buffers[i];
}

}  // namespace detail

std::vector<uint32_t> run_dot_batch(const MmaConfig& config, int k, std::span<const uint32_t> a,
                                    std::span<const uint32_t> b, std::span<const uint32_t> c) {
  return config.instruction == MmaInstruction::mma_sync ? detail::mma_sync_dot_batch(config, k, a, b, c)
                                                        : detail::wgmma_dot_batch(config, k, a, b, c);
}

std::string layout_self_test(const MmaConfig& config) {
  return config.instruction == MmaInstruction::mma_sync ? detail::mma_sync_layout_self_test(config)
                                                        : detail::wgmma_layout_self_test(config);
}

std::string operand_layout_name(const MmaConfig& config) {
  return config.instruction == MmaInstruction::mma_sync ? "registers (PTX fragments)"
                                                        : detail::wgmma_convention_name(config);
}

}  // namespace fpsim::gpu
