#include "fpsim/experiments/safetensors.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"
#include "raw_file.hpp"

namespace fpsim::experiments {

// Tensor bytes are copied as the host stores them; the format is little-endian.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

struct DtypeRow {
  StoredDtype dtype;
  std::string_view name;
  size_t size;
};

// huggingface/safetensors README, "Format": the dtype names and their sizes.
constexpr std::array<DtypeRow, 15> kDtypes = {{
    {StoredDtype::boolean, "BOOL", 1},
    {StoredDtype::u8, "U8", 1},
    {StoredDtype::i8, "I8", 1},
    {StoredDtype::f8_e5m2, "F8_E5M2", 1},
    {StoredDtype::f8_e4m3, "F8_E4M3", 1},
    {StoredDtype::i16, "I16", 2},
    {StoredDtype::u16, "U16", 2},
    {StoredDtype::f16, "F16", 2},
    {StoredDtype::bf16, "BF16", 2},
    {StoredDtype::i32, "I32", 4},
    {StoredDtype::u32, "U32", 4},
    {StoredDtype::f32, "F32", 4},
    {StoredDtype::f64, "F64", 8},
    {StoredDtype::i64, "I64", 8},
    {StoredDtype::u64, "U64", 8},
}};

const DtypeRow& row_of(StoredDtype d) {
  for (const DtypeRow& r : kDtypes)
    if (r.dtype == d) return r;
  throw ConfigError("unknown safetensors dtype code " + std::to_string(int(d)));
}

std::optional<StoredDtype> dtype_named(std::string_view name) {
  for (const DtypeRow& r : kDtypes)
    if (r.name == name) return r.dtype;
  return std::nullopt;
}

// The safetensors crate's limit on N (safetensors/src/tensor.rs, N_MAX).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// product(shape) * element size, or nullopt when it does not fit in 64 bits.
std::optional<uint64_t> byte_count(const std::vector<uint64_t>& shape, size_t element_size) {
  uint64_t n = element_size;
  for (uint64_t d : shape) {
    if (d != 0 && n > UINT64_MAX / d) return std::nullopt;
    n *= d;
  }
  return n;
}

template <class T>
StoredTensor make_tensor(StoredDtype dtype, std::vector<uint64_t> shape, std::span<const T> values) {
  const std::optional<uint64_t> bytes = byte_count(shape, sizeof(T));
  if (!bytes || *bytes != values.size() * sizeof(T))
    throw ConfigError("tensor of shape " + shape_text(shape) + " given " + std::to_string(values.size()) + " values");
  StoredTensor t{dtype, std::move(shape), std::string(values.size() * sizeof(T), '\0')};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

template <class T>
std::vector<T> values_of(const StoredTensor& t, StoredDtype expected) {
  if (t.dtype != expected)
    throw DataError("tensor of dtype " + std::string(stored_dtype_name(t.dtype)) + ", expected " +
                    std::string(stored_dtype_name(expected)));
  if (t.bytes.size() % sizeof(T) != 0)
    throw DataError("tensor of " + std::to_string(t.bytes.size()) + " bytes, not a whole number of " +
                    std::string(stored_dtype_name(expected)) + " values");
  std::vector<T> v(t.bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

class Invalid {
 public:
  explicit Invalid(const std::string& name) : prefix_(escaped_text(name) + ": invalid safetensors file: ") {}
  [[noreturn]] void operator()(const std::string& what) const { throw DataError(prefix_ + what); }

 private:
  std::string prefix_;
};

// A JSON value that is a non-negative integer.
std::optional<uint64_t> as_count(const nlohmann::json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  return v.get<uint64_t>();
}

}  // namespace

std::string_view stored_dtype_name(StoredDtype d) { return row_of(d).name; }
size_t stored_dtype_size(StoredDtype d) { return row_of(d).size; }

StoredTensor stored_tensor(std::vector<uint64_t> shape, std::span<const float> values) {
  return make_tensor(StoredDtype::f32, std::move(shape), values);
}
StoredTensor stored_tensor(std::vector<uint64_t> shape, std::span<const double> values) {
  return make_tensor(StoredDtype::f64, std::move(shape), values);
}
StoredTensor stored_tensor(std::vector<uint64_t> shape, std::span<const int32_t> values) {
  return make_tensor(StoredDtype::i32, std::move(shape), values);
}
StoredTensor stored_tensor_16(StoredDtype dtype, std::vector<uint64_t> shape, std::span<const uint16_t> codes) {
  if (dtype != StoredDtype::f16 && dtype != StoredDtype::bf16)
    throw ConfigError("stored_tensor_16: dtype " + std::string(stored_dtype_name(dtype)) + ", expected F16 or BF16");
  return make_tensor(dtype, std::move(shape), codes);
}

std::vector<float> values_f32(const StoredTensor& t) { return values_of<float>(t, StoredDtype::f32); }
std::vector<double> values_f64(const StoredTensor& t) { return values_of<double>(t, StoredDtype::f64); }
std::vector<int32_t> values_i32(const StoredTensor& t) { return values_of<int32_t>(t, StoredDtype::i32); }

std::string safetensors_bytes(const SafetensorsFile& file) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : file.metadata) meta[key] = value;
    header[std::string(kMetadataKey)] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    if (name == kMetadataKey) throw ConfigError("safetensors: a tensor may not be named __metadata__");
    const std::optional<uint64_t> bytes = byte_count(t.shape, stored_dtype_size(t.dtype));
    if (!bytes || *bytes != t.bytes.size())
      throw ConfigError("safetensors: tensor " + quoted_text(name) + " has " + std::to_string(t.bytes.size()) +
                        " bytes, shape " + shape_text(t.shape) + " of " + std::string(stored_dtype_name(t.dtype)) +
                        " needs " + (bytes ? std::to_string(*bytes) : std::string("more than 2^64")));
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = stored_dtype_name(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, offset + t.bytes.size()};
    header[name] = std::move(entry);
    offset += t.bytes.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("safetensors: a tensor name or metadata string is not valid UTF-8 (") + e.what() +
                      ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = char(uint64_t(text.size()) >> (8 * i));
  out += text;
  for (const auto& [name, t] : file.tensors) out += t.bytes;
  return out;
}

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  io::write_output_file(path, safetensors_bytes(file));
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& name) {
  const Invalid invalid(name);
  if (bytes.size() < 8) invalid(std::to_string(bytes.size()) + " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  for (size_t i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > kMaxHeaderBytes)
    invalid("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeaderBytes) +
            " bytes");
  if (n > bytes.size() - 8)
    invalid("header length " + std::to_string(n) + " exceeds the " + std::to_string(bytes.size() - 8) +
            " bytes after the length field");
  const std::string_view header_text = bytes.substr(8, n);
  if (header_text.empty() || header_text[0] != '{') invalid("the header does not begin with '{'");

  // Duplicate keys: JSON parsers keep one silently, so they are caught while parsing, per object.
  std::vector<std::set<std::string>> open_objects;
  const auto on_event = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end) open_objects.pop_back();
    if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second)
      invalid("the header names " + quoted_text(parsed.get<std::string>()) + " twice");
    return true;
  };
  // A header that begins with '{' and parses whole is an object.
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text, on_event);
  } catch (const nlohmann::json::exception& e) {
    // The parser's message echoes the bytes it read last: escaped.
    invalid("the header is not valid JSON (" + escaped_text(e.what()) + ")");
  }

  SafetensorsFile file;
  struct Extent {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Extent> extents;
  for (const auto& [key, entry] : header.items()) {
    if (key == kMetadataKey) {
      if (!entry.is_object()) invalid("__metadata__ is not an object");
      for (const auto& [mk, mv] : entry.items()) {
        if (!mv.is_string()) invalid("__metadata__ " + quoted_text(mk) + " is not a string");
        file.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    const std::string what = "tensor " + quoted_text(key);
    if (!entry.is_object()) invalid(what + " is not an object");
    for (const auto& [field, value] : entry.items())
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        invalid(what + " has the unknown key " + quoted_text(field) + " (expected dtype, shape, data_offsets)");
    if (!entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      invalid(what + " lacks one of dtype, shape, data_offsets");
    const nlohmann::json& dtype_json = entry["dtype"];
    const std::optional<StoredDtype> dtype =
        dtype_json.is_string() ? dtype_named(dtype_json.get<std::string>()) : std::nullopt;
    if (!dtype) invalid(what + ": unknown dtype " + quoted_text(dtype_json.dump()));
    StoredTensor t;
    t.dtype = *dtype;
    const nlohmann::json& shape_json = entry["shape"];
    if (!shape_json.is_array()) invalid(what + ": shape is not an array");
    for (const nlohmann::json& d : shape_json) {
      const std::optional<uint64_t> dim = as_count(d);
      if (!dim) invalid(what + ": shape entry " + quoted_text(d.dump()) + " is not a non-negative integer");
      t.shape.push_back(*dim);
    }
    const nlohmann::json& offsets_json = entry["data_offsets"];
    if (!offsets_json.is_array() || offsets_json.size() != 2)
      invalid(what + ": data_offsets is not an array of two integers");
    const std::optional<uint64_t> begin = as_count(offsets_json[0]), end = as_count(offsets_json[1]);
    if (!begin || !end)
      invalid(what + ": data_offsets " + quoted_text(offsets_json.dump()) + " are not non-negative integers");
    if (*begin > *end)
      invalid(what + ": data_offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) +
              "] end before they begin");
    const std::optional<uint64_t> expected = byte_count(t.shape, stored_dtype_size(t.dtype));
    if (!expected || *expected != *end - *begin)
      invalid(what + ": data_offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) + "] span " +
              std::to_string(*end - *begin) + " bytes, shape " + shape_text(t.shape) + " of " +
              std::string(stored_dtype_name(t.dtype)) + " needs " +
              (expected ? std::to_string(*expected) : std::string("more than 2^64")));
    extents.push_back({*begin, *end, key});
    file.tensors.emplace(key, std::move(t));
  }

  const std::string_view data = bytes.substr(8 + n);
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t next = 0;
  for (const Extent& e : extents) {
    if (e.begin != next)
      invalid("tensor " + quoted_text(e.name) + " begins at byte " + std::to_string(e.begin) +
              " of the data, expected " + std::to_string(next) + (e.begin < next ? " (overlap)" : " (gap)"));
    if (e.end > data.size())
      invalid("tensor " + quoted_text(e.name) + " ends at byte " + std::to_string(e.end) + ", past the " +
              std::to_string(data.size()) + "-byte data buffer");
    file.tensors[e.name].bytes = std::string(data.substr(e.begin, e.end - e.begin));
    next = e.end;
  }
  if (next != data.size())
    invalid("the tensors cover " + std::to_string(next) + " bytes of the " + std::to_string(data.size()) +
            "-byte data buffer");
  return file;
}

SafetensorsFile read_safetensors(const std::string& path) {
  return parse_safetensors(raw_file::read_bytes(path), path);
}

}  // namespace fpsim::experiments
