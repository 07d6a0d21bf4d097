// Intel AMX-BF16 (TDPBF16PS) behind the probe interface: detection, the
// Linux permission request, the tile layout and one dot product per call.
//
// Only amx_dot_on_tiles() executes AMX instructions; it carries a function
// target attribute instead of the whole file being compiled with
// -mamx-tile -mamx-bf16, so that no inline function of a standard header
// instantiated here can be compiled for AMX and then picked by the linker
// for the rest of the program (this file must load on any x86-64 CPU).
//
// Unverified here: the development machine (AMD Zen 3) has no AMX, so this
// code was compiled and its layouts unit-tested, but it has not executed a
// tile instruction there (docs/mma.md "CPU matrix units").
#include <cstring>
#include <sstream>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim/format.hpp"
#include "fpsim/probe/cpu_matrix_targets.hpp"
#include "cpu_feature_detect.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#endif
#endif

namespace fpsim::probe {

std::array<uint8_t, 64> amx_tile_config(std::span<const TileShape> tiles) {
  if (tiles.size() > 8) {
    std::string msg = "AMX palette 1 has 8 tiles; asked for ";
    msg += std::to_string(tiles.size());
    throw OptionError(msg);
  }
  std::array<uint8_t, 64> cfg{};
  cfg[0] = 1;  // palette_id 1: eight tiles of at most 16 rows × 64 bytes
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    const TileShape s = tiles[t];
    if (s.rows < 1 || s.rows > 16 || s.colsb < 4 || s.colsb > 64 || s.colsb % 4 != 0) {
      std::ostringstream msg;
      msg << "AMX tile " << t << " shape " << s.rows << " rows x " << s.colsb
          << " bytes is outside palette 1 (1-16 rows, 4-64 bytes in steps of 4)";
      throw OptionError(msg.str());
    }
    cfg[16 + 2 * t] = static_cast<uint8_t>(s.colsb & 0xff);
    cfg[16 + 2 * t + 1] = static_cast<uint8_t>(s.colsb >> 8);
    cfg[48 + t] = static_cast<uint8_t>(s.rows);
  }
  return cfg;
}

std::vector<uint16_t> pack_vnni_bf16(std::span<const uint16_t> b, int K, int N, uint16_t pad) {
  if (K < 0 || N < 1 || b.size() != static_cast<std::size_t>(K) * static_cast<std::size_t>(N)) {
    std::ostringstream msg;
    msg << "pack_vnni_bf16: " << b.size() << " elements do not form a " << K << " x " << N << " matrix";
    throw OptionError(msg.str());
  }
  const int rows = (K + 1) / 2;
  std::vector<uint16_t> out(static_cast<std::size_t>(rows) * 2 * N, pad);
  for (int k = 0; k < K; ++k) {
    for (int n = 0; n < N; ++n) {
      out[(static_cast<std::size_t>(k / 2) * N + n) * 2 + (k % 2)] = b[static_cast<std::size_t>(k) * N + n];
    }
  }
  return out;
}

AmxDotOperands pack_amx_dot(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) {
    std::ostringstream msg;
    msg << "amx-bf16 dot: a has " << a.size() << " elements, b has " << b.size();
    throw OptionError(msg.str());
  }
  const std::size_t K = a.size();
  AmxDotOperands ops;
  ops.chunks = K == 0 ? 1 : static_cast<int>((K + 31) / 32);
  ops.a.assign(static_cast<std::size_t>(ops.chunks) * 32, kPadA);
  ops.b.reserve(static_cast<std::size_t>(ops.chunks) * 32);
  for (int c = 0; c < ops.chunks; ++c) {
    std::vector<uint16_t> column(32, kPadB);  // one B column (N = 1) of 32 rows
    for (std::size_t i = 0; i < 32; ++i) {
      const std::size_t k = static_cast<std::size_t>(c) * 32 + i;
      if (k >= K) break;
      ops.a[k] = bf16_bits_of(a[k], "a", k);
      column[i] = bf16_bits_of(b[k], "b", k);
    }
    const std::vector<uint16_t> tile = pack_vnni_bf16(column, 32, 1, kPadB);
    ops.b.insert(ops.b.end(), tile.begin(), tile.end());
  }
  return ops;
}

#if defined(__x86_64__)

namespace {

using detail::Cpuid;
using detail::cpuid;
using detail::xcr0;

// The whole check, run once per process.
std::string amx_missing() {
  Cpuid leaf7;
  if (!cpuid(7, 0, leaf7)) return "this CPU has no CPUID leaf 7, so no AMX";
  // CPUID.(EAX=7,ECX=0):EDX[24] AMX-TILE, EDX[22] AMX-BF16 (SDM vol. 2, CPUID).
  const bool tile = (leaf7.edx >> 24) & 1;
  const bool bf16 = (leaf7.edx >> 22) & 1;
  if (!tile || !bf16) {
    std::string m = "this CPU lacks ";
    m += !tile && !bf16 ? "AMX-TILE and AMX-BF16" : (!tile ? "AMX-TILE" : "AMX-BF16");
    m += " (CPUID.(EAX=7,ECX=0):EDX bits 24 and 22; /proc/cpuinfo flags amx_tile, amx_bf16)";
    return m;
  }
  Cpuid leaf1;
  if (!cpuid(1, 0, leaf1) || !((leaf1.ecx >> 27) & 1)) return "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE = 0)";
  // XCR0 bit 17 XTILECFG, bit 18 XTILEDATA: the OS manages the tile state.
  const uint64_t x = xcr0();
  if (((x >> 17) & 3) != 3) return "the OS has not enabled the AMX tile state in XCR0 (bits 17, 18)";
#if defined(__linux__)
  // Linux (>= 5.16) hands out the 8 KiB tile-data state only on request:
  // arch_prctl(ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18);
  // a tile instruction without it raises SIGILL (kernel
  // Documentation/arch/x86/xstate.rst). The permission is per process.
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    const int err = errno;
    std::string m = "the Linux kernel refused the AMX tile-data permission (arch_prctl ARCH_REQ_XCOMP_PERM: ";
    m += std::strerror(err);
    m += "; kernels before 5.16 cannot grant it)";
    return m;
  }
  return {};
#else
  return "fpsim requests the AMX tile-data permission only on Linux";
#endif
}

// One dot product: C tile <- C tile + A_i · B_i for every chunk, through the
// tiles of kAmxDotTiles. No calls between LDTILECFG and TILERELEASE: the
// tile registers are not preserved across calls (SysV ABI).
__attribute__((target("amx-tile,amx-bf16"))) float amx_dot_on_tiles(const uint8_t* cfg, const uint16_t* a,
                                                                    const uint16_t* b, int chunks, float c) {
  alignas(64) float acc[16] = {c};
  // GCC 12's _tile_loadconfig and _tile_loadd are asm statements that do not
  // tell the compiler which memory they read (only the first 8 bytes of the
  // configuration); this barrier makes every store to cfg, a, b and acc
  // happen before them.
  __asm__ volatile("" : : "r"(cfg), "r"(a), "r"(b), "r"(acc) : "memory");
  _tile_loadconfig(cfg);
  _tile_loadd(0, acc, 4);
  for (int i = 0; i < chunks; ++i) {
    _tile_loadd(1, a + 32 * i, 64);
    _tile_loadd(2, b + 32 * i, 4);
    _tile_dpbf16ps(0, 1, 2);
  }
  _tile_stored(0, acc, 4);
  _tile_release();
  return acc[0];
}

class AmxBf16Target final : public MmaTarget {
 public:
  AmxBf16Target() : cfg_(amx_tile_config(kAmxDotTiles)) {}
  std::string name() const override { return "amx-bf16"; }
  Format input_format_a() const override { return formats::bf16; }
  Format input_format_b() const override { return formats::bf16; }
  Format output_format() const override { return formats::fp32; }
  float dot(std::span<const float> a, std::span<const float> b, float c) override {
    const AmxDotOperands ops = pack_amx_dot(a, b);
    return amx_dot_on_tiles(cfg_.data(), ops.a.data(), ops.b.data(), ops.chunks, c);
  }

 private:
  alignas(64) std::array<uint8_t, 64> cfg_;
};

}  // namespace

bool amx_bf16_available(std::string* why_not) {
  static const std::string missing = amx_missing();
  if (why_not != nullptr) *why_not = missing;
  return missing.empty();
}

std::unique_ptr<MmaTarget> make_amx_bf16_target() {
  return detail::make_if_available<AmxBf16Target>("amx-bf16", amx_bf16_available);
}

#else  // not x86-64

bool amx_bf16_available(std::string* why_not) {
  if (why_not != nullptr) *why_not = "AMX is an x86-64 unit and this is not an x86-64 build";
  return false;
}

std::unique_ptr<MmaTarget> make_amx_bf16_target() {
  throw Error("amx-bf16 is not available: AMX is an x86-64 unit and this is not an x86-64 build");
}

#endif

}  // namespace fpsim::probe
