// SHA-256 (NIST FIPS 180-4, "Secure Hash Standard", 2015, §6.2): the data
// sets are checked against pinned full hashes before they are read
// (docs/training.md, "Data sets").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fpsim::experiments {

// The SHA-256 digest of `bytes` as 64 lowercase hexadecimal digits, the form
// `sha256sum` prints.
std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);

}  // namespace fpsim::experiments
