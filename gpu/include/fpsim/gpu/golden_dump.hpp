// Dump a GEMM your own kernel computed as golden-data files, then check it
// against a tensor-core model with `fpsim mma --expect` (docs/gpu.md, "Your
// own kernel"; the file formats are docs/cli.md, "fpsim mma").
//
// Header-only, standard C++17 and nothing else: copy this file into your
// project or add fpsim's gpu/include to its include path; it does not need
// fpsim's libraries. Call it from host code after copying A, B, C and D back
// from the device.
//
// Row r of the files (line r + 1) is one output D[i][j] of the GEMM
// D = A·B + C:
//   a.txt  A[i][0..K-1]  as K hex FP32 encodings ("3c000000 bd200000 ...")
//   b.txt  B[0..K-1][j]  (the column of B), likewise
//   c.txt  C[i][j]       as a 32-character binary FP32 bit pattern
//   d.txt  D[i][j]       the kernel's result, likewise
//   rows.txt (optional)  "i j", so a failure "row r" in fpsim's report maps
//                        back to the output (0-based i and j; r is 1-based)
// By default every output in row-major order (r = i·N + j); or a list of
// outputs of your choice (a sample of a big GEMM: each row costs about
// 18·K bytes of A and B text).
//
// The values of A and B must be the values the kernel multiplied, widened to
// float exactly (fp16/bf16/fp8 → float is exact): fpsim refuses a value that is
// not one of the preset's input format. FP16 outputs are widened to float.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace fpsim::gpu {

// Where the files go. `rows` may be empty (not written).
struct GoldenFiles {
  std::string a, b, c, d, rows;
};

// dir/a.txt, dir/b.txt, dir/c.txt, dir/d.txt and dir/rows.txt.
inline GoldenFiles golden_files_in(const std::string& dir) {
  std::string p = dir;
  if (!p.empty() && p.back() != '/') p += '/';
  return {p + "a.txt", p + "b.txt", p + "c.txt", p + "d.txt", p + "rows.txt"};
}

// The GEMM as it sits in host memory, row-major: element (r, s) of A is
// a[r·lda + s]. A leading dimension of 0 means packed (K for A, N for B, C
// and D). b_transposed: B is stored N×K (row j is column j of the K×N B,
// the "TN" layout of cuBLAS and of most FP8 kernels), element (s, j) at
// b[j·ldb + s], packed ldb = K.
struct GoldenGemm {
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;  // M×K, values of the input format
  const float* b = nullptr;  // K×N (N×K when b_transposed), values of the input format
  const float* c = nullptr;  // M×N; nullptr: C = 0
  const float* d = nullptr;  // M×N, the kernel's result
  size_t lda = 0, ldb = 0, ldc = 0, ldd = 0;
  bool b_transposed = false;
};

// One output D[row][col] (0-based).
struct GoldenOutput {
  int row = 0, col = 0;
};

// ok, or a message saying what went wrong (naming the file and the reason).
// After a failure the files may be partly written.
struct GoldenDumpResult {
  bool ok = false;
  std::string message;
  size_t rows = 0;  // rows written, on success
  explicit operator bool() const { return ok; }
};

namespace golden_detail {

inline uint32_t bits_of(float x) {
  uint32_t w;
  std::memcpy(&w, &x, sizeof w);
  return w;
}

inline void append_hex(std::string& s, uint32_t w) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 28; i >= 0; i -= 4) s += digits[(w >> i) & 15u];
}

inline void append_binary(std::string& s, uint32_t w) {
  for (int i = 31; i >= 0; --i) s += ((w >> i) & 1u) ? '1' : '0';
}

inline GoldenDumpResult failure(const std::string& message) {
  GoldenDumpResult r;
  r.message = message;
  return r;
}

// The five files, opened together so that no file is written when another
// cannot be opened; closed on every path.
struct OpenFiles {
  FILE* f[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  ~OpenFiles() {
    for (FILE* p : f)
      if (p) std::fclose(p);
  }
};

}  // namespace golden_detail

// Writes the rows for `outputs`, in that order.
inline GoldenDumpResult write_golden_files(const GoldenFiles& files, const GoldenGemm& g,
                                           const std::vector<GoldenOutput>& outputs) {
  using namespace golden_detail;
  if (g.m < 1 || g.n < 1 || g.k < 1)
    return failure("the GEMM is " + std::to_string(g.m) + "x" + std::to_string(g.n) + ", K=" + std::to_string(g.k) +
                   ": M, N and K must be at least 1");
  if (!g.a || !g.b || !g.d) return failure("A, B and D must be given (C may be null: C = 0)");
  if (outputs.empty()) return failure("no outputs to write (fpsim mma needs at least one row)");
  if (files.a.empty() || files.b.empty() || files.c.empty() || files.d.empty())
    return failure("the a, b, c and d file names must not be empty");
  for (size_t r = 0; r < outputs.size(); ++r) {
    const GoldenOutput& o = outputs[r];
    if (o.row < 0 || o.row >= g.m || o.col < 0 || o.col >= g.n)
      return failure("output " + std::to_string(r) + " is D[" + std::to_string(o.row) + "][" + std::to_string(o.col) +
                     "], outside the " + std::to_string(g.m) + "x" + std::to_string(g.n) + " D");
  }
  const size_t K = size_t(g.k), N = size_t(g.n);
  const size_t lda = g.lda ? g.lda : K, ldb = g.ldb ? g.ldb : (g.b_transposed ? K : N);
  const size_t ldc = g.ldc ? g.ldc : N, ldd = g.ldd ? g.ldd : N;

  OpenFiles out;
  const std::string* names[5] = {&files.a, &files.b, &files.c, &files.d, &files.rows};
  for (int i = 0; i < 5; ++i) {
    if (names[i]->empty()) continue;  // rows only
    out.f[i] = std::fopen(names[i]->c_str(), "wb");
    if (!out.f[i]) return failure("cannot open " + *names[i] + " for writing: " + std::strerror(errno));
  }
  // A failed write: which file, and errno at that moment.
  int failed_file = -1, failed_errno = 0;
  const auto put = [&](int file, const std::string& text) {
    if (failed_file < 0 && std::fwrite(text.data(), 1, text.size(), out.f[file]) != text.size()) {
      failed_file = file;
      failed_errno = errno;
    }
  };
  std::string line;
  line.reserve(9 * K + 1);
  for (size_t r = 0; r < outputs.size() && failed_file < 0; ++r) {
    const size_t i = size_t(outputs[r].row), j = size_t(outputs[r].col);
    line.clear();
    for (size_t s = 0; s < K; ++s) {
      if (s) line += ' ';
      append_hex(line, bits_of(g.a[i * lda + s]));
    }
    put(0, line += '\n');
    line.clear();
    for (size_t s = 0; s < K; ++s) {
      if (s) line += ' ';
      append_hex(line, bits_of(g.b_transposed ? g.b[j * ldb + s] : g.b[s * ldb + j]));
    }
    put(1, line += '\n');
    line.clear();
    append_binary(line, g.c ? bits_of(g.c[i * ldc + j]) : 0u);
    put(2, line += '\n');
    line.clear();
    append_binary(line, bits_of(g.d[i * ldd + j]));
    put(3, line += '\n');
    if (out.f[4]) put(4, std::to_string(i) + " " + std::to_string(j) + "\n");
  }
  // fclose flushes the buffer: a full disk may only show here.
  for (int file = 0; file < 5; ++file) {
    if (!out.f[file]) continue;
    const int closed = std::fclose(out.f[file]);
    out.f[file] = nullptr;
    if (closed != 0 && failed_file < 0) {
      failed_file = file;
      failed_errno = errno;
    }
  }
  if (failed_file >= 0) return failure("cannot write " + *names[failed_file] + ": " + std::strerror(failed_errno));
  GoldenDumpResult r;
  r.ok = true;
  r.rows = outputs.size();
  return r;
}

// Every output, row-major: row r of the files is D[r / N][r % N].
inline GoldenDumpResult write_golden_files(const GoldenFiles& files, const GoldenGemm& g) {
  std::vector<GoldenOutput> all;
  if (g.m > 0 && g.n > 0) {
    all.reserve(size_t(g.m) * size_t(g.n));
    for (int i = 0; i < g.m; ++i)
      for (int j = 0; j < g.n; ++j) all.push_back({i, j});
  }
  return write_golden_files(files, g, all);
}

// The command that checks the files against a preset, e.g.
//   fpsim mma --model h100-fp16-fp32 --k 256 --a out/a.txt --b out/b.txt --c out/c.txt --expect out/d.txt
// Paths with characters other than letters, digits and "_-./+,:=@%" are
// single-quoted for a POSIX shell.
inline std::string golden_expect_command(const GoldenFiles& files, const std::string& preset, int k) {
  const auto quoted = [](const std::string& s) {
    bool plain = !s.empty();
    for (char ch : s) {
      const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
      if (!alnum && (ch == '\0' || !std::strchr("_-./+,:=@%", ch))) plain = false;
    }
    if (plain) return s;
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  };
  return "fpsim mma --model " + quoted(preset) + " --k " + std::to_string(k) + " --a " + quoted(files.a) + " --b " +
         quoted(files.b) + " --c " + quoted(files.c) + " --expect " + quoted(files.d);
}

}  // namespace fpsim::gpu
